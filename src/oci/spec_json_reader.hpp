// Internal to the spec_json*.cpp files: reading nlohmann::json into oci types
// with every error naming the field by its JSON path ("linux.devices[2].path").
// JSON null is treated as absent, as Go's encoding/json (runc) does.
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"

#include <nlohmann/json.hpp>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace berth::oci::detail {

using json = nlohmann::json;

inline constexpr size_t kMaxDocumentBytes = 64u << 20;
inline constexpr int kMaxDepth = 200;

// Size and nesting checks, then parse. Never throws.
Result<json> parse_document(std::string_view text);

// "a" + "b" -> "a.b"; index_path("a", 3) -> "a[3]"; key_path("a", "k") -> a["k"].
std::string field_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t i);
std::string key_path(std::string_view parent, std::string_view key);

// "path: msg".
std::unexpected<Error> fail_at(std::string_view path, std::string_view msg);
// "path: expected <what>, got <type of j>".
std::unexpected<Error> type_error(std::string_view path, std::string_view what, const json &j);

// `value` must be one of `allowed`: `path: unknown <what> "value" (expected one of: ...)`.
Result<> check_enum(std::string_view path, std::string_view what, const std::string &value,
                    std::initializer_list<std::string_view> allowed);

inline bool is_abs(const std::string &p) { return !p.empty() && p.front() == '/'; }

template <class T> constexpr const char *int_type_name() {
  if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 8) return "int64";
    else if constexpr (sizeof(T) == 4) return "int32";
    else return "int16";
  } else {
    if constexpr (sizeof(T) == 8) return "uint64";
    else if constexpr (sizeof(T) == 4) return "uint32";
    else return "uint16";
  }
}

template <class T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;

// An integer of type T. Floats ("1.0") are refused as Go's decoder refuses them.
template <Integer T> Result<T> read_int(const json &v, std::string_view path) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) { // negative: nlohmann stores non-negatives as unsigned
    if constexpr (std::is_signed_v<T>) {
      int64_t s = v.get<int64_t>();
      if (s >= std::numeric_limits<T>::min() && s <= std::numeric_limits<T>::max())
        return static_cast<T>(s);
    }
  } else {
    return type_error(path, "an integer", v);
  }
  return fail_at(path, "value " + v.dump() + " out of range for " + int_type_name<T>());
}

Result<std::string> read_string(const json &v, std::string_view path);
Result<std::vector<std::string>> read_strings(const json &v, std::string_view path);
Result<std::map<std::string, std::string>> read_string_map(const json &v, std::string_view path);

enum class Need { optional, required };

// A JSON object and its path. Field readers leave `out` untouched when the
// field is absent (and not required).
class Obj {
public:
  static Result<Obj> of(const json &j, std::string path);

  const std::string &path() const { return path_; }
  std::string at(std::string_view key) const { return field_path(path_, key); }
  // nullptr when absent or null.
  const json *find(std::string_view key) const;
  // Error "<path>.<key>: required field missing" when absent.
  Result<const json *> need(std::string_view key) const;

  Result<> get(std::string_view key, std::string &out, Need n = Need::optional) const;
  Result<> get(std::string_view key, bool &out, Need n = Need::optional) const;
  Result<> get(std::string_view key, std::optional<bool> &out) const;
  Result<> get(std::string_view key, std::vector<std::string> &out) const;
  Result<> get(std::string_view key, std::map<std::string, std::string> &out) const;

  template <Integer T> Result<> get(std::string_view key, T &out, Need n = Need::optional) const {
    const json *v = nullptr;
    if (n == Need::required) {
      ASSIGN_OR_RETURN(v, need(key));
    } else if (!(v = find(key))) {
      return {};
    }
    ASSIGN_OR_RETURN(out, read_int<T>(*v, at(key)));
    return {};
  }
  template <Integer T> Result<> get(std::string_view key, std::optional<T> &out) const {
    if (const json *v = find(key)) {
      ASSIGN_OR_RETURN(out, read_int<T>(*v, at(key)));
    }
    return {};
  }
  template <Integer T> Result<> get(std::string_view key, std::vector<T> &out) const {
    return each(key, [&](const json &v, const std::string &p) -> Result<> {
      ASSIGN_OR_RETURN(T x, read_int<T>(v, p));
      out.push_back(x);
      return {};
    });
  }

  // Calls f(element, path) for each element of an array field.
  template <class F> Result<> each(std::string_view key, F &&f) const {
    const json *a = find(key);
    if (!a) return {};
    if (!a->is_array()) return type_error(at(key), "an array", *a);
    for (size_t i = 0; i < a->size(); ++i) TRY(f((*a)[i], index_path(at(key), i)));
    return {};
  }
  // Calls f(key, value, path) for each member of an object field.
  template <class F> Result<> members(std::string_view key, F &&f) const {
    const json *o = find(key);
    if (!o) return {};
    if (!o->is_object()) return type_error(at(key), "an object", *o);
    for (auto it = o->begin(); it != o->end(); ++it) {
      std::string p = key_path(at(key), it.key());
      if (it.key().find('\0') != std::string::npos)
        return fail_at(p, "key must not contain a NUL byte");
      TRY(f(it.key(), it.value(), p));
    }
    return {};
  }

private:
  Obj(const json &j, std::string path) : j_(&j), path_(std::move(path)) {}
  const json *j_;
  std::string path_;
};

// Readers shared between the topic files. `path` names the value read.
Result<std::vector<IdMapping>> read_id_mappings(const Obj &parent, std::string_view key);
Result<Process> read_process(const json &j, const std::string &path);
Result<Linux> read_linux(const json &j, const std::string &path);
Result<Resources> read_resources(const json &j, const std::string &path);
Result<Seccomp> read_seccomp(const json &j, const std::string &path);

} // namespace berth::oci::detail
