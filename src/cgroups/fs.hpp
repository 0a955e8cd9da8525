// cgroupfs file and directory primitives shared by the drivers. Internal.
// Every error names the value, the file and the reason, e.g.
// "write 67108864 to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Device or resource busy".
#pragma once

#include "common/error.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cgroups {

// r, with context c prefixed to its error (g++ 12's expected lacks transform_error).
inline Result<> in_ctx(Result<> r, std::string_view c) {
  if (!r) return ctx(std::move(r).error(), c);
  return r;
}

// One write(2) of value to dir/file (cgroup files take one value per write).
Result<> cg_write(const std::string &dir, std::string_view file, std::string_view value);
// The whole content of dir/file.
Result<std::string> cg_read(const std::string &dir, std::string_view file);
// The first line of dir/file, without its newline.
Result<std::string> cg_read_line(const std::string &dir, std::string_view file);

// Parses a decimal counter; "max" gives max_value.
std::optional<uint64_t> parse_u64(std::string_view s, uint64_t max_value = UINT64_MAX);
// The value of key in a flat keyed file ("key value\n..."), if present.
std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key);

// Creates the missing directories of dir below mountpoint, top-down; returns
// how many trailing levels of dir it created (0: dir existed). On error the
// levels it made are removed again.
Result<int> make_levels(const std::string &mountpoint, const std::string &dir);
// How many trailing levels of dir below mountpoint do not exist (yet).
int missing_levels(const std::string &mountpoint, const std::string &dir);
// Removes the deepest `levels` directories of dir, deepest first: dir itself
// with any child cgroups the container made inside it (a cgroup may stay busy
// for a moment after its last process exited: EBUSY is retried for about a
// second), then the levels above it that are empty (remove_empty_levels).
// Missing directories are fine (delete may run twice).
Result<> remove_levels(const std::string &dir, int levels);
// Removes dir and the levels above it, up to `levels` in all, while they are
// empty: levels made for one container may hold other containers' cgroups by
// now, which are never touched.
Result<> remove_empty_levels(const std::string &dir, int levels);

// Pids in cgroup.procs of dir and of every cgroup below it.
Result<std::vector<pid_t>> read_pids_recursive(const std::string &dir);

// dir without its last component.
std::string parent_dir(const std::string &dir);

} // namespace berth::cgroups
