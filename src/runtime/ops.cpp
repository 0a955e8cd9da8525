// state, list, start, kill, delete, ps, pause, resume.
#include "cgroups/manager.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "common/proc.hpp"
#include "common/syscalls.hpp"
#include "runtime/create.hpp"
#include "runtime/hooks.hpp"
#include "runtime/runtime.hpp"
#include "runtime/state_store.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace berth::runtime {

namespace {

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// The status as it is now, not as last written: a process that exited is
// stopped. has_fifo: exec.fifo is still there (not started).
std::string live_status(bool has_fifo, const Record &r) {
  if (r.oci.status == "creating") return alive(r.creator) ? "creating" : "stopped";
  if (!process_matches(r.oci.pid, r.start_time)) return "stopped";
  if (r.oci.status == "paused") return "paused";
  return has_fifo ? "created" : "running";
}

std::string live_status(const ContainerDir &dir, const Record &r) { return live_status(dir.has_fifo(), r); }

// Puts the live status into the record's state (a stopped one has no pid).
void set_live_status(Record &r, bool has_fifo) {
  r.oci.status = live_status(has_fifo, r);
  if (r.oci.status == "stopped") r.oci.pid = 0;
}

struct Opened {
  ContainerDir dir;
  Record rec;
  std::string status;
};

Result<Opened> open_container(const GlobalOptions &g, const std::string &id, bool lock) {
  StateStore store(g.root);
  Opened o;
  ASSIGN_OR_RETURN(o.dir, store.open(id));
  if (lock) TRY(o.dir.lock());
  ASSIGN_OR_RETURN(o.rec, o.dir.read());
  set_live_status(o.rec, o.dir.has_fifo());
  o.status = o.rec.oci.status;
  return o;
}

std::vector<oci::Hook> stored_hooks(const Record &r, const char *stage) {
  if (r.hooks.empty()) return {};
  auto j = nlohmann::json::parse(r.hooks, nullptr, false);
  if (!j.is_object() || !j.contains(stage)) return {};
  return hooks_from_json(j[stage].dump());
}

Result<std::unique_ptr<cgroups::Manager>> manager_of(const Record &r) {
  if (r.cgroup.empty()) return fail_msg("container " + r.oci.id + " has no cgroup recorded");
  return cgroups::load_manager(r.cgroup);
}

// Waits until pid has exited (as seen through its pidfd), up to timeout_ms.
bool wait_exit(int pidfd, int timeout_ms) {
  struct pollfd p = {pidfd, POLLIN, 0};
  int n;
  do n = ::poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  return n > 0;
}

} // namespace

Result<oci::State> state(const GlobalOptions &g, const std::string &id) {
  ASSIGN_OR_RETURN(Opened o, open_container(g, id, false));
  return o.rec.oci;
}

Result<std::vector<oci::State>> list(const GlobalOptions &g) {
  StateStore store(g.root);
  ASSIGN_OR_RETURN(auto entries, store.summaries());
  std::vector<oci::State> out;
  for (auto &e : entries) {
    set_live_status(e.rec, e.has_fifo);
    out.push_back(std::move(e.rec.oci));
  }
  return out;
}

