// The Manager on the real cgroups of the host (v1 hybrid here, v2 in the test
// VM). Every cgroup made is named berth-unittest-<pid>-<n>...; TearDown
// removes whatever is left of them, even after a failed assertion.
#include "cgroups/convert.hpp"
#include "cgroups/manager.hpp"
#include "common/file.hpp"
#include "common/syscalls.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <functional>
#include <sstream>

using namespace berth;
using namespace berth::cgroups;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string slurp(const std::string &p) { return trim(read_file(p).value_or("<missing>")); }

// Every hierarchy's root: /sys/fs/cgroup on v2, each directory in it on v1.
std::vector<std::string> roots() {
  if (path_exists("/sys/fs/cgroup/cgroup.controllers")) return {"/sys/fs/cgroup"};
  std::vector<std::string> out;
  if (DIR *d = ::opendir("/sys/fs/cgroup")) {
    while (dirent *e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.')
        out.push_back(std::string("/sys/fs/cgroup/") + e->d_name);
    ::closedir(d);
  }
  return out;
}

// Directories below dir (to depth) whose name starts with prefix.
void find_prefixed(const std::string &dir, const std::string &prefix, int depth,
                   std::vector<std::string> &out) {
  DIR *d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> subs;
  while (dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    if (e->d_type != DT_DIR || n == "." || n == "..") continue;
    if (n.starts_with(prefix))
      out.push_back(dir + "/" + n);
    else if (depth > 0)
      subs.push_back(dir + "/" + n);
  }
  ::closedir(d);
  for (auto &s : subs) find_prefixed(s, prefix, depth - 1, out);
}

void rmdir_deep(const std::string &dir) {
  (void)write_file(dir + "/freezer.state", "THAWED");
  (void)write_file(dir + "/cgroup.freeze", "0");
  if (DIR *d = ::opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent *e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') subs.push_back(dir + "/" + e->d_name);
    ::closedir(d);
    for (auto &s : subs) rmdir_deep(s);
  }
  for (int i = 0; i < 100 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++i) ::usleep(10000);
}

long cpu_ticks(pid_t pid) {
  auto s = read_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
  auto p = s.rfind(')');
  if (p == std::string::npos) return -1;
  std::istringstream in(s.substr(p + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return utime + stime;
}

void spin_ms(long ms) {
  timespec a, b;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  for (;;) {
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    if ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= ms) break;
  }
}

class CgroupManager : public ::testing::Test {
protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto l = detect_layout();
    ASSERT_TRUE(l);
    layout = *l;
    v2 = layout == Layout::V2;
    prefix = "berth-unittest-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  void TearDown() override {
    if (prefix.empty()) return; // skipped
    for (pid_t p : children) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    for (auto &d : leftovers()) rmdir_deep(d);
    EXPECT_TRUE(leftovers().empty());
  }

  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    for (auto &r : roots()) find_prefixed(r, prefix, 3, out);
    return out;
  }

  // A child that runs body() once told to (after it joined the cgroup), then sleeps.
  pid_t spawn(std::function<void()> body = {}) {
    int go[2];
    EXPECT_EQ(::pipe2(go, O_CLOEXEC), 0);
    pid_t p = ::fork();
    if (p == 0) {
      char c;
      ::close(go[1]);
      if (::read(go[0], &c, 1) != 1) ::_exit(1);
      if (body) body();
      for (;;) ::pause();
    }
    ::close(go[0]);
    children.push_back(p);
    go_fds.push_back(go[1]);
    return p;
  }
  void release(size_t i) {
    EXPECT_EQ(::write(go_fds[i], "x", 1), 1);
    ::close(go_fds[i]);
  }

  // The container cgroup's directory in the hierarchy of controller.
  std::string dir(const std::string &name, const std::string &controller) const {
    return v2 ? "/sys/fs/cgroup/" + name : "/sys/fs/cgroup/" + controller + "/" + name;
  }

  std::unique_ptr<Manager> make(const std::string &path) {
    auto m = make_manager(path, "unused");
    EXPECT_TRUE(m) << m.error().message();
    return m ? std::move(*m) : nullptr;
  }

  Layout layout = Layout::V1;
  bool v2 = false;
  std::string prefix;
  std::vector<pid_t> children;
  std::vector<int> go_fds;
};

bool wait_killed(pid_t p, int sig) {
  int st = 0;
  return ::waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

} // namespace

