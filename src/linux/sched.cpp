#include "linux/sched.hpp"

#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::linuxf {

namespace {

// <linux/sched.h> and <linux/ioprio.h> clash with glibc's headers, and
// glibc 2.36 has neither sched_setattr nor SCHED_DEADLINE: the kernel ABI
// values, spelled out.
constexpr int kSchedIso = 4; // reserved by Linux, never implemented: the kernel refuses it
constexpr int kSchedDeadline = 6;

struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};
static_assert(sizeof(SchedAttr) == 56, "SCHED_ATTR_SIZE_VER1");

constexpr int kIoprioClassShift = 13;
constexpr int kIoprioWhoProcess = 1;

struct Named {
  const char *name;
  uint64_t value;
};

constexpr Named kPolicies[] = {
    {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_ISO", kSchedIso},   {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", kSchedDeadline},
};

constexpr Named kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

constexpr Named kIoClasses[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3},
};

template <size_t N> const Named *lookup(const Named (&table)[N], std::string_view name) {
  for (const Named &n : table)
    if (name == n.name) return &n;
  return nullptr;
}

const char *policy_name(int policy) {
  for (const Named &n : kPolicies)
    if (static_cast<int>(n.value) == policy) return n.name;
  return "SCHED_?";
}

std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }


} // namespace

Result<ResolvedSched> resolve_scheduler(const std::optional<oci::Scheduler> &s) {
  ResolvedSched r;
  if (!s) return r;
  const std::string f = "process.scheduler";
  const Named *policy = lookup(kPolicies, s->policy);
  if (!policy) return fail_msg(f + ".policy: unknown policy " + q(s->policy));
  r.set = true;
  r.policy = static_cast<int>(policy->value);
  r.nice = s->nice.value_or(0);
  r.priority = s->priority.value_or(0);
  if (r.nice < -20 || r.nice > 19)
    return fail_msg(f + ".nice: " + std::to_string(r.nice) + " is out of range -20..19");
  // The kernel's rules, checked here to name the field instead of EINVAL.
  const bool realtime = r.policy == SCHED_FIFO || r.policy == SCHED_RR;
  if (realtime && (r.priority < 1 || r.priority > 99))
    return fail_msg(f + ".priority: " + s->policy + " needs a priority in 1..99, not " +
                    std::to_string(r.priority));
  if (!realtime && r.priority != 0)
    return fail_msg(f + ".priority: only SCHED_FIFO and SCHED_RR take a priority, not " + s->policy);
  for (size_t i = 0; i < s->flags.size(); ++i) {
    const Named *flag = lookup(kSchedFlags, s->flags[i]);
    if (!flag)
      return fail_msg(f + ".flags[" + std::to_string(i) + "]: unknown flag " + q(s->flags[i]));
    r.flags |= flag->value;
  }
  r.runtime = s->runtime.value_or(0);
  r.deadline = s->deadline.value_or(0);
  r.period = s->period.value_or(0);
  if (r.policy != kSchedDeadline && (r.runtime || r.deadline || r.period))
    return fail_msg(f + ": runtime, deadline and period are for SCHED_DEADLINE only, not " + s->policy);
  return r;
}

Result<> apply_scheduler(const ResolvedSched &s) {
  if (!s.set) return {};
  // util_min/max stay 0 as runc leaves them: the spec gives no values for
  // the UTIL_CLAMP flags.
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = static_cast<uint32_t>(s.policy);
  attr.sched_flags = s.flags;
  attr.sched_nice = s.nice;
  attr.sched_priority = static_cast<uint32_t>(s.priority);
  attr.sched_runtime = s.runtime;
  attr.sched_deadline = s.deadline;
  attr.sched_period = s.period;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) == 0) return {};
  const int err = errno;
  const char *hint = nullptr;
  if (err == EPERM) hint = "needs CAP_SYS_NICE, or real-time runtime in this cgroup";
  else if (err == EINVAL && s.policy == kSchedIso) hint = "Linux does not implement SCHED_ISO";
  else if (err == EBUSY) hint = "not enough SCHED_DEADLINE bandwidth";
  return fail_hint(err,
                   std::string("sched_setattr ") + policy_name(s.policy) + " nice=" + std::to_string(s.nice) +
                       " priority=" + std::to_string(s.priority),
                   hint);
}

Result<int> resolve_io_priority(const std::optional<oci::IOPriority> &p) {
  if (!p) return 0;
  const Named *cls = lookup(kIoClasses, p->klass);
  if (!cls) return fail_msg("process.ioPriority.class: unknown class " + q(p->klass));
  if (p->priority < 0 || p->priority > 7)
    return fail_msg("process.ioPriority.priority: " + std::to_string(p->priority) +
                    " is out of range 0..7");
  return static_cast<int>(cls->value << kIoprioClassShift) | p->priority;
}

Result<> apply_io_priority(int ioprio) {
  if (ioprio == 0) return {};
  if (::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, ioprio) == 0) return {};
  const int err = errno;
  return fail_hint(err,
                   "ioprio_set class=" + std::to_string(ioprio >> kIoprioClassShift) +
                       " priority=" + std::to_string(ioprio & 7),
                   err == EPERM ? "the real-time class needs CAP_SYS_ADMIN" : nullptr);
}

Result<cpu_set_t> parse_cpu_list(std::string_view list) {
  auto bad = [&](const std::string &why) {
    return fail_msg("invalid cpu list " + q(list) + ": " + why);
  };
  std::string_view s = list;
  // Tolerate the newline of a sysfs file such as cpuset.cpus.
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty()) return bad("empty");

  cpu_set_t set;
  CPU_ZERO(&set);
  // Reads a cpu number at s[pos...]; -1 when there is none or it is too big.
  auto number = [&](size_t &pos) -> long {
    long v = -1;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      v = (v < 0 ? 0 : v) * 10 + (s[pos++] - '0');
      if (v >= CPU_SETSIZE) return -2;
    }
    return v;
  };
  for (size_t pos = 0;;) {
    long lo = number(pos), hi = lo;
    if (pos < s.size() && s[pos] == '-') {
      ++pos;
      hi = number(pos);
    }
    if (lo == -2 || hi == -2)
      return bad("cpu number out of range 0.." + std::to_string(CPU_SETSIZE - 1));
    if (lo < 0 || hi < 0 || (pos < s.size() && s[pos] != ','))
      return bad("expected numbers and ranges separated by commas, like 0-3,7");
    if (hi < lo) return bad("range " + std::to_string(lo) + "-" + std::to_string(hi) + " is reversed");
    for (long c = lo; c <= hi; ++c) CPU_SET(static_cast<size_t>(c), &set);
    if (pos == s.size()) break;
    ++pos; // ','
    if (pos == s.size()) return bad("trailing comma");
  }
  return set;
}

Result<long> resolve_personality(const std::optional<oci::Personality> &p) {
  if (!p) return -1;
  long v;
  if (p->domain == "LINUX") v = PER_LINUX;
  else if (p->domain == "LINUX32") v = PER_LINUX32;
  else return fail_msg("linux.personality.domain: unknown domain " + q(p->domain) + " (LINUX or LINUX32)");
  // runtime-spec 1.3 defines no flags; runc refuses any.
  if (!p->flags.empty())
    return fail_msg("linux.personality.flags: no flags are supported, got " + q(p->flags[0]));
  return v;
}

} // namespace berth::linuxf
