#include "linux/idmap.hpp"

#include "common/file.hpp"

namespace berth::linuxf {

std::string format_id_map(const std::vector<oci::IdMapping> &maps) {
  std::string s;
  for (auto &m : maps)
    s += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
         std::to_string(m.size) + "\n";
  return s;
}

Result<> write_id_maps(pid_t pid, const std::string &uid_map, const std::string &gid_map) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  if (!uid_map.empty()) TRY_CTX(write_file(base + "uid_map", uid_map), "linux.uidMappings");
  if (gid_map.empty()) return {};
  auto r = write_file(base + "gid_map", gid_map);
  if (!r && r.error().code() == EPERM) {
    // An unprivileged caller may map its own gid only once setgroups(2) is
    // off in the namespace (user_namespaces(7)); runc does the same.
    TRY_CTX(write_file(base + "setgroups", "deny"), "linux.gidMappings");
    r = write_file(base + "gid_map", gid_map);
  }
  if (!r) return ctx(std::move(r).error(), "linux.gidMappings");
  return {};
}

std::string format_time_offsets(const std::map<std::string, oci::TimeOffset> &offs) {
  std::string s;
  for (auto &[clock, o] : offs)
    s += clock + " " + std::to_string(o.secs) + " " + std::to_string(o.nanosecs) + "\n";
  return s;
}

} // namespace berth::linuxf