TEST_F(CgroupManager, CreateWritesLimitsAndDestroyRemoves) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::Memory{.limit = 64 << 20, .swap = 128 << 20, .kernel = 64 << 20};
  r.pids = oci::Pids{50};
  r.cpu = oci::Cpu{.shares = 512, .quota = 50000, .period = 100000};
  auto c = m->create(&r);
  ASSERT_TRUE(c) << c.error().message();
  if (v2) {
    std::string d = dir(prefix, "");
    EXPECT_EQ(slurp(d + "/memory.max"), "67108864");
    EXPECT_EQ(slurp(d + "/memory.swap.max"), "67108864");
    EXPECT_EQ(slurp(d + "/pids.max"), "50");
    EXPECT_EQ(slurp(d + "/cpu.max"), "50000 100000");
    EXPECT_EQ(slurp(d + "/cpu.weight"), std::to_string(cpu_shares_to_weight(512)));
    auto j = m->prepare_self_join();
    ASSERT_TRUE(j) << j.error().message();
    EXPECT_GE(j->clone_fd, 0);
    EXPECT_TRUE(j->tasks.empty());
  } else {
    EXPECT_EQ(slurp(dir(prefix, "memory") + "/memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(slurp(dir(prefix, "memory") + "/memory.memsw.limit_in_bytes"), "134217728");
    EXPECT_EQ(slurp(dir(prefix, "pids") + "/pids.max"), "50");
    EXPECT_EQ(slurp(dir(prefix, "cpu") + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(slurp(dir(prefix, "cpu") + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(slurp(dir(prefix, "cpu") + "/cpu.shares"), "512");
    auto j = m->prepare_self_join();
    ASSERT_TRUE(j) << j.error().message();
    // A "tasks" file per v1 hierarchy, and the unified one's fd on hybrid hosts.
    EXPECT_EQ(j->tasks.size() + (j->clone_fd >= 0), roots().size());
    // Every mounted hierarchy got the cgroup, cpusets ready for tasks.
    for (auto &root : roots()) EXPECT_TRUE(path_exists(root + "/" + prefix)) << root;
    EXPECT_NE(slurp(dir(prefix, "cpuset") + "/cpuset.cpus"), "");
  }
  // Raising both memory and swap needs memsw first on v1.
  oci::Resources u;
  u.memory = oci::Memory{.limit = 256 << 20, .swap = 512 << 20};
  auto up = m->update(u);
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(slurp(dir(prefix, "memory") + (v2 ? "/memory.max" : "/memory.limit_in_bytes")),
            "268435456");
  auto d = m->destroy();
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(leftovers().empty());
  EXPECT_TRUE(m->destroy()) << "destroy is idempotent";
}

TEST_F(CgroupManager, PreExistingCgroupSurvivesDestroy) {
  auto outer = make("/" + prefix + "-pre");
  ASSERT_TRUE(outer);
  ASSERT_TRUE(outer->create(nullptr));
  auto inner = make("/" + prefix + "-pre/a/b");
  ASSERT_TRUE(inner);
  ASSERT_TRUE(inner->create(nullptr));
  EXPECT_TRUE(path_exists(dir(prefix + "-pre/a/b", "memory")));
  auto same = make("/" + prefix + "-pre"); // existed before: not ours to remove
  ASSERT_TRUE(same->create(nullptr));
  ASSERT_TRUE(same->destroy());
  ASSERT_TRUE(inner->destroy());
  EXPECT_FALSE(path_exists(dir(prefix + "-pre/a", "memory")));
  EXPECT_TRUE(path_exists(dir(prefix + "-pre", "memory")));
  ASSERT_TRUE(outer->destroy());
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, SharedParentOutlivesTheContainerThatMadeIt) {
  // docker's and podman's cgroup parent: the first container makes it, the
  // others' cgroups go in it too; deleting the first must not touch them.
  auto first = make("/" + prefix + "-parent/a");
  auto second = make("/" + prefix + "-parent/b");
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->create(nullptr));
  ASSERT_TRUE(second->create(nullptr));
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  children.push_back(child);
  ASSERT_TRUE(second->add(child)) << "a process keeps b busy";
  auto d = first->destroy();
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_FALSE(path_exists(dir(prefix + "-parent/a", v2 ? "" : "memory")));
  EXPECT_TRUE(path_exists(dir(prefix + "-parent/b", v2 ? "" : "memory")));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  children.clear();
  ASSERT_TRUE(second->destroy());
  // b went into an existing parent: the parent stays (runc leaves every parent).
  EXPECT_FALSE(path_exists(dir(prefix + "-parent/b", v2 ? "" : "memory")));
  EXPECT_TRUE(path_exists(dir(prefix + "-parent", v2 ? "" : "memory")));
}

TEST_F(CgroupManager, PlannedCreateIsRemovedEvenIfNeverMade) {
  // A runtime killed during create(): the state written after plan_create()
  // is all a later delete has.
  auto m = make("/" + prefix + "-plan/a/b");
  ASSERT_TRUE(m);
  m->plan_create();
  auto state = m->to_json();
  ASSERT_TRUE(m->create(nullptr));
  auto killed = load_manager(state);
  ASSERT_TRUE(killed) << killed.error().message();
  ASSERT_TRUE((*killed)->destroy());
  EXPECT_TRUE(leftovers().empty());
  // Killed before it made anything: nothing to remove, no error.
  auto never = make("/" + prefix + "-plan/c");
  never->plan_create();
  auto again = load_manager(never->to_json());
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->destroy());
}

TEST_F(CgroupManager, SharedParentStaysWhileInUse) {
  auto a = make("/" + prefix + "-shared/a");
  auto b = make("/" + prefix + "-shared/b");
  ASSERT_TRUE(a && b);
  a->plan_create();
  b->plan_create(); // both count the parent as theirs: it is missing for both
  ASSERT_TRUE(a->create(nullptr));
  ASSERT_TRUE(b->create(nullptr));
  ASSERT_TRUE(a->destroy());
  EXPECT_TRUE(path_exists(dir(prefix + "-shared/b", "memory"))) << "a sibling's cgroup survives";
  ASSERT_TRUE(b->destroy());
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, RelativePathIsBelowOwnCgroup) {
  auto m = make(prefix + "-rel");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->create(nullptr));
  auto self = read_file("/proc/self/cgroup").value_or("");
  // The memory hierarchy's line (v1) or the unified one (v2).
  std::string want = v2 ? "0::" : ":memory:";
  auto p = self.find(want);
  ASSERT_NE(p, std::string::npos);
  std::string own = self.substr(p + want.size(), self.find('\n', p) - p - want.size());
  std::string base = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
  EXPECT_TRUE(path_exists(base + (own == "/" ? "" : own) + "/" + prefix + "-rel")) << own;
  ASSERT_TRUE(m->destroy());
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, BadValueFailsCreateAndLeavesNothing) {
  auto m = make("/" + prefix + "-bad/x/y");
  ASSERT_TRUE(m);
  oci::Resources r;
  r.pids = oci::Pids{10};
  r.cpu = oci::Cpu{.cpus = "999"};
  auto c = m->create(&r);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("cpuset.cpus"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("write 999 to /sys/fs/cgroup/"), std::string::npos)
      << c.error().message();
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, UnsupportedValueNamesResource) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  oci::Resources r;
  r.network = oci::Network{.class_id = 42};
  auto c = m->create(&r);
  ASSERT_FALSE(c); // net_cls: not mounted on the hybrid host, absent on v2
  EXPECT_NE(c.error().message().find("network"), std::string::npos) << c.error().message();
  EXPECT_TRUE(leftovers().empty());
  oci::Resources u;
  u.unified["pids.max"] = "7";
  c = m->create(&u);
  if (layout == Layout::V1) {
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("cannot use unified on cgroup v1"), std::string::npos);
  } else if (layout == Layout::Hybrid) {
    ASSERT_FALSE(c); // pids is a v1 controller here: not available in the unified hierarchy
    EXPECT_NE(c.error().message().find("pids"), std::string::npos) << c.error().message();
  } else {
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(slurp(dir(prefix, "") + "/pids.max"), "7");
    ASSERT_TRUE(m->destroy());
  }
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, HugetlbLimit) {
  if (!path_exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) GTEST_SKIP() << "no 2MB pages";
  if (layout == Layout::V1) GTEST_SKIP() << "no unified hierarchy";
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  oci::Resources r;
  r.hugepage_limits = {{"2MB", 4 << 20}};
  auto c = m->create(&r);
  ASSERT_TRUE(c) << c.error().message();
  // Hybrid: hugetlb lives in the unified hierarchy only.
  std::string d = v2 ? dir(prefix, "") : "/sys/fs/cgroup/unified/" + prefix;
  EXPECT_EQ(slurp(d + "/hugetlb.2MB.max"), std::to_string(4 << 20));
  ASSERT_TRUE(m->destroy());
}

