// Parsing and conversions: no cgroups touched.
#include "cgroups/convert.hpp"
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"
#include "cgroups/paths.hpp"
#include "common/file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

using namespace berth;
using namespace berth::cgroups;

TEST(CgroupPaths, ParsesHybridMountinfo) {
  const char *text =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "42 31 0:39 / /sys/fs/cgroup/other rw - cgroup cgroup rw,name=other\n"
      "43 31 0:32 /sub /mnt/mem\\040x rw - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  auto t = parse_mountinfo(text);
  ASSERT_EQ(t.v1.size(), 3u); // name=other is unknown; the second memory mount is a duplicate
  EXPECT_EQ(t.v1[0].name, "cpu,cpuacct");
  EXPECT_EQ(t.v1[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(t.v1[2].name, "name=systemd");
  ASSERT_TRUE(t.has_v2);
  EXPECT_EQ(t.v2.mountpoint, "/sys/fs/cgroup/unified");
  auto e = parse_mountinfo("43 31 0:32 /sub /mnt/mem\\040x rw - cgroup cgroup rw,memory\n");
  ASSERT_EQ(e.v1.size(), 1u);
  EXPECT_EQ(e.v1[0].mountpoint, "/mnt/mem x");
  EXPECT_EQ(e.v1[0].root, "/sub");
}

TEST(CgroupPaths, CanonicalCgroupsPath) {
  auto p = parse_cgroups_path("", "c1");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->absolute);
  EXPECT_EQ(p->rel, "c1");
  p = parse_cgroups_path("/a//b/./c/", "c1");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->absolute);
  EXPECT_EQ(p->rel, "a/b/c");
  p = parse_cgroups_path("x/y", "c1");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->absolute);
  EXPECT_EQ(p->rel, "x/y");
  EXPECT_FALSE(parse_cgroups_path("/a/../b", "c1"));
  EXPECT_FALSE(parse_cgroups_path("..", "c1"));
  EXPECT_FALSE(parse_cgroups_path("/", "c1"));
  auto s = parse_cgroups_path("system.slice:berth:c1", "c1");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("systemd"), std::string::npos) << s.error().message();
}

TEST(CgroupPaths, OwnCgroupAndRelativeResolution) {
  const char *self = "9:name=systemd:/sd\n4:memory:/m/x\n2:cpuacct,cpu:/c\n0::/u/v\n";
  EXPECT_EQ(own_cgroup_in(self, "memory").value(), "/m/x");
  EXPECT_EQ(own_cgroup_in(self, "cpu,cpuacct").value(), "/c");
  EXPECT_EQ(own_cgroup_in(self, "name=systemd").value(), "/sd");
  EXPECT_EQ(own_cgroup_in(self, "").value(), "/u/v");
  EXPECT_FALSE(own_cgroup_in(self, "pids"));

  CgroupMount m{"/sys/fs/cgroup/memory", "/", "memory", {"memory"}};
  EXPECT_EQ(resolve_dir(m, {true, "a/b"}).value(), "/sys/fs/cgroup/memory/a/b");
  // Relative: below this process's own cgroup in that hierarchy.
  auto own = read_file("/proc/self/cgroup");
  ASSERT_TRUE(own);
  auto t = mount_table();
  ASSERT_TRUE(t);
  for (auto &mm : (*t)->v1) {
    auto o = own_cgroup_in(*own, mm.name);
    ASSERT_TRUE(o) << mm.name;
    std::string want = mm.mountpoint + (*o == "/" ? "" : *o) + "/rel";
    EXPECT_EQ(resolve_dir(mm, {false, "rel"}).value(), want);
  }
}

TEST(CgroupConvert, SharesToWeight) {
  EXPECT_EQ(cpu_shares_to_weight(0), 0u);
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(cpu_shares_to_weight(1), 1u);            // clamped, no wrap-around
  EXPECT_EQ(cpu_shares_to_weight(1u << 30), 10000u); // clamped
}

TEST(CgroupConvert, BlkioWeightAndSwap) {
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(memory_swap_to_v2(0, -1).value(), -1);
  EXPECT_EQ(memory_swap_to_v2(-1, 100).value(), -1);
  EXPECT_EQ(memory_swap_to_v2(0, 100).value(), 0);
  EXPECT_EQ(memory_swap_to_v2(300, 100).value(), 200);
  EXPECT_FALSE(memory_swap_to_v2(50, 100));
  EXPECT_FALSE(memory_swap_to_v2(300, 0));
}

TEST(CgroupFs, KeyedAndNumbers) {
  EXPECT_EQ(parse_u64("42\n").value(), 42u);
  EXPECT_EQ(parse_u64("max\n", 0).value(), 0u);
  EXPECT_FALSE(parse_u64("4x"));
  EXPECT_EQ(keyed_value("populated 1\nfrozen 1\n", "frozen").value(), 1u);
  EXPECT_FALSE(keyed_value("populated 1\n", "frozen"));
  EXPECT_EQ(parent_dir("/a/b"), "/a");
}

TEST(CgroupDevices, BpfProgramPassesTheVerifier) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::vector<oci::DeviceCgroup> rules = {
      {false, "", std::nullopt, std::nullopt, "rwm"},
      {true, "c", 1, 3, "rw"},
      {true, "c", 136, std::nullopt, "rwm"},
      {false, "c", 1, 3, "w"},
      {true, "b", 8, 0, "r"},
  };
  auto fd = load_device_program(rules);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(fd->valid());
  // A trailing allow-all rule decides everything.
  rules.push_back({true, "a", std::nullopt, std::nullopt, "rwm"});
  EXPECT_TRUE(load_device_program(rules));
  EXPECT_FALSE(load_device_program({{true, "x", 1, 1, "r"}}));
}
