#include "runtime/devices_policy.hpp"

namespace berth::runtime {

namespace {

oci::DeviceCgroup allow(const char *type, int64_t major, int64_t minor, const char *access) {
  oci::DeviceCgroup d;
  d.allow = true;
  d.type = type;
  if (major >= 0) d.major = major;
  if (minor >= 0) d.minor = minor;
  d.access = access;
  return d;
}

} // namespace

oci::Resources effective_resources(const oci::Spec &spec) {
  oci::Resources r;
  if (spec.linux_ && spec.linux_->resources) r = *spec.linux_->resources;
  // Nodes may be created (not opened) freely; the default devices and ptys
  // are always usable. -1 stands for "*".
  for (auto d : {allow("c", -1, -1, "m"), allow("b", -1, -1, "m"), allow("c", 1, 3, "rwm"),
                 allow("c", 1, 5, "rwm"), allow("c", 1, 7, "rwm"), allow("c", 1, 8, "rwm"),
                 allow("c", 1, 9, "rwm"), allow("c", 5, 0, "rwm"), allow("c", 5, 1, "rwm"),
                 allow("c", 5, 2, "rwm"), allow("c", 136, -1, "rwm"), allow("c", 10, 200, "rwm")})
    r.devices.push_back(d);
  return r;
}

} // namespace berth::runtime
