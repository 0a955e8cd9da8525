// The device cgroup rules a container gets: the config's rules, then the
// devices every container needs (runc's list). As with runc, linux.devices
// are not allowed implicitly: the config must allow them.
#pragma once

#include "oci/spec.hpp"

namespace berth::runtime {

oci::Resources effective_resources(const oci::Spec &spec);

} // namespace berth::runtime
