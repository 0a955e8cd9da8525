// Facts about a process from /proc/<pid>/stat.
#pragma once

#include "common/error.hpp"

#include <sys/types.h>

namespace berth {

struct ProcStat {
  char state = '?';                  // R S D Z T ...
  unsigned long long start_time = 0; // clock ticks after boot: with the pid, names a process uniquely
};

Result<ProcStat> proc_stat(pid_t pid);

// True when pid is alive (not a zombie) and started at start_time.
bool process_matches(pid_t pid, unsigned long long start_time);

} // namespace berth
