// The default seccomp profile `berth-runtime spec` writes: an allow-list
// equivalent to Docker's default profile (everything not listed fails with
// EPERM), resolved for one container the way Docker resolves its profile:
// rules that depend on a capability, an architecture or a kernel version are
// kept or dropped here, so the config holds plain OCI seccomp.
#pragma once

#include "oci/spec.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace berth::oci {

struct SeccompTarget {
  // The container's bounding set: without CAP_SYS_ADMIN, clone may not create
  // namespaces and mount/unshare/setns... are denied; CAP_SYS_PTRACE allows
  // ptrace and friends; and so on.
  std::vector<std::string> capabilities;
  // libseccomp's name of the native architecture ("SCMP_ARCH_X86_64"): picks
  // the architectures the filter covers (x86_64 also covers x86 and x32) and
  // the arch-only syscalls (arch_prctl, ...). Empty: no arch-only syscall,
  // the native architecture only.
  std::string arch;
  // The kernel the container will run on; rules that need a newer kernel are
  // dropped. 0.0: unknown, nothing dropped.
  unsigned kernel_major = 0, kernel_minor = 0;
};

// libseccomp's name of the architecture this binary was built for, "" when
// the profile has no table for it.
std::string native_seccomp_arch();

// The profile for `t`: defaultAction SCMP_ACT_ERRNO with defaultErrnoRet
// EPERM, the architectures, and the allow rules.
Seccomp default_seccomp(const SeccompTarget &t);

// As it appears in config.json (field order as runtime-spec lists them).
nlohmann::ordered_json seccomp_to_json(const Seccomp &s);

} // namespace berth::oci
