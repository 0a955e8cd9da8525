// linux.seccomp: compiled to a BPF program in the parent (libseccomp), loaded
// in the container process as the last step before execve.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <linux/filter.h>

#include <string>
#include <vector>

namespace berth::linuxf {

struct CompiledSeccomp {
  std::vector<sock_filter> program;
  unsigned flags = 0;          // SECCOMP_FILTER_FLAG_*
  bool uses_notify = false;    // an SCMP_ACT_NOTIFY rule is present
};

// Validates (unknown action / operator / architecture / flag are errors naming
// the field) and compiles. Syscall names libseccomp does not know are skipped.
Result<CompiledSeccomp> compile_seccomp(const oci::Seccomp &cfg, std::vector<std::string> &warnings);

// What, besides the profile, decides the program compile_seccomp makes: the
// libseccomp version (its syscall tables) and the kernel's seccomp API level
// as libseccomp sees it. Part of the seccomp cache's key.
std::string seccomp_build_id();

// seccomp(SECCOMP_SET_MODE_FILTER). Returns the notify listener fd when
// uses_notify, else -1. No allocation: safe between clone and exec.
Result<int> load_seccomp(const CompiledSeccomp &c);

} // namespace berth::linuxf
