#include "linux/seccomp.hpp"

#include "linux/capabilities.hpp"

#include "linux/in_child_test.hpp"
#include "oci/default_seccomp.hpp"

#include <gtest/gtest.h>

#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <thread>

using namespace berth;
using namespace berth::linuxf;
using berth::testing::Child;
using berth::testing::in_child;

namespace {


oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  return {std::move(names), std::move(action), errno_ret, std::move(args)};
}

oci::Seccomp allow_all_but(std::vector<oci::SeccompSyscall> rules) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = std::move(rules);
  return s;
}

CompiledSeccomp compile_ok(const oci::Seccomp &s) {
  std::vector<std::string> w;
  auto r = compile_seccomp(s, w);
  EXPECT_TRUE(r) << r.error().message();
  EXPECT_TRUE(w.empty()) << w.front();
  return r ? *r : CompiledSeccomp{};
}

std::string compile_error(const oci::Seccomp &s) {
  std::vector<std::string> w;
  auto r = compile_seccomp(s, w);
  return r ? "compiled" : r.error().message();
}

// Loads c with no_new_privs, as the runtime does for an unprivileged config.
int load(const CompiledSeccomp &c, std::string &out) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return out = "PR_SET_NO_NEW_PRIVS", 90;
  auto r = load_seccomp(c);
  if (!r) return out = r.error().message(), 91;
  return 0;
}

// getppid ignores its arguments, but seccomp sees the registers: a harmless
// syscall to test argument comparisons with.
long getppid_with(uint64_t a0, uint64_t a1 = 0) { return syscall(SYS_getppid, a0, a1); }

// This process's permitted set, from /proc/self/status.
uint64_t permitted_caps() {
  FILE *f = fopen("/proc/self/status", "r");
  unsigned long long v = 0;
  for (char line[256]; f && fgets(line, sizeof line, f);)
    if (sscanf(line, "CapPrm: %llx", &v) == 1) break;
  if (f) fclose(f);
  return v;
}

bool denied(long rc, int err) { return rc == -1 && errno == err; }

} // namespace

