#include "linux/namespaces.hpp"

#include <sched.h>

#include <string>

namespace berth::linuxf {

namespace {
struct NsInfo {
  const char *type;
  int flag;
  const char *proc;
};
constexpr NsInfo kNamespaces[] = {
    {"pid", CLONE_NEWPID, "pid"},       {"network", CLONE_NEWNET, "net"},
    {"mount", CLONE_NEWNS, "mnt"},      {"ipc", CLONE_NEWIPC, "ipc"},
    {"uts", CLONE_NEWUTS, "uts"},       {"user", CLONE_NEWUSER, "user"},
    {"cgroup", CLONE_NEWCGROUP, "cgroup"}, {"time", CLONE_NEWTIME, "time"},
};
} // namespace

Result<int> namespace_flag(std::string_view type) {
  for (auto &n : kNamespaces)
    if (type == n.type) return n.flag;
  return fail_msg("unknown namespace type \"" + std::string(type) + "\"");
}

const char *namespace_proc_name(int flag) {
  for (auto &n : kNamespaces)
    if (flag == n.flag) return n.proc;
  return "";
}

} // namespace berth::linuxf
