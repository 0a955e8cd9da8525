#include "registry/auth.hpp"

#include "registry/base64.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstring>

namespace berth::registry {
namespace {

void skip_space(std::string_view &s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) s.remove_prefix(1);
}

bool token_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c); }

std::string url_escape(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace

std::vector<Challenge> parse_challenges(std::string_view s) {
  std::vector<Challenge> out;
  for (;;) {
    skip_space(s);
    size_t n = 0;
    while (n < s.size() && token_char(s[n])) ++n;
    if (n == 0) return out;
    std::string word(s.substr(0, n));
    s.remove_prefix(n);
    // "name=" continues the current challenge; a bare word starts one.
    size_t k = 0;
    while (k < s.size() && s[k] == ' ') ++k;
    if (k < s.size() && s[k] == '=' && !out.empty()) {
      s.remove_prefix(k + 1);
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      std::string value;
      if (!s.empty() && s.front() == '"') {
        s.remove_prefix(1);
        while (!s.empty() && s.front() != '"') {
          if (s.front() == '\\' && s.size() > 1) s.remove_prefix(1);
          value += s.front();
          s.remove_prefix(1);
        }
        if (s.empty()) return out; // unterminated
        s.remove_prefix(1);
      } else {
        while (!s.empty() && s.front() != ',' && s.front() != ' ') {
          value += s.front();
          s.remove_prefix(1);
        }
      }
      for (auto &c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.back().params[word] = value;
    } else {
      for (auto &c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back({word, {}});
    }
  }
}

std::string basic_header(const Credentials &c) { return "Basic " + base64_encode(c.username + ":" + c.password); }

Result<Token> fetch_token(const Http &http, const Tls &tls, const Challenge &c,
                          const std::vector<std::string> &scopes, const std::optional<Credentials> &creds) {
  auto realm = c.params.find("realm");
  if (realm == c.params.end() || realm->second.empty())
    return fail_msg("the registry asked for a bearer token but named no realm to get it from");
  std::string service;
  if (auto it = c.params.find("service"); it != c.params.end()) service = it->second;
  std::string what = "get a token from " + realm->second;

  Request req;
  req.url = realm->second;
  req.max_body = 1u << 20;
  std::string form;
  if (creds && !creds->identity_token.empty()) {
    // OAuth2: the identity token login stored is a refresh token.
    req.method = "POST";
    form = "grant_type=refresh_token&client_id=berth&refresh_token=" + url_escape(creds->identity_token) +
           "&service=" + url_escape(service);
    for (auto &s : scopes) form += "&scope=" + url_escape(s);
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = form;
  } else {
    req.url += req.url.find('?') == std::string::npos ? '?' : '&';
    req.url += "service=" + url_escape(service);
    for (auto &s : scopes) req.url += "&scope=" + url_escape(s);
    if (creds) req.headers.push_back("Authorization: " + basic_header(*creds));
  }
  auto sent = http.send(req, tls);
  if (!sent) return ctx(std::move(sent).error(), what);
  Response &r = *sent;
  if (r.status == 401 || r.status == 403)
    return fail_msg(what + ": " +
                    (creds ? "authentication failed: the token server refused the credentials"
                           : "authentication required: the token server refused anonymous access "
                             "(log in with `berth login`, or give --creds)") +
                    " (HTTP " + std::to_string(r.status) + ")");
  if (r.status != 200) return fail_msg(what + ": HTTP status " + std::to_string(r.status));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) return fail_msg(what + ": the answer is not a JSON object");
  Token t;
  for (const char *k : {"token", "access_token"})
    if (auto it = j.find(k); it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
      t.value = it->get<std::string>();
      break;
    }
  if (t.value.empty()) return fail_msg(what + ": the answer holds no token");
  // The token spec's default lifetime is 60 s; refresh a little early.
  long secs = 60;
  // At most a day: a huge value would overflow the clock.
  if (auto it = j.find("expires_in"); it != j.end() && it->is_number_integer() && it->get<long>() > 0)
    secs = std::min(it->get<long>(), 86400L);
  t.expires = std::chrono::steady_clock::now() + std::chrono::seconds(secs) - std::chrono::seconds(secs > 20 ? 5 : 0);
  return t;
}

} // namespace berth::registry
