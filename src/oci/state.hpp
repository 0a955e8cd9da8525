// The runtime-spec state of a container, plus runc's extra fields
// (rootfs, created, owner) that containerd and podman read.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <string>
#include <string_view>

namespace berth::oci {

inline constexpr const char *kSpecVersion = "1.3.0";

struct State {
  std::string oci_version = kSpecVersion;
  std::string id;
  std::string status; // creating created running stopped paused
  int pid = 0;        // 0 = none (not written to JSON)
  std::string bundle;
  std::string rootfs;
  std::string created; // RFC 3339 with nanoseconds, UTC
  std::string owner;
  std::map<std::string, std::string> annotations;
};

std::string state_to_json(const State &s, bool pretty = true);
// The same as a JSON object (for records that add their own fields).
nlohmann::json state_to_object(const State &s);

// The container process state (config-linux.md) sent to a seccomp agent at
// linux.seccomp.listenerPath along with the notify fd: {"ociVersion",
// "fds":["seccompFd"], "pid", "metadata" (when set), "state"}. pid is the
// process the filter is in, as the runtime sees it.
std::string container_process_state_json(const State &s, int pid, const std::string &metadata);
Result<State> parse_state(std::string_view json);
Result<State> parse_state(const nlohmann::json &j);

} // namespace berth::oci
