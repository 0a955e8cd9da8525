// Where the cgroup hierarchies are mounted and where a container's cgroup goes
// in each. Internal to cgroups/.
#pragma once

#include "cgroups/manager.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace berth::cgroups {

struct CgroupMount {
  std::string mountpoint;               // "/sys/fs/cgroup/memory"
  std::string root;                     // cgroup of the mount's root, usually "/"
  std::string name;                     // "cpu,cpuacct", "name=systemd"; "" for cgroup2
  std::vector<std::string> controllers; // v1: from the super options
};

struct MountTable {
  std::vector<CgroupMount> v1;
  bool has_v2 = false;
  CgroupMount v2;
};

// cgroup and cgroup2 mounts of a mountinfo text. Only v1 hierarchies with a
// controller runc knows (or name=systemd) are kept; the first mount of each wins.
MountTable parse_mountinfo(std::string_view text);
// /proc/self/mountinfo, parsed once per process.
Result<const MountTable *> mount_table();
// detect_layout(), computed once per process.
Result<Layout> cached_layout();

// linux.cgroupsPath made canonical: "a/b" (no leading slash, no "." or ".."),
// and whether it was absolute. Empty means "/<id>".
struct CgroupsPath {
  bool absolute = true;
  std::string rel;
};
Result<CgroupsPath> parse_cgroups_path(const std::string &path, const std::string &id);

// The line of a /proc/<pid>/cgroup text for the hierarchy named name ("" for
// cgroup2; v1 names compare as controller sets: "cpuacct,cpu" == "cpu,cpuacct").
Result<std::string> own_cgroup_in(std::string_view proc_cgroup, const std::string &name);

// The directory of p in mount m: absolute paths go under the mount point;
// relative ones under this process's own cgroup there (as runc does).
Result<std::string> resolve_dir(const CgroupMount &m, const CgroupsPath &p);

} // namespace berth::cgroups
