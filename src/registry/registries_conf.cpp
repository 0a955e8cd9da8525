// registries.conf: a line-oriented reading of the TOML that file uses. Only
// what decides "insecure" is parsed strictly; everything else only has to
// be balanced enough to find where it ends (multi-line arrays, inline
// tables), so that podman's other settings never make berth fail.
#include "registry/registries_conf.hpp"

#include "common/file.hpp"
#include "common/strings.hpp"

#include <vector>

namespace berth::registry {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Walks s outside of quoted strings: f(i, c) for each such character;
// false from f stops. Returns false when a string is left open.
template <class F> bool outside_strings(std::string_view s, F f) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (quote == '"' && c == '\\') ++i; // basic strings escape; literal ones do not
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (!f(i, c)) return true;
  }
  return quote == 0;
}

std::string_view strip_comment(std::string_view line) {
  size_t end = line.size();
  outside_strings(line, [&](size_t i, char c) {
    if (c != '#') return true;
    end = i;
    return false;
  });
  return trim(line.substr(0, end));
}

// Open '[' and '{' minus closed ones, outside strings.
int depth(std::string_view s) {
  int d = 0;
  outside_strings(s, [&](size_t, char c) {
    d += (c == '[' || c == '{') - (c == ']' || c == '}');
    return true;
  });
  return d;
}

// One TOML string ("basic" with the common escapes, or 'literal') at the
// start of s; s is advanced past it.
Result<std::string> take_string(std::string_view &s) {
  if (s.empty() || (s[0] != '"' && s[0] != '\'')) return fail_msg("expected a quoted string");
  char q = s[0];
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == q) {
      s.remove_prefix(i + 1);
      return out;
    }
    if (q == '"' && c == '\\') {
      if (++i == s.size()) break;
      switch (s[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      default: return fail_msg(std::string("unsupported escape \\") + s[i]);
      }
      continue;
    }
    out += c;
  }
  return fail_msg("unterminated string");
}

Result<std::string> parse_string(std::string_view v) {
  ASSIGN_OR_RETURN(std::string s, take_string(v));
  if (!trim(v).empty()) return fail_msg("unexpected text after the string");
  return s;
}

Result<bool> parse_bool(std::string_view v) {
  if (v == "true") return true;
  if (v == "false") return false;
  return fail_msg("expected true or false");
}

