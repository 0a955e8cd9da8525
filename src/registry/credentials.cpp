#include "registry/credentials.hpp"

#include "common/file.hpp"
#include "registry/base64.hpp"
#include "registry/cred_helper.hpp"
#include "registry/json_file.hpp"

#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>

namespace berth::registry {

namespace {

using nlohmann::json;

// Auth files are a few KiB; a larger one is not an auth file.
constexpr size_t kMaxAuthFile = 4u << 20;

// The names docker.io goes by in auth files: docker login writes the first.
constexpr std::array<std::string_view, 5> kDockerHub = {"https://index.docker.io/v1/", "docker.io",
                                                        "index.docker.io", "registry-1.docker.io",
                                                        "registry.hub.docker.com"};

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

std::string home_dir() {
  if (auto h = env("HOME"); !h.empty()) return h;
  // Services started without $HOME (systemd units, sudo -i less often).
  if (const passwd *pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

std::string docker_config_file() {
  if (auto d = env("DOCKER_CONFIG"); !d.empty()) return path_join(d, "config.json");
  return path_join(home_dir(), ".docker/config.json");
}

// "https://host:port/v1/" -> "host:port": auth file keys come with and
// without a scheme and a path.
std::string_view host_of(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"})
    if (key.starts_with(scheme)) key.remove_prefix(scheme.size());
  return key.substr(0, key.find('/'));
}

bool is_docker_hub(std::string_view name) {
  for (auto n : kDockerHub)
    if (host_of(n) == name) return true;
  return false;
}

} // namespace

std::string normalize_registry(std::string_view s) {
  std::string_view h = host_of(s);
  return is_docker_hub(h) ? "docker.io" : std::string(h);
}

namespace {

bool key_matches(std::string_view key, std::string_view registry) {
  std::string_view h = host_of(key);
  if (h == registry) return true;
  return is_docker_hub(registry) && is_docker_hub(h);
}

// The key of doc[section] that names registry: the exact one first, then
// the others in file order. "" when none does.
std::string find_key(const json &section, std::string_view registry) {
  if (section.contains(registry)) return std::string(registry);
  for (auto &[k, v] : section.items())
    if (key_matches(k, registry)) return k;
  return {};
}

// The auth file at path; nullopt when it does not exist. Checks the shape
// of the keys lookups read, so that later reads need not.
Result<std::optional<json>> load(const std::string &path) {
  ASSIGN_OR_RETURN(std::optional<json> doc, read_json_object(path, kMaxAuthFile));
  if (!doc) return doc;
  const json &j = *doc;
  for (const char *k : {"auths", "credHelpers"})
    if (auto it = j.find(k); it != j.end() && !it->is_object() && !it->is_null())
      return fail_msg("parse " + path + ": \"" + k + "\" is not an object");
  if (auto it = j.find("credHelpers"); it != j.end() && it->is_object())
    for (auto &[k, v] : it->items())
      if (!v.is_string()) return fail_msg("parse " + path + ": credHelpers[\"" + k + "\"] is not a string");
  if (auto it = j.find("credsStore"); it != j.end() && !it->is_string() && !it->is_null())
    return fail_msg("parse " + path + ": \"credsStore\" is not a string");
  return doc;
}

// The helper the file names for registry ("" for none).
std::string helper_for(const json &doc, std::string_view registry) {
  if (auto it = doc.find("credHelpers"); it != doc.end() && it->is_object())
    if (auto k = find_key(*it, registry); !k.empty()) return it->at(k).get<std::string>();
  if (auto it = doc.find("credsStore"); it != doc.end() && it->is_string()) return it->get<std::string>();
  return {};
}

// The URL a helper keeps registry under: docker's for Docker Hub, else the name.
std::string helper_url(std::string_view registry) {
  return is_docker_hub(registry) ? std::string(kDockerHub[0]) : std::string(registry);
}

// One "auths" entry; nullopt when it holds nothing (docker leaves "{}"
// entries behind when a helper keeps the secret).
Result<std::optional<Credentials>> from_entry(const json &e, const std::string &where) {
  if (!e.is_object()) return fail_msg(where + ": not an object");
  auto str = [&](const char *k) -> Result<std::string> {
    auto it = e.find(k);
    if (it == e.end() || it->is_null()) return std::string();
    if (!it->is_string()) return fail_msg(where + "." + k + ": not a string");
    return it->get<std::string>();
  };
  Credentials c;
  ASSIGN_OR_RETURN(std::string auth, str("auth"));
  ASSIGN_OR_RETURN(c.identity_token, str("identitytoken"));
  if (!auth.empty()) {
    auto plain = base64_decode(auth);
    if (!plain) return ctx(std::move(plain).error(), where + ".auth");
    auto colon = plain->find(':');
    if (colon == std::string::npos || colon == 0)
      return fail_msg(where + ".auth: not base64 of \"user:password\"");
    c.username = plain->substr(0, colon);
    c.password = plain->substr(colon + 1);
  } else {
    ASSIGN_OR_RETURN(c.username, str("username"));
    ASSIGN_OR_RETURN(c.password, str("password"));
  }
  if (c.password.empty() && c.identity_token.empty()) return std::nullopt;
  return c;
}

// The credentials one file has for registry: its helper, then "auths".
Result<std::optional<Credentials>> find_in(const json &doc, const std::string &path, std::string_view registry) {
  if (auto helper = helper_for(doc, registry); !helper.empty()) {
    std::string url = helper_url(registry);
    ASSIGN_OR_RETURN(auto c, helper_get(helper, url));
    // docker's key for Docker Hub first; podman keeps it as "docker.io".
    if (!c && url != registry) {
      ASSIGN_OR_RETURN(c, helper_get(helper, registry));
    }
    if (c) return c;
  }
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return std::nullopt;
  auto key = find_key(*auths, registry);
  if (key.empty()) return std::nullopt;
  return from_entry((*auths)[key], path + ": auths[\"" + key + "\"]");
}

Result<> save(const std::string &path, const json &doc) {
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0)
    TRY_CTX(mkdir_all(path.substr(0, slash), 0700), "create the directory of " + path);
  // podman's layout: tab-indented, a final newline.
  return write_path_atomic(path, doc.dump(1, '\t') + "\n", 0600);
}

} // namespace

Result<Credentials> parse_creds(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return fail_msg("--creds: expected USER:PASSWORD, no ':' found");
  if (colon == 0) return fail_msg("--creds: the user name (before ':') is empty");
  if (colon + 1 == s.size()) return fail_msg("--creds: the password (after ':') is empty");
  return Credentials{std::string(s.substr(0, colon)), std::string(s.substr(colon + 1)), {}};
}

std::string default_authfile(std::string_view authfile) {
  if (!authfile.empty()) return std::string(authfile);
  if (auto f = env("REGISTRY_AUTH_FILE"); !f.empty()) return f;
  if (auto x = env("XDG_CONFIG_HOME"); !x.empty()) return path_join(x, "berth/auth.json");
  return path_join(home_dir(), ".config/berth/auth.json");
}

Result<std::optional<Credentials>> find_credentials(std::string_view registry, std::string_view authfile) {
  const std::string what = "find credentials for " + std::string(registry);
  for (const std::string &path : {default_authfile(authfile), docker_config_file()}) {
    auto doc = load(path);
    if (!doc) return ctx(std::move(doc).error(), what);
    if (!*doc) continue;
    auto c = find_in(**doc, path, registry);
    if (!c) return ctx(std::move(c).error(), what);
    if (*c) return c;
  }
  return std::nullopt;
}

Result<> store_credentials(std::string_view registry, const Credentials &c, std::string_view authfile) {
  const std::string path = default_authfile(authfile);
  const std::string what = "store credentials for " + std::string(registry);
  // docker.io, whatever it was called: podman's key, which docker's own
  // lookups also match.
  const std::string key = is_docker_hub(registry) ? "docker.io" : std::string(registry);
  auto loaded = load(path);
  if (!loaded) return ctx(std::move(loaded).error(), what);
  json doc = loaded->value_or(json::object());
  if (auto helper = helper_for(doc, key); !helper.empty()) {
    TRY_CTX(helper_store(helper, helper_url(key), c), what);
    return {};
  }
  if (c.identity_token.empty() && (c.username.empty() || c.password.empty()))
    return fail_msg(what + ": a user name and a password are needed");
  json entry = json::object();
  if (!c.username.empty()) entry["auth"] = base64_encode(c.username + ":" + c.password);
  if (!c.identity_token.empty()) entry["identitytoken"] = c.identity_token;
  if (!doc.contains("auths") || !doc["auths"].is_object()) doc["auths"] = json::object();
  doc["auths"][key] = std::move(entry);
  TRY_CTX(save(path, doc), what);
  return {};
}

Result<bool> erase_credentials(std::string_view registry, std::string_view authfile) {
  const std::string path = default_authfile(authfile);
  const std::string what = "erase credentials for " + std::string(registry);
  auto loaded = load(path);
  if (!loaded) return ctx(std::move(loaded).error(), what);
  if (!*loaded) return false;
  json &doc = **loaded;
  if (auto helper = helper_for(doc, registry); !helper.empty()) {
    auto erased = helper_erase(helper, helper_url(registry));
    if (erased && !*erased && helper_url(registry) != registry) erased = helper_erase(helper, registry);
    if (!erased) return ctx(std::move(erased).error(), what);
    return *erased;
  }
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return false;
  // Every spelling of registry: logout should leave nothing that logs in.
  bool erased = false;
  for (std::string key = find_key(*auths, registry); !key.empty(); key = find_key(*auths, registry)) {
    auths->erase(key);
    erased = true;
  }
  if (!erased) return false;
  TRY_CTX(save(path, doc), what);
  return true;
}

} // namespace berth::registry
