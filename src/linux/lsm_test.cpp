#include "linux/lsm.hpp"

#include "common/file.hpp"
#include "common/unique_fd.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

using namespace berth;
using namespace berth::linuxf;

namespace {

const LsmHost kNone{false, false}, kAppArmor{true, false}, kSelinux{false, true};

oci::Process with(std::string apparmor, std::string selinux) {
  oci::Process p;
  p.apparmor_profile = std::move(apparmor);
  p.selinux_label = std::move(selinux);
  return p;
}

// A stand-in for /proc/thread-self/attr: a directory with the files the
// kernel would have.
struct AttrDir {
  std::filesystem::path path;
  UniqueFd fd;
  explicit AttrDir(bool apparmor_subdir) {
    char tmpl[] = "/tmp/berth-lsm-test-XXXXXX";
    path = ::mkdtemp(tmpl);
    if (apparmor_subdir) {
      std::filesystem::create_directory(path / "apparmor");
      touch(path / "apparmor" / "exec");
    }
    touch(path / "exec");
    fd.reset(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  ~AttrDir() { std::filesystem::remove_all(path); }
  static void touch(const std::filesystem::path &p) { ::close(::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }
  std::string read(const char *name) { return read_file((path / name).string()).value_or("<missing>"); }
};

} // namespace

TEST(Lsm, NothingAskedNothingDone) {
  auto r = plan_lsm(with("", ""), kNone);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->apparmor_exec.empty());
  EXPECT_TRUE(r->selinux_exec.empty());
  EXPECT_TRUE(apply_lsm(*r, -1)); // no attribute is touched
}

TEST(Lsm, AppArmorProfileWhenEnabled) {
  auto r = plan_lsm(with("berth-default", ""), kAppArmor);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->apparmor_exec, "exec berth-default");
}

TEST(Lsm, AppArmorProfileWithoutAppArmorIsAnError) {
  auto r = plan_lsm(with("berth-default", ""), kSelinux);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.apparmorProfile: profile \"berth-default\" asked for, but "
                                 "AppArmor is not enabled on this host");
}

TEST(Lsm, UnconfinedWithoutAppArmorIsNothingToDo) {
  auto r = plan_lsm(with("unconfined", ""), kNone);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->apparmor_exec.empty());
  EXPECT_EQ(plan_lsm(with("unconfined", ""), kAppArmor)->apparmor_exec, "exec unconfined");
}

TEST(Lsm, SelinuxLabel) {
  const std::string label = "system_u:system_r:container_t:s0:c1,c2";
  auto r = plan_lsm(with("", label), kSelinux);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->selinux_exec, label);
  auto no = plan_lsm(with("", label), kAppArmor);
  ASSERT_FALSE(no);
  EXPECT_EQ(no.error().message(), "process.selinuxLabel: label \"" + label +
                                      "\" asked for, but SELinux is not enabled on this host");
}

TEST(Lsm, MountLabel) {
  EXPECT_TRUE(check_mount_label("", kNone));
  EXPECT_TRUE(check_mount_label("system_u:object_r:container_file_t:s0", kSelinux));
  auto r = check_mount_label("system_u:object_r:container_file_t:s0", kAppArmor);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "linux.mountLabel: label \"system_u:object_r:container_file_t:s0\" asked "
                                 "for, but SELinux is not enabled on this host");
  EXPECT_EQ(with_mount_label("", "x_u:x_r:x_t:s0"), "context=\"x_u:x_r:x_t:s0\"");
  EXPECT_EQ(with_mount_label("size=1m,mode=755", "x_u:x_r:x_t:s0:c1,c2"),
            "size=1m,mode=755,context=\"x_u:x_r:x_t:s0:c1,c2\"");
  EXPECT_EQ(with_mount_label("size=1m", ""), "size=1m");
}

TEST(Lsm, AppArmorWritesItsOwnExecAttribute) {
  AttrDir dir(true);
  LsmPlan p;
  p.apparmor_exec = "exec berth-default";
  ASSERT_TRUE(apply_lsm(p, dir.fd.get()));
  EXPECT_EQ(dir.read("apparmor/exec"), "exec berth-default");
  EXPECT_EQ(dir.read("exec"), "");
}

TEST(Lsm, AppArmorFallsBackToTheSharedExecAttribute) {
  AttrDir dir(false); // kernels before 5.8 have no attr/apparmor/
  LsmPlan p;
  p.apparmor_exec = "exec berth-default";
  ASSERT_TRUE(apply_lsm(p, dir.fd.get()));
  EXPECT_EQ(dir.read("exec"), "exec berth-default");
}

TEST(Lsm, SelinuxWritesTheExecAttribute) {
  AttrDir dir(true);
  LsmPlan p;
  p.selinux_exec = "system_u:system_r:container_t:s0";
  ASSERT_TRUE(apply_lsm(p, dir.fd.get()));
  EXPECT_EQ(dir.read("exec"), "system_u:system_r:container_t:s0");
  EXPECT_EQ(dir.read("apparmor/exec"), "");
}

TEST(Lsm, FailureNamesTheField) {
  AttrDir dir(false);
  std::filesystem::remove(dir.path / "exec");
  LsmPlan p;
  p.apparmor_exec = "exec x";
  auto r = apply_lsm(p, dir.fd.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "process.apparmorProfile: change the AppArmor profile on exec: open exec: No such file or directory");
}

TEST(Lsm, ThisHostsKernelRefusesAnExecLabelWithoutTheModule) {
  // What runc runs into on a host without the LSM; berth refuses in plan_lsm
  // before it gets here, unless the module is there.
  const LsmHost &h = host_lsm();
  if (h.apparmor || h.selinux) GTEST_SKIP() << "an LSM is enabled here";
  UniqueFd attr(::open("/proc/thread-self/attr", O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(attr);
  LsmPlan p;
  p.selinux_exec = "system_u:system_r:container_t:s0";
  auto r = apply_lsm(p, attr.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("process.selinuxLabel: set the SELinux exec label: ", 0), 0u)
      << r.error().message();
}
