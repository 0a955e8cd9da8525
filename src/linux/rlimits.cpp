#include "linux/rlimits.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace berth::linuxf {

namespace {

struct Name {
  const char *name;
  int resource;
};

// getrlimit(2): every resource Linux has.
constexpr Name kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

const char *rlimit_name(int resource) {
  for (const Name &n : kRlimits)
    if (n.resource == resource) return n.name;
  return "RLIMIT_?";
}

std::string limit_str(unsigned long v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

} // namespace

Result<int> rlimit_from_name(std::string_view name) {
  for (const Name &n : kRlimits)
    if (name == n.name) return n.resource;
  return fail_msg("unknown rlimit \"" + std::string(name) + "\"");
}

Result<std::vector<ResolvedRlimit>> resolve_rlimits(const std::vector<oci::Rlimit> &limits) {
  std::vector<ResolvedRlimit> out;
  out.reserve(limits.size());
  for (size_t i = 0; i < limits.size(); ++i) {
    const oci::Rlimit &l = limits[i];
    const std::string field = "process.rlimits[" + std::to_string(i) + "]";
    auto res = rlimit_from_name(l.type);
    if (!res) return ctx(std::move(res).error(), field + ".type");
    for (const ResolvedRlimit &prev : out)
      if (prev.resource == *res) return fail_msg(field + ".type: duplicate rlimit \"" + l.type + "\"");
    if (l.soft > l.hard)
      return fail_msg(field + ": " + l.type + " soft limit " + std::to_string(l.soft) +
                      " is above its hard limit " + std::to_string(l.hard));
    out.push_back({*res, static_cast<unsigned long>(l.soft), static_cast<unsigned long>(l.hard)});
  }
  return out;
}

Result<> apply_rlimits(const std::vector<ResolvedRlimit> &limits) {
  for (const ResolvedRlimit &l : limits) {
    const rlimit rl{l.soft, l.hard};
    if (::setrlimit(static_cast<__rlimit_resource>(l.resource), &rl) == 0) continue;
    // Failure path only from here: building the message may allocate.
    const int err = errno;
    std::string what = std::string("setrlimit ") + rlimit_name(l.resource) + " soft=" +
                       limit_str(l.soft) + " hard=" + limit_str(l.hard);
    what += ": ";
    what += strerror(err);
    rlimit cur{};
    if (err == EPERM) {
      what += " (above the hard limit";
      if (::getrlimit(static_cast<__rlimit_resource>(l.resource), &cur) == 0)
        what += " " + limit_str(cur.rlim_max);
      what += " and no CAP_SYS_RESOURCE?)";
    } else if (err == EINVAL && l.resource == RLIMIT_NOFILE) {
      what += " (above fs.nr_open?)";
    }
    return fail(Error(err, std::move(what)));
  }
  return {};
}

} // namespace berth::linuxf
