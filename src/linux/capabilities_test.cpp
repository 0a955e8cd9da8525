#include "linux/capabilities.hpp"

#include "linux/in_child_test.hpp"

#include <gtest/gtest.h>

#include <linux/capability.h>

#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace berth;
using namespace berth::linuxf;
using berth::testing::Child;
using berth::testing::in_child;

namespace {


// CapEff, CapBnd, ... from /proc/self/status.
uint64_t status_caps(const std::string &field) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.starts_with(field + ":")) return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  return ~uint64_t{0};
}

uint64_t bit(int cap) { return uint64_t{1} << cap; }

} // namespace

TEST(Cap, NamesRoundTrip) {
  EXPECT_EQ(cap_from_name("CAP_CHOWN").value(), 0);
  EXPECT_EQ(cap_from_name("CAP_SYS_ADMIN").value(), 21);
  EXPECT_EQ(cap_from_name("CAP_CHECKPOINT_RESTORE").value(), 40);
  for (int c = 0; c <= 40; ++c) {
    ASSERT_NE(cap_name(c), nullptr) << c;
    EXPECT_EQ(cap_from_name(cap_name(c)).value(), c);
  }
  EXPECT_EQ(cap_name(41), nullptr);
  EXPECT_EQ(cap_name(-1), nullptr);
  EXPECT_STREQ(cap_name(21), "CAP_SYS_ADMIN");
}

TEST(Cap, UnknownNames) {
  for (const char *bad : {"CAP_FOO", "cap_chown", "CHOWN", "", "CAP_CHOWN "}) {
    auto r = cap_from_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message(), std::string("unknown capability \"") + bad + "\"");
  }
}

TEST(Cap, LastCapMatchesProc) {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  int want = -1;
  f >> want;
  EXPECT_EQ(cap_last_cap(), want);
  EXPECT_GE(cap_last_cap(), 36); // every kernel berth supports has CAP_BLOCK_SUSPEND
}

TEST(Cap, ResolveSets) {
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = {"CAP_KILL"};
  c.permitted = {"CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  c.inheritable = {"CAP_NET_BIND_SERVICE"};
  c.ambient = {"CAP_NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE"};
  std::vector<std::string> w;
  auto r = resolve_caps(c, w);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bounding, bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(r->effective, bit(CAP_KILL));
  EXPECT_EQ(r->permitted, bit(CAP_KILL) | bit(CAP_CHOWN) | bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(r->inheritable, bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(r->ambient, bit(CAP_NET_BIND_SERVICE));
  EXPECT_TRUE(w.empty());
}

TEST(Cap, AmbientNotPermittedAndInheritableIsSkippedWithAWarning) {
  oci::Capabilities c;
  c.bounding = c.permitted = {"CAP_KILL", "CAP_CHOWN"};
  c.inheritable = {"CAP_CHOWN"};
  c.ambient = {"CAP_KILL", "CAP_CHOWN"}; // KILL: not inheritable
  std::vector<std::string> w;
  auto r = resolve_caps(c, w);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->ambient, bit(CAP_CHOWN));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("CAP_KILL"), std::string::npos) << w[0];
}

TEST(Cap, ResolveErrorNamesTheSet) {
  std::vector<std::string> w;
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_FOO"};
  auto r = resolve_caps(c, w);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.capabilities.bounding: unknown capability \"CAP_FOO\"");
  c = {};
  c.ambient = {"CAP_BAR"};
  r = resolve_caps(c, w);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.capabilities.ambient: unknown capability \"CAP_BAR\"");
}

TEST(Cap, ResolveSkipsWhatTheKernelLacks) {
  // As on a 5.4 kernel, whose last capability is CAP_AUDIT_READ (37).
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_BPF", "CAP_PERFMON"};
  c.effective = {"CAP_BPF"};
  std::vector<std::string> w;
  auto r = resolve_caps(c, 37, w);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->bounding, bit(CAP_CHOWN));
  EXPECT_EQ(r->effective, 0u);
  ASSERT_EQ(w.size(), 2u); // once per capability, not per set
  EXPECT_EQ(w[0], "capability CAP_BPF is not supported by this kernel, skipped");
  EXPECT_EQ(w[1], "capability CAP_PERFMON is not supported by this kernel, skipped");
}

TEST(Cap, ApplyBoundingDropsTheRest) {
  CapSets s;
  s.bounding = bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_SETPCAP);
  auto c = in_child([&](std::string &out) {
    auto r = apply_bounding(s);
    if (!r) return out = r.error().message(), 1;
    std::ostringstream o;
    o << std::hex << status_caps("CapBnd");
    out = o.str();
    return status_caps("CapBnd") == s.bounding ? 0 : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Cap, ApplyBoundingWithoutSetpcapFails) {
  auto c = in_child([](std::string &out) {
    CapSets keep;
    keep.effective = keep.permitted = status_caps("CapPrm") & ~bit(CAP_SETPCAP);
    if (auto r = apply_caps(keep); !r) return out = r.error().message(), 1;
    CapSets s; // drop everything
    auto r = apply_bounding(s);
    if (r) return 2;
    out = r.error().message();
    return out == "drop CAP_CHOWN from the bounding set: Operation not permitted (needs CAP_SETPCAP)" ? 0 : 3;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Cap, ApplyCapsSetsAllFiveViews) {
  CapSets s;
  s.effective = bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE);
  s.permitted = bit(CAP_KILL) | bit(CAP_CHOWN) | bit(CAP_NET_BIND_SERVICE);
  s.inheritable = bit(CAP_NET_BIND_SERVICE);
  s.ambient = bit(CAP_NET_BIND_SERVICE);
  auto c = in_child([&](std::string &out) {
    auto r = apply_caps(s);
    if (!r) return out = r.error().message(), 1;
    std::ostringstream o;
    o << std::hex << "eff=" << status_caps("CapEff") << " prm=" << status_caps("CapPrm")
      << " inh=" << status_caps("CapInh") << " amb=" << status_caps("CapAmb");
    out = o.str();
    return status_caps("CapEff") == s.effective && status_caps("CapPrm") == s.permitted &&
                   status_caps("CapInh") == s.inheritable && status_caps("CapAmb") == s.ambient
               ? 0
               : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Cap, ApplyCapsAmbientNeedsInheritable) {
  CapSets s;
  s.effective = s.permitted = bit(CAP_KILL);
  s.ambient = bit(CAP_KILL);
  auto c = in_child([&](std::string &out) {
    auto r = apply_caps(s);
    if (r) return 1;
    out = r.error().message();
    return out == "raise ambient capability CAP_KILL: Operation not permitted (it must also be "
                  "permitted and inheritable)"
               ? 0
               : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}

TEST(Cap, ApplyCapsEffectiveOutsidePermittedFails) {
  CapSets s;
  s.effective = bit(CAP_KILL) | bit(CAP_CHOWN);
  s.permitted = bit(CAP_KILL);
  auto c = in_child([&](std::string &out) {
    auto r = apply_caps(s);
    if (r) return 1;
    out = r.error().message();
    return out.starts_with("capset: Operation not permitted (effective must be within permitted") ? 0 : 2;
  });
  EXPECT_TRUE(c.ok()) << c.out;
}
