#!/bin/sh
# Installs every build and test dependency of berth from Debian 12 packages.
# Idempotent: packages already present are skipped by apt.
set -eu
[ "$(id -u)" = 0 ] || { echo "install-deps: must run as root (apt-get install)" >&2; exit 1; }

# clang-16 and its runtimes (libFuzzer, ASan, UBSan; llvm-16 for the symbolizer
# that puts file:line in their reports): the sanitizer and fuzz
# build (scripts/build-san.sh). Not Debian's default clang 14, which cannot
# compile libstdc++ 12's std::expected.
PKGS="
  build-essential cmake ninja-build pkg-config
  nlohmann-json3-dev libseccomp-dev libcap-dev
  libarchive-dev libisal-dev libzstd-dev zlib1g-dev libssl-dev
  libgtest-dev python3 python3-pytest
  clang-16 libclang-rt-16-dev llvm-16
  busybox-static iproute2 util-linux procps psmisc
  crun runc podman catatonit
  docker.io containerd tini
  skopeo umoci attr zstd
  libcurl4-openssl-dev docker-registry apache2-utils openssl
  qemu-system-x86
"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  # docker.io and containerd would start system daemons (dockerd with a
  # bridge and iptables rules); the tests start their own, on private sockets.
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    guard=/usr/sbin/policy-rc.d
  fi
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
  [ -z "$guard" ] || rm -f "$guard"
fi
