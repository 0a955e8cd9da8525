// linux.resources.devices on cgroup v1: devices.deny "a", then each rule in
// order (the spec's order is the kernel's order of evaluation), as runc does.
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

namespace berth::cgroups {

namespace {

// "c 1:3 rwm"; "a" for the all-devices rule (the kernel reads nothing after it).
Result<std::string> device_rule_v1(const oci::DeviceCgroup &d) {
  std::string type = d.type.empty() ? "a" : d.type;
  if (type != "a" && type != "b" && type != "c")
    return fail_msg("linux.resources.devices: invalid type \"" + d.type + "\"");
  std::string access = d.access.empty() ? "rwm" : d.access;
  if (access.find_first_not_of("rwm") != std::string::npos)
    return fail_msg("linux.resources.devices: invalid access \"" + d.access + "\"");
  if (type == "a") return type;
  auto num = [](const std::optional<int64_t> &n) {
    return n && *n >= 0 ? std::to_string(*n) : std::string("*");
  };
  return type + " " + num(d.major) + ":" + num(d.minor) + " " + access;
}

} // namespace

Result<> apply_devices_v1(const std::string &dir, const std::vector<oci::DeviceCgroup> &rules) {
  const char *R = "linux.resources.devices";
  // Start from nothing allowed, unless the first rule resets the list anyway.
  bool resets = rules.front().type.empty() || rules.front().type == "a";
  if (!resets) TRY_CTX(cg_write(dir, "devices.deny", "a"), R);
  for (auto &d : rules) {
    ASSIGN_OR_RETURN(std::string rule, device_rule_v1(d));
    TRY_CTX(cg_write(dir, d.allow ? "devices.allow" : "devices.deny", rule), R);
  }
  return {};
}

} // namespace berth::cgroups
