#include "linux/lsm.hpp"

#include "common/file.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>


namespace berth::linuxf {

namespace {

constexpr long kSelinuxMagic = 0xf97cff8c;

bool apparmor_enabled() {
  auto v = read_file("/sys/module/apparmor/parameters/enabled", 16);
  return v && !v->empty() && (*v)[0] == 'Y';
}

bool selinux_enabled() {
  for (const char *mnt : {"/sys/fs/selinux", "/selinux"}) {
    struct statfs st {};
    if (::statfs(mnt, &st) == 0 && st.f_type == kSelinuxMagic) return true;
  }
  return false;
}

} // namespace

const LsmHost &host_lsm() {
  static const LsmHost host{apparmor_enabled(), selinux_enabled()};
  return host;
}

Result<LsmPlan> plan_lsm(const oci::Process &p, const LsmHost &host) {
  LsmPlan out;
  if (!p.apparmor_profile.empty()) {
    if (host.apparmor) out.apparmor_exec = "exec " + p.apparmor_profile;
    else if (p.apparmor_profile != "unconfined")
      return fail_msg("process.apparmorProfile: profile \"" + p.apparmor_profile +
                      "\" asked for, but AppArmor is not enabled on this host");
  }
  if (!p.selinux_label.empty()) {
    if (!host.selinux)
      return fail_msg("process.selinuxLabel: label \"" + p.selinux_label +
                      "\" asked for, but SELinux is not enabled on this host");
    out.selinux_exec = p.selinux_label;
  }
  return out;
}

Result<> check_mount_label(const std::string &label, const LsmHost &host) {
  if (!label.empty() && !host.selinux)
    return fail_msg("linux.mountLabel: label \"" + label + "\" asked for, but SELinux is not enabled on this host");
  return {};
}

std::string with_mount_label(const std::string &data, const std::string &label) {
  if (label.empty()) return data;
  std::string opt = "context=\"" + label + "\"";
  return data.empty() ? opt : data + "," + opt;
}

Result<> apply_lsm(const LsmPlan &p, int attr_dir) {
  if (!p.apparmor_exec.empty()) {
    struct stat st;
    const char *file = ::fstatat(attr_dir, "apparmor/exec", &st, 0) == 0 ? "apparmor/exec" : "exec";
    TRY_CTX(write_at(attr_dir, file, p.apparmor_exec), "process.apparmorProfile: change the AppArmor profile on exec");
  }
  if (!p.selinux_exec.empty())
    TRY_CTX(write_at(attr_dir, "exec", p.selinux_exec), "process.selinuxLabel: set the SELinux exec label");
  return {};
}

} // namespace berth::linuxf
