// exec: a new process in a running container's namespaces and cgroup.
#include "cgroups/manager.hpp"
#include "common/fdpass.hpp"
#include "common/file.hpp"
#include "common/proc.hpp"
#include "common/syscalls.hpp"
#include "linux/terminal.hpp"
#include "oci/spec_json.hpp"
#include "runtime/process_plan.hpp"
#include "runtime/relay.hpp"
#include "runtime/runtime.hpp"
#include "runtime/seccomp_agent.hpp"
#include "runtime/state_store.hpp"
#include "runtime/sync.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace berth::runtime {

namespace {

struct NsType {
  int flag;
  const char *name;
};
// Order matters for setns with several flags only on old kernels; the
// pidfd form enters them all at once.
constexpr NsType kJoin[] = {{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"},    {CLONE_NEWNET, "net"},
                            {CLONE_NEWIPC, "ipc"},   {CLONE_NEWUTS, "uts"},   {CLONE_NEWCGROUP, "cgroup"},
                            {CLONE_NEWTIME, "time"}};

ino_t ns_inode(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

Result<oci::Process> exec_process_spec(const ExecOptions &o, const oci::Spec &spec) {
  if (!o.process_file.empty()) {
    std::string text;
    if (o.process_file == "-") {
      ASSIGN_OR_RETURN(text, read_fd(0, "stdin"));
    } else {
      ASSIGN_OR_RETURN(text, read_file(o.process_file));
    }
    auto p = oci::parse_process(text);
    if (!p) return fail(p.error().with(o.process_file));
    return *p;
  }
  if (o.args.empty()) return fail_msg("exec: no command given (trailing arguments or --process)");
  oci::Process p = spec.process ? *spec.process : oci::Process{};
  p.args = o.args;
  p.terminal = o.tty;
  p.console_size.reset();
  for (auto &e : o.env) {
    // --env NAME=VALUE replaces the config's NAME.
    std::string name = e.substr(0, e.find('='));
    std::erase_if(p.env, [&](const std::string &x) { return x.substr(0, x.find('=')) == name; });
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    char *end = nullptr;
    std::string u = o.user.substr(0, colon);
    unsigned long uid = std::strtoul(u.c_str(), &end, 10);
    if (u.empty() || *end) return fail_msg("--user: expected UID[:GID], got \"" + o.user + "\"");
    p.user.uid = uint32_t(uid);
    if (colon != std::string::npos) {
      std::string g = o.user.substr(colon + 1);
      unsigned long gid = std::strtoul(g.c_str(), &end, 10);
      if (g.empty() || *end) return fail_msg("--user: expected UID[:GID], got \"" + o.user + "\"");
      p.user.gid = uint32_t(gid);
    }
  }
  if (!o.additional_gids.empty()) p.user.additional_gids.assign(o.additional_gids.begin(), o.additional_gids.end());
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (auto &c : o.caps) {
      p.capabilities->bounding.push_back(c);
      p.capabilities->effective.push_back(c);
      p.capabilities->permitted.push_back(c);
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  if (!o.apparmor.empty()) p.apparmor_profile = o.apparmor;
  if (!o.process_label.empty()) p.selinux_label = o.process_label;
  return p;
}

[[noreturn]] void exec_child(int sync, const cgroups::SelfJoin &cg, int init_pidfd, int join_flags,
                             bool userns, int console, ProcessPlan &plan) {
  auto die = [&](const Error &e) {
    (void)sync_send(sync, SyncMsg::Error, e.message(), e.code());
    ::_exit(1);
  };
  // Into the container's cgroups before anything else, so that no instruction
  // of the new process runs outside its limits (a move by the parent would race
  // with the child's exec).
  size_t bad = 0;
  if (int e = cgroups::join_self(cg, &bad)) die(Error(e, "join cgroup " + cg.paths[bad]));
  if (auto r = open_lsm_attr_dir(plan); !r) die(r.error());
  if (join_flags && ::setns(init_pidfd, join_flags) < 0) die(Error::last("join the container's namespaces"));
  if (userns && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
    die(Error::last("become root in the container's user namespace"));
  if (plan.terminal && console >= 0) {
    auto pty = linuxf::open_pty();
    if (!pty) die(pty.error());
    if (plan.console_size) (void)linuxf::set_winsize(pty->master.get(), plan.console_size->height, plan.console_size->width);
    if (auto r = send_fd(console, pty->master.get(), "", "the pty master to the console socket"); !r) die(r.error());
    ::close(console);
    if (auto r = linuxf::attach_stdio_to_tty(pty->slave.get()); !r) die(r.error());
  }
  add_default_home(plan);
  auto path = find_executable(plan);
  if (!path) die(path.error());
  auto l = apply_process(plan);
  if (!l) die(l.error());
  int notify_fd = *l; // loaded by apply_process without no_new_privs
  if (plan.seccomp && plan.no_new_privs) {
    auto s = linuxf::load_seccomp(*plan.seccomp);
    if (!s) die(s.error());
    notify_fd = *s;
  }
  if (notify_fd >= 0) {
    // The parent hands the listener to the agent; then we may exec.
    if (auto r = sync_send_fd(sync, SyncMsg::SeccompFd, notify_fd); !r) die(r.error());
    ::close(notify_fd);
    if (!sync_expect(sync, SyncMsg::SeccompDone, "exec")) ::_exit(1);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  die(exec_process(plan, *path));
  ::_exit(127);
}

} // namespace

Result<int> exec(const GlobalOptions &g, const ExecOptions &o) {
  StateStore store(g.root);
  ASSIGN_OR_RETURN(ContainerDir dir, store.open(o.id));
  ASSIGN_OR_RETURN(Record rec, dir.read());
  if (!process_matches(rec.oci.pid, rec.start_time) || rec.oci.status == "creating")
    return fail_msg("exec in container " + o.id + ": it is not running");
  if (rec.oci.status == "paused") return fail_msg("exec in container " + o.id + ": it is paused");

  ASSIGN_OR_RETURN(std::string text, read_file(path_join(rec.oci.bundle, "config.json")));
  auto spec = oci::parse_spec(text);
  if (!spec) return fail(spec.error().with(rec.oci.bundle + "/config.json"));
  ASSIGN_OR_RETURN(oci::Process proc, exec_process_spec(o, *spec));
  if (proc.terminal && o.detach && o.console_socket.empty())
    return fail_msg("exec --tty --detach needs --console-socket to hand the terminal to");
  const auto &lin = spec->linux_;
  auto plan = plan_process(proc, lin ? lin->seccomp : std::nullopt, lin ? lin->personality : std::nullopt, g.root);
  if (!plan) return fail(plan.error().with("exec in container " + o.id));
  plan->preserve_fds = o.preserve_fds;

  UniqueFd init(sys::pidfd_open(rec.oci.pid));
  if (!init) return fail_errno("exec in container " + o.id + ": open its init");
  std::string nsdir = "/proc/" + std::to_string(rec.oci.pid) + "/ns/";
  int join = 0;
  for (auto &n : kJoin)
    if (ns_inode(nsdir + n.name) != ns_inode(std::string("/proc/self/ns/") + n.name)) join |= n.flag;
  if (ns_inode(nsdir + "pid") != ns_inode("/proc/self/ns/pid")) {
    UniqueFd pidns(::open((nsdir + "pid").c_str(), O_RDONLY | O_CLOEXEC));
    if (!pidns || ::setns(pidns.get(), CLONE_NEWPID) < 0)
      return fail_errno("exec in container " + o.id + ": join its pid namespace");
  }

  std::unique_ptr<cgroups::Manager> mgr;
  if (!rec.cgroup.empty()) {
    auto m = cgroups::load_manager(rec.cgroup);
    if (!m) return fail(m.error().with("exec in container " + o.id));
    mgr = std::move(*m);
  }

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail_errno("socketpair");
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);
  UniqueFd console_child, console_parent;
  if (proc.terminal) {
    ASSIGN_OR_RETURN(auto ch, console_channel(o.console_socket));
    console_child = std::move(ch.first);
    console_parent = std::move(ch.second);
  }
  if (!o.detach) block_forwarded_signals();

  cgroups::SelfJoin cg;
  if (mgr) {
    auto j = mgr->prepare_self_join();
    if (!j) return fail(j.error().with("exec in container " + o.id));
    cg = std::move(*j);
  }
  int pidfd = -1;
  pid_t pid = sys::clone3(CLONE_PIDFD, SIGCHLD, cg.clone_fd, &pidfd);
  if (pid < 0) return fail_errno("exec in container " + o.id + ": clone");
  if (pid == 0) {
    parent_sock.reset();
    console_parent.reset();
    exec_child(child_sock.get(), cg, init.get(), join, rec.userns, console_child.get(), *plan);
  }
  UniqueFd child_pidfd(pidfd);
  child_sock.reset();
  console_child.reset();
  cg = {};
  auto reap = [&] {
    sys::pidfd_send_signal(child_pidfd.get(), SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
  };
  // Success is the sync socket closing on execve (it is close-on-exec).
  auto msg = sync_recv(parent_sock.get());
  if (msg && msg->type == SyncMsg::SeccompFd) {
    oci::State st = rec.oci;
    st.status = "running";
    if (auto r = relay_seccomp_fd(parent_sock.get(), *msg, lin && lin->seccomp ? &*lin->seccomp : nullptr, st,
                                  pid);
        !r) {
      reap();
      return fail(std::move(r).error().with("exec in container " + o.id));
    }
    msg = sync_recv(parent_sock.get());
  }
  if (msg) {
    reap();
    if (msg->type == SyncMsg::Error) return fail(Error(msg->err, msg->payload).with("exec in container " + o.id));
    return fail_msg("exec in container " + o.id + ": unexpected message");
  }
  if (!o.pid_file.empty()) {
    if (auto r = write_path_atomic(o.pid_file, std::to_string(pid)); !r) {
      reap();
      return fail(r.error().with("--pid-file"));
    }
  }
  store_seccomp_cache(g.root, plan->seccomp_cache);
  if (o.detach) return 0;
  UniqueFd master;
  if (console_parent) {
    auto m = recv_fd(console_parent.get(), nullptr, "the exec'd process's terminal");
    if (m) master = std::move(*m);
  }
  ASSIGN_OR_RETURN(int ws, relay_and_wait(pid, child_pidfd.get(), master ? master.get() : -1));
  return exit_status(ws);
}

} // namespace berth::runtime
