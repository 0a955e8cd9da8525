// Docker's reference grammar (github.com/distribution/reference), written out
// by hand rather than as one regular expression so that each error can say
// which part was wrong:
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] component ( "/" component )*
//   domain     := host [ ":" port ],  host := dns-name | "[" ipv6 "]"
//   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [\w][\w.-]{0,127}
// Normalisation is ParseNormalizedNamed's: no domain -> docker.io, a
// single component on docker.io -> library/<it>, index.docker.io -> docker.io.
#include "oci/reference.hpp"

#include "common/strings.hpp"

namespace berth::oci {
namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr size_t kNameMax = 255;
constexpr size_t kTagMax = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool has_upper(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

// component := [a-z0-9]+ ( separator [a-z0-9]+ )*, separator := . | _ | __ | -+
bool valid_component(std::string_view c) {
  size_t i = 0, n = c.size();
  auto alnum_run = [&] {
    size_t start = i;
    while (i < n && is_lower_alnum(c[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < n) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < n && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < n && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// A DNS label as distribution allows it: alphanumerics (either case) with
// inner hyphens.
bool valid_label(std::string_view l) {
  if (l.empty() || !is_alnum(l.front()) || !is_alnum(l.back())) return false;
  for (char c : l)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

// host [":" port], host a dotted name or a bracketed IPv6 address.
Result<> check_domain(std::string_view d) {
  std::string_view host = d, port;
  bool has_port = false;
  if (d.starts_with('[')) {
    auto close = d.find(']');
    if (close == std::string_view::npos) return fail_msg("IPv6 address of the registry lacks its ']'");
    host = d.substr(1, close - 1);
    std::string_view rest = d.substr(close + 1);
    if (host.empty()) return fail_msg("empty IPv6 address of the registry");
    for (char c : host)
      if (!is_hex(c) && c != ':') return fail_msg("invalid IPv6 address '" + std::string(host) + "' of the registry");
    if (!rest.empty()) {
      if (rest.front() != ':') return fail_msg("invalid registry host '" + std::string(d) + "'");
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    if (auto colon = d.find(':'); colon != std::string_view::npos) {
      host = d.substr(0, colon);
      port = d.substr(colon + 1);
      has_port = true;
    }
    for (auto label : split(host, '.'))
      if (!valid_label(label)) return fail_msg("invalid registry host '" + std::string(host) + "'");
    if (host.empty()) return fail_msg("empty registry host");
  }
  if (has_port) {
    bool digits = !port.empty();
    for (char c : port) digits = digits && is_digit(c);
    if (!digits) return fail_msg("invalid port '" + std::string(port) + "' of the registry");
  }
  return {};
}

Result<> check_tag(std::string_view t) {
  if (t.empty()) return fail_msg("invalid tag: empty after ':'");
  if (t.size() > kTagMax)
    return fail_msg("invalid tag: " + std::to_string(t.size()) + " characters, at most 128");
  bool ok = is_word(t.front());
  for (char c : t) ok = ok && (is_word(c) || c == '.' || c == '-');
  if (!ok) return fail_msg("invalid tag '" + std::string(t) + "': letters, digits, '_', '.' and '-' only, not starting with '.' or '-'");
  return {};
}

// The path after the domain: lower case components joined by '/'.
Result<> check_path(std::string_view p) {
  if (has_upper(p)) return fail_msg("repository name must be lowercase");
  if (p.empty()) return fail_msg("empty repository name");
  for (auto c : split(p, '/')) {
    if (c.empty()) return fail_msg("empty component in repository name '" + std::string(p) + "'");
    if (!valid_component(c))
      return fail_msg("invalid repository name component '" + std::string(c) +
                      "' (lower-case letters and digits, separated by '.', '_', '__' or '-')");
  }
  return {};
}

// splitDockerDomain's test: the part before the first '/' names a registry.
bool looks_like_domain(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view first = s.substr(0, slash);
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" || has_upper(first);
}

bool is_64_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return false;
  return true;
}

} // namespace

Result<Reference> Reference::parse(std::string_view s, bool default_tag) {
  auto bad = [&](const Error &why) {
    return fail_msg("invalid reference '" + std::string(s.substr(0, 300)) + "': " + why.message());
  };
  if (s.empty()) return fail_msg("invalid reference '': empty");
  // Docker refuses these so that an image id is never taken for a name.
  if (is_64_hex(s))
    return bad(Error::msg("a 64-character hex string is an image id, not a repository name"));

  Reference r;
  std::string_view rest = s;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    auto d = Digest::parse(rest.substr(at + 1));
    if (!d) return bad(d.error());
    r.digest = std::move(*d);
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it is a port.
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    if (auto t = check_tag(rest.substr(colon + 1)); !t) return bad(t.error());
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad(Error::msg("empty repository name"));

  // The first component is a registry host when it looks like one: a dot, a
  // port, "localhost", or upper case (which a path may not have).
  std::string_view path = rest;
  if (looks_like_domain(rest)) {
    auto first_slash = rest.find('/');
    std::string_view first = rest.substr(0, first_slash);
    if (auto d = check_domain(first); !d) return bad(d.error());
    r.domain = first;
    path = rest.substr(first_slash + 1);
  } else {
    r.domain = kDefaultDomain;
  }
  if (r.domain == kLegacyDomain) r.domain = kDefaultDomain;
  if (auto p = check_path(path); !p) return bad(p.error());
  r.path = path;
  if (r.domain == kDefaultDomain && r.path.find('/') == std::string::npos) r.path.insert(0, kOfficialPrefix);
  if (size_t n = r.name().size(); n > kNameMax)
    return bad(Error::msg("repository name too long (" + std::to_string(n) + " characters, at most 255)"));
  if (default_tag && r.tag.empty() && !r.digest) r.tag = "latest";
  return r;
}

std::string Reference::name() const { return domain + "/" + path; }

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) return name();
  // library/x -> x, but library/x/y stays as it is (it is not an official image).
  std::string_view p = path;
  if (p.starts_with(kOfficialPrefix) && p.substr(kOfficialPrefix.size()).find('/') == std::string_view::npos)
    p.remove_prefix(kOfficialPrefix.size());
  // docker.io/foo.bar/x would print as foo.bar/x, which names the registry
  // foo.bar (docker's FamiliarString has that flaw): keep the domain then,
  // and for a name that alone would read as an image id.
  if (looks_like_domain(p) || is_64_hex(p)) return name();
  return std::string(p);
}

std::string Reference::familiar() const {
  std::string s = familiar_name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

} // namespace berth::oci
