// Capabilities by name, resolved in the parent and applied in the container's
// init (or exec'd process) after it has switched user.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::linuxf {

// "CAP_SYS_ADMIN" -> 21. Error when the name is not a capability at all.
// Names are matched exactly, as capabilities(7) spells them.
Result<int> cap_from_name(std::string_view name);
// 21 -> "CAP_SYS_ADMIN"; nullptr for a number this build does not know.
const char *cap_name(int cap);
// Highest capability this kernel knows (/proc/sys/kernel/cap_last_cap).
// Cached after the first call; does not allocate.
int cap_last_cap();

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

// Names -> bit sets. Capabilities this kernel does not know are skipped and
// reported in warnings (runc does the same); unknown names are errors naming
// the set ("process.capabilities.bounding: unknown capability \"CAP_FOO\"").
Result<CapSets> resolve_caps(const oci::Capabilities &caps, std::vector<std::string> &warnings);
// Same against a given last capability instead of this kernel's (tests).
Result<CapSets> resolve_caps(const oci::Capabilities &caps, int last_cap,
                             std::vector<std::string> &warnings);

// Drops the bounding set to sets.bounding. Needs CAP_SETPCAP: call before
// switching user. The success path does not allocate (safe between clone
// and exec); only a failure builds its message.
Result<> apply_bounding(const CapSets &sets);
// capset() effective/permitted/inheritable, then raises the ambient set.
// Call after setresuid with PR_SET_KEEPCAPS on. Allocation as apply_bounding.
Result<> apply_caps(const CapSets &sets);

} // namespace berth::linuxf