Result<> start_locked(ContainerDir &dir, Record &rec) {
  const std::string &id = dir.id();
  std::string status = live_status(dir, rec);
  if (status != "created")
    return fail_msg("cannot start container " + id + ": it is " + status + ", not created");
  // The pidfd first: once the fifo is open the init may exec and exit at once.
  UniqueFd pidfd(sys::pidfd_open(rec.oci.pid));
  if (!pidfd) return fail_errno("start container " + id + ": open its init process");
  int fifo = ::openat(dir.fd(), "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) return fail_errno("start container " + id + ": open exec fifo");
  UniqueFd f(fifo);
  for (;;) {
    struct pollfd p[2] = {{f.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("start container " + id + ": wait for init");
    }
    if (p[0].revents & POLLIN) break;
    if (p[1].revents & POLLIN) return fail_msg("start container " + id + ": its init exited before start");
  }
  char answer[4096];
  ssize_t n;
  do n = ::read(f.get(), answer, sizeof answer);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("start container " + id + ": read exec fifo");
  if (n == 0) return fail_msg("start container " + id + ": its init exited before start");
  if (n != 1 || answer[0] != '0') {
    ::unlinkat(dir.fd(), "exec.fifo", 0);
    // The init exits right after telling us why: the container is stopped
    // by the time start reports the failure.
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    while (::poll(&p, 1, 5000) < 0 && errno == EINTR) {}
    return fail_msg("start container " + id + ": " + std::string(answer, size_t(n)));
  }
  ::unlinkat(dir.fd(), "exec.fifo", 0);
  rec.oci.status = "running";
  TRY(dir.write(rec));
  auto hooks = stored_hooks(rec, "poststart");
  if (!hooks.empty()) run_hooks_warn(hooks, "poststart", oci::state_to_json(rec.oci, false));
  return {};
}

Result<> start(const GlobalOptions &g, const std::string &id) {
  StateStore store(g.root);
  ASSIGN_OR_RETURN(ContainerDir dir, store.open(id));
  TRY(dir.lock());
  ASSIGN_OR_RETURN(Record rec, dir.read());
  return start_locked(dir, rec);
}

Result<> kill(const GlobalOptions &g, const std::string &id, int sig, bool all) {
  ASSIGN_OR_RETURN(Opened o, open_container(g, id, false));
  if (o.status == "stopped" || o.status == "creating")
    return fail_msg("kill container " + id + ": it is not running (" + o.status + ")");
  // Without a cgroup (rootless) --all reaches the init only; with a pid
  // namespace of its own, the others die with it on SIGKILL.
  if (all && !o.rec.cgroup.empty()) {
    ASSIGN_OR_RETURN(auto mgr, manager_of(o.rec));
    TRY_CTX(mgr->kill_all(sig), "kill all processes of container " + id);
    return {};
  }
  UniqueFd pidfd(sys::pidfd_open(o.rec.oci.pid));
  if (!pidfd) return fail_errno("kill container " + id);
  // The pidfd pins the process: check it is still the container's init.
  if (!process_matches(o.rec.oci.pid, o.rec.start_time))
    return fail_msg("kill container " + id + ": it is not running (stopped)");
  if (sys::pidfd_send_signal(pidfd.get(), sig) < 0) return fail_errno("kill container " + id);
  return {};
}

Result<> remove(const GlobalOptions &g, const std::string &id, bool force) {
  StateStore store(g.root);
  auto opened = store.open(id);
  if (!opened) {
    // runc: delete --force of a container that does not exist is not an error.
    if (force && validate_id(id) && !path_exists(path_join(g.root, id))) return {};
    return fail(opened.error());
  }
  ContainerDir dir = std::move(*opened);
  TRY(dir.lock());
  auto rec = dir.read();
  if (!rec) {
    // No state file: a create killed before it wrote one. Nothing else was made.
    if (!force) return fail(rec.error().with("delete container " + id));
    return store.remove(id);
  }
  std::string status = live_status(dir, *rec);
  if (status != "stopped" && !force)
    return fail_msg("cannot delete container " + id + " that is " + status + " (use --force)");
  std::unique_ptr<cgroups::Manager> mgr;
  if (!rec->cgroup.empty()) {
    auto m = cgroups::load_manager(rec->cgroup);
    if (m) mgr = std::move(*m);
    else log::warn("delete container " + id + ": " + m.error().message());
  }
  if (rec->oci.pid > 0 && process_matches(rec->oci.pid, rec->start_time)) {
    UniqueFd pidfd(sys::pidfd_open(rec->oci.pid));
    // Paused, or frozen by a `kill --all` that was itself killed mid-way: a
    // frozen process cannot die.
    if (mgr && (status == "paused" || mgr->frozen().value_or(false))) (void)mgr->thaw();
    if (pidfd) {
      sys::pidfd_send_signal(pidfd.get(), SIGKILL);
      if (!wait_exit(pidfd.get(), 10000))
        return fail_msg("delete container " + id + ": its init did not exit after SIGKILL");
    }
  }
  if (mgr) {
    // Whatever else is left in the cgroup (exec'd processes, forks of init).
    auto pids = mgr->pids();
    if (pids && !pids->empty()) (void)mgr->kill_all(SIGKILL);
    TRY_CTX(mgr->destroy(), "delete container " + id);
  }
  bool was_created = rec->oci.status != "creating";
  if (was_created) {
    auto hooks = stored_hooks(*rec, "poststop");
    if (!hooks.empty()) {
      rec->oci.status = "stopped";
      run_hooks_warn(hooks, "poststop", oci::state_to_json(rec->oci, false));
    }
  }
  return store.remove(id);
}

Result<std::vector<pid_t>> pids(const GlobalOptions &g, const std::string &id) {
  ASSIGN_OR_RETURN(Opened o, open_container(g, id, false));
  ASSIGN_OR_RETURN(auto mgr, manager_of(o.rec));
  return mgr->pids();
}

Result<> pause(const GlobalOptions &g, const std::string &id) {
  ASSIGN_OR_RETURN(Opened o, open_container(g, id, true));
  if (o.status != "running") return fail_msg("pause container " + id + ": it is " + o.status + ", not running");
  ASSIGN_OR_RETURN(auto mgr, manager_of(o.rec));
  TRY_CTX(mgr->freeze(), "pause container " + id);
  o.rec.oci.status = "paused";
  return o.dir.write(o.rec);
}

Result<> resume(const GlobalOptions &g, const std::string &id) {
  ASSIGN_OR_RETURN(Opened o, open_container(g, id, true));
  if (o.status != "paused") return fail_msg("resume container " + id + ": it is " + o.status + ", not paused");
  ASSIGN_OR_RETURN(auto mgr, manager_of(o.rec));
  TRY_CTX(mgr->thaw(), "resume container " + id);
  o.rec.oci.status = "running";
  return o.dir.write(o.rec);
}

int exit_status(int ws) {
  if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
  return WEXITSTATUS(ws);
}

} // namespace berth::runtime
