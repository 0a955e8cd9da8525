// v1 -> v2 value conversions, the ones runc uses, so that a config gives the
// same v2 settings under berth as under runc.
#pragma once

#include "common/error.hpp"

#include <cstdint>

namespace berth::cgroups {

// cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 = unset.
inline uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2; // the kernel's minimum; also avoids unsigned wrap
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

// blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 = unset.
inline uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight < 10) weight = 10;
  if (weight > 1000) weight = 1000;
  return 1 + (weight - 10) * 9999 / 990;
}

// OCI memory.swap is memory+swap (v1 memsw); v2 memory.swap.max is swap alone.
// 0 = unset, -1 = unlimited, in and out.
inline Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit) {
  // Unlimited memory and no swap given: both unlimited, as on v1.
  if (limit == -1 && swap == 0) return -1;
  if (swap == -1 || swap == 0) return swap;
  if (limit == 0 || limit == -1)
    return fail_msg("linux.resources.memory.swap: cannot set a swap limit without a memory limit");
  if (limit < 0)
    return fail_msg("linux.resources.memory.limit: invalid value " + std::to_string(limit));
  if (swap < limit)
    return fail_msg("linux.resources.memory.swap: memory+swap limit " + std::to_string(swap) +
                    " is below the memory limit " + std::to_string(limit));
  return swap - limit;
}

} // namespace berth::cgroups
