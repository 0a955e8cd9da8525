// Where a registry is and how to reach it: its API host, TLS (system CAs
// plus certs.d, as docker and podman read it) and whether plain HTTP and
// unverified TLS are allowed (--tls-verify=false, or the registry is listed
// as insecure in the settings).
#pragma once

#include "common/error.hpp"
#include "registry/http.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace berth::registry {

struct HostOptions {
  std::optional<bool> tls_verify; // --tls-verify; unset: the settings decide
  std::string cert_dir;           // --cert-dir: read instead of certs.d
};

struct Host {
  std::string name;     // as in references: "docker.io", "127.0.0.1:5000"
  std::string api;      // host[:port] of the API: "registry-1.docker.io" for docker.io
  bool insecure = false; // https unverified, then http, are allowed
  Tls tls;               // for https (verify is !insecure)
  // "https://API" (the scheme Client tries first).
  std::string base_url() const { return "https://" + api; }
};

// The settings and certs.d for registry (a reference's domain). Errors name
// the file that could not be read or parsed.
Result<Host> resolve_host(std::string_view registry, const HostOptions &opts);

} // namespace berth::registry
