// docker's daemon.json "insecure-registries" (declared in registries_conf.hpp).
#include "registry/json_file.hpp"
#include "registry/registries_conf.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace berth::registry {

namespace {

// The address part of "host:port", "[v6]:port", "host", as text.
std::string address_of(std::string_view registry) {
  if (registry.starts_with('[')) {
    auto close = registry.find(']');
    return std::string(registry.substr(1, close == std::string_view::npos ? registry.size() : close - 1));
  }
  // One ':' is a port; more is a bare IPv6 address.
  auto colon = registry.find(':');
  if (colon != std::string_view::npos && registry.find(':', colon + 1) == std::string_view::npos)
    registry = registry.substr(0, colon);
  return std::string(registry);
}

// Whether registry is an IP address inside cidr ("10.0.0.0/8", "::1/128").
// Host names are not resolved: docker does, berth does not look names up
// to decide a security setting.
bool in_cidr(std::string_view cidr, std::string_view registry) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  std::string net(cidr.substr(0, slash)), bits_text(cidr.substr(slash + 1)), addr = address_of(registry);
  int family = net.find(':') == std::string::npos ? AF_INET : AF_INET6;
  unsigned char n[16], a[16];
  if (::inet_pton(family, net.c_str(), n) != 1 || ::inet_pton(family, addr.c_str(), a) != 1) return false;
  int max = family == AF_INET ? 32 : 128, bits = 0;
  for (char c : bits_text) {
    if (c < '0' || c > '9' || bits > max) return false;
    bits = bits * 10 + (c - '0');
  }
  if (bits_text.empty() || bits > max) return false;
  if (std::memcmp(n, a, size_t(bits / 8)) != 0) return false;
  if (bits % 8 == 0) return true;
  unsigned char mask = uint8_t(0xff << (8 - bits % 8));
  return (n[bits / 8] & mask) == (a[bits / 8] & mask);
}

// "http://host:port/" -> "host:port": docker accepts both.
std::string_view bare(std::string_view s) {
  for (std::string_view scheme : {"https://", "http://"})
    if (s.starts_with(scheme)) s.remove_prefix(scheme.size());
  while (s.ends_with('/')) s.remove_suffix(1);
  return s;
}

} // namespace

Result<bool> daemon_json_insecure(const std::string &path, std::string_view registry) {
  ASSIGN_OR_RETURN(auto doc, read_json_object(path));
  if (!doc) return false;
  auto list = doc->find("insecure-registries");
  if (list == doc->end() || list->is_null()) return false;
  if (!list->is_array()) return fail_msg("parse " + path + ": \"insecure-registries\" is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const auto &e = (*list)[i];
    if (!e.is_string())
      return fail_msg("parse " + path + ": \"insecure-registries\"[" + std::to_string(i) + "] is not a string");
    std::string_view s = bare(e.get_ref<const std::string &>());
    if (s == registry || in_cidr(s, registry)) return true;
  }
  return false;
}

} // namespace berth::registry
