// linux.resources.devices on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
// attached to the container's cgroup (v2 has no devices files). Hand-assembled
// and loaded with bpf(2) directly: the program is a few instructions per rule,
// not worth libbpf.
//
// Semantics: the rules are checked from last to first and the first match
// decides (a later rule overrides an earlier one, as the v1 list does); no
// match denies, like v1's leading devices.deny "a". An allow rule matches when
// it grants every requested access; a deny rule when it covers any of them.
#include "cgroups/driver.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::cgroups {

namespace {

bpf_insn ins(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

enum : uint8_t { R0, R1, R2, R3, R4, R5 };
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) {
  return ins(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn mov_reg(uint8_t dst, uint8_t src) {
  return ins(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn mov_imm(uint8_t dst, int32_t imm) {
  return ins(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn alu_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return ins(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return ins(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn exit_insn() { return ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

long bpf(int cmd, bpf_attr &a) { return ::syscall(SYS_bpf, cmd, &a, sizeof a); }

Result<int> access_bits(const std::string &access) {
  int bits = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    if (c == 'r')
      bits |= BPF_DEVCG_ACC_READ;
    else if (c == 'w')
      bits |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm')
      bits |= BPF_DEVCG_ACC_MKNOD;
    else
      return fail_msg("linux.resources.devices: invalid access \"" + access + "\"");
  }
  return bits;
}

constexpr int kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

Result<std::vector<bpf_insn>> device_program(const std::vector<oci::DeviceCgroup> &rules) {
  // ctx: u32 access_type = access << 16 | type; u32 major; u32 minor.
  std::vector<bpf_insn> p = {
      load_u32(R2, R1, 0),      mov_reg(R3, R2),     alu_imm(BPF_AND, R2, 0xffff),
      alu_imm(BPF_RSH, R3, 16), load_u32(R4, R1, 4), load_u32(R5, R1, 8),
  };
  bool decided = false; // a match-everything rule ends the program
  for (auto it = rules.rbegin(); it != rules.rend() && !decided; ++it) {
    auto &d = *it;
    int type;
    if (d.type.empty() || d.type == "a")
      type = 0;
    else if (d.type == "c")
      type = BPF_DEVCG_DEV_CHAR;
    else if (d.type == "b")
      type = BPF_DEVCG_DEV_BLOCK;
    else
      return fail_msg("linux.resources.devices: invalid type \"" + d.type + "\"");
    ASSIGN_OR_RETURN(int acc, access_bits(d.access));
    bool any_major = !d.major || *d.major < 0, any_minor = !d.minor || *d.minor < 0;
    std::vector<bpf_insn> b; // this rule; every jump skips to its end
    if (type) b.push_back(jmp_imm(BPF_JNE, R2, type));
    if (acc != kAllAccess) {
      b.push_back(mov_reg(R1, R3));
      if (d.allow) { // requested & ~granted must be empty
        b.push_back(alu_imm(BPF_AND, R1, kAllAccess & ~acc));
        b.push_back(jmp_imm(BPF_JNE, R1, 0));
      } else { // requested & denied must not be empty
        b.push_back(alu_imm(BPF_AND, R1, acc));
        b.push_back(jmp_imm(BPF_JEQ, R1, 0));
      }
    }
    if (!any_major) b.push_back(jmp_imm(BPF_JNE, R4, int32_t(*d.major)));
    if (!any_minor) b.push_back(jmp_imm(BPF_JNE, R5, int32_t(*d.minor)));
    decided = b.empty();
    b.push_back(mov_imm(R0, d.allow ? 1 : 0));
    b.push_back(exit_insn());
    for (size_t i = 0; i < b.size(); ++i)
      if (BPF_CLASS(b[i].code) == BPF_JMP && BPF_OP(b[i].code) != BPF_EXIT)
        b[i].off = int16_t(b.size() - i - 1);
    p.insert(p.end(), b.begin(), b.end());
  }
  if (!decided) p.insert(p.end(), {mov_imm(R0, 0), exit_insn()});
  return p;
}

} // namespace

Result<UniqueFd> load_device_program(const std::vector<oci::DeviceCgroup> &rules) {
  ASSIGN_OR_RETURN(auto prog, device_program(rules));
  static const char license[] = "Apache-2.0"; // no GPL-only helpers used
  bpf_attr a{};
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = uint64_t(uintptr_t(prog.data()));
  a.insn_cnt = uint32_t(prog.size());
  a.license = uint64_t(uintptr_t(license));
  int pfd = int(bpf(BPF_PROG_LOAD, a));
  if (pfd >= 0) return UniqueFd(pfd);
  int err = errno;
  char log[4096] = "";
  a.log_buf = uint64_t(uintptr_t(log)), a.log_size = sizeof log, a.log_level = 1;
  int again = int(bpf(BPF_PROG_LOAD, a)); // only to get the verifier's reason
  if (again >= 0) ::close(again);
  return fail_sys(err, "linux.resources.devices: load the device cgroup BPF program" +
                           (log[0] ? std::string(" (verifier: ") + log + ")" : ""));
}

Result<> apply_devices_bpf(int dirfd, const std::string &dir,
                           const std::vector<oci::DeviceCgroup> &rules) {
  const std::string R = "linux.resources.devices: ";
  ASSIGN_OR_RETURN(UniqueFd prog_fd, load_device_program(rules));
  int pfd = prog_fd.get();
  UniqueFd own;
  if (dirfd < 0) {
    own.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!own) return fail_errno(R + "open " + dir);
    dirfd = own.get();
  }

  // Programs already on the cgroup (an update, or a pre-existing cgroup) are
  // replaced: attach the new one first so that there is no unguarded moment.
  uint32_t ids[64];
  bpf_attr q{};
  q.query.target_fd = uint32_t(dirfd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = uint64_t(uintptr_t(ids));
  q.query.prog_cnt = 64;
  if (bpf(BPF_PROG_QUERY, q) < 0) return fail_errno(R + "query the BPF programs of " + dir);
  uint32_t old = q.query.prog_cnt;
  bpf_attr at{};
  at.target_fd = uint32_t(dirfd);
  at.attach_bpf_fd = uint32_t(pfd);
  at.attach_type = BPF_CGROUP_DEVICE;
  // Someone else's single-program attachment is replaced by attaching in its mode.
  bool multi = old == 0 || (q.query.attach_flags & BPF_F_ALLOW_MULTI);
  at.attach_flags = multi ? BPF_F_ALLOW_MULTI : q.query.attach_flags;
  if (bpf(BPF_PROG_ATTACH, at) < 0)
    return fail_errno(R + "attach the device BPF program to " + dir);
  if (!multi) return {};
  for (uint32_t i = 0; i < old; ++i) {
    bpf_attr g{};
    g.prog_id = ids[i];
    int fd = int(bpf(BPF_PROG_GET_FD_BY_ID, g));
    if (fd < 0) continue; // gone meanwhile
    UniqueFd f(fd);
    bpf_attr dt{};
    dt.target_fd = uint32_t(dirfd);
    dt.attach_bpf_fd = uint32_t(fd);
    dt.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, dt) < 0 && errno != ENOENT)
      return fail_errno(R + "detach the previous device BPF program from " + dir);
  }
  return {};
}

} // namespace berth::cgroups