TEST_F(CgroupManager, AddPidsFreezeKill) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->create(nullptr));
  pid_t a = spawn([] {
    for (;;) spin_ms(1000);
  });
  pid_t b = spawn();
  auto r = m->add(a);
  ASSERT_TRUE(r) << r.error().message();
  release(0);
  release(1);
  // b goes into a child cgroup of ours: pids() and destroy() see below too.
  std::string main_dir = dir(prefix, v2 ? "" : "freezer");
  ASSERT_TRUE(m->add(b));
  ASSERT_EQ(::mkdir((main_dir + "/sub").c_str(), 0755), 0);
  ASSERT_TRUE(write_file(main_dir + "/sub/cgroup.procs", std::to_string(b)));
  auto pids = m->pids();
  ASSERT_TRUE(pids) << pids.error().message();
  std::sort(pids->begin(), pids->end());
  EXPECT_EQ(*pids, (std::vector<pid_t>{std::min(a, b), std::max(a, b)}));

  auto f = m->freeze();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_TRUE(m->frozen().value_or(false));
  ::usleep(50000); // let the last partial tick be accounted
  long t0 = cpu_ticks(a);
  ::usleep(300000);
  long t1 = cpu_ticks(a);
  EXPECT_LE(t1 - t0, 1) << "a frozen process ran";
  ASSERT_TRUE(m->thaw());
  EXPECT_FALSE(m->frozen().value_or(true));
  ::usleep(300000);
  EXPECT_GE(cpu_ticks(a) - t1, 5) << "a thawed process did not run";

  auto k = m->kill_all(SIGKILL);
  ASSERT_TRUE(k) << k.error().message();
  EXPECT_TRUE(wait_killed(a, SIGKILL));
  EXPECT_TRUE(wait_killed(b, SIGKILL));
  children.clear();
  auto d = m->destroy(); // also waits for the cgroup to empty
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, KillAllWithOtherSignalWhilePaused) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->create(nullptr));
  pid_t a = spawn();
  ASSERT_TRUE(m->add(a));
  release(0);
  ASSERT_TRUE(m->freeze());
  ASSERT_TRUE(m->frozen().value_or(false));
  ASSERT_TRUE(m->kill_all(SIGTERM));
  EXPECT_TRUE(m->frozen().value_or(false)) << "a paused cgroup stays paused";
  ASSERT_TRUE(m->thaw());
  EXPECT_TRUE(wait_killed(a, SIGTERM));
  children.clear();
  ASSERT_TRUE(m->destroy());
}

