#include "runtime/process_plan.hpp"

#include "common/file.hpp"
#include "common/log.hpp"
#include "common/syscalls.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

namespace berth::runtime {

Result<ProcessPlan> plan_process(const oci::Process &p, const std::optional<oci::Seccomp> &seccomp,
                                 const std::optional<oci::Personality> &pers, const std::string &state_root) {
  ProcessPlan pl;
  if (p.args.empty()) return fail_msg("process.args: must not be empty");
  pl.args = p.args;
  pl.env = p.env;
  pl.cwd = p.cwd.empty() ? "/" : p.cwd;
  if (pl.cwd[0] != '/') return fail_msg("process.cwd: must be an absolute path, got \"" + pl.cwd + "\"");
  pl.uid = p.user.uid;
  pl.gid = p.user.gid;
  pl.groups.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (p.user.umask) pl.umask = mode_t(*p.user.umask & 0777);
  std::vector<std::string> warnings;
  if (p.capabilities) {
    ASSIGN_OR_RETURN(pl.caps, linuxf::resolve_caps(*p.capabilities, warnings));
  }
  ASSIGN_OR_RETURN(pl.rlimits, linuxf::resolve_rlimits(p.rlimits));
  pl.no_new_privs = p.no_new_privileges;
  pl.oom_score_adj = p.oom_score_adj;
  ASSIGN_OR_RETURN(pl.sched, linuxf::resolve_scheduler(p.scheduler));
  ASSIGN_OR_RETURN(pl.ioprio, linuxf::resolve_io_priority(p.io_priority));
  ASSIGN_OR_RETURN(pl.personality, linuxf::resolve_personality(pers));
  if (p.exec_cpu_affinity) {
    if (!p.exec_cpu_affinity->initial.empty()) {
      auto c = linuxf::parse_cpu_list(p.exec_cpu_affinity->initial);
      if (!c) return fail(c.error().with("process.execCPUAffinity.initial"));
      pl.cpus_initial = *c;
    }
    if (!p.exec_cpu_affinity->final_.empty()) {
      auto c = linuxf::parse_cpu_list(p.exec_cpu_affinity->final_);
      if (!c) return fail(c.error().with("process.execCPUAffinity.final"));
      pl.cpus_final = *c;
    }
  }
  if (seccomp) {
    ASSIGN_OR_RETURN(pl.seccomp, compile_seccomp_cached(*seccomp, state_root, warnings, &pl.seccomp_cache));
    // As runc: the listener must go somewhere, or every notified call hangs.
    if (pl.seccomp->uses_notify && seccomp->listener_path.empty())
      return fail_msg("linux.seccomp.listenerPath: required by the SCMP_ACT_NOTIFY rules, to hand the "
                      "notify fd to a seccomp agent");
  }
  ASSIGN_OR_RETURN(pl.lsm, linuxf::plan_lsm(p, linuxf::host_lsm()));
  pl.terminal = p.terminal;
  pl.console_size = p.console_size;
  for (auto &w : warnings) log::warn(w);
  return pl;
}

namespace {

std::string env_value(const std::vector<std::string> &env, std::string_view name) {
  for (auto &e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return {};
}

// Why path cannot be executed (0: it can): stat's errno, or EACCES for what
// is not a regular file with an x bit for us (as Go's exec.LookPath says).
int exec_errno(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) return EACCES;
  return 0;
}

bool is_executable_file(const std::string &path) { return exec_errno(path) == 0; }

// strerror as Go spells it ("no such file or directory"): runc's wording,
// which clients match. docker's CLI exits 127 for "no such file or
// directory" or "executable file not found" in the runtime's error and 126
// for "permission denied" (case-sensitive); podman does the same.
std::string go_strerror(int err) {
  std::string s = ::strerror(err);
  if (!s.empty()) s[0] = char(std::tolower((unsigned char)s[0]));
  return s;
}

Result<> switch_user(const ProcessPlan &p) {
  if (p.caps) TRY(linuxf::apply_bounding(*p.caps));
  if (::setgroups(p.groups.size(), p.groups.data()) < 0) {
    // Not allowed in a user namespace with setgroups denied: fine when no groups asked.
    if (!(errno == EPERM && p.groups.empty())) return fail_errno("setgroups (process.user.additionalGids)");
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail_errno("prctl PR_SET_KEEPCAPS");
  if (::setresgid(p.gid, p.gid, p.gid) < 0)
    return fail_errno("setresgid " + std::to_string(p.gid) + " (process.user.gid)");
  if (::setresuid(p.uid, p.uid, p.uid) < 0)
    return fail_errno("setresuid " + std::to_string(p.uid) + " (process.user.uid)");
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return fail_errno("prctl PR_SET_KEEPCAPS");
  if (p.caps) TRY(linuxf::apply_caps(*p.caps));
  return {};
}

} // namespace

void add_default_home(ProcessPlan &p) {
  for (auto &e : p.env)
    if (e.rfind("HOME=", 0) == 0) return;
  std::string home = "/";
  if (auto text = read_file("/etc/passwd", 4u << 20)) {
    size_t pos = 0;
    while (pos < text->size()) {
      size_t end = text->find('\n', pos);
      if (end == std::string::npos) end = text->size();
      // name:passwd:uid:gid:gecos:home:shell
      std::string line = text->substr(pos, end - pos);
      pos = end + 1;
      size_t f[6], n = 0, at = 0;
      while (n < 6 && (at = line.find(':', at)) != std::string::npos) f[n++] = at++;
      if (n < 6) continue;
      if (line.substr(f[1] + 1, f[2] - f[1] - 1) == std::to_string(p.uid)) {
        home = line.substr(f[4] + 1, f[5] - f[4] - 1);
        break;
      }
    }
  }
  p.env.push_back("HOME=" + home);
}

Result<std::string> find_executable(const ProcessPlan &p) {
  const std::string &name = p.args[0];
  if (name.find('/') != std::string::npos) {
    int err = exec_errno(name);
    if (err == EACCES) return fail_msg("exec: \"" + name + "\": " + go_strerror(err));
    if (err != 0) return fail_msg("exec: \"" + name + "\": stat " + name + ": " + go_strerror(err));
    return name;
  }
  std::string path = env_value(p.env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + name;
    if (is_executable_file(cand)) return cand;
    start = end + 1;
  }
  return fail_msg("exec: \"" + name + "\": executable file not found in $PATH");
}

Result<int> apply_process(const ProcessPlan &p) {
  // Resolved inside "/" (the container's root by now), never through a
  // magic link such as /proc/self/fd/N that could point at a host directory.
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return fail_errno("open /");
  int cwd = sys::openat2(root, p.cwd.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  ::close(root);
  if (cwd < 0) return fail_errno("process.cwd: " + p.cwd);
  int rc = ::fchdir(cwd);
  ::close(cwd);
  if (rc < 0) return fail_errno("process.cwd: chdir " + p.cwd);

  TRY(linuxf::apply_rlimits(p.rlimits));
  if (p.sched.set) TRY_CTX(linuxf::apply_scheduler(p.sched), "process.scheduler");
  if (p.ioprio) TRY_CTX(linuxf::apply_io_priority(p.ioprio), "process.ioPriority");
  if (p.personality >= 0 && ::personality((unsigned long)p.personality) < 0)
    return fail_errno("linux.personality");
  if (p.cpus_final && ::sched_setaffinity(0, sizeof(cpu_set_t), &*p.cpus_final) < 0)
    return fail_errno("process.execCPUAffinity.final: sched_setaffinity");
  if (p.umask) ::umask(*p.umask);

  int listener = -1;
  if (p.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail_errno("prctl PR_SET_NO_NEW_PRIVS");
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
  // while we still have it (it must then allow the calls that follow).
  if (p.seccomp && !p.no_new_privs) {
    ASSIGN_OR_RETURN(listener, linuxf::load_seccomp(*p.seccomp));
  }
  TRY(switch_user(p));
  TRY(linuxf::apply_lsm(p.lsm, p.lsm_attr_dir));
  // With no_new_privs the filter is loaded by the caller, last before execve.
  return listener;
}

Result<> open_lsm_attr_dir(ProcessPlan &p) {
  if (p.lsm.apparmor_exec.empty() && p.lsm.selinux_exec.empty()) return {};
  p.lsm_attr_dir = ::open("/proc/thread-self/attr", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (p.lsm_attr_dir < 0) return fail_errno("open /proc/thread-self/attr");
  return {};
}

Error exec_process(const ProcessPlan &p, const std::string &path) {
  // No fd of the runtime may reach the container (CVE-2024-21626): all
  // above the preserved range are close-on-exec; the preserved ones are not.
  unsigned first = 3u + unsigned(p.preserve_fds);
  ::syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC);
  for (unsigned fd = 3; fd < first; fd++) {
    int fl = ::fcntl(int(fd), F_GETFD);
    if (fl >= 0) ::fcntl(int(fd), F_SETFD, fl & ~FD_CLOEXEC);
  }
  std::vector<char *> argv, envp;
  for (auto &a : p.args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  for (auto &e : p.env) envp.push_back(const_cast<char *>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  return Error::last("exec " + path);
}

} // namespace berth::runtime