TEST(Seccomp, ErrnoRuleDeniesOnlyThatSyscall) {
  auto c = compile_ok(allow_all_but({rule({"getppid", "uname"}, "SCMP_ACT_ERRNO", ENOSYS)}));
  EXPECT_FALSE(c.program.empty());
  EXPECT_FALSE(c.uses_notify);
  EXPECT_EQ(c.flags, 0u);
  auto ch = in_child([&](std::string &out) {
    if (int rc = load(c, out)) return rc;
    utsname u;
    if (!denied(syscall(SYS_getppid), ENOSYS)) return out = "getppid not denied", 1;
    if (uname(&u) != -1 || errno != ENOSYS) return out = "uname not denied", 2;
    if (syscall(SYS_getpid) != getpid() || getuid() != 0 || access("/", F_OK) != 0)
      return out = "other syscalls fail", 3;
    return 0;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, ErrnoDefaultsToEperm) {
  auto c = compile_ok(allow_all_but({rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  auto ch = in_child([&](std::string &out) {
    if (int rc = load(c, out)) return rc;
    return denied(syscall(SYS_getppid), EPERM) ? 0 : 1;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, ArgumentOperators) {
  struct Case {
    const char *op;
    uint64_t value, value_two;
    std::vector<uint64_t> deny, allow;
  };
  const Case cases[] = {
      {"SCMP_CMP_EQ", 5, 0, {5}, {4, 6}},
      {"SCMP_CMP_NE", 5, 0, {4, 6}, {5}},
      {"SCMP_CMP_LT", 5, 0, {0, 4}, {5, 6}},
      {"SCMP_CMP_LE", 5, 0, {4, 5}, {6}},
      {"SCMP_CMP_GT", 5, 0, {6, 0x100000000}, {4, 5}},
      {"SCMP_CMP_GE", 5, 0, {5, 6}, {4}},
      {"SCMP_CMP_MASKED_EQ", 0xf0, 0x20, {0x20, 0x2f}, {0x30, 0x0, 0xf0}},
      // The brief's personality(0xffffffff) query, and a full 64-bit value.
      {"SCMP_CMP_EQ", 0xffffffff, 0, {0xffffffff}, {0, 0x1ffffffff}},
      {"SCMP_CMP_EQ", 0x100000005, 0, {0x100000005}, {5}},
  };
  for (const Case &k : cases) {
    auto c = compile_ok(
        allow_all_but({rule({"getppid"}, "SCMP_ACT_ERRNO", EXDEV, {{0, k.value, k.value_two, k.op}})}));
    auto ch = in_child([&](std::string &out) {
      if (int rc = load(c, out)) return rc;
      for (uint64_t v : k.deny)
        if (!denied(getppid_with(v), EXDEV)) return out = "not denied: " + std::to_string(v), 1;
      for (uint64_t v : k.allow)
        if (getppid_with(v) < 0) return out = "not allowed: " + std::to_string(v), 2;
      return 0;
    });
    EXPECT_TRUE(ch.ok()) << k.op << " " << k.value << ": " << ch.out;
  }
}

TEST(Seccomp, ArgsOnDifferentIndexesAnd) {
  auto c = compile_ok(allow_all_but(
      {rule({"getppid"}, "SCMP_ACT_ERRNO", EXDEV, {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 2, 0, "SCMP_CMP_EQ"}})}));
  auto ch = in_child([&](std::string &out) {
    if (int rc = load(c, out)) return rc;
    if (!denied(getppid_with(1, 2), EXDEV)) return out = "(1,2) not denied", 1;
    if (getppid_with(1, 3) < 0 || getppid_with(3, 2) < 0) return out = "partial match denied", 2;
    return 0;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, ArgsOnTheSameIndexBecomeSeparateRules) {
  // As runc: one rule per comparison, so they OR.
  auto c = compile_ok(allow_all_but(
      {rule({"getppid"}, "SCMP_ACT_ERRNO", EXDEV, {{0, 1, 0, "SCMP_CMP_EQ"}, {0, 2, 0, "SCMP_CMP_EQ"}})}));
  auto ch = in_child([&](std::string &out) {
    if (int rc = load(c, out)) return rc;
    if (!denied(getppid_with(1), EXDEV) || !denied(getppid_with(2), EXDEV)) return out = "not denied", 1;
    if (getppid_with(3) < 0) return out = "3 denied", 2;
    return 0;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, KillProcessKillsWithSigsys) {
  for (const char *action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"}) {
    auto c = compile_ok(allow_all_but({rule({"getppid"}, action)}));
    auto ch = in_child([&](std::string &out) {
      const rlimit no_core{0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      if (int rc = load(c, out)) return rc;
      syscall(SYS_getppid);
      return out = "survived", 1;
    });
    EXPECT_TRUE(WIFSIGNALED(ch.status) && WTERMSIG(ch.status) == SIGSYS)
        << action << ": status " << ch.status << " " << ch.out;
  }
}

TEST(Seccomp, TraceWithoutTracerAndLog) {
  auto c = compile_ok(allow_all_but({rule({"getppid"}, "SCMP_ACT_TRACE", 7), rule({"getpid"}, "SCMP_ACT_LOG")}));
  auto ch = in_child([&](std::string &out) {
    if (int rc = load(c, out)) return rc;
    // No tracer attached: the kernel fails the syscall with ENOSYS.
    if (!denied(syscall(SYS_getppid), ENOSYS)) return out = "traced syscall ran", 1;
    if (syscall(SYS_getpid) <= 0) return out = "logged syscall failed", 2;
    return 0;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, NotifyReturnsAWorkingListener) {
  auto c = compile_ok(allow_all_but({rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  EXPECT_TRUE(c.uses_notify);
  auto ch = in_child([&](std::string &out) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 90;
    auto fd = load_seccomp(c);
    if (!fd) return out = fd.error().message(), 91;
    if (*fd < 0) return out = "no listener fd", 1;
    char link[64] = {};
    if (readlink(("/proc/self/fd/" + std::to_string(*fd)).c_str(), link, sizeof link - 1) < 0 ||
        std::string(link) != "anon_inode:seccomp notify")
      return out = std::string("fd is ") + link, 2;
    // An agent thread answers the one notification with EXDEV.
    std::thread agent([fd = *fd] {
      seccomp_notif req{};
      seccomp_notif_resp resp{};
      if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;
      resp.id = req.id;
      resp.error = -EXDEV;
      ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    });
    const long rc = syscall(SYS_getppid);
    const int err = errno;
    agent.join();
    if (rc != -1 || err != EXDEV) return out = "agent's answer not seen: " + std::to_string(rc), 3;
    return 0;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, FlagsAreLoaded) {
  auto s = allow_all_but({rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  auto c = compile_ok(s);
  EXPECT_EQ(c.flags, unsigned(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                              SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV));
  auto ch = in_child([&](std::string &out) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 90;
    auto fd = load_seccomp(c);
    if (!fd) return out = fd.error().message(), 1;
    return *fd >= 0 ? 0 : 2;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, LoadWithoutNoNewPrivsOrCapSysAdminFails) {
  auto c = compile_ok(allow_all_but({rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  auto ch = in_child([&](std::string &out) {
    CapSets s;
    s.effective = s.permitted = permitted_caps() & ~(uint64_t{1} << CAP_SYS_ADMIN);
    if (auto r = apply_caps(s); !r) return out = r.error().message(), 1;
    auto r = load_seccomp(c);
    if (r) return out = "loaded", 2;
    out = r.error().message();
    return out == "load seccomp filter: Permission denied (needs no_new_privs or CAP_SYS_ADMIN)" ? 0 : 3;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}

TEST(Seccomp, MultipleArchitectures) {
  auto native = compile_ok(allow_all_but({rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  auto s = allow_all_but({rule({"getppid", "socketcall"}, "SCMP_ACT_ERRNO")});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  auto multi = compile_ok(s);
  EXPECT_GT(multi.program.size(), native.program.size());
}

TEST(Seccomp, RuleLikeTheDefaultIsSkipped) {
  auto s = allow_all_but({rule({"getppid"}, "SCMP_ACT_ALLOW"), rule({"getpid"}, "SCMP_ACT_ERRNO")});
  compile_ok(s);
  // ERRNO with another errno than the default is a different action.
  s.default_action = "SCMP_ACT_ERRNO";
  s.syscalls = {rule({"getppid"}, "SCMP_ACT_ERRNO"), rule({"getpid"}, "SCMP_ACT_ERRNO", 2)};
  compile_ok(s);
}

TEST(Seccomp, Warnings) {
  auto s = allow_all_but({rule({"getppid", "no_such_syscall"}, "SCMP_ACT_ERRNO")});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"};
  s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  std::vector<std::string> w;
  auto r = compile_seccomp(s, w);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->flags, 0u);
  std::vector<std::string> want = {
      "linux.seccomp.syscalls[0].names[1]: syscall \"no_such_syscall\" is unknown to libseccomp, skipped",
      "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV without an SCMP_ACT_NOTIFY rule, ignored",
  };
#ifndef SCMP_ARCH_LOONGARCH64
  want.insert(want.begin(), "linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64 is not supported by "
                            "libseccomp " + std::to_string(SCMP_VER_MAJOR) + "." +
                                std::to_string(SCMP_VER_MINOR) + ", skipped");
#endif
  EXPECT_EQ(w, want);
}

TEST(Seccomp, ErrorsNameTheField) {
  auto s = allow_all_but({rule({"getppid"}, "SCMP_ACT_ALLOW"), rule({"getpid"}, "SCMP_ACT_ERRNO"),
                          rule({"getuid"}, "SCMP_ACT_ERRNO"), rule({"getgid"}, "SCMP_ACT_ERRNO")});
  auto with = [&](auto mutate) {
    auto copy = s;
    mutate(copy);
    return compile_error(copy);
  };
  EXPECT_EQ(with([](oci::Seccomp &c) { c.default_action = "SCMP_ACT_FOO"; }),
            "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.default_action = "SCMP_ACT_NOTIFY"; }),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.default_errno_ret = 1; }),
            "linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, "
            "not SCMP_ACT_ALLOW");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls[2].action = "SCMP_ACT_BOGUS"; }),
            "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_BOGUS\"");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls[0].errno_ret = 1; }),
            "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, "
            "not SCMP_ACT_ALLOW");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls[1].errno_ret = 70000; }),
            "linux.seccomp.syscalls[1].errnoRet: 70000 does not fit in 16 bits");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls[3].args = {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 1, 0, "SCMP_CMP_FOO"}}; }),
            "linux.seccomp.syscalls[3].args[1].op: unknown operator \"SCMP_CMP_FOO\"");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls[3].args = {{6, 1, 0, "SCMP_CMP_EQ"}}; }),
            "linux.seccomp.syscalls[3].args[0].index: 6 is out of range 0..5");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls[1].names.clear(); }),
            "linux.seccomp.syscalls[1].names: must name at least one syscall");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"}; }),
            "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO"}; }),
            "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls.push_back(rule({"read", "write"}, "SCMP_ACT_NOTIFY")); }),
            "linux.seccomp.syscalls[4].names[1]: SCMP_ACT_NOTIFY cannot be used for write: the runtime "
            "needs it to hand the listener to the agent");
  EXPECT_EQ(with([](oci::Seccomp &c) { c.syscalls.push_back(rule({"sendmsg"}, "SCMP_ACT_NOTIFY")); }),
            "linux.seccomp.syscalls[4].names[0]: SCMP_ACT_NOTIFY cannot be used for sendmsg: the runtime "
            "needs it to hand the listener to the agent");
}

TEST(Seccomp, AllActionsCompile) {
  for (const char *a : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"}) {
    auto c = compile_ok(allow_all_but({rule({"getppid"}, a)}));
    EXPECT_FALSE(c.program.empty()) << a;
  }
  // A default other than ALLOW, with rules allowing what it must.
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = ENOSYS;
  s.syscalls = {rule({"read", "write", "exit_group"}, "SCMP_ACT_ALLOW")};
  compile_ok(s);
}

TEST(Seccomp, EmptyProgramIsRefused) {
  auto r = load_seccomp(CompiledSeccomp{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "load seccomp filter: empty program");
}

TEST(Seccomp, DefaultProfileInForce) {
  // `berth-runtime spec`'s profile for Docker's capability set, loaded for real.
  oci::SeccompTarget t;
  t.capabilities = {"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_SYS_CHROOT"};
  t.arch = oci::native_seccomp_arch();
  std::vector<std::string> warnings;
  auto c = compile_seccomp(oci::default_seccomp(t), warnings);
  ASSERT_TRUE(c) << c.error().message();
  for (auto &w : warnings) ADD_FAILURE() << "warning: " << w; // libseccomp knows every name
  auto ch = in_child([&](std::string &out) {
    if (int rc = load(*c, out)) return rc;
    if (!denied(::mount("none", "/tmp", "tmpfs", 0, nullptr), EPERM)) return out = "mount", 1;
    if (!denied(::unshare(CLONE_NEWNS), EPERM)) return out = "unshare", 2;
    if (!denied(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr), EPERM)) return out = "keyctl", 3;
    if (!denied(syscall(SYS_clone3, nullptr, 0), ENOSYS)) return out = "clone3", 4;
    if (!denied(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */), EPERM))
      return out = "personality", 5;
    if (syscall(SYS_personality, 0xffffffff) < 0) return out = "personality query", 6;
    // fork is clone without namespace flags; a namespace flag is refused.
    pid_t p = fork();
    if (p == 0) _exit(0);
    if (p < 0) return out = "fork", 7;
    waitpid(p, nullptr, 0);
    const long r = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    if (r > 0) waitpid(pid_t(r), nullptr, 0);
    if (!denied(r, EPERM)) return out = "clone NEWUTS", 8;
    if (chroot("/") != 0) return out = "chroot", 9;
    return 0;
  });
  EXPECT_TRUE(ch.ok()) << ch.out;
}
