// process.rlimits: names resolved in the parent, applied with setrlimit.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <string_view>
#include <vector>

namespace berth::linuxf {

struct ResolvedRlimit {
  int resource;
  unsigned long soft, hard;
};

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; error naming the field for an unknown one
// or for soft > hard.
Result<int> rlimit_from_name(std::string_view name);
Result<std::vector<ResolvedRlimit>> resolve_rlimits(const std::vector<oci::Rlimit> &limits);
// setrlimit each; the error names the limit and says when it is above the
// caller's hard limit without CAP_SYS_RESOURCE.
Result<> apply_rlimits(const std::vector<ResolvedRlimit> &limits);

} // namespace berth::linuxf
