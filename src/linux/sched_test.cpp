#include "linux/sched.hpp"

#include "linux/in_child_test.hpp"

#include <gtest/gtest.h>

#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace berth;
using namespace berth::linuxf;
using berth::testing::Child;
using berth::testing::in_child;

namespace {


struct Attr { // struct sched_attr, VER1
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

Attr get_attr() {
  Attr a{};
  syscall(SYS_sched_getattr, 0, &a, sizeof a, 0);
  return a;
}

oci::Scheduler sched(std::string policy) {
  oci::Scheduler s;
  s.policy = std::move(policy);
  return s;
}

std::string err(const Result<ResolvedSched> &r) { return r ? "ok" : r.error().message(); }

} // namespace

TEST(Sched, ResolveUnset) {
  auto r = resolve_scheduler(std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->set);
}

TEST(Sched, ResolvePoliciesAndFlags) {
  auto s = sched("SCHED_BATCH");
  s.nice = 5;
  s.flags = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_UTIL_CLAMP_MAX"};
  auto r = resolve_scheduler(s);
  ASSERT_TRUE(r) << err(r);
  EXPECT_TRUE(r->set);
  EXPECT_EQ(r->policy, SCHED_BATCH);
  EXPECT_EQ(r->nice, 5);
  EXPECT_EQ(r->flags, 0x41u);

  s = sched("SCHED_FIFO");
  s.priority = 10;
  r = resolve_scheduler(s);
  ASSERT_TRUE(r) << err(r);
  EXPECT_EQ(r->policy, SCHED_FIFO);
  EXPECT_EQ(r->priority, 10);

  s = sched("SCHED_DEADLINE");
  s.runtime = 10'000'000;
  s.deadline = s.period = 30'000'000;
  r = resolve_scheduler(s);
  ASSERT_TRUE(r) << err(r);
  EXPECT_EQ(r->policy, 6);
  EXPECT_EQ(r->period, 30'000'000u);

  for (const char *p : {"SCHED_OTHER", "SCHED_IDLE", "SCHED_ISO"}) EXPECT_TRUE(resolve_scheduler(sched(p))) << p;
  int all = 0;
  for (const char *f : {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
                        "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
                        "SCHED_FLAG_UTIL_CLAMP_MAX"}) {
    s = sched("SCHED_OTHER");
    s.flags = {f};
    r = resolve_scheduler(s);
    ASSERT_TRUE(r) << f;
    all |= static_cast<int>(r->flags);
  }
  EXPECT_EQ(all, 0x7f);
}

TEST(Sched, ResolveErrors) {
  auto s = sched("SCHED_FOO");
  EXPECT_EQ(err(resolve_scheduler(s)), "process.scheduler.policy: unknown policy \"SCHED_FOO\"");
  s = sched("SCHED_OTHER");
  s.nice = 20;
  EXPECT_EQ(err(resolve_scheduler(s)), "process.scheduler.nice: 20 is out of range -20..19");
  s.nice = -21;
  EXPECT_EQ(err(resolve_scheduler(s)), "process.scheduler.nice: -21 is out of range -20..19");
  s = sched("SCHED_OTHER");
  s.flags = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_FOO"};
  EXPECT_EQ(err(resolve_scheduler(s)), "process.scheduler.flags[1]: unknown flag \"SCHED_FLAG_FOO\"");
  s = sched("SCHED_RR");
  EXPECT_EQ(err(resolve_scheduler(s)), "process.scheduler.priority: SCHED_RR needs a priority in 1..99, not 0");
  s.priority = 100;
  EXPECT_EQ(err(resolve_scheduler(s)), "process.scheduler.priority: SCHED_RR needs a priority in 1..99, not 100");
  s = sched("SCHED_BATCH");
  s.priority = 3;
  EXPECT_EQ(err(resolve_scheduler(s)),
            "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority, not SCHED_BATCH");
  s = sched("SCHED_OTHER");
  s.runtime = 1;
  EXPECT_EQ(err(resolve_scheduler(s)),
            "process.scheduler: runtime, deadline and period are for SCHED_DEADLINE only, not SCHED_OTHER");
}

TEST(Sched, ApplyBatchWithNiceAndResetOnFork) {
  auto s = sched("SCHED_BATCH");
  s.nice = 7;
  s.flags = {"SCHED_FLAG_RESET_ON_FORK"};
  auto r = resolve_scheduler(s);
  ASSERT_TRUE(r) << err(r);
  auto c = in_child([&](std::string &out) {
    if (auto a = apply_scheduler(*r); !a) return out = a.error().message(), 1;
    Attr got = get_attr();
    out = "policy=" + std::to_string(got.policy) + " nice=" + std::to_string(got.nice) +
          " flags=" + std::to_string(got.flags);
    return got.policy == SCHED_BATCH && got.nice == 7 && (got.flags & 0x01) ? 0 : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Sched, ApplyIdle) {
  auto r = resolve_scheduler(sched("SCHED_IDLE"));
  ASSERT_TRUE(r);
  auto c = in_child([&](std::string &out) {
    if (auto a = apply_scheduler(*r); !a) return out = a.error().message(), 1;
    return sched_getscheduler(0) == SCHED_IDLE ? 0 : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Sched, ApplyUnsetIsANoop) {
  EXPECT_TRUE(apply_scheduler(ResolvedSched{}));
  EXPECT_TRUE(apply_io_priority(0));
}

TEST(Sched, ApplyIsoFailsWithReason) {
  auto r = resolve_scheduler(sched("SCHED_ISO"));
  ASSERT_TRUE(r);
  auto c = in_child([&](std::string &out) {
    auto a = apply_scheduler(*r);
    if (a) return 1;
    out = a.error().message();
    return out == "sched_setattr SCHED_ISO nice=0 priority=0: Invalid argument (Linux does not implement "
                  "SCHED_ISO)"
               ? 0
               : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Sched, IoPriorityResolve) {
  EXPECT_EQ(resolve_io_priority(std::nullopt).value(), 0);
  EXPECT_EQ(resolve_io_priority(oci::IOPriority{"IOPRIO_CLASS_RT", 0}).value(), 1 << 13);
  EXPECT_EQ(resolve_io_priority(oci::IOPriority{"IOPRIO_CLASS_BE", 4}).value(), (2 << 13) | 4);
  EXPECT_EQ(resolve_io_priority(oci::IOPriority{"IOPRIO_CLASS_IDLE", 7}).value(), (3 << 13) | 7);
  auto r = resolve_io_priority(oci::IOPriority{"IOPRIO_CLASS_FOO", 0});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.ioPriority.class: unknown class \"IOPRIO_CLASS_FOO\"");
  r = resolve_io_priority(oci::IOPriority{"IOPRIO_CLASS_BE", 8});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.ioPriority.priority: 8 is out of range 0..7");
  r = resolve_io_priority(oci::IOPriority{"IOPRIO_CLASS_BE", -1});
  ASSERT_FALSE(r);
}

TEST(Sched, IoPriorityApply) {
  for (oci::IOPriority p : {oci::IOPriority{"IOPRIO_CLASS_BE", 6}, oci::IOPriority{"IOPRIO_CLASS_IDLE", 0},
                            oci::IOPriority{"IOPRIO_CLASS_RT", 3}}) {
    const int v = resolve_io_priority(p).value();
    auto c = in_child([&](std::string &out) {
      if (auto a = apply_io_priority(v); !a) return out = a.error().message(), 1;
      long got = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
      out = "ioprio_get=" + std::to_string(got);
      return got == v ? 0 : 2;
    });
    EXPECT_TRUE(c.ok()) << p.klass << ": " << c.out;
  }
}

TEST(Sched, CpuList) {
  auto r = parse_cpu_list("0-3,7");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(CPU_COUNT(&*r), 5);
  for (int c : {0, 1, 2, 3, 7}) EXPECT_TRUE(CPU_ISSET(c, &*r)) << c;
  EXPECT_FALSE(CPU_ISSET(4, &*r));

  r = parse_cpu_list("5");
  ASSERT_TRUE(r);
  EXPECT_EQ(CPU_COUNT(&*r), 1);
  r = parse_cpu_list("2-2,1,0-1\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(CPU_COUNT(&*r), 3);
  r = parse_cpu_list(std::to_string(CPU_SETSIZE - 1));
  ASSERT_TRUE(r);
  EXPECT_TRUE(CPU_ISSET(CPU_SETSIZE - 1, &*r));
}

TEST(Sched, CpuListErrors) {
  const std::string big = std::to_string(CPU_SETSIZE);
  const std::string syntax = ": expected numbers and ranges separated by commas, like 0-3,7";
  const std::pair<std::string, std::string> cases[] = {
      {"", ": empty"},
      {"  ", ": empty"},
      {"a", syntax},
      {"1,a", syntax},
      {"1-", syntax},
      {"-1", syntax},
      {"1-2-3", syntax},
      {"1,,2", syntax},
      {"0x1", syntax},
      {"1 ,2", syntax},
      {"1,", ": trailing comma"},
      {"3-1", ": range 3-1 is reversed"},
      {big, ": cpu number out of range 0.." + std::to_string(CPU_SETSIZE - 1)},
      {"0-" + big, ": cpu number out of range 0.." + std::to_string(CPU_SETSIZE - 1)},
      {"99999999999999999999999", ": cpu number out of range 0.." + std::to_string(CPU_SETSIZE - 1)},
  };
  for (const auto &[in, why] : cases) {
    auto r = parse_cpu_list(in);
    ASSERT_FALSE(r) << in;
    EXPECT_EQ(r.error().message(), "invalid cpu list \"" + in + "\"" + why);
  }
}

TEST(Sched, Personality) {
  EXPECT_EQ(resolve_personality(std::nullopt).value(), -1);
  EXPECT_EQ(resolve_personality(oci::Personality{"LINUX", {}}).value(), PER_LINUX);
  EXPECT_EQ(resolve_personality(oci::Personality{"LINUX32", {}}).value(), PER_LINUX32);
  auto r = resolve_personality(oci::Personality{"LINUX64", {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "linux.personality.domain: unknown domain \"LINUX64\" (LINUX or LINUX32)");
  r = resolve_personality(oci::Personality{"LINUX", {"ADDR_NO_RANDOMIZE"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "linux.personality.flags: no flags are supported, got \"ADDR_NO_RANDOMIZE\"");
}
