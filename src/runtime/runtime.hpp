// berth-runtime's operations (runtime-spec "Operations" plus runc's extras),
// one function per command. The CLI parses flags and calls these.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace berth::runtime {

struct GlobalOptions {
  std::string root = "/run/berth-runtime";
  bool systemd_cgroup = false;
  // Rootless: a container without limits may run without a cgroup of its own
  // when the caller may not create one (as runc).
  bool rootless = false;
};

// --rootless auto: whether this process is unprivileged (not root, or root
// of a user namespace other than the initial one), as runc decides it.
bool running_rootless();
// The state directory for rootless callers who gave no --root:
// $XDG_RUNTIME_DIR/berth-runtime, as runc uses $XDG_RUNTIME_DIR/runc.
std::string rootless_state_root();

struct CreateOptions {
  std::string id, bundle = ".", pid_file, console_socket;
  bool no_pivot = false, no_new_keyring = false;
  int preserve_fds = 0;
};

Result<> create(const GlobalOptions &g, const CreateOptions &o);
// create + start; foreground unless detach: then waits, relays the terminal,
// forwards signals, deletes the container and returns the exit status.
Result<int> run(const GlobalOptions &g, const CreateOptions &o, bool detach, bool keep);
Result<> start(const GlobalOptions &g, const std::string &id);
Result<oci::State> state(const GlobalOptions &g, const std::string &id);
Result<std::vector<oci::State>> list(const GlobalOptions &g);
Result<> kill(const GlobalOptions &g, const std::string &id, int sig, bool all);
Result<> remove(const GlobalOptions &g, const std::string &id, bool force);
Result<std::vector<pid_t>> pids(const GlobalOptions &g, const std::string &id);
Result<> pause(const GlobalOptions &g, const std::string &id);
Result<> resume(const GlobalOptions &g, const std::string &id);

struct ExecOptions {
  std::string id, process_file, console_socket, pid_file, cwd;
  std::vector<std::string> args, env, caps;
  std::string user; // UID[:GID]
  std::string apparmor, process_label; // --apparmor, --process-label
  std::vector<unsigned> additional_gids;
  bool detach = false, tty = false, no_new_privs = false;
  int preserve_fds = 0;
};
// Returns the process's exit status (0 with detach).
Result<int> exec(const GlobalOptions &g, const ExecOptions &o);

// 128+N for a signal, the exit code otherwise, from a wait status.
int exit_status(int wait_status);

} // namespace berth::runtime

namespace berth::runtime {

// update: new limits for a running container's cgroup (runc's flags are
// folded into res by the CLI).
Result<> update(const GlobalOptions &g, const std::string &id, const oci::Resources &res);

// events --stats: one record in runc's JSON form ({"type":"stats","id",...}).
Result<std::string> stats_json(const GlobalOptions &g, const std::string &id);
// Whether the container is still there and not stopped.
bool is_running(const GlobalOptions &g, const std::string &id);
// events without --stats: a stats record every interval_ms, and an
// {"type":"oom","id":...} record as soon as the kernel OOM-kills a process of
// the container; returns when the container stops.
Result<> events(const GlobalOptions &g, const std::string &id, long interval_ms,
                const std::function<void(const std::string &)> &emit);

} // namespace berth::runtime
