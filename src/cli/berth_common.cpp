#include "cli/berth_common.hpp"

#include "oci/reference.hpp"
#include "registry/credentials.hpp"

#include <cstdio>

namespace berth::cli {

int report(const Error &e) {
  std::fprintf(stderr, "berth: %s\n", e.message().c_str());
  return 1;
}

Result<oci::Platform> platform_of(const std::string &p) {
  if (p.empty()) return oci::host_platform();
  auto r = oci::Platform::parse(p);
  if (!r) return ctx(std::move(r).error(), "--platform");
  return r;
}

std::string familiar(const std::string &name) {
  auto r = oci::Reference::parse(name);
  return r ? r->familiar() : name;
}

Command &add_registry_flags(Command &c, RegistryFlags &f, bool with_creds) {
  c.optional_value("--tls-verify", "verify the registry's TLS certificate (false: also allow plain HTTP)",
                   f.tls_verify, {"true", "false"})
      .flag("--cert-dir DIR", "CA certificates (*.crt) and client keys (*.cert, *.key) for the registry",
            f.cert_dir)
      .flag("--authfile FILE", "the credentials file (default $REGISTRY_AUTH_FILE or ~/.config/berth/auth.json)",
            f.authfile);
  if (with_creds) c.flag("--creds USER:PASS", "credentials for this command", f.creds);
  return c;
}

Result<registry::ClientOptions> client_options(const RegistryFlags &f) {
  registry::ClientOptions o;
  if (f.tls_verify != "unset" && f.tls_verify != "" && f.tls_verify != "true" && f.tls_verify != "false")
    return fail_msg("--tls-verify: '" + f.tls_verify + "' is not true or false");
  if (f.tls_verify != "unset") o.host.tls_verify = f.tls_verify != "false";
  o.host.cert_dir = f.cert_dir;
  o.authfile = f.authfile;
  if (!f.creds.empty()) {
    ASSIGN_OR_RETURN(auto c, registry::parse_creds(f.creds));
    o.creds = std::move(c);
  }
  return o;
}

} // namespace berth::cli
