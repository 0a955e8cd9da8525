// linux.seccomp: structure and types only. Action, operator, architecture and
// flag names stay strings here; linux/seccomp checks them against libseccomp,
// which knows what this host supports.
#include "oci/spec_json_reader.hpp"

namespace berth::oci::detail {

namespace {

Result<SeccompArg> read_arg(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  SeccompArg a;
  TRY(o.get("index", a.index, Need::required));
  TRY(o.get("value", a.value, Need::required));
  TRY(o.get("valueTwo", a.value_two));
  TRY(o.get("op", a.op, Need::required));
  return a;
}

Result<SeccompSyscall> read_syscall(const json &v, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, path));
  SeccompSyscall s;
  TRY(o.need("names"));
  TRY(o.get("names", s.names));
  if (s.names.empty()) return fail_at(o.at("names"), "must not be empty");
  TRY(o.get("action", s.action, Need::required));
  TRY(o.get("errnoRet", s.errno_ret));
  TRY(o.each("args", [&](const json &a, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(SeccompArg arg, read_arg(a, p));
    s.args.push_back(std::move(arg));
    return {};
  }));
  return s;
}

} // namespace

Result<Seccomp> read_seccomp(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, path));
  Seccomp s;
  TRY(o.get("defaultAction", s.default_action, Need::required));
  TRY(o.get("defaultErrnoRet", s.default_errno_ret));
  TRY(o.get("architectures", s.architectures));
  TRY(o.get("flags", s.flags));
  TRY(o.get("listenerPath", s.listener_path));
  TRY(o.get("listenerMetadata", s.listener_metadata));
  if (!s.listener_metadata.empty() && s.listener_path.empty())
    return fail_at(o.at("listenerMetadata"), "set without listenerPath");
  TRY(o.each("syscalls", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(SeccompSyscall sc, read_syscall(v, p));
    s.syscalls.push_back(std::move(sc));
    return {};
  }));
  return s;
}

} // namespace berth::oci::detail
