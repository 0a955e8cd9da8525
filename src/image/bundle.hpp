// `berth bundle IMAGE DIR`: an OCI runtime bundle from an image, so that
// `berth-runtime run --bundle DIR` runs any image before the engine exists.
// DIR/rootfs is an overlay of the image's layer snapshots with a writable
// upper in DIR/.berth (containerd's overlayfs snapshotter model), or a copy
// of them (--copy, or where overlayfs cannot be mounted). DIR/config.json is
// the image config converted as image-spec's conversion.md says, on top of
// berth-runtime's defaults.
//
// The store records each bundle (bundles/<sha256 of DIR>.json), so that rmi
// refuses an image a bundle uses and gc keeps its snapshots.
#pragma once

#include "image/images.hpp"
#include "image/store.hpp"

#include <string>
#include <vector>

namespace berth::image {

struct BundleRecord {
  std::string dir;
  oci::Digest image; // the image id
  std::vector<oci::Digest> diff_ids;
  bool overlay = false;
};

struct BundleResult {
  bool overlay = false; // false: a copy
  std::string why_copy; // why overlayfs was not used, when it was not
};

// DIR must not exist or be an empty directory (remove_bundle removes all of
// it). On failure nothing is left: no mount, no DIR content, no record.
Result<BundleResult> make_bundle(const Store &s, const Image &img, const std::string &dir, bool copy);
// Unmounts DIR/rootfs, removes DIR and its record.
Result<> remove_bundle(const Store &s, const std::string &dir);
// The bundles recorded whose DIR still exists; records of removed dirs are
// dropped. strict: a record that cannot be read is an error (gc), else it
// is skipped.
Result<std::vector<BundleRecord>> list_bundles(const Store &s, bool strict = false);

// config.json for img, with rootfd the image's root filesystem (for
// Config.User names, looked up in its /etc/passwd and /etc/group).
Result<std::string> bundle_config(const Image &img, int rootfd);

} // namespace berth::image
