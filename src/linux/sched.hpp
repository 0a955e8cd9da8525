// process.scheduler, process.ioPriority, process.execCPUAffinity,
// linux.personality: parsed in the parent, applied in the child.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <sched.h>

#include <optional>
#include <string>
#include <string_view>

namespace berth::linuxf {

struct ResolvedSched {
  bool set = false;
  int policy = 0;
  int nice = 0, priority = 0;
  uint64_t flags = 0, runtime = 0, deadline = 0, period = 0;
};
Result<ResolvedSched> resolve_scheduler(const std::optional<oci::Scheduler> &s);
Result<> apply_scheduler(const ResolvedSched &s);

// ioprio value for ioprio_set(IOPRIO_WHO_PROCESS, 0, v); 0 = unset.
Result<int> resolve_io_priority(const std::optional<oci::IOPriority> &p);
Result<> apply_io_priority(int ioprio);

// "0-3,7" -> cpu_set_t. Error names the string.
Result<cpu_set_t> parse_cpu_list(std::string_view list);

// personality(2) value; -1 when unset.
Result<long> resolve_personality(const std::optional<oci::Personality> &p);

} // namespace berth::linuxf
