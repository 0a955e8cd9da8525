// What the commands of `berth` share: printing an error, --platform, and
// docker's short form of names.
#pragma once

#include "cli/flags.hpp"
#include "common/error.hpp"
#include "oci/image.hpp"
#include "registry/client.hpp"

#include <string>

namespace berth::cli {

// Prints "berth: MESSAGE" to stderr; returns the exit status 1.
int report(const Error &e);

// --platform: empty is the host's.
Result<oci::Platform> platform_of(const std::string &p);

// docker's short form of a stored full name ("busybox:latest").
std::string familiar(const std::string &name);

// The flags of every command that talks to a registry.
struct RegistryFlags {
  std::string tls_verify = "unset"; // "unset": the settings decide; "" (bare flag): true
  std::string cert_dir, creds, authfile;
};
Command &add_registry_flags(Command &c, RegistryFlags &f, bool with_creds = true);
// Errors name the flag at fault.
Result<registry::ClientOptions> client_options(const RegistryFlags &f);

} // namespace berth::cli
