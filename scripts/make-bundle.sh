#!/bin/sh
# make-bundle.sh DIR: an OCI bundle in DIR with a busybox-static rootfs and the
# config `berth-runtime spec` writes (terminal off, so it runs without a tty).
set -eu
dir=$1
rt=${BERTH_RUNTIME:-$(dirname "$0")/../build/berth-runtime}
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp" "$dir/rootfs/etc"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
"$rt" spec --bundle "$dir"
sed -i 's/"terminal": true/"terminal": false/' "$dir/config.json"
