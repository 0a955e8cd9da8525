// The Linux security modules a config can name: AppArmor
// (process.apparmorProfile) and SELinux (process.selinuxLabel,
// linux.mountLabel). Checked in the parent against what the host has, applied
// by the container process right before execve (the exec attributes take
// effect at the execve), and, for mountLabel, as a context= mount option.
//
// When the host lacks the module, runc fails such a config (SELinux: "selinux
// label is specified in config, but selinux is disabled or not supported";
// AppArmor: writing the exec attribute fails; mountLabel: the kernel refuses
// the context= option); berth fails it too, before anything is made, and
// says why. One exception: apparmorProfile "unconfined" on a host without
// AppArmor asks for what the process has already, and is accepted.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <string>

namespace berth::linuxf {

struct LsmHost {
  bool apparmor = false; // /sys/module/apparmor/parameters/enabled is Y
  bool selinux = false;  // selinuxfs is mounted
};

// This host (read once).
const LsmHost &host_lsm();

struct LsmPlan {
  std::string apparmor_exec; // "exec <profile>" for the AppArmor exec attribute; empty: none
  std::string selinux_exec;  // the SELinux label for the exec attribute; empty: none
};

// process.apparmorProfile and process.selinuxLabel against `host`.
Result<LsmPlan> plan_lsm(const oci::Process &p, const LsmHost &host);
// linux.mountLabel against `host`.
Result<> check_mount_label(const std::string &label, const LsmHost &host);

// Filesystem mount data with the SELinux context of linux.mountLabel:
// ("size=1m", "system_u:object_r:x:s0") -> size=1m,context="system_u:object_r:x:s0".
std::string with_mount_label(const std::string &data, const std::string &label);

// Child side, last before execve: writes the exec attributes. attr_dir is an
// fd of the process's own /proc/thread-self/attr, opened while the host's
// /proc was still at hand. AppArmor's own subdirectory (apparmor/exec) is
// preferred to the shared exec file, as libapparmor does. Does not allocate
// when it succeeds.
Result<> apply_lsm(const LsmPlan &p, int attr_dir);

} // namespace berth::linuxf
