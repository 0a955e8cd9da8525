#include "registry/hosts.hpp"

#include "common/file.hpp"
#include "common/strings.hpp"
#include "registry/registries_conf.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace berth::registry {

namespace {

std::string env_or(const char *name, const char *fallback) {
  const char *v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The certs.d roots: podman's, then docker's. BERTH_CERTS_D="a:b" replaces
// them (tests, and hosts that keep certificates elsewhere).
std::vector<std::string> certs_d_roots() {
  const char *v = std::getenv("BERTH_CERTS_D");
  if (!v || !*v) return {"/etc/containers/certs.d", "/etc/docker/certs.d"};
  std::vector<std::string> roots;
  for (auto r : split(v, ':'))
    if (!r.empty()) roots.emplace_back(r);
  return roots;
}

bool is_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The names in dir, sorted (readdir's order is the filesystem's); an
// absent directory has none, as for docker and podman.
Result<std::vector<std::string>> list_dir(const std::string &dir) {
  std::vector<std::string> names;
  DIR *d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) return names;
    return fail_errno("read certificates: open " + dir);
  }
  errno = 0;
  while (dirent *e = ::readdir(d)) {
    names.emplace_back(e->d_name);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err) return fail_sys(err, "read certificates: list " + dir);
  std::sort(names.begin(), names.end());
  return names;
}

// certs.d as docker documents it: NAME.crt are CAs, NAME.cert + NAME.key a
// client certificate (the first pair found is used: Tls holds one).
Result<> read_cert_dir(const std::string &dir, Tls &tls) {
  ASSIGN_OR_RETURN(auto names, list_dir(dir));
  for (const std::string &n : names) {
    std::string path = path_join(dir, n);
    if (!is_file(path)) continue;
    if (n.ends_with(".crt")) {
      ASSIGN_OR_RETURN(std::string pem, read_file(path, 4u << 20));
      if (!tls.ca_pem.empty() && tls.ca_pem.back() != '\n') tls.ca_pem += '\n';
      tls.ca_pem += pem;
    } else if (n.ends_with(".cert") || n.ends_with(".key")) {
      std::string base = path.substr(0, path.rfind('.'));
      std::string cert = base + ".cert", key = base + ".key";
      if (!is_file(cert) || !is_file(key))
        return fail_msg("read certificates in " + dir + ": a client certificate needs both " + cert + " and " + key +
                        "; " + (is_file(cert) ? key : cert) + " is missing");
      if (tls.client_cert.empty()) tls.client_cert = cert, tls.client_key = key;
    }
  }
  return {};
}

// Whether the settings list registry as insecure: registries.conf (an entry
// may also say it is not), then daemon.json.
Result<bool> listed_insecure(std::string_view registry) {
  const std::string conf = env_or("CONTAINERS_REGISTRIES_CONF", "/etc/containers/registries.conf");
  ASSIGN_OR_RETURN(std::optional<bool> podman, registries_conf_insecure(conf, registry));
  if (podman) return *podman;
  return daemon_json_insecure(env_or("BERTH_DOCKER_DAEMON_JSON", "/etc/docker/daemon.json"), registry);
}

} // namespace

Result<Host> resolve_host(std::string_view registry, const HostOptions &opts) {
  const std::string what = "resolve registry " + std::string(registry);
  // The name becomes a directory name under certs.d.
  if (registry.empty() || registry == "." || registry == ".." || registry.find('/') != std::string_view::npos ||
      registry.find('\0') != std::string_view::npos)
    return fail_msg(what + ": not a registry host name");
  Host h;
  h.name = std::string(registry);
  h.api = registry == "docker.io" ? "registry-1.docker.io" : h.name;

  std::vector<std::string> dirs;
  if (!opts.cert_dir.empty()) {
    // Given by the user: a typo must not silently mean "no CA".
    struct stat st;
    if (::stat(opts.cert_dir.c_str(), &st) < 0) return fail_errno(what + ": --cert-dir " + opts.cert_dir);
    if (!S_ISDIR(st.st_mode)) return fail_msg(what + ": --cert-dir " + opts.cert_dir + ": not a directory");
    dirs.push_back(opts.cert_dir);
  } else
    for (const std::string &root : certs_d_roots()) dirs.push_back(path_join(root, registry));
  for (const std::string &d : dirs) TRY_CTX(read_cert_dir(d, h.tls), what);

  if (opts.tls_verify) {
    h.insecure = !*opts.tls_verify;
  } else {
    auto listed = listed_insecure(registry);
    if (!listed) return ctx(std::move(listed).error(), what);
    h.insecure = *listed;
  }
  h.tls.verify = !h.insecure;
  return h;
}

} // namespace berth::registry
