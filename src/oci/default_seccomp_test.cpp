#include "oci/default_seccomp.hpp"

#include "oci/spec_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>

using namespace berth::oci;

namespace {

const std::vector<std::string> kDockerCaps = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

SeccompTarget x86(std::vector<std::string> caps = kDockerCaps) {
  return {std::move(caps), "SCMP_ARCH_X86_64", 6, 1};
}

// Rules naming `name`, in profile order.
std::vector<const SeccompSyscall *> rules_for(const Seccomp &s, const std::string &name) {
  std::vector<const SeccompSyscall *> out;
  for (auto &r : s.syscalls)
    if (std::find(r.names.begin(), r.names.end(), name) != r.names.end()) out.push_back(&r);
  return out;
}

// Allowed whatever the arguments.
bool allowed(const Seccomp &s, const std::string &name) {
  for (auto *r : rules_for(s, name))
    if (r->action == "SCMP_ACT_ALLOW" && r->args.empty()) return true;
  return false;
}

TEST(DefaultSeccomp, DeniesWithEpermByDefault) {
  Seccomp s = default_seccomp(x86());
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  ASSERT_TRUE(s.default_errno_ret);
  EXPECT_EQ(*s.default_errno_ret, uint32_t(EPERM));
  EXPECT_TRUE(s.flags.empty());
  EXPECT_TRUE(s.listener_path.empty());
}

TEST(DefaultSeccomp, ArchitectureFamilies) {
  EXPECT_EQ(default_seccomp(x86()).architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(default_seccomp({{}, "SCMP_ARCH_AARCH64", 6, 1}).architectures,
            (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_EQ(default_seccomp({{}, "SCMP_ARCH_S390X", 6, 1}).architectures,
            (std::vector<std::string>{"SCMP_ARCH_S390X", "SCMP_ARCH_S390"}));
  EXPECT_EQ(default_seccomp({{}, "SCMP_ARCH_PPC64LE", 6, 1}).architectures,
            (std::vector<std::string>{"SCMP_ARCH_PPC64LE"}));
  EXPECT_TRUE(default_seccomp({{}, "", 6, 1}).architectures.empty());
}

TEST(DefaultSeccomp, EverydaySyscallsAllowed) {
  Seccomp s = default_seccomp(x86());
  for (const char *n : {"read", "write", "openat", "execve", "exit_group", "mmap", "futex",
                        "rt_sigaction", "wait4", "getpid", "socketpair", "chown", "setuid",
                        "capset", "prctl", "io_uring_setup", "mknodat", "chroot", "ptrace"})
    EXPECT_TRUE(allowed(s, n)) << n;
}

TEST(DefaultSeccomp, DangerousSyscallsDeniedWithoutCapabilities) {
  Seccomp s = default_seccomp(x86());
  for (const char *n : {"mount", "umount2", "unshare", "setns", "keyctl", "add_key",
                        "request_key", "bpf", "perf_event_open", "init_module", "reboot",
                        "kexec_load", "swapon", "userfaultfd", "acct", "settimeofday",
                        "open_by_handle_at", "pivot_root", "sethostname", "iopl", "syslog",
                        "kcmp", "vhangup", "mbind", "fsopen", "move_mount"})
    EXPECT_TRUE(rules_for(s, n).empty()) << n;
}

TEST(DefaultSeccomp, CloneWithoutNamespaceFlagsUnlessSysAdmin) {
  Seccomp s = default_seccomp(x86());
  auto clone = rules_for(s, "clone");
  ASSERT_EQ(clone.size(), 1u);
  ASSERT_EQ(clone[0]->args.size(), 1u);
  const SeccompArg &a = clone[0]->args[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(a.value, 0x7E020000u); // the mask: every CLONE_NEW* flag
  EXPECT_EQ(a.value_two, 0u);      // must all be clear
  auto clone3 = rules_for(s, "clone3");
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0]->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3[0]->errno_ret, uint32_t(ENOSYS));

  auto s390 = default_seccomp({kDockerCaps, "SCMP_ARCH_S390X", 6, 1});
  EXPECT_EQ(rules_for(s390, "clone").at(0)->args.at(0).index, 1u);
}

TEST(DefaultSeccomp, SysAdminOpensNamespacesAndMounts) {
  auto caps = kDockerCaps;
  caps.push_back("CAP_SYS_ADMIN");
  Seccomp s = default_seccomp(x86(caps));
  for (const char *n : {"clone", "clone3", "mount", "umount2", "unshare", "setns", "sethostname",
                        "fsopen", "open_tree"})
    EXPECT_TRUE(allowed(s, n)) << n;
  for (auto *r : rules_for(s, "clone3")) EXPECT_EQ(r->action, "SCMP_ACT_ALLOW");
  for (auto *r : rules_for(s, "clone")) EXPECT_TRUE(r->args.empty());
  EXPECT_TRUE(rules_for(s, "keyctl").empty()); // no capability opens it
}

TEST(DefaultSeccomp, EachCapabilityOpensItsSyscalls) {
  struct Case {
    const char *cap, *syscall;
  } cases[] = {{"CAP_SYS_BOOT", "reboot"},           {"CAP_SYS_MODULE", "finit_module"},
               {"CAP_SYS_PACCT", "acct"},            {"CAP_SYS_PTRACE", "kcmp"},
               {"CAP_SYS_RAWIO", "iopl"},            {"CAP_SYS_TIME", "clock_settime"},
               {"CAP_SYS_TTY_CONFIG", "vhangup"},    {"CAP_SYS_NICE", "mbind"},
               {"CAP_SYSLOG", "syslog"},             {"CAP_BPF", "bpf"},
               {"CAP_PERFMON", "perf_event_open"},   {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
               {"CAP_SYS_CHROOT", "chroot"}};
  for (auto &c : cases) {
    EXPECT_FALSE(allowed(default_seccomp(x86({})), c.syscall)) << c.syscall;
    EXPECT_TRUE(allowed(default_seccomp(x86({c.cap})), c.syscall)) << c.cap;
  }
}

TEST(DefaultSeccomp, PersonalityOnlyLinuxFlavours) {
  const Seccomp s = default_seccomp(x86());
  auto p = rules_for(s, "personality");
  std::vector<uint64_t> values;
  for (auto *r : p) {
    ASSERT_EQ(r->args.size(), 1u);
    EXPECT_EQ(r->args[0].op, "SCMP_CMP_EQ");
    values.push_back(r->args[0].value);
  }
  EXPECT_EQ(values, (std::vector<uint64_t>{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}));
}

TEST(DefaultSeccomp, SocketAnyFamilyButVsock) {
  const Seccomp s = default_seccomp(x86());
  auto sock = rules_for(s, "socket");
  ASSERT_EQ(sock.size(), 1u);
  EXPECT_EQ(sock[0]->args.at(0).op, "SCMP_CMP_NE");
  EXPECT_EQ(sock[0]->args.at(0).value, 40u); // AF_VSOCK
}

TEST(DefaultSeccomp, ArchOnlySyscalls) {
  Seccomp x = default_seccomp(x86());
  EXPECT_TRUE(allowed(x, "arch_prctl"));
  EXPECT_TRUE(allowed(x, "modify_ldt"));
  EXPECT_FALSE(allowed(x, "cacheflush"));
  Seccomp arm = default_seccomp({kDockerCaps, "SCMP_ARCH_AARCH64", 6, 1});
  EXPECT_TRUE(allowed(arm, "cacheflush"));
  EXPECT_FALSE(allowed(arm, "arch_prctl"));
  EXPECT_FALSE(allowed(default_seccomp({kDockerCaps, "SCMP_ARCH_X86", 6, 1}), "arch_prctl"));
}

TEST(DefaultSeccomp, PtraceNeedsLinux48OrTheCapability) {
  EXPECT_FALSE(allowed(default_seccomp({{}, "SCMP_ARCH_X86_64", 4, 4}), "ptrace"));
  EXPECT_TRUE(allowed(default_seccomp({{}, "SCMP_ARCH_X86_64", 4, 8}), "ptrace"));
  EXPECT_TRUE(allowed(default_seccomp({{}, "SCMP_ARCH_X86_64", 0, 0}), "ptrace"));
  EXPECT_TRUE(allowed(default_seccomp({{"CAP_SYS_PTRACE"}, "SCMP_ARCH_X86_64", 4, 4}), "ptrace"));
}

TEST(DefaultSeccomp, JsonRoundTripsThroughTheParser) {
  Seccomp s = default_seccomp(x86());
  nlohmann::ordered_json cfg = {{"ociVersion", "1.3.0"},
                                {"root", {{"path", "rootfs"}}},
                                {"linux", {{"seccomp", seccomp_to_json(s)}}}};
  auto parsed = parse_spec(cfg.dump());
  ASSERT_TRUE(parsed) << parsed.error().message();
  const Seccomp &back = *parsed->linux_->seccomp;
  EXPECT_EQ(back.default_action, s.default_action);
  EXPECT_EQ(back.default_errno_ret, s.default_errno_ret);
  EXPECT_EQ(back.architectures, s.architectures);
  ASSERT_EQ(back.syscalls.size(), s.syscalls.size());
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    EXPECT_EQ(back.syscalls[i].names, s.syscalls[i].names);
    EXPECT_EQ(back.syscalls[i].action, s.syscalls[i].action);
    EXPECT_EQ(back.syscalls[i].errno_ret, s.syscalls[i].errno_ret);
    ASSERT_EQ(back.syscalls[i].args.size(), s.syscalls[i].args.size());
    for (size_t j = 0; j < s.syscalls[i].args.size(); ++j) {
      EXPECT_EQ(back.syscalls[i].args[j].value, s.syscalls[i].args[j].value);
      EXPECT_EQ(back.syscalls[i].args[j].op, s.syscalls[i].args[j].op);
    }
  }
}

TEST(DefaultSeccomp, SpecCarriesDockerCapsAndTheProfile) {
  auto r = parse_spec(default_spec_json(false));
  ASSERT_TRUE(r) << r.error().message();
  const auto &caps = *r->process->capabilities;
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(caps.bounding), sorted(kDockerCaps));
  EXPECT_EQ(sorted(caps.effective), sorted(kDockerCaps));
  EXPECT_EQ(sorted(caps.permitted), sorted(kDockerCaps));
  EXPECT_TRUE(caps.inheritable.empty());
  EXPECT_TRUE(caps.ambient.empty());
  ASSERT_TRUE(r->linux_->seccomp);
  const Seccomp &s = *r->linux_->seccomp;
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  if (native_seccomp_arch() == "SCMP_ARCH_X86_64") {
    EXPECT_EQ(s.architectures, default_seccomp(x86()).architectures);
  }
  EXPECT_TRUE(allowed(s, "chroot"));  // CAP_SYS_CHROOT is in the set
  EXPECT_FALSE(allowed(s, "mount"));  // CAP_SYS_ADMIN is not
  EXPECT_EQ(rules_for(s, "clone3").at(0)->action, "SCMP_ACT_ERRNO");
  // The rootless template has the same profile.
  auto rl = parse_spec(default_spec_json(true));
  ASSERT_TRUE(rl) << rl.error().message();
  EXPECT_EQ(rl->linux_->seccomp->syscalls.size(), s.syscalls.size());
}

} // namespace
