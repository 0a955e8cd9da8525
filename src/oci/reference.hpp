// Image references, parsed and normalised as docker does:
//   busybox              -> docker.io/library/busybox:latest
//   user/app:1.0         -> docker.io/user/app:1.0
//   host:5000/a/b:tag    -> host:5000/a/b:tag   (a first part with '.', ':' or
//                           "localhost" is a registry host)
//   name@sha256:…        -> by digest (a tag may come before it, and is kept)
// Names are lower case; tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
#pragma once

#include "common/error.hpp"
#include "oci/digest.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace berth::oci {

struct Reference {
  std::string domain; // "docker.io", "localhost:5000"
  std::string path;   // "library/busybox"
  std::string tag;    // empty when none was given and none defaulted
  std::optional<Digest> digest;

  // default_tag: give "latest" when neither a tag nor a digest is given
  // (what pull and run do; `tag` and `rmi` of a name do the same).
  static Result<Reference> parse(std::string_view s, bool default_tag = true);

  std::string name() const;     // "docker.io/library/busybox"
  std::string str() const;      // name[:tag][@digest]
  // docker's short form for display: "busybox:latest", "user/app:1.0",
  // "host:5000/a/b:tag".
  std::string familiar_name() const; // without tag/digest
  std::string familiar() const;
  bool operator==(const Reference &) const = default;
};

} // namespace berth::oci
