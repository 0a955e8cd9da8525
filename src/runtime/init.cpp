// The container's init: runs in the child of clone3, from the moment the
// namespaces exist until execve of the user's process. Every failure goes to
// the parent over the sync socket, then the child exits.
#include "common/fdpass.hpp"
#include "common/file.hpp"
#include "common/syscalls.hpp"
#include "linux/devices.hpp"
#include "linux/inroot.hpp"
#include "linux/terminal.hpp"
#include "runtime/container_plan.hpp"
#include "runtime/hooks.hpp"
#include "runtime/sync.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace berth::runtime {

namespace {

[[noreturn]] void die(const ContainerPlan &plan, const Error &e) {
  (void)sync_send(plan.sync_fd, SyncMsg::Error, e.message(), e.code());
  ::_exit(1);
}

// The state JSON given to hooks run by init, with the status at that moment.
std::string with_status(const std::string &state, const char *status) {
  std::string s = state;
  auto p = s.find("\"status\":\"");
  if (p != std::string::npos) {
    auto e = s.find('"', p + 10);
    s.replace(p + 10, e - (p + 10), status);
  }
  return s;
}

Result<> enter_namespaces(ContainerPlan &plan) {
  if (plan.userns) {
    // The parent has written the maps: become root of the new user namespace.
    if (::setresgid(0, 0, 0) < 0) return fail_errno("setresgid 0 in the user namespace (is 0 mapped?)");
    if (::setresuid(0, 0, 0) < 0) return fail_errno("setresuid 0 in the user namespace (is 0 mapped?)");
  }
  if (!plan.join_userns && !plan.joins_in_parent)
    for (auto &j : plan.joins)
      if (::setns(j.fd.get(), j.flag) < 0) return fail_errno("join namespace " + j.path);
  if (plan.unshare_cgroupns && ::unshare(CLONE_NEWCGROUP) < 0)
    return fail_errno("create the cgroup namespace");
  if (plan.new_timens) {
    if (::unshare(CLONE_NEWTIME) < 0) return fail_errno("create the time namespace");
    // Offsets apply to the namespace the exec enters (time_for_children).
    if (!plan.time_offsets.empty())
      TRY_CTX(write_file("/proc/self/timens_offsets", plan.time_offsets), "linux.timeOffsets");
  }
  // A session keyring of its own, so the container cannot read the host's keys.
  if (plan.new_keyring && ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan.id.c_str()) < 0 &&
      errno != ENOSYS)
    return fail_errno("create a session keyring");
  if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) < 0)
    return fail_errno("set hostname " + *plan.hostname);
  if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) < 0)
    return fail_errno("set domainname " + *plan.domainname);
  return {};
}

Result<> setup_terminal(ContainerPlan &plan) {
  ASSIGN_OR_RETURN(linuxf::Pty pty, linuxf::open_pty());
  if (plan.process.console_size)
    TRY(linuxf::set_winsize(pty.master.get(), plan.process.console_size->height,
                            plan.process.console_size->width));
  TRY(send_fd(plan.console_fd, pty.master.get(), "", "the pty master to the console socket"));
  ::close(plan.console_fd);
  plan.console_fd = -1;
  TRY(linuxf::mount_console(pty.slave.get()));
  return linuxf::attach_stdio_to_tty(pty.slave.get());
}

void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; s++) ::signal(s, SIG_DFL);
}

// Closes every fd of the runtime the init does not need: an inherited copy of
// the state directory's fd would keep its flock held for the container's life.
void close_other_fds(const ContainerPlan &plan) {
  std::vector<int> keep = {plan.sync_fd, plan.fifo_fd, plan.console_fd};
  for (auto &j : plan.joins) keep.push_back(j.fd.get());
  for (auto &m : plan.rootfs.mounts) keep.push_back(m.idmap_fd);
  for (int fd = 3; fd < 3 + plan.process.preserve_fds; fd++) keep.push_back(fd);
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < int(next)) continue;
    if (unsigned(fd) > next) ::syscall(SYS_close_range, next, unsigned(fd) - 1, 0);
    next = unsigned(fd) + 1;
  }
  ::syscall(SYS_close_range, next, ~0u, 0);
}

} // namespace

// Joined user namespace: join it (and the other joined namespaces), create
// the new ones inside it, and — for a new pid namespace — fork the init as a
// sibling (CLONE_PARENT: the runtime stays its parent), report its pid, exit.
void join_userns_and_fork(ContainerPlan &plan) {
  for (auto &j : plan.joins)
    if (::setns(j.fd.get(), j.flag) < 0) die(plan, Error::last("join namespace " + j.path));
  if (::unshare(int(plan.unshare_flags)) < 0)
    die(plan, Error::last("create the container's namespaces inside the joined user namespace"));
  if (!(plan.unshare_flags & CLONE_NEWPID)) {
    if (auto r = sync_send(plan.sync_fd, SyncMsg::Pid, std::to_string(::getpid())); !r) ::_exit(1);
    return;
  }
  // clone3 wants exit_signal 0 with CLONE_PARENT: the init inherits ours (SIGCHLD).
  pid_t init = sys::clone3(CLONE_PARENT, 0);
  if (init < 0) die(plan, Error::last("fork the container's init"));
  if (init == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    return;
  }
  (void)sync_send(plan.sync_fd, SyncMsg::Pid, std::to_string(init));
  ::_exit(0);
}

