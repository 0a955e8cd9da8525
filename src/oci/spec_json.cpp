// config.json top level: ociVersion, root, mounts, hooks, annotations; and the
// three public entry points. Topic readers live in spec_json_*.cpp.
#include "oci/spec_json.hpp"
#include "oci/spec_json_reader.hpp"

#include <cctype>
#include <exception>

namespace berth::oci {

using namespace detail;

namespace {

// MAJOR.MINOR[.PATCH][-pre][+build]; this runtime speaks major 1, any minor
// (runtime-spec keeps compatibility within a major version).
Result<> check_version(const std::string &v) {
  auto digits = [&](size_t from) {
    size_t i = from;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    return i;
  };
  size_t major_end = digits(0);
  bool shaped = major_end > 0 && major_end < v.size() && v[major_end] == '.' &&
                digits(major_end + 1) > major_end + 1;
  if (!shaped)
    return fail_at("ociVersion", "invalid version \"" + v + "\" (expected MAJOR.MINOR.PATCH)");
  if (v.substr(0, major_end) != "1")
    return fail_at("ociVersion",
                   "unsupported version \"" + v + "\" (this runtime supports 1.x)");
  return {};
}

Result<Root> read_root(const Obj &top) {
  ASSIGN_OR_RETURN(const json *v, top.need("root"));
  ASSIGN_OR_RETURN(Obj o, Obj::of(*v, "root"));
  Root r;
  TRY(o.get("path", r.path, Need::required));
  if (r.path.empty()) return fail_at(o.at("path"), "must not be empty");
  TRY(o.get("readonly", r.readonly));
  return r;
}

Result<std::vector<Mount>> read_mounts(const Obj &top) {
  std::vector<Mount> out;
  TRY(top.each("mounts", [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    Mount m;
    TRY(o.get("destination", m.destination, Need::required));
    // Relative destinations are deprecated; like runc 1.1+, refuse them.
    if (!is_abs(m.destination)) return fail_at(o.at("destination"), "must be an absolute path");
    TRY(o.get("type", m.type));
    TRY(o.get("source", m.source));
    TRY(o.get("options", m.options));
    ASSIGN_OR_RETURN(m.uid_mappings, read_id_mappings(o, "uidMappings"));
    ASSIGN_OR_RETURN(m.gid_mappings, read_id_mappings(o, "gidMappings"));
    if (m.uid_mappings.empty() != m.gid_mappings.empty())
      return fail_at(p, "uidMappings and gidMappings must be specified together");
    out.push_back(std::move(m));
    return {};
  }));
  return out;
}

Result<std::vector<Hook>> read_hook_list(const Obj &hooks, std::string_view key) {
  std::vector<Hook> out;
  TRY(hooks.each(key, [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    Hook h;
    TRY(o.get("path", h.path, Need::required));
    if (!is_abs(h.path)) return fail_at(o.at("path"), "must be an absolute path");
    TRY(o.get("args", h.args));
    TRY(o.get("env", h.env));
    TRY(o.get("timeout", h.timeout));
    if (h.timeout && *h.timeout <= 0) return fail_at(o.at("timeout"), "must be greater than zero");
    out.push_back(std::move(h));
    return {};
  }));
  return out;
}

Result<Hooks> read_hooks(const json &v) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(v, "hooks"));
  Hooks h;
  ASSIGN_OR_RETURN(h.prestart, read_hook_list(o, "prestart"));
  ASSIGN_OR_RETURN(h.create_runtime, read_hook_list(o, "createRuntime"));
  ASSIGN_OR_RETURN(h.create_container, read_hook_list(o, "createContainer"));
  ASSIGN_OR_RETURN(h.start_container, read_hook_list(o, "startContainer"));
  ASSIGN_OR_RETURN(h.poststart, read_hook_list(o, "poststart"));
  ASSIGN_OR_RETURN(h.poststop, read_hook_list(o, "poststop"));
  return h;
}

Result<Spec> read_spec(const json &doc) {
  ASSIGN_OR_RETURN(Obj top, Obj::of(doc, ""));
  Spec s;
  TRY(top.get("ociVersion", s.oci_version, Need::required));
  TRY(check_version(s.oci_version));
  ASSIGN_OR_RETURN(s.root, read_root(top));
  ASSIGN_OR_RETURN(s.mounts, read_mounts(top));
  if (const json *p = top.find("process")) {
    ASSIGN_OR_RETURN(s.process, read_process(*p, "process"));
  }
  TRY(top.get("hostname", s.hostname));
  TRY(top.get("domainname", s.domainname));
  if (const json *h = top.find("hooks")) {
    ASSIGN_OR_RETURN(s.hooks, read_hooks(*h));
  }
  TRY(top.get("annotations", s.annotations));
  if (const json *l = top.find("linux")) {
    ASSIGN_OR_RETURN(s.linux_, read_linux(*l, "linux"));
  }
  return s;
}

// Parses and reads; the readers do not throw, the catch is a safety net so
// that no exception ever crosses the API.
template <class T, class F> Result<T> parse_with(std::string_view text, F &&read) {
  try {
    ASSIGN_OR_RETURN(json doc, parse_document(text));
    return read(doc);
  } catch (const std::exception &e) {
    return fail_msg(std::string("internal error while reading JSON: ") + e.what());
  }
}

} // namespace

Result<Spec> parse_spec(std::string_view text) {
  return parse_with<Spec>(text, [](const json &d) { return read_spec(d); });
}

Result<Process> parse_process(std::string_view text) {
  return parse_with<Process>(text, [](const json &d) { return read_process(d, "process"); });
}

Result<Resources> parse_resources(std::string_view text) {
  return parse_with<Resources>(text,
                               [](const json &d) { return read_resources(d, "resources"); });
}

} // namespace berth::oci
