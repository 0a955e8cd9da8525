#include "runtime/create.hpp"

#include "cgroups/manager.hpp"
#include "common/fdpass.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "common/proc.hpp"
#include "common/syscalls.hpp"
#include "linux/idmap.hpp"
#include "linux/namespaces.hpp"
#include "oci/spec_json.hpp"
#include "runtime/container_plan.hpp"
#include "runtime/devices_policy.hpp"
#include "runtime/hooks.hpp"
#include "runtime/relay.hpp"
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

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

namespace berth::runtime {

namespace {

// Whether a config asks for any cgroup limit (device rules aside, which only
// restrict): a rootless container without one can do without a cgroup.
bool sets_limits(const std::optional<oci::Resources> &r) {
  return r && (r->memory || r->cpu || r->pids || r->block_io || !r->hugepage_limits.empty() ||
               r->network || !r->rdma.empty() || !r->unified.empty());
}

// The namespaces of plan.joins_in_parent, joined by this process for the
// clone3 and left again (to its own, saved first) right after it, so that
// hooks and everything else the runtime does stay in the runtime's namespaces.
class ParentJoins {
public:
  static Result<ParentJoins> enter(const std::vector<NsJoin> &joins) {
    ParentJoins pj;
    for (auto &j : joins) {
      std::string own = std::string("/proc/self/ns/") + linuxf::namespace_proc_name(j.flag);
      UniqueFd fd(::open(own.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) return fail_errno("open " + own);
      if (::setns(j.fd.get(), j.flag) < 0) {
        auto e = Error::last("join namespace " + j.path);
        (void)pj.leave();
        return fail(std::move(e));
      }
      pj.saved_.push_back({j.flag, own, std::move(fd)});
    }
    return pj;
  }
  Result<> leave() {
    Result<> res;
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it)
      if (::setns(it->fd.get(), it->flag) < 0 && res)
        res = fail_errno("return to the runtime's namespace " + it->path);
    saved_.clear();
    return res;
  }
  ParentJoins() = default;
  ParentJoins(ParentJoins &&) = default;
  ~ParentJoins() { (void)leave(); }

private:
  std::vector<NsJoin> saved_;
};

// Undoes a half-made container when create fails at any step.
struct Undo {
  StateStore *store = nullptr;
  std::string id;
  bool dir = false;
  cgroups::Manager *cg = nullptr;
  // Our own child, not yet waited for: its pid cannot be reused, so kill(2)
  // is safe (a pidfd here would be closed before this destructor runs).
  pid_t child = -1;
  bool armed = true;
  ~Undo() {
    if (!armed) return;
    if (child > 0) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {}
    }
    if (cg) {
      auto r = cg->destroy();
      if (!r) log::warn("clean up after failed create: " + r.error().message());
    }
    if (dir) {
      auto r = store->remove(id);
      if (!r) log::warn("clean up after failed create: " + r.error().message());
    }
  }
};

// Keeps our own fds out of the range passed to the container (fds 3..3+N-1).
Result<> move_above(int &fd, int min) {
  if (fd < 0 || fd >= min) return {};
  int n = ::fcntl(fd, F_DUPFD_CLOEXEC, min);
  if (n < 0) return fail_errno("move fd above the preserved ones");
  ::close(fd);
  fd = n;
  return {};
}

Result<std::string> absolute_bundle(const std::string &bundle) {
  char real[PATH_MAX];
  if (!::realpath(bundle.empty() ? "." : bundle.c_str(), real)) return fail_errno("bundle " + bundle);
  return std::string(real);
}

std::string hooks_record(const oci::Spec &spec) {
  if (!spec.hooks) return "";
  nlohmann::json j = nlohmann::json::object();
  if (!spec.hooks->poststart.empty()) j["poststart"] = nlohmann::json::parse(hooks_to_json(spec.hooks->poststart));
  if (!spec.hooks->poststop.empty()) j["poststop"] = nlohmann::json::parse(hooks_to_json(spec.hooks->poststop));
  return j.empty() ? "" : j.dump();
}

} // namespace

