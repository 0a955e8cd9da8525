// Images as the commands see them: a name or id resolved to the manifest
// for a platform, its config, and its layers' snapshots.
#pragma once

#include "image/store.hpp"
#include "oci/image.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

struct Image {
  std::vector<std::string> names; // full references pointing at it (may be empty)
  // "REPO@DIGEST" it was pulled from or pushed to: names by digest and the
  // entries' kRepoDigestAnnotation (inspect's RepoDigests).
  std::vector<std::string> repo_digests;
  oci::Descriptor target;         // what the names point at: manifest or index
  oci::Digest manifest_digest;    // the manifest for the platform
  oci::Manifest manifest;
  oci::ImageConfig config;
  std::string stored; // when last named (RFC 3339)
  // list_images only: why the image cannot be used here (no manifest for the
  // platform, a damaged blob); then only names and target are set, and id()
  // is the target's digest.
  std::string problem;
  // The image id, as docker shows it: the config's digest.
  const oci::Digest &id() const { return manifest.config.digest; }
};

// The manifest (for platform, when target is an index) and config of target.
Result<Image> load_image(const Store &s, const oci::Descriptor &target, const oci::Platform &platform);

// Every entry of the store, grouped: one Image per target with all its
// names. One that cannot be loaded for platform is listed with its problem.
Result<std::vector<Image>> list_images(const Store &s, const oci::Platform &platform);

// An image by name ("busybox", "busybox:1.36", "host/a@sha256:…") or by id
// (full "sha256:…" or a prefix of its hex, as docker takes them). Errors:
// "no such image: NAME", or an ambiguous id prefix.
Result<Image> find_image(const Store &s, std::string_view name_or_id, const oci::Platform &platform);

// docker's short display of an id: the first 12 hex digits.
std::string short_id(const oci::Digest &d);

} // namespace berth::image