TEST_F(CgroupManager, StatsAfterCpuBurn) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  oci::Resources r;
  r.pids = oci::Pids{50};
  r.memory = oci::Memory{.limit = 64 << 20};
  ASSERT_TRUE(m->create(&r));
  int done[2];
  ASSERT_EQ(::pipe(done), 0);
  pid_t a = spawn([&] {
    std::vector<char> mem(4 << 20, 1); // some memory to account
    spin_ms(100);
    (void)!::write(done[1], mem.data(), 1);
  });
  ASSERT_TRUE(m->add(a));
  release(0);
  char c;
  ASSERT_EQ(::read(done[0], &c, 1), 1);
  ::close(done[0]), ::close(done[1]);
  auto st = m->stats();
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_GT(st->cpu_usage_ns, 50'000'000u);
  EXPECT_GT(st->cpu_user_ns + st->cpu_system_ns, 0u);
  EXPECT_GT(st->memory_usage, 0u);
  EXPECT_EQ(st->memory_limit, 64u << 20);
  EXPECT_EQ(st->pids_current, 1u);
  EXPECT_EQ(st->pids_limit, 50u);
  ASSERT_TRUE(m->kill_all(SIGKILL));
  EXPECT_TRUE(wait_killed(a, SIGKILL));
  children.clear();
  ASSERT_TRUE(m->destroy());
}

TEST_F(CgroupManager, DeviceRules) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  oci::Resources r;
  r.devices = {{false, "", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rw"}};
  auto c = m->create(&r);
  ASSERT_TRUE(c) << c.error().message();
  int res[2];
  ASSERT_EQ(::pipe(res), 0);
  pid_t a = spawn([&] {
    int n = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int z = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    char out[2] = {char(n >= 0 ? 'y' : 'n'), char(z < 0 && errno == EPERM ? 'y' : 'n')};
    (void)!::write(res[1], out, 2);
  });
  ASSERT_TRUE(m->add(a));
  release(0);
  char got[2] = {};
  ASSERT_EQ(::read(res[0], got, 2), 2);
  ::close(res[0]), ::close(res[1]);
  EXPECT_EQ(got[0], 'y') << "/dev/null is allowed";
  EXPECT_EQ(got[1], 'y') << "/dev/zero is denied";
  ASSERT_TRUE(m->kill_all(SIGKILL));
  EXPECT_TRUE(wait_killed(a, SIGKILL));
  children.clear();
  ASSERT_TRUE(m->destroy());
}

TEST_F(CgroupManager, JsonRoundTrip) {
  auto m = make("/" + prefix + "/leaf");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->create(nullptr));
  pid_t a = spawn();
  ASSERT_TRUE(m->add(a));
  release(0);
  std::string json = m->to_json();
  auto l = load_manager(json);
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ((*l)->to_json(), json);
  auto pids = (*l)->pids();
  ASSERT_TRUE(pids);
  EXPECT_EQ(*pids, std::vector<pid_t>{a});
  ASSERT_TRUE((*l)->kill_all(SIGKILL));
  EXPECT_TRUE(wait_killed(a, SIGKILL));
  children.clear();
  auto d = (*l)->destroy();
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(leftovers().empty()) << "both levels were ours";

  EXPECT_FALSE(load_manager("{"));
  auto j = nlohmann::json::parse(json);
  j["h"][0]["d"] = j["h"][0]["p"].get<std::string>() + "/../etc";
  EXPECT_FALSE(load_manager(j.dump()));
}

