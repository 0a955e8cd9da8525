// User namespace id mappings and time namespace offsets.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace berth::linuxf {

std::string format_id_map(const std::vector<oci::IdMapping> &maps);
// Writes /proc/<pid>/uid_map and gid_map (from the parent, as root).
Result<> write_id_maps(pid_t pid, const std::string &uid_map, const std::string &gid_map);
// "monotonic 5 0\nboottime 1 0\n" for /proc/self/timens_offsets.
std::string format_time_offsets(const std::map<std::string, oci::TimeOffset> &offs);

} // namespace berth::linuxf
