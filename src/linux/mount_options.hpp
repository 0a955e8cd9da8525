// config.json mount options -> mount(2) flags, propagation, mount_setattr
// attributes and filesystem data, as runc interprets them.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace berth::linuxf {

struct MountOptions {
  unsigned long flags = 0;             // MS_* to set
  std::vector<unsigned long> propagation; // MS_PRIVATE|MS_REC ..., applied in order
  uint64_t attr_set = 0, attr_clr = 0; // MOUNT_ATTR_* applied recursively (rro, rnosuid ...)
  std::string data;                    // "size=65536k,mode=755"
  bool bind = false, recursive = false;
  bool tmpcopyup = false;
  bool idmap = false, ridmap = false;
};

// Parses options; unknown words go to data (filesystem options) as runc does.
// Error for a recursive attribute word paired with a contradicting one is not
// needed: the last word wins, as with mount(8).
MountOptions parse_mount_options(const std::vector<std::string> &opts);

// The propagation word alone ("rslave" -> MS_SLAVE|MS_REC), 0 when unknown.
unsigned long propagation_flag(const std::string &word);

} // namespace berth::linuxf
