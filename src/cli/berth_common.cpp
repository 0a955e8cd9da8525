#include "cli/berth_common.hpp"

#include "oci/reference.hpp"

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

} // namespace berth::cli