TEST_F(CgroupManager, SelfJoinMovesAClonedChildInEveryHierarchy) {
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->create(nullptr));
  auto j = m->prepare_self_join();
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_EQ(j->clone_fd >= 0, layout != Layout::V1);
  EXPECT_EQ(j->tasks.empty(), layout == Layout::V2);
  int joined[2];
  ASSERT_EQ(::pipe2(joined, O_CLOEXEC), 0);
  pid_t c = sys::clone3(0, SIGCHLD, j->clone_fd);
  ASSERT_GE(c, 0) << strerror(errno);
  if (c == 0) {
    size_t failed = 0;
    char ok = join_self(*j, &failed) == 0 ? 'y' : 'n';
    (void)!::write(joined[1], &ok, 1);
    for (;;) ::pause();
  }
  children.push_back(c);
  j->tasks.clear();
  char ok = 0;
  ASSERT_EQ(::read(joined[0], &ok, 1), 1);
  ::close(joined[0]), ::close(joined[1]);
  EXPECT_EQ(ok, 'y');
  EXPECT_EQ(m->pids().value_or(std::vector<pid_t>{}), std::vector<pid_t>{c});
  // Every hierarchy's line of /proc/<pid>/cgroup names our cgroup.
  std::istringstream in(read_file("/proc/" + std::to_string(c) + "/cgroup").value_or(""));
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_TRUE(line.ends_with(":/" + prefix)) << line;
  }
  EXPECT_GT(lines, 0);
  ASSERT_TRUE(m->kill_all(SIGKILL));
  EXPECT_TRUE(wait_killed(c, SIGKILL));
  children.clear();
  ASSERT_TRUE(m->destroy());
}

TEST_F(CgroupManager, SecondCreateKeepsOwnership) {
  auto m = make("/" + prefix + "/x");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->create(nullptr));
  oci::Resources bad;
  bad.cpu = oci::Cpu{.cpus = "999"};
  EXPECT_FALSE(m->create(&bad)); // fails, but must not drop what the first create made
  EXPECT_TRUE(path_exists(dir(prefix + "/x", "memory")));
  ASSERT_TRUE(m->create(nullptr));
  ASSERT_TRUE(m->destroy());
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(CgroupManager, BlockIoThrottle) {
  // Any real block device will do (the VM has one after `modprobe null_blk`).
  std::string devno;
  for (const char *d : {"vda", "sda", "nvme0n1", "nullb0", "loop0"})
    if (auto s = read_file(std::string("/sys/block/") + d + "/dev")) {
      devno = trim(*s);
      break;
    }
  if (devno.empty()) GTEST_SKIP() << "no block device";
  auto colon = devno.find(':');
  int64_t major = std::stoll(devno.substr(0, colon)), minor = std::stoll(devno.substr(colon + 1));
  auto m = make("/" + prefix);
  ASSERT_TRUE(m);
  oci::Resources r;
  r.block_io = oci::BlockIO{};
  r.block_io->throttle_read_bps = {{major, minor, 1048576}};
  r.block_io->throttle_write_iops = {{major, minor, 100}};
  auto c = m->create(&r);
  ASSERT_TRUE(c) << c.error().message();
  if (v2) {
    auto s = slurp(dir(prefix, "") + "/io.max");
    EXPECT_NE(s.find(devno + " rbps=1048576 wbps=max riops=max wiops=100"), std::string::npos) << s;
  } else {
    EXPECT_EQ(slurp(dir(prefix, "blkio") + "/blkio.throttle.read_bps_device"), devno + " 1048576");
    EXPECT_EQ(slurp(dir(prefix, "blkio") + "/blkio.throttle.write_iops_device"), devno + " 100");
  }
  ASSERT_TRUE(m->destroy());
}
