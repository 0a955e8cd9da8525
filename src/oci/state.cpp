#include "oci/state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace berth::oci {

using nlohmann::json;

json state_to_object(const State &s) {
  json j = json::object();
  j["ociVersion"] = s.oci_version;
  j["id"] = s.id;
  j["status"] = s.status;
  if (s.pid > 0) j["pid"] = s.pid;
  j["bundle"] = s.bundle;
  j["rootfs"] = s.rootfs;
  j["created"] = s.created;
  j["owner"] = s.owner;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

std::string state_to_json(const State &s, bool pretty) {
  json j = state_to_object(s);
  return pretty ? j.dump(2) : j.dump();
}

std::string container_process_state_json(const State &s, int pid, const std::string &metadata) {
  json j = json::object();
  j["ociVersion"] = kSpecVersion;
  j["fds"] = json::array({"seccompFd"});
  j["pid"] = pid;
  if (!metadata.empty()) j["metadata"] = metadata;
  j["state"] = state_to_object(s);
  return j.dump();
}

Result<State> parse_state(std::string_view text) {
  return parse_state(json::parse(text, nullptr, false));
}

Result<State> parse_state(const json &j) {
  if (j.is_discarded() || !j.is_object()) return fail_msg("parse state: not a JSON object");
  State s;
  // Integers only, in range: nlohmann's value() converts a float such as
  // 1e300 to int, which is undefined behaviour.
  auto pid = j.find("pid");
  if (pid != j.end() && !pid->is_null()) {
    if (!pid->is_number_integer() || pid->get<int64_t>() < 0 || pid->get<int64_t>() > INT32_MAX)
      return fail_msg("parse state: pid: expected a process id, got " + pid->dump());
    s.pid = int(pid->get<int64_t>());
  }
  try {
    s.oci_version = j.value("ociVersion", "");
    s.id = j.value("id", "");
    s.status = j.value("status", "");
    s.bundle = j.value("bundle", "");
    s.rootfs = j.value("rootfs", "");
    s.created = j.value("created", "");
    s.owner = j.value("owner", "");
    if (j.contains("annotations"))
      s.annotations = j["annotations"].get<std::map<std::string, std::string>>();
  } catch (const json::exception &e) {
    return fail_msg(std::string("parse state: ") + e.what());
  }
  return s;
}

} // namespace berth::oci
