#include "image/changes.hpp"

#include "common/strings.hpp"

#include <algorithm>
#include <cctype>

namespace berth::image {
namespace {

using json = nlohmann::json;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace((unsigned char)s.front())) s.remove_prefix(1);
  while (!s.empty() && std::isspace((unsigned char)s.back())) s.remove_suffix(1);
  return std::string(s);
}

// ["a", "b"] (exec form) or a shell form run by /bin/sh -c.
Result<json> command(std::string_view arg, const std::string &where) {
  std::string a = trim(arg);
  if (a.starts_with("[")) {
    auto j = json::parse(a, nullptr, false);
    if (!j.is_array() || !std::all_of(j.begin(), j.end(), [](auto &x) { return x.is_string(); }))
      return fail_msg(where + ": expected a JSON array of strings");
    return j;
  }
  if (a.empty()) return fail_msg(where + ": no command given");
  return json::array({"/bin/sh", "-c", a});
}

// "K=V K2=\"v w\"" or the old "K V w" form.
Result<std::vector<std::pair<std::string, std::string>>> pairs(std::string_view arg, const std::string &where) {
  std::string a = trim(arg);
  std::vector<std::pair<std::string, std::string>> out;
  if (a.empty()) return fail_msg(where + ": nothing given");
  auto eq = a.find('='), sp = a.find_first_of(" \t");
  if (eq == std::string::npos || (sp != std::string::npos && sp < eq)) {
    if (sp == std::string::npos) return fail_msg(where + ": expected KEY=VALUE or KEY VALUE");
    out.emplace_back(a.substr(0, sp), trim(a.substr(sp)));
    return out;
  }
  size_t i = 0;
  while (i < a.size()) {
    while (i < a.size() && std::isspace((unsigned char)a[i])) ++i;
    if (i >= a.size()) break;
    size_t k = a.find('=', i);
    if (k == std::string::npos) return fail_msg(where + ": expected KEY=VALUE, got '" + a.substr(i) + "'");
    std::string key = a.substr(i, k - i), val;
    i = k + 1;
    char quote = 0;
    for (; i < a.size(); ++i) {
      char c = a[i];
      if (quote) {
        if (c == quote) quote = 0;
        else if (c == '\\' && quote == '"' && i + 1 < a.size()) val += a[++i];
        else val += c;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '\\' && i + 1 < a.size()) {
        val += a[++i];
      } else if (std::isspace((unsigned char)c)) {
        break;
      } else {
        val += c;
      }
    }
    if (quote) return fail_msg(where + ": unterminated quote");
    if (key.empty()) return fail_msg(where + ": empty key");
    out.emplace_back(key, val);
  }
  return out;
}

} // namespace

Result<> apply_change(json &config, std::string_view change) {
  std::string c = trim(change);
  std::string where = "--change \"" + c + "\"";
  auto sp = c.find_first_of(" \t");
  std::string op = c.substr(0, sp), arg = sp == std::string::npos ? "" : trim(c.substr(sp));
  std::transform(op.begin(), op.end(), op.begin(), [](unsigned char ch) { return std::toupper(ch); });
  if (op == "CMD") {
    ASSIGN_OR_RETURN(config["Cmd"], command(arg, where));
  } else if (op == "ENTRYPOINT") {
    ASSIGN_OR_RETURN(config["Entrypoint"], command(arg, where));
  } else if (op == "ENV") {
    ASSIGN_OR_RETURN(auto kv, pairs(arg, where));
    json &env = config["Env"];
    if (!env.is_array()) env = json::array();
    for (auto &[k, v] : kv) {
      auto it = std::find_if(env.begin(), env.end(),
                             [&](auto &e) { return e.is_string() && e.template get<std::string>().starts_with(k + "="); });
      if (it != env.end()) *it = k + "=" + v;
      else env.push_back(k + "=" + v);
    }
  } else if (op == "LABEL") {
    ASSIGN_OR_RETURN(auto kv, pairs(arg, where));
    for (auto &[k, v] : kv) config["Labels"][k] = v;
  } else if (op == "EXPOSE") {
    if (arg.empty()) return fail_msg(where + ": no port given");
    for (auto p : words(arg)) {
      std::string port(p);
      if (port.find('/') == std::string::npos) port += "/tcp";
      auto num = port.substr(0, port.find('/'));
      if (num.empty() || !std::all_of(num.begin(), num.end(), ::isdigit))
        return fail_msg(where + ": invalid port '" + std::string(p) + "'");
      config["ExposedPorts"][port] = json::object();
    }
  } else if (op == "VOLUME") {
    json vols = arg.starts_with("[") ? json::parse(arg, nullptr, false) : json::array();
    if (!arg.starts_with("["))
      for (auto w : words(arg)) vols.push_back(std::string(w));
    if (!vols.is_array() || vols.empty()) return fail_msg(where + ": expected paths");
    for (auto &v : vols) {
      if (!v.is_string()) return fail_msg(where + ": expected paths");
      config["Volumes"][v.get<std::string>()] = json::object();
    }
  } else if (op == "USER" || op == "WORKDIR" || op == "STOPSIGNAL") {
    if (arg.empty()) return fail_msg(where + ": no value given");
    config[op == "USER" ? "User" : op == "WORKDIR" ? "WorkingDir" : "StopSignal"] = arg;
  } else {
    return fail_msg(where + ": " + (op.empty() ? std::string("empty") : op) +
                    " is not allowed here (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR are)");
  }
  return {};
}

} // namespace berth::image
