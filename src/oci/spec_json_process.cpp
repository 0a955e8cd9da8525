// The process object: config.json's "process" and `exec --process FILE`.
#include "oci/spec_json_reader.hpp"

#include <set>

namespace berth::oci::detail {

namespace {

Result<User> read_user(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  User u;
  // uid/gid are REQUIRED in the spec text but not in its schema; absent means
  // 0, as runc reads them.
  TRY(o.get("uid", u.uid));
  TRY(o.get("gid", u.gid));
  TRY(o.get("umask", u.umask));
  TRY(o.get("additionalGids", u.additional_gids));
  TRY(o.get("username", u.username));
  return u;
}

Result<Capabilities> read_caps(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  Capabilities c;
  TRY(o.get("bounding", c.bounding));
  TRY(o.get("effective", c.effective));
  TRY(o.get("permitted", c.permitted));
  TRY(o.get("inheritable", c.inheritable));
  TRY(o.get("ambient", c.ambient));
  return c;
}

Result<std::vector<Rlimit>> read_rlimits(const Obj &proc) {
  std::vector<Rlimit> out;
  std::set<std::string> seen;
  TRY(proc.each("rlimits", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    Rlimit r;
    // The name is checked against the kernel's list where rlimits are applied.
    TRY(o.get("type", r.type, Need::required));
    TRY(o.get("soft", r.soft, Need::required));
    TRY(o.get("hard", r.hard, Need::required));
    if (r.soft > r.hard)
      return fail_at(p, "soft limit " + std::to_string(r.soft) + " is greater than hard limit " +
                            std::to_string(r.hard));
    if (!seen.insert(r.type).second) return fail_at(o.at("type"), "duplicate rlimit " + r.type);
    out.push_back(std::move(r));
    return {};
  }));
  return out;
}

Result<Scheduler> read_scheduler(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  Scheduler s;
  TRY(o.get("policy", s.policy, Need::required));
  TRY(check_enum(o.at("policy"), "scheduler policy", s.policy,
                 {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO",
                  "SCHED_IDLE", "SCHED_DEADLINE"}));
  TRY(o.get("nice", s.nice));
  TRY(o.get("priority", s.priority));
  TRY(o.get("flags", s.flags));
  for (size_t i = 0; i < s.flags.size(); ++i)
    TRY(check_enum(index_path(o.at("flags"), i), "scheduler flag", s.flags[i],
                   {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
                    "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS",
                    "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"}));
  TRY(o.get("runtime", s.runtime));
  TRY(o.get("deadline", s.deadline));
  TRY(o.get("period", s.period));
  return s;
}

Result<IOPriority> read_io_priority(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  IOPriority io;
  TRY(o.get("class", io.klass, Need::required));
  TRY(check_enum(o.at("class"), "I/O priority class", io.klass,
                 {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"}));
  // REQUIRED in the spec text, optional in its schema: absent means 0.
  TRY(o.get("priority", io.priority));
  if (io.priority < 0 || io.priority > 7) return fail_at(o.at("priority"), "must be 0..7");
  return io;
}

// "0-3,7": digits, commas, dashes and spaces (the schema's pattern).
Result<> check_cpu_list(const std::string &s, const std::string &path) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == ',' || c == '-' || c == ' '))
      return fail_at(path, "invalid CPU list \"" + s + "\"");
  return {};
}

Result<CPUAffinity> read_affinity(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  CPUAffinity a;
  TRY(o.get("initial", a.initial));
  TRY(check_cpu_list(a.initial, o.at("initial")));
  TRY(o.get("final", a.final_));
  TRY(check_cpu_list(a.final_, o.at("final")));
  return a;
}

} // namespace

Result<Process> read_process(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, path));
  Process p;
  TRY(o.get("terminal", p.terminal));
  if (const json *v = o.find("consoleSize")) {
    ASSIGN_OR_RETURN(Obj cs, Obj::of(*v, o.at("consoleSize")));
    ConsoleSize size;
    TRY(cs.get("height", size.height, Need::required));
    TRY(cs.get("width", size.width, Need::required));
    // The spec: runtimes MUST ignore consoleSize without a terminal.
    if (p.terminal) p.console_size = size;
  }
  if (const json *v = o.find("user")) {
    ASSIGN_OR_RETURN(p.user, read_user(*v, o.at("user")));
  }
  TRY(o.get("args", p.args));
  if (p.args.empty()) return fail_at(o.at("args"), "must not be empty");
  TRY(o.get("commandLine", p.command_line));
  TRY(o.get("env", p.env));
  for (size_t i = 0; i < p.env.size(); ++i) {
    auto eq = p.env[i].find('=');
    if (eq == std::string::npos || eq == 0)
      return fail_at(index_path(o.at("env"), i),
                     "invalid environment variable \"" + p.env[i] + "\" (expected NAME=VALUE)");
  }
  TRY(o.get("cwd", p.cwd, Need::required));
  if (!is_abs(p.cwd)) return fail_at(o.at("cwd"), "must be an absolute path");
  if (const json *v = o.find("capabilities")) {
    ASSIGN_OR_RETURN(p.capabilities, read_caps(*v, o.at("capabilities")));
  }
  ASSIGN_OR_RETURN(p.rlimits, read_rlimits(o));
  TRY(o.get("noNewPrivileges", p.no_new_privileges));
  TRY(o.get("apparmorProfile", p.apparmor_profile));
  TRY(o.get("oomScoreAdj", p.oom_score_adj));
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
    return fail_at(o.at("oomScoreAdj"), "must be between -1000 and 1000");
  if (const json *v = o.find("scheduler")) {
    ASSIGN_OR_RETURN(p.scheduler, read_scheduler(*v, o.at("scheduler")));
  }
  TRY(o.get("selinuxLabel", p.selinux_label));
  if (const json *v = o.find("ioPriority")) {
    ASSIGN_OR_RETURN(p.io_priority, read_io_priority(*v, o.at("ioPriority")));
  }
  if (const json *v = o.find("execCPUAffinity")) {
    ASSIGN_OR_RETURN(p.exec_cpu_affinity, read_affinity(*v, o.at("execCPUAffinity")));
  }
  return p;
}

} // namespace berth::oci::detail