// [ "a", 'b', ] over one or more lines (joined with '\n').
Result<std::vector<std::string>> parse_string_array(std::string_view v) {
  auto skip_blank = [&] {
    while (!v.empty() && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r')) v.remove_prefix(1);
  };
  if (v.empty() || v[0] != '[') return fail_msg("expected an array of strings");
  v.remove_prefix(1);
  std::vector<std::string> out;
  for (;;) {
    skip_blank();
    if (!v.empty() && v[0] == ']') break;
    ASSIGN_OR_RETURN(std::string s, take_string(v));
    out.push_back(std::move(s));
    skip_blank();
    if (!v.empty() && v[0] == ',') {
      v.remove_prefix(1);
      continue;
    }
    if (v.empty() || v[0] != ']') return fail_msg("expected ',' or ']' in the array");
    break;
  }
  v.remove_prefix(1);
  if (!trim(v).empty()) return fail_msg("unexpected text after the array");
  return out;
}

// "host:port/ns" -> "host:port".
std::string_view host_part(std::string_view s) { return s.substr(0, s.find('/')); }

// "insecure" is said of the location: where the registry is reached. A
// prefix maps names to it (berth does not remap; an entry with a location
// that differs from its prefix says nothing of the prefix's host).
struct Entry {
  std::string prefix, location;
  bool insecure = false;
};

struct Settings {
  std::vector<Entry> v2;
  std::vector<std::string> v1; // [registries.insecure] registries
};

enum class Table { Other, Registry, V1Insecure };

Result<Table> header(std::string_view line) {
  bool array = line.starts_with("[[");
  std::string_view close = array ? "]]" : "]";
  if (!line.ends_with(close) || line.size() < 2 * close.size() + 1) return fail_msg("cannot parse the table header");
  std::string_view name = trim(line.substr(close.size(), line.size() - 2 * close.size()));
  if (array && name == "registry") return Table::Registry;
  if (!array && name == "registries.insecure") return Table::V1Insecure;
  return Table::Other;
}

// key = value in a table that matters.
Result<> assign(Settings &s, Table t, std::string_view key, std::string_view value) {
  if (t == Table::Registry) {
    Entry &e = s.v2.back();
    if (key == "prefix") {
      ASSIGN_OR_RETURN(e.prefix, parse_string(value));
    } else if (key == "location") {
      ASSIGN_OR_RETURN(e.location, parse_string(value));
    } else if (key == "insecure") {
      ASSIGN_OR_RETURN(e.insecure, parse_bool(value));
    }
  } else if (t == Table::V1Insecure && key == "registries") {
    ASSIGN_OR_RETURN(auto list, parse_string_array(value));
    s.v1.insert(s.v1.end(), list.begin(), list.end());
  }
  return {};
}

Result<Settings> parse(const std::string &path, std::string_view text) {
  Settings s;
  Table table = Table::Other;
  std::vector<std::string_view> lines;
  each_line(text, [&](std::string_view l) { lines.push_back(l); });
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = path + ":" + std::to_string(i + 1);
    std::string_view line = strip_comment(lines[i]);
    if (line.empty()) continue;
    if (line[0] == '[') {
      auto t = header(line);
      if (!t) return ctx(std::move(t).error(), where);
      table = *t;
      if (table == Table::Registry) s.v2.emplace_back();
      continue;
    }
    size_t eq = std::string_view::npos;
    outside_strings(line, [&](size_t j, char c) {
      if (c == '=') eq = j;
      return c != '=';
    });
    // An array or inline table may go on over the next lines.
    std::string value(eq == std::string_view::npos ? std::string_view() : trim(line.substr(eq + 1)));
    while (depth(value) > 0 && i + 1 < lines.size()) value += "\n" + std::string(strip_comment(lines[++i]));
    if (table == Table::Other) continue;
    if (eq == std::string_view::npos) return fail_msg(where + ": cannot parse: expected key = value");
    std::string_view key = trim(line.substr(0, eq));
    if (key.size() >= 2 && (key[0] == '"' || key[0] == '\'') && key.back() == key[0]) key = key.substr(1, key.size() - 2);
    if (depth(value) > 0) return fail_msg(where + ": cannot parse " + std::string(key) + ": unterminated array");
    auto r = assign(s, table, key, value);
    if (!r) return ctx(std::move(r).error(), where + ": cannot parse " + std::string(key));
  }
  return s;
}

bool wildcard_match(std::string_view pattern, std::string_view registry) {
  if (!pattern.starts_with("*.")) return false;
  pattern.remove_prefix(1); // ".example.com"
  std::string_view host = registry.substr(0, registry.find(':')); // names, not IPv6 addresses, have wildcards
  return host.size() > pattern.size() && host.ends_with(pattern);
}

} // namespace

Result<std::optional<bool>> registries_conf_insecure(const std::string &path, std::string_view registry) {
  auto text = read_file(path, 4u << 20);
  if (!text) {
    if (text.error().code() == ENOENT) return std::nullopt;
    return fail(std::move(text).error());
  }
  ASSIGN_OR_RETURN(Settings s, parse(path, *text));
  // The entry whose location is exactly this registry decides (a location
  // with a namespace is not the whole host); else a wildcard prefix with no
  // location of its own.
  std::optional<bool> exact, wildcard;
  for (const Entry &e : s.v2) {
    const std::string &where = e.location.empty() ? e.prefix : e.location;
    if (where == registry) exact = e.insecure;
    else if (e.location.empty() && wildcard_match(e.prefix, registry)) wildcard = e.insecure;
  }
  if (exact) return exact;
  if (wildcard) return wildcard;
  for (const std::string &r : s.v1)
    if (host_part(r) == registry) return true;
  return std::nullopt;
}

} // namespace berth::registry
