#include "linux/rlimits.hpp"

#include "linux/capabilities.hpp"

#include "linux/in_child_test.hpp"

#include <gtest/gtest.h>

#include <linux/capability.h>

#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace berth;
using namespace berth::linuxf;
using berth::testing::Child;
using berth::testing::in_child;

namespace {


// CapEff or CapPrm from /proc/self/status.
uint64_t caps(const std::string &field) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.starts_with(field + ":")) return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  return 0;
}

rlimit current(int res) {
  rlimit r{};
  getrlimit(static_cast<__rlimit_resource>(res), &r);
  return r;
}

std::string expected_eperm(unsigned long soft, unsigned long hard, unsigned long cur_hard) {
  return "setrlimit RLIMIT_NOFILE soft=" + std::to_string(soft) + " hard=" + std::to_string(hard) +
         ": Operation not permitted (above the hard limit " + std::to_string(cur_hard) +
         " and no CAP_SYS_RESOURCE?)";
}

} // namespace

TEST(Rlimit, Names) {
  const std::pair<const char *, int> all[] = {
      {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (auto [name, res] : all) EXPECT_EQ(rlimit_from_name(name).value(), res) << name;
  for (const char *bad : {"RLIMIT_FOO", "NOFILE", "rlimit_nofile", ""}) {
    auto r = rlimit_from_name(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), std::string("unknown rlimit \"") + bad + "\"");
  }
}

TEST(Rlimit, Resolve) {
  auto r = resolve_rlimits({{"RLIMIT_NOFILE", 1024, 4096}, {"RLIMIT_CORE", 0, ~uint64_t{0}}});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ((*r)[0].soft, 1024u);
  EXPECT_EQ((*r)[0].hard, 4096u);
  EXPECT_EQ((*r)[1].hard, RLIM_INFINITY);
}

TEST(Rlimit, ResolveErrorsNameTheEntry) {
  auto r = resolve_rlimits({{"RLIMIT_NOFILE", 1, 2}, {"RLIMIT_FOO", 1, 2}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  r = resolve_rlimits({{"RLIMIT_NOFILE", 10, 5}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.rlimits[0]: RLIMIT_NOFILE soft limit 10 is above its hard limit 5");
  r = resolve_rlimits({{"RLIMIT_NOFILE", 1, 2}, {"RLIMIT_CORE", 0, 0}, {"RLIMIT_NOFILE", 3, 4}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\"");
}

TEST(Rlimit, ApplyLowers) {
  auto c = in_child([](std::string &out) {
    auto r = apply_rlimits({{RLIMIT_NOFILE, 100, 200}, {RLIMIT_CORE, 0, 0}});
    if (!r) return out = r.error().message(), 1;
    rlimit n = current(RLIMIT_NOFILE), core = current(RLIMIT_CORE);
    out = std::to_string(n.rlim_cur) + "/" + std::to_string(n.rlim_max);
    return n.rlim_cur == 100 && n.rlim_max == 200 && core.rlim_cur == 0 && core.rlim_max == 0 ? 0 : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

// Deterministic whatever the test runs with: without CAP_SYS_RESOURCE the
// hard limit only goes down.
TEST(Rlimit, RaiseAboveHardWithoutCapSysResourceFails) {
  auto c = in_child([](std::string &out) {
    CapSets s;
    s.effective = s.permitted = caps("CapPrm") & ~(uint64_t{1} << CAP_SYS_RESOURCE);
    if (auto r = apply_caps(s); !r) return out = r.error().message(), 1;
    const unsigned long hard = current(RLIMIT_NOFILE).rlim_max;
    auto r = apply_rlimits({{RLIMIT_NOFILE, hard, hard + 1}});
    if (r) return out = "raised above the hard limit without CAP_SYS_RESOURCE", 2;
    out = r.error().message();
    return out == expected_eperm(hard, hard + 1, hard) && r.error().code() == EPERM ? 0 : 3;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

// With this process's own capabilities: succeeds where the runner has
// CAP_SYS_RESOURCE, fails with the explained error where it does not (the
// development sandbox).
TEST(Rlimit, RaiseAboveHardFollowsCapSysResource) {
  const bool can = (caps("CapEff") >> CAP_SYS_RESOURCE) & 1;
  auto c = in_child([&](std::string &out) {
    const unsigned long hard = current(RLIMIT_NOFILE).rlim_max;
    auto r = apply_rlimits({{RLIMIT_NOFILE, hard + 1, hard + 1}});
    if (can) return r ? 0 : (out = r.error().message(), 1);
    if (r) return out = "raised without CAP_SYS_RESOURCE", 2;
    out = r.error().message();
    return out == expected_eperm(hard + 1, hard + 1, hard) ? 0 : 3;
  });
  EXPECT_TRUE(c.ok()) << "CAP_SYS_RESOURCE=" << can << ": " << c.out;
}
