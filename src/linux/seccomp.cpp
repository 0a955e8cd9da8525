#include "linux/seccomp.hpp"

#include "common/unique_fd.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

namespace berth::linuxf {

namespace {

std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }
std::string idx(std::string_view field, size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}


// libseccomp returns -errno.
std::unexpected<Error> fail_scmp(int rc, std::string_view what) { return fail_sys(-rc, what); }

// Resolves an action name; errno_ret only for the two actions that carry a
// 16-bit value (ERRNO's errno, TRACE's message to the tracer), EPERM default.
Result<uint32_t> resolve_action(const std::string &name, std::optional<uint32_t> errno_ret,
                                const std::string &field, const std::string &errno_field) {
  struct Act {
    const char *name;
    uint32_t action;
  };
  static constexpr Act kPlain[] = {
      {"SCMP_ACT_KILL", SCMP_ACT_KILL},   {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
      {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD}, {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
      {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW}, {"SCMP_ACT_LOG", SCMP_ACT_LOG},
      {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
  };
  const bool is_errno = name == "SCMP_ACT_ERRNO", is_trace = name == "SCMP_ACT_TRACE";
  if (is_errno || is_trace) {
    const uint32_t v = errno_ret.value_or(EPERM);
    if (v > 0xffff)
      return fail_msg(errno_field + ": " + std::to_string(v) + " does not fit in 16 bits");
    return is_errno ? SCMP_ACT_ERRNO(v) : SCMP_ACT_TRACE(v);
  }
  for (const Act &a : kPlain) {
    if (name != a.name) continue;
    if (errno_ret)
      return fail_msg(errno_field + ": only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, not " +
                      name);
    return a.action;
  }
  return fail_msg(field + ": unknown action " + q(name));
}

Result<scmp_compare> resolve_op(const std::string &op, const std::string &field) {
  struct Op {
    const char *name;
    scmp_compare op;
  };
  static constexpr Op kOps[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (const Op &o : kOps)
    if (op == o.name) return o.op;
  return fail_msg(field + ": unknown operator " + q(op));
}

// Architectures of runtime-spec 1.3. Token 0: this libseccomp (2.5) does not
// have it yet.
Result<uint32_t> resolve_arch(const std::string &name, const std::string &field) {
  struct Arch {
    const char *name;
    uint32_t token;
  };
  static constexpr Arch kArchs[] = {
      {"SCMP_ARCH_X86", SCMP_ARCH_X86},
      {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
      {"SCMP_ARCH_X32", SCMP_ARCH_X32},
      {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
      {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
      {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
      {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
      {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
      {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
      {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
      {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
      {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
      {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
      {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
      {"SCMP_ARCH_S390", SCMP_ARCH_S390},
      {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
      {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
      {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
      {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
      {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#else
      {"SCMP_ARCH_LOONGARCH64", 0},
#endif
#ifdef SCMP_ARCH_M68K
      {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#else
      {"SCMP_ARCH_M68K", 0},
#endif
#ifdef SCMP_ARCH_SH
      {"SCMP_ARCH_SH", SCMP_ARCH_SH},
      {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#else
      {"SCMP_ARCH_SH", 0},
      {"SCMP_ARCH_SHEB", 0},
#endif
  };
  for (const Arch &a : kArchs)
    if (name == a.name) return a.token;
  return fail_msg(field + ": unknown architecture " + q(name));
}

struct CtxDeleter {
  void operator()(void *c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// The filter as libseccomp compiled it, read back from a memfd (libseccomp
// 2.5 can only export to an fd).
Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!fd) return fail_errno("memfd_create for the seccomp program");
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) return fail_scmp(rc, "seccomp_export_bpf");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno("fstat the seccomp program memfd");
  const size_t size = static_cast<size_t>(st.st_size);
  if (size % sizeof(sock_filter) != 0 || size == 0)
    return fail_msg("seccomp_export_bpf wrote " + std::to_string(size) + " bytes, not a BPF program");
  if (size / sizeof(sock_filter) > BPF_MAXINSNS)
    return fail_msg("the seccomp filter compiles to " + std::to_string(size / sizeof(sock_filter)) +
                    " instructions, more than the kernel's limit of " + std::to_string(BPF_MAXINSNS));
  std::vector<sock_filter> prog(size / sizeof(sock_filter));
  auto *p = reinterpret_cast<char *>(prog.data());
  for (size_t done = 0; done < size;) {
    ssize_t n = ::pread(fd.get(), p + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read back the seccomp program");
    if (n == 0) return fail_msg("read back the seccomp program: short read");
    done += static_cast<size_t>(n);
  }
  return prog;
}

// Adds one syscall's rule(s). Like runc: when two comparisons share an
// argument index, each comparison becomes a rule of its own (so they OR);
// otherwise one rule holds them all (they AND). libseccomp refuses two
// comparisons on one argument in a single rule.
int add_rules(scmp_filter_ctx ctx, uint32_t action, int nr, const std::vector<scmp_arg_cmp> &conds) {
  bool shared = false;
  for (size_t i = 0; i < conds.size(); ++i)
    for (size_t j = i + 1; j < conds.size(); ++j)
      if (conds[i].arg == conds[j].arg) shared = true;
  if (!shared)
    return seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conds.size()), conds.data());
  for (const scmp_arg_cmp &c : conds)
    if (int rc = seccomp_rule_add_array(ctx, action, nr, 1, &c); rc < 0) return rc;
  return 0;
}

struct Flag {
  const char *name;
  unsigned bit;
};
// SECCOMP_FILTER_FLAG_TSYNC is accepted and ignored: the filter is loaded by
// a single-threaded process, and the kernel refuses TSYNC with NEW_LISTENER.
constexpr Flag kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 0},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

} // namespace

Result<CompiledSeccomp> compile_seccomp(const oci::Seccomp &cfg, std::vector<std::string> &warnings) {
  const std::string base = "linux.seccomp";
  CompiledSeccomp out;

  ASSIGN_OR_RETURN(const uint32_t def, resolve_action(cfg.default_action, cfg.default_errno_ret,
                                                      base + ".defaultAction", base + ".defaultErrnoRet"));
  // Every syscall of the runtime between loading the filter and execve would
  // wait for an agent that has not got the listener yet.
  if (def == SCMP_ACT_NOTIFY)
    return fail_msg(base + ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

  for (size_t i = 0; i < cfg.flags.size(); ++i) {
    const Flag *f = nullptr;
    for (const Flag &k : kFlags)
      if (cfg.flags[i] == k.name) f = &k;
    if (!f) return fail_msg(idx(base + ".flags", i) + ": unknown flag " + q(cfg.flags[i]));
    out.flags |= f->bit;
  }

  Ctx ctx(seccomp_init(def));
  if (!ctx) return fail_msg(base + ": seccomp_init failed for default action " + cfg.default_action);
  // The runtime sets no_new_privs itself when the config asks for it.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return fail_scmp(rc, base + ": clear libseccomp's no_new_privs attribute");

  for (size_t i = 0; i < cfg.architectures.size(); ++i) {
    const std::string field = idx(base + ".architectures", i);
    ASSIGN_OR_RETURN(const uint32_t arch, resolve_arch(cfg.architectures[i], field));
    if (arch == 0) {
      warnings.push_back(field + ": " + cfg.architectures[i] + " is not supported by libseccomp " +
                         std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR) +
                         ", skipped");
      continue;
    }
    // EEXIST: the native architecture is always in the filter.
    if (int rc = seccomp_arch_add(ctx.get(), arch); rc < 0 && rc != -EEXIST)
      return fail_scmp(rc, field + ": add architecture " + cfg.architectures[i]);
  }

  for (size_t i = 0; i < cfg.syscalls.size(); ++i) {
    const oci::SeccompSyscall &sc = cfg.syscalls[i];
    const std::string field = idx(base + ".syscalls", i);
    if (sc.names.empty()) return fail_msg(field + ".names: must name at least one syscall");
    ASSIGN_OR_RETURN(const uint32_t action,
                     resolve_action(sc.action, sc.errno_ret, field + ".action", field + ".errnoRet"));

    std::vector<scmp_arg_cmp> conds;
    for (size_t j = 0; j < sc.args.size(); ++j) {
      const oci::SeccompArg &a = sc.args[j];
      const std::string afield = idx(field + ".args", j);
      if (a.index > 5)
        return fail_msg(afield + ".index: " + std::to_string(a.index) + " is out of range 0..5");
      ASSIGN_OR_RETURN(const scmp_compare op, resolve_op(a.op, afield + ".op"));
      conds.push_back({a.index, op, a.value, a.value_two});
    }

    for (size_t j = 0; j < sc.names.size(); ++j) {
      const std::string &name = sc.names[j];
      // The runtime passes the listener up its sync socket after loading
      // (sendmsg), and reports errors with write: a notification there would
      // wait for an agent that has not got the listener yet.
      if (action == SCMP_ACT_NOTIFY && (name == "write" || name == "sendmsg"))
        return fail_msg(idx(field + ".names", j) + ": SCMP_ACT_NOTIFY cannot be used for " + name +
                        ": the runtime needs it to hand the listener to the agent");
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        warnings.push_back(idx(field + ".names", j) + ": syscall " + q(name) +
                           " is unknown to libseccomp, skipped");
        continue;
      }
      // libseccomp refuses rules that repeat the default action: they are no-ops.
      if (action == def) continue;
      if (int rc = add_rules(ctx.get(), action, nr, conds); rc < 0)
        return fail_scmp(rc, field + ": add rule " + sc.action + " for syscall " + q(name));
      if (action == SCMP_ACT_NOTIFY) out.uses_notify = true;
    }
  }

  if ((out.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !out.uses_notify) {
    // The kernel refuses it without a listener; it has nothing to act on.
    warnings.push_back(base + ".flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV without an "
                              "SCMP_ACT_NOTIFY rule, ignored");
    out.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }

  ASSIGN_OR_RETURN(out.program, export_bpf(ctx.get()));
  return out;
}

std::string seccomp_build_id() {
  const scmp_version *v = seccomp_version();
  return "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro) + " api " + std::to_string(seccomp_api_get());
}

Result<int> load_seccomp(const CompiledSeccomp &c) {
  if (c.program.empty()) return fail_msg("load seccomp filter: empty program");
  sock_fprog prog{static_cast<unsigned short>(c.program.size()),
                  const_cast<sock_filter *>(c.program.data())};
  const unsigned flags = c.flags | (c.uses_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0u);
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc >= 0) return c.uses_notify ? static_cast<int>(rc) : -1;

  // Failure path from here on: messages may allocate.
  const int err = errno;
  if (err == EINVAL) {
    // Find the flag this kernel lacks: with a NULL program a known flag set
    // gets as far as copying it (EFAULT), an unknown one stops at EINVAL.
    for (const Flag &f : kFlags) {
      if (!(flags & f.bit)) continue;
      unsigned probe = f.bit;
      if (f.bit == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
      if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr) < 0 && errno == EINVAL)
        return fail_sys(err, std::string("load seccomp filter: this kernel does not support ") + f.name);
    }
    if (c.uses_notify &&
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, nullptr) < 0 &&
        errno == EINVAL)
      return fail_sys(err, "load seccomp filter: this kernel does not support SCMP_ACT_NOTIFY "
                           "(SECCOMP_FILTER_FLAG_NEW_LISTENER, Linux 5.0)");
  }
  if (err == EACCES)
    return fail_hint(err, "load seccomp filter", "needs no_new_privs or CAP_SYS_ADMIN");
  if (err == EBUSY && c.uses_notify)
    return fail_hint(err, "load seccomp filter", "an inherited filter already has a notify listener");
  return fail_sys(err, "load seccomp filter");
}

} // namespace berth::linuxf
