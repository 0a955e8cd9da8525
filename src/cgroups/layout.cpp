#include "cgroups/manager.hpp"

#include <sys/statfs.h>
#include <linux/magic.h>

namespace berth::cgroups {

Result<Layout> detect_layout() {
  struct statfs st;
  if (::statfs("/sys/fs/cgroup", &st) < 0) return fail_errno("statfs /sys/fs/cgroup");
  if (st.f_type == CGROUP2_SUPER_MAGIC) return Layout::V2;
  if (::statfs("/sys/fs/cgroup/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return Layout::Hybrid;
  return Layout::V1;
}

} // namespace berth::cgroups
