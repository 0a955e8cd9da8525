#include "cli/format.hpp"

#include <cstdio>
#include <cstring>

namespace berth::cli {
namespace {

using json = nlohmann::json;

std::string go_string(const json &v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + go_string(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "map[";
    bool first = true;
    for (auto &[k, x] : v.items()) {
      s += (first ? "" : " ") + k + ":" + go_string(x);
      first = false;
    }
    return s + "]";
  }
  return v.dump();
}

// ".A.B" -> row["A"]["B"]; "." -> row.
Result<json> lookup(const json &row, const std::string &path, const std::string &tmpl) {
  if (path == ".") return row;
  if (path.empty() || path[0] != '.') return fail_msg("template \"" + tmpl + "\": expected .Field, got \"" + path + "\"");
  const json *cur = &row;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('.', i);
    if (j == std::string::npos) j = path.size();
    std::string key = path.substr(i, j - i);
    if (!cur->is_object() || !cur->contains(key))
      return fail_msg("template \"" + tmpl + "\": no field \"" + key + "\" (can be: " +
                      [&] {
                        std::string ks;
                        if (cur->is_object())
                          for (auto &[k, v] : cur->items()) ks += (ks.empty() ? "" : ", ") + k;
                        return ks;
                      }() + ")");
    cur = &(*cur)[key];
    i = j + 1;
  }
  return *cur;
}

std::string unescape(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
      out += s[++i] == 't' ? '\t' : '\n';
    } else {
      out += s[i];
    }
  }
  return out;
}

// The field names a template uses, in order ("{{.ID}}\t{{.Size}}" -> ID, Size).
std::vector<std::string> fields_of(const std::string &tmpl) {
  std::vector<std::string> out;
  for (size_t i = 0; (i = tmpl.find("{{", i)) != std::string::npos;) {
    size_t j = tmpl.find("}}", i);
    if (j == std::string::npos) break;
    std::string in = tmpl.substr(i + 2, j - i - 2);
    auto dot = in.find('.');
    out.push_back(dot == std::string::npos ? in : in.substr(dot + 1));
    i = j + 2;
  }
  return out;
}

} // namespace

Result<std::string> render(const std::string &tmpl_in, const json &row) {
  std::string tmpl = unescape(tmpl_in), out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    size_t close = tmpl.find("}}", open);
    if (close == std::string::npos) return fail_msg("template \"" + tmpl_in + "\": unclosed {{");
    std::string action = tmpl.substr(open + 2, close - open - 2);
    while (!action.empty() && action.front() == ' ') action.erase(0, 1);
    while (!action.empty() && action.back() == ' ') action.pop_back();
    bool as_json = action.starts_with("json ");
    if (as_json) action = action.substr(5);
    while (!action.empty() && action.front() == ' ') action.erase(0, 1);
    ASSIGN_OR_RETURN(json v, lookup(row, action, tmpl_in));
    out += as_json ? v.dump() : go_string(v);
    i = close + 2;
  }
  return out;
}

Result<> print_rows(const std::vector<json> &rows, const std::string &format, const std::string &default_table,
                    const json &headers) {
  if (format == "json") {
    for (auto &r : rows) std::printf("%s\n", r.dump().c_str());
    return {};
  }
  std::string tmpl = format;
  bool table = format.empty() || format == "table" || format.starts_with("table ");
  if (format.empty() || format == "table") tmpl = default_table;
  else if (table) tmpl = format.substr(6);
  std::vector<std::vector<std::string>> lines;
  if (table) {
    std::string head;
    auto fs = fields_of(tmpl);
    std::string h = unescape(tmpl);
    // Replace each action by its header.
    for (auto &f : fs) {
      size_t a = h.find("{{"), b = h.find("}}", a);
      std::string name = headers.contains(f) ? headers[f].get<std::string>() : f;
      h = h.substr(0, a) + name + h.substr(b + 2);
    }
    lines.push_back({});
    for (auto &cell : [&] {
           std::vector<std::string> c;
           size_t s = 0, t;
           while ((t = h.find('\t', s)) != std::string::npos) c.push_back(h.substr(s, t - s)), s = t + 1;
           c.push_back(h.substr(s));
           return c;
         }())
      lines.back().push_back(cell);
  }
  for (auto &r : rows) {
    ASSIGN_OR_RETURN(std::string line, render(tmpl, r));
    if (!table) {
      std::printf("%s\n", line.c_str());
      continue;
    }
    std::vector<std::string> cells;
    size_t s = 0, t;
    while ((t = line.find('\t', s)) != std::string::npos) cells.push_back(line.substr(s, t - s)), s = t + 1;
    cells.push_back(line.substr(s));
    lines.push_back(std::move(cells));
  }
  if (!table) return {};
  // Columns padded to their widest cell plus 3 spaces, as docker's tabwriter.
  std::vector<size_t> width;
  for (auto &l : lines)
    for (size_t c = 0; c < l.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], l[c].size());
    }
  for (auto &l : lines) {
    std::string out;
    for (size_t c = 0; c < l.size(); ++c) {
      out += l[c];
      if (c + 1 < l.size()) out += std::string(width[c] - l[c].size() + 3, ' ');
    }
    std::printf("%s\n", out.c_str());
  }
  return {};
}

std::string human_size(uint64_t bytes) {
  static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1000 && u < 6) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", v, units[u]);
  return buf;
}

std::string human_since(std::time_t then, std::time_t now) {
  if (then <= 0) return "N/A";
  double s = std::difftime(now, then);
  auto n = [](double x, const char *unit) { return std::to_string(long(x)) + " " + unit; };
  std::string d;
  if (s < 1) d = "Less than a second";
  else if (s < 60) d = n(s, "seconds");
  else if (s < 120) d = "About a minute";
  else if (s < 3600) d = n(s / 60, "minutes");
  else if (s < 7200) d = "About an hour";
  else if (s < 48 * 3600) d = n(s / 3600, "hours");
  else if (s < 14 * 86400) d = n(s / 86400, "days");
  else if (s < 60 * 86400) d = n(s / (7 * 86400), "weeks");
  else if (s < 730 * 86400) d = n(s / (30 * 86400), "months");
  else d = n(s / (365 * 86400), "years");
  return d + " ago";
}

std::time_t parse_rfc3339(const std::string &s) {
  std::tm tm{};
  const char *end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return 0;
  std::time_t t = timegm(&tm);
  while (*end == '.' || (*end >= '0' && *end <= '9')) ++end;
  int sign = *end == '+' ? -1 : *end == '-' ? 1 : 0;
  if (sign) {
    int hh = 0, mm = 0;
    if (std::sscanf(end + 1, "%d:%d", &hh, &mm) == 2) t += sign * (hh * 3600 + mm * 60);
  }
  return t;
}

} // namespace berth::cli
