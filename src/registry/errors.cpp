#include "registry/errors.hpp"

#include <nlohmann/json.hpp>

namespace berth::registry {

std::string error_body_text(const std::string &body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return {};
  auto errs = j.find("errors");
  if (errs == j.end() || !errs->is_array()) return {};
  std::string out;
  for (auto &e : *errs) {
    if (!e.is_object()) continue;
    std::string one;
    if (auto c = e.find("code"); c != e.end() && c->is_string()) one = c->get<std::string>();
    if (auto m = e.find("message"); m != e.end() && m->is_string())
      one += (one.empty() ? "" : ": ") + m->get<std::string>();
    if (auto d = e.find("detail"); d != e.end() && !d->is_null()) {
      std::string detail = d->is_string() ? d->get<std::string>() : d->dump();
      if (detail.size() > 300) detail = detail.substr(0, 300) + "…";
      if (!detail.empty()) one += " (" + detail + ")";
    }
    if (!one.empty()) out += (out.empty() ? "" : "; ") + one;
  }
  return out;
}

Error status_error(const Response &r, const std::string &what, bool had_creds) {
  std::string words;
  switch (r.status) {
  case 401:
    words = had_creds ? "authentication failed: the registry refused the credentials"
                      : "authentication required (log in with `berth login`, or give --creds)";
    break;
  case 403: words = "access denied"; break;
  case 404: words = "not found"; break;
  case 429: words = "too many requests (the registry's rate limit; try again later)"; break;
  default: words = "HTTP status " + std::to_string(r.status);
  }
  std::string msg = what + ": " + words;
  if (std::string body = error_body_text(r.body); !body.empty()) {
    // The registry's words reach a terminal: no escape sequences.
    for (auto &c : body)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    msg += ": " + body;
  }
  return Error::msg(msg);
}

} // namespace berth::registry
