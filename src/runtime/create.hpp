// Internal to the runtime: create shared by `create` and `run`.
#pragma once

#include "common/unique_fd.hpp"
#include "runtime/runtime.hpp"
#include "runtime/state_store.hpp"

#include <optional>

namespace berth::runtime {

struct Created {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd console; // pty master, for a foreground run with a terminal
  // The container's directory, still locked, and its record as written:
  // `run` starts it without opening and reading it again.
  std::optional<ContainerDir> dir;
  Record rec;
};

// foreground: `run` without -d — a terminal's master comes back to us rather
// than going to a console socket.
Result<Created> create_container(const GlobalOptions &g, const CreateOptions &o, bool foreground);

// start on an opened, locked container directory.
Result<> start_locked(ContainerDir &dir, Record &rec);

} // namespace berth::runtime