[[noreturn]] void container_init(ContainerPlan &plan) {
  // Until the container is created, it dies with the runtime.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  size_t bad = 0;
  if (plan.cgroup_join)
    if (int e = cgroups::join_self(*plan.cgroup_join, &bad))
      die(plan, Error(e, "join cgroup " + plan.cgroup_join->paths[bad]));
  close_other_fds(plan);
  auto go = sync_recv(plan.sync_fd);
  if (!go || go->type != SyncMsg::Go) ::_exit(1);
  if (plan.join_userns) join_userns_and_fork(plan);
  auto &pp = plan.process;
  if (auto r = open_lsm_attr_dir(pp); !r) die(plan, r.error());

  if (pp.cpus_initial) ::sched_setaffinity(0, sizeof(cpu_set_t), &*pp.cpus_initial);
  if (auto r = enter_namespaces(plan); !r) die(plan, r.error());
  if (auto r = linuxf::setup_mounts(plan.rootfs); !r) die(plan, r.error());
  {
    // runc creates a missing cwd in the rootfs.
    UniqueFd root(::open(plan.rootfs.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (auto r = linuxf::make_in_root(root.get(), pp.cwd, true); !r)
      die(plan, r.error().with("process.cwd"));
  }
  if (auto r = sync_send(plan.sync_fd, SyncMsg::HooksReq); !r) ::_exit(1);
  auto done = sync_expect(plan.sync_fd, SyncMsg::HooksDone, "create");
  if (!done) ::_exit(1);
  const std::string state = std::move(done->payload);
  if (plan.spec.hooks) {
    if (auto r = run_hooks(plan.spec.hooks->create_container, "createContainer", state); !r)
      die(plan, r.error());
  }
  // The exec fifo is reopened for writing through the host's /proc after
  // pivot_root; the container may have no /proc of its own.
  UniqueFd hostproc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!hostproc) die(plan, Error::last("open /proc"));
  if (auto r = linuxf::enter_rootfs(plan.rootfs); !r) die(plan, r.error());
  if (pp.terminal && plan.console_fd >= 0) {
    if (auto r = setup_terminal(plan); !r) die(plan, r.error().with("set up the terminal"));
  }
  if (auto r = linuxf::finish_rootfs(plan.rootfs); !r) die(plan, r.error());
  add_default_home(pp);
  auto path = find_executable(pp);
  if (!path) die(plan, path.error());
  auto listener = apply_process(pp);
  if (!listener) die(plan, listener.error());
  // With SCMP_ACT_NOTIFY rules the filter goes in now, while the runtime is
  // here to hand the listener to the agent (without no_new_privs,
  // apply_process has loaded it already); otherwise last, before execve.
  bool seccomp_loaded = pp.seccomp && !pp.no_new_privs;
  int notify_fd = *listener;
  if (pp.seccomp && pp.no_new_privs && pp.seccomp->uses_notify) {
    auto l = linuxf::load_seccomp(*pp.seccomp);
    if (!l) die(plan, l.error());
    notify_fd = *l;
    seccomp_loaded = true;
  }
  if (notify_fd >= 0) {
    if (auto r = sync_send_fd(plan.sync_fd, SyncMsg::SeccompFd, notify_fd); !r) die(plan, r.error());
    ::close(notify_fd);
    if (!sync_expect(plan.sync_fd, SyncMsg::SeccompDone, "create")) ::_exit(1);
  }

  // Outlive the runtime from now on: cleared before Ready, since the parent
  // may exit as soon as it reads it.
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (auto r = sync_send(plan.sync_fd, SyncMsg::Ready); !r) ::_exit(1);

  // Parked here until `start` opens the fifo for reading.
  std::string fifo = "self/fd/" + std::to_string(plan.fifo_fd);
  int w;
  do w = ::openat(hostproc.get(), fifo.c_str(), O_WRONLY | O_CLOEXEC);
  while (w < 0 && errno == EINTR);
  if (w < 0) {
    std::fprintf(stderr, "berth-runtime: container init: open exec fifo: %s\n", strerror(errno));
    ::_exit(1);
  }
  hostproc.reset();
  ::close(plan.fifo_fd);
  // `start` waits for our answer on the fifo: "0", or why we failed.
  if (plan.spec.hooks && !plan.spec.hooks->start_container.empty()) {
    if (auto r = run_hooks(plan.spec.hooks->start_container, "startContainer", with_status(state, "running")); !r) {
      const std::string &m = r.error().message();
      (void)!::write(w, m.data(), std::min<size_t>(m.size(), 4000));
      ::_exit(1);
    }
  }
  if (::write(w, "0", 1) != 1) ::_exit(1);
  ::close(w);
  if (pp.seccomp && !seccomp_loaded) {
    auto l = linuxf::load_seccomp(*pp.seccomp);
    if (!l) {
      std::fprintf(stderr, "berth-runtime: load seccomp filter: %s\n", l.error().message().c_str());
      ::_exit(1);
    }
  }
  reset_signals();
  Error e = exec_process(pp, *path);
  std::fprintf(stderr, "berth-runtime: %s\n", e.message().c_str());
  ::_exit(127);
}

} // namespace berth::runtime