Result<Created> create_container(const GlobalOptions &g, const CreateOptions &o, bool foreground) {
  if (g.systemd_cgroup)
    return fail_msg("--systemd-cgroup: the systemd cgroup driver is not available in berth-runtime; "
                    "use the cgroupfs driver (omit --systemd-cgroup)");
  TRY(validate_id(o.id));
  if (o.preserve_fds < 0) return fail_msg("--preserve-fds: must not be negative");
  ASSIGN_OR_RETURN(std::string bundle, absolute_bundle(o.bundle));
  ASSIGN_OR_RETURN(std::string text, read_file(path_join(bundle, "config.json")));
  auto parsed = oci::parse_spec(text);
  if (!parsed) return fail(parsed.error().with("config.json"));
  oci::Spec spec = std::move(*parsed);

  int preserve = o.preserve_fds;
  const char *lp = std::getenv("LISTEN_PID");
  bool ours = !lp || std::atoi(lp) == ::getpid();
  if (const char *lf = std::getenv("LISTEN_FDS"); lf && *lf && spec.process && ours) {
    // systemd socket activation, passed on as runc does.
    int n = std::atoi(lf);
    if (n > 0) {
      preserve += n;
      spec.process->env.push_back("LISTEN_FDS=" + std::to_string(n));
      spec.process->env.push_back("LISTEN_PID=1");
    }
  }
  if (spec.process && spec.process->terminal && o.console_socket.empty() && !foreground)
    return fail_msg("process.terminal is true but no --console-socket was given: "
                    "a detached container needs a console socket to hand its terminal to");
  if (spec.process && !spec.process->terminal && !o.console_socket.empty())
    return fail_msg("--console-socket given but process.terminal is false");

  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::detect_layout());
  bool v2 = layout == cgroups::Layout::V2;
  ASSIGN_OR_RETURN(ContainerPlan plan, plan_container(std::move(spec), bundle, o.id, o.no_pivot, v2, g.root));
  plan.process.preserve_fds = preserve;
  std::vector<UniqueFd> idmapped;
  TRY(linuxf::prepare_idmapped_mounts(plan.rootfs, plan.spec, idmapped));
  plan.new_keyring = !o.no_new_keyring;
  const oci::Spec &sp = plan.spec;
  const auto &lin = *sp.linux_;

  auto mgr = cgroups::make_manager(lin.cgroups_path, o.id);
  if (!mgr) return fail(mgr.error().with("linux.cgroupsPath"));

  StateStore store(g.root);
  Undo undo; // declared after mgr: destroyed (undoing) before it
  undo.store = &store;
  undo.id = o.id;
  ASSIGN_OR_RETURN(ContainerDir dir, store.create(o.id));
  undo.dir = true;
  TRY(dir.lock());

  Record rec;
  rec.oci.id = o.id;
  rec.oci.status = "creating";
  rec.oci.bundle = bundle;
  rec.oci.rootfs = plan.rootfs.rootfs;
  char tbuf[40];
  rec.oci.created = std::string(log::now_rfc3339(tbuf));
  rec.oci.annotations = sp.annotations;
  rec.creator = ::getpid();
  (*mgr)->plan_create();
  rec.cgroup = (*mgr)->to_json();
  rec.hooks = hooks_record(sp);
  rec.userns = plan.userns;
  TRY(dir.write(rec));

  // Writable by the container's user, whoever it is: the init opens it after
  // switching user. (mkfifo honours the umask, hence the chmod.)
  if (::mkfifoat(dir.fd(), "exec.fifo", 0622) < 0 || ::fchmodat(dir.fd(), "exec.fifo", 0622, 0) < 0)
    return fail_errno("create exec fifo in " + dir.path());
  int fifo = ::openat(dir.fd(), "exec.fifo", O_PATH | O_CLOEXEC);
  if (fifo < 0) return fail_errno("open exec fifo in " + dir.path());
  UniqueFd fifo_fd(fifo);

  undo.cg = mgr->get();
  oci::Resources resources = effective_resources(sp);
  bool has_cgroup = true;
  if (auto r = (*mgr)->create(&resources); !r) {
    int e = r.error().code();
    bool denied = e == EACCES || e == EPERM || e == EROFS;
    if (!g.rootless || !denied || sets_limits(lin.resources))
      return fail(r.error().with("create the container's cgroups"));
    // Rootless and no limits asked for: run in the caller's cgroup, as runc.
    log::warn("rootless: container " + o.id + " runs without a cgroup of its own: " +
              r.error().message());
    has_cgroup = false;
    undo.cg = nullptr;
  }
  // The state written above already counts the cgroups made here
  // (plan_create): a runtime killed during create() leaves none behind.
  rec.cgroup = has_cgroup ? (*mgr)->to_json() : std::string();
  TRY(dir.write(rec));

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail_errno("socketpair");
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);

  UniqueFd console_child, console_parent;
  if (plan.process.terminal) {
    ASSIGN_OR_RETURN(auto ch, console_channel(o.console_socket));
    console_child = std::move(ch.first);
    console_parent = std::move(ch.second);
  }

  int min_fd = 3 + preserve;
  {
    int a = child_sock.release(), b = fifo_fd.release(), c = console_child.release();
    auto r1 = move_above(a, min_fd), r2 = move_above(b, min_fd), r3 = move_above(c, min_fd);
    child_sock.reset(a);
    fifo_fd.reset(b);
    console_child.reset(c);
    if (!r1) return fail(r1.error());
    if (!r2) return fail(r2.error());
    if (!r3) return fail(r3.error());
  }
  plan.sync_fd = child_sock.get();
  plan.fifo_fd = fifo_fd.get();
  plan.console_fd = console_child.get();

  if (plan.join_pid && ::setns(plan.join_pid.get(), CLONE_NEWPID) < 0)
    return fail_errno("join the pid namespace of linux.namespaces");

  log::debug("create container " + o.id + ": bundle " + bundle + ", clone flags 0x" +
             [&] { char b[20]; snprintf(b, sizeof b, "%llx", (unsigned long long)plan.clone_flags); return std::string(b); }());
  // The init moves itself into the cgroups (a write of "0" to v1 "tasks"
  // skips the RCU wait that moving another process's pid costs), and on v2
  // and hybrid hosts clone3 places it in the cgroup2 one.
  Result<cgroups::SelfJoin> cg_join = cgroups::SelfJoin{};
  if (has_cgroup) {
    cg_join = (*mgr)->prepare_self_join();
    if (!cg_join) return fail(cg_join.error().with("create container " + o.id));
    plan.cgroup_join = &*cg_join;
  }
  int pidfd = -1;
  pid_t pid;
  Result<> left;
  {
    std::optional<ParentJoins> pj;
    if (plan.joins_in_parent) {
      auto j = ParentJoins::enter(plan.joins);
      if (!j) return fail(j.error());
      pj.emplace(std::move(*j));
    }
    pid = sys::clone3(plan.clone_flags | CLONE_PIDFD, SIGCHLD, cg_join->clone_fd, &pidfd);
    if (pid > 0 && pj) left = pj->leave();
  }
  if (pid < 0) return fail_errno("clone the container's init");
  if (pid == 0) {
    parent_sock.reset();
    console_parent.reset();
    container_init(plan);
  }
  UniqueFd child_pidfd(pidfd);
  undo.child = pid;
  TRY(std::move(left));
  child_sock.reset();
  console_child.reset();
  cg_join->tasks.clear();

  rec.oci.pid = pid;
  if (auto st = proc_stat(pid)) rec.start_time = st->start_time;
  TRY(dir.write(rec));

  if (plan.userns && !plan.join_userns) TRY(linuxf::write_id_maps(pid, plan.uid_map, plan.gid_map));

  auto ctx_err = [&](Error e) {
    // The init died without a word (killed: e.g. a memory limit too small to
    // set it up): say how, which is all there is to say.
    if (e.code() == EPIPE) {
      int ws = 0;
      if (::waitpid(pid, &ws, 0) == pid) {
        undo.child = -1;
        std::string how = WIFSIGNALED(ws) ? "was killed by signal " + std::to_string(WTERMSIG(ws))
                                          : "exited with status " + std::to_string(WEXITSTATUS(ws));
        if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL && lin.resources && lin.resources->memory &&
            lin.resources->memory->limit)
          how += " (out of memory? linux.resources.memory.limit is " +
                 std::to_string(*lin.resources->memory->limit) + " bytes)";
        e = Error::msg("the container's init " + how + " while setting up");
      }
    }
    return fail(std::move(e).with("create container " + o.id));
  };
  if (auto r = sync_send(parent_sock.get(), SyncMsg::Go); !r) return ctx_err(r.error());
  if (plan.join_userns) {
    // The first child forked the real init (our child too, by CLONE_PARENT).
    auto p = sync_expect(parent_sock.get(), SyncMsg::Pid, "create");
    if (!p) return ctx_err(p.error());
    pid_t init = pid_t(std::atoi(p->payload.c_str()));
    if (init != pid) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
      pid = init;
      child_pidfd.reset(sys::pidfd_open(pid));
      if (!child_pidfd) return fail_errno("create container " + o.id + ": open its init");
      undo.child = pid;
      rec.oci.pid = pid;
      if (auto st = proc_stat(pid)) rec.start_time = st->start_time;
      TRY(dir.write(rec));
    }
  }
  if (plan.process.oom_score_adj)
    TRY_CTX(write_file("/proc/" + std::to_string(pid) + "/oom_score_adj",
                       std::to_string(*plan.process.oom_score_adj)),
            "process.oomScoreAdj");
  std::string state_json = oci::state_to_json(rec.oci, false);
  if (auto r = sync_expect(parent_sock.get(), SyncMsg::HooksReq, "create"); !r) return ctx_err(r.error());
  if (sp.hooks) {
    if (auto r = run_hooks(sp.hooks->prestart, "prestart", state_json); !r) return ctx_err(r.error());
    if (auto r = run_hooks(sp.hooks->create_runtime, "createRuntime", state_json); !r) return ctx_err(r.error());
  }
  // The init needs the state only for the hooks it runs; it is as large as
  // the annotations, and one sync packet holds a few hundred KiB at most.
  bool init_hooks = sp.hooks && (!sp.hooks->create_container.empty() || !sp.hooks->start_container.empty());
  if (auto r = sync_send(parent_sock.get(), SyncMsg::HooksDone, init_hooks ? state_json : ""); !r) {
    if (r.error().code() == EMSGSIZE)
      return ctx_err(r.error().with("pass the state (" + std::to_string(state_json.size()) +
                                    " bytes, mostly annotations) to the createContainer/startContainer hooks"));
    return ctx_err(r.error());
  }
  {
    // SeccompFd first when the filter has a notify listener (init loads it
    // before Ready for us to hand it on).
    auto ready = sync_recv(parent_sock.get());
    if (!ready) return ctx_err(ready.error());
    if (ready->type == SyncMsg::SeccompFd) {
      if (auto r = relay_seccomp_fd(parent_sock.get(), *ready, lin.seccomp ? &*lin.seccomp : nullptr, rec.oci, pid);
          !r)
        return ctx_err(r.error());
      ready = sync_recv(parent_sock.get());
      if (!ready) return ctx_err(ready.error());
    }
    if (ready->type == SyncMsg::Error) return ctx_err(Error(ready->err, ready->payload));
    if (ready->type != SyncMsg::Ready)
      return ctx_err(Error::msg("unexpected message " + std::to_string(uint32_t(ready->type)) +
                                " from container init"));
  }

  Created out;
  out.pid = pid;
  if (console_parent) {
    auto m = recv_fd(console_parent.get(), nullptr, "the container's terminal");
    if (!m) return ctx_err(m.error());
    out.console = std::move(*m);
  }
  log::debug("create container " + o.id + ": init " + std::to_string(pid) + " parked until start");
  rec.oci.status = "created";
  rec.creator = 0;
  TRY(dir.write(rec));
  if (!o.pid_file.empty()) TRY_CTX(write_path_atomic(o.pid_file, std::to_string(pid)), "--pid-file");
  undo.armed = false;
  store_seccomp_cache(g.root, plan.process.seccomp_cache);
  out.pidfd = std::move(child_pidfd);
  out.dir.emplace(std::move(dir));
  out.rec = std::move(rec);
  return out;
}

Result<> create(const GlobalOptions &g, const CreateOptions &o) {
  TRY(create_container(g, o, false));
  return {};
}

} // namespace berth::runtime
