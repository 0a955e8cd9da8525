#include "oci/spec_json_reader.hpp"

namespace berth::oci::detail {

namespace {

// nlohmann's copy, dump and comparison recurse once per nesting level: a
// hostile document of a few MiB of '[' would overflow the stack in any code
// that later copies or prints it. Count levels before parsing.
Result<> check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth)
        return fail_msg("JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return {};
}

std::string type_desc(const json &j) {
  switch (j.type()) {
  case json::value_t::null: return "null";
  case json::value_t::boolean: return "boolean";
  case json::value_t::string: return "string";
  case json::value_t::array: return "array";
  case json::value_t::object: return "object";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned: return "integer";
  case json::value_t::number_float: return "number " + j.dump();
  default: return "binary";
  }
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

} // namespace

Result<json> parse_document(std::string_view text) {
  if (text.size() > kMaxDocumentBytes)
    return fail_msg("document too large (" + std::to_string(text.size()) + " bytes, limit " +
                    std::to_string(kMaxDocumentBytes >> 20) + " MiB)");
  TRY(check_depth(text));
  try {
    return json::parse(text);
  } catch (const json::exception &e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string_view w = e.what();
    if (auto p = w.find("] "); p != std::string_view::npos) w.remove_prefix(p + 2);
    return fail_msg("invalid JSON: " + std::string(w));
  }
}

std::string field_path(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

std::string index_path(std::string_view parent, size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

std::string key_path(std::string_view parent, std::string_view key) {
  return std::string(parent) + "[\"" + std::string(key) + "\"]";
}

std::unexpected<Error> fail_at(std::string_view path, std::string_view msg) {
  if (path.empty()) return fail_msg(std::string(msg));
  return fail_msg(std::string(path) + ": " + std::string(msg));
}

std::unexpected<Error> type_error(std::string_view path, std::string_view what, const json &j) {
  return fail_at(path, "expected " + std::string(what) + ", got " + type_desc(j));
}

Result<> check_enum(std::string_view path, std::string_view what, const std::string &value,
                    std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed)
    if (a == value) return {};
  std::string m = "unknown " + std::string(what) + " \"" + value + "\" (expected one of:";
  for (auto a : allowed) {
    m += ' ';
    m += a;
  }
  return fail_at(path, m + ")");
}

Result<std::string> read_string(const json &v, std::string_view path) {
  if (!v.is_string()) return type_error(path, "a string", v);
  const auto &s = v.get_ref<const std::string &>();
  // A NUL would silently truncate the value at the syscall boundary.
  if (has_nul(s)) return fail_at(path, "must not contain a NUL byte");
  return s;
}

Result<std::vector<std::string>> read_strings(const json &v, std::string_view path) {
  if (!v.is_array()) return type_error(path, "an array of strings", v);
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSIGN_OR_RETURN(auto s, read_string(v[i], index_path(path, i)));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::map<std::string, std::string>> read_string_map(const json &v, std::string_view path) {
  if (!v.is_object()) return type_error(path, "an object", v);
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string p = key_path(path, it.key());
    if (has_nul(it.key())) return fail_at(p, "key must not contain a NUL byte");
    ASSIGN_OR_RETURN(out[it.key()], read_string(it.value(), p));
  }
  return out;
}

Result<Obj> Obj::of(const json &j, std::string path) {
  if (!j.is_object()) return type_error(path, "an object", j);
  return Obj(j, std::move(path));
}

const json *Obj::find(std::string_view key) const {
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) return nullptr;
  return &*it;
}

Result<const json *> Obj::need(std::string_view key) const {
  if (const json *v = find(key)) return v;
  return fail_at(at(key), "required field missing");
}

Result<> Obj::get(std::string_view key, std::string &out, Need n) const {
  const json *v = nullptr;
  if (n == Need::required) {
    ASSIGN_OR_RETURN(v, need(key));
  } else if (!(v = find(key))) {
    return {};
  }
  ASSIGN_OR_RETURN(out, read_string(*v, at(key)));
  return {};
}

Result<> Obj::get(std::string_view key, bool &out, Need n) const {
  const json *v = nullptr;
  if (n == Need::required) {
    ASSIGN_OR_RETURN(v, need(key));
  } else if (!(v = find(key))) {
    return {};
  }
  if (!v->is_boolean()) return type_error(at(key), "a boolean", *v);
  out = v->get<bool>();
  return {};
}

Result<> Obj::get(std::string_view key, std::optional<bool> &out) const {
  if (const json *v = find(key)) {
    if (!v->is_boolean()) return type_error(at(key), "a boolean", *v);
    out = v->get<bool>();
  }
  return {};
}

Result<> Obj::get(std::string_view key, std::vector<std::string> &out) const {
  if (const json *v = find(key)) {
    ASSIGN_OR_RETURN(out, read_strings(*v, at(key)));
  }
  return {};
}

Result<> Obj::get(std::string_view key, std::map<std::string, std::string> &out) const {
  if (const json *v = find(key)) {
    ASSIGN_OR_RETURN(out, read_string_map(*v, at(key)));
  }
  return {};
}

Result<std::vector<IdMapping>> read_id_mappings(const Obj &parent, std::string_view key) {
  std::vector<IdMapping> out;
  TRY(parent.each(key, [&](const json &v, const std::string &p) -> Result<> {
    ASSIGN_OR_RETURN(Obj o, Obj::of(v, p));
    IdMapping m;
    TRY(o.get("containerID", m.container_id, Need::required));
    TRY(o.get("hostID", m.host_id, Need::required));
    TRY(o.get("size", m.size, Need::required));
    out.push_back(m);
    return {};
  }));
  return out;
}

} // namespace berth::oci::detail
