// What the commands of `berth` share: printing an error, --platform, and
// docker's short form of names.
#pragma once

#include "common/error.hpp"
#include "oci/image.hpp"

#include <string>

namespace berth::cli {

// Prints "berth: MESSAGE" to stderr; returns the exit status 1.
int report(const Error &e);

// --platform: empty is the host's.
Result<oci::Platform> platform_of(const std::string &p);

// docker's short form of a stored full name ("busybox:latest").
std::string familiar(const std::string &name);

} // namespace berth::cli
