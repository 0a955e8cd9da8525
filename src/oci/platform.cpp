// Platforms as containerd's platforms package names and compares them:
// GOOS/GOARCH names, architecture aliases (aarch64, x86_64, armhf), and the
// variant each architecture defaults to (arm64 v8, arm v7, amd64 v1).
#include "oci/image.hpp"
#include "oci/image_reader.hpp"

#include "common/strings.hpp"

#include <algorithm>

namespace berth::oci {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// An architecture and variant in containerd's spelling, lower case.
struct Arch {
  std::string arch, variant;
};

Arch normalize(std::string_view arch_in, std::string_view variant_in) {
  Arch a{lower(arch_in), lower(variant_in)};
  auto &v = a.variant;
  if (a.arch == "i386" || a.arch == "i486" || a.arch == "i586" || a.arch == "i686") {
    a.arch = "386";
    v.clear();
  } else if (a.arch == "x86_64" || a.arch == "x86-64" || a.arch == "amd64") {
    a.arch = "amd64";
  } else if (a.arch == "aarch64" || a.arch == "arm64") {
    a.arch = "arm64";
    if (v == "8" || v == "8.0" || v == "v8.0") v = "v8";
    else if (v == "9" || v == "9.0" || v == "v9.0") v = "v9";
  } else if (a.arch == "armhf") {
    a = {"arm", "v7"};
  } else if (a.arch == "armel") {
    a = {"arm", "v6"};
  } else if (a.arch == "arm" && (v == "5" || v == "6" || v == "7" || v == "8")) {
    v = "v" + v;
  }
  return a;
}

// The variant an image without one is built for.
std::string default_variant(const std::string &arch) {
  if (arch == "arm64") return "v8";
  if (arch == "arm") return "v7";
  if (arch == "amd64") return "v1";
  return "";
}

std::string full_variant(const Arch &a) { return a.variant.empty() ? default_variant(a.arch) : a.variant; }

// "v7" -> 70, "v8.2" -> 82: the order in which a CPU of one variant runs
// code built for another (an armv7 runs v6 and v5, an x86-64-v3 runs v2 and
// v1). -1 when the variant is not of that form.
int variant_level(std::string_view v) {
  if (v.size() < 2 || v[0] != 'v') return -1;
  int major = 0, minor = 0;
  size_t i = 1;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9' && major < 1000; ++i) major = major * 10 + (v[i] - '0');
  if (i == 1) return -1;
  if (i < v.size()) {
    if (v[i] != '.' || i + 2 != v.size() || v[i + 1] < '0' || v[i + 1] > '9') return -1;
    minor = v[i + 1] - '0';
  }
  return major * 10 + minor;
}

bool known_os(std::string_view s) {
  static constexpr std::string_view oses[] = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd",
                                              "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd",
                                              "plan9", "solaris", "windows", "zos", "wasip1"};
  return std::find(std::begin(oses), std::end(oses), s) != std::end(oses);
}

bool known_arch(std::string_view s) {
  static constexpr std::string_view arches[] = {
      "386",     "amd64",    "amd64p32", "arm",    "armbe",   "arm64",   "arm64be", "ppc64",  "ppc64le",
      "loong64", "mips",     "mipsle",   "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "riscv",
      "riscv64", "s390",     "s390x",    "sparc",  "sparc64", "wasm",    "aarch64", "x86_64", "x86-64",
      "i386",    "i486",     "i586",     "i686",   "armhf",   "armel"};
  return std::find(std::begin(arches), std::end(arches), s) != std::end(arches);
}

bool valid_part(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

// How well `have` suits `want`: 0 is the same platform, then older variants
// of the architecture nearest first, then (want without a variant) any other
// variant; -1 when it does not run.
int match_rank(const Platform &want, const Platform &have) {
  if (lower(want.os) != lower(have.os)) return -1;
  Arch w = normalize(want.architecture, want.variant), h = normalize(have.architecture, have.variant);
  if (w.arch != h.arch) return -1;
  std::string wv = full_variant(w), hv = full_variant(h);
  if (wv == hv) return 0;
  int wl = variant_level(wv), hl = variant_level(hv);
  if (wl >= 0 && hl >= 0 && hl < wl && (w.arch == "arm" || w.arch == "arm64" || w.arch == "amd64"))
    return 1 + (wl - hl);
  if (w.variant.empty()) return 100000;
  return -1;
}

} // namespace

Result<Platform> Platform::parse(std::string_view s) {
  auto bad = [&](const std::string &why) {
    return fail_msg("invalid platform '" + std::string(s.substr(0, 200)) + "': " + why);
  };
  auto parts = split(s, '/');
  if (parts.empty()) return bad("empty");
  if (parts.size() > 3) return bad("expected os/arch[/variant]");
  for (auto p : parts)
    if (!valid_part(p)) return bad("each part must be letters, digits, '_' or '-'");
  Platform p;
  Arch a;
  if (parts.size() == 1) {
    // containerd takes "linux" for this architecture on linux, "arm64" for linux/arm64.
    std::string one = lower(parts[0]);
    if (known_os(one)) {
      Platform host = host_platform();
      p.os = one;
      a = {host.architecture, host.variant};
    } else if (known_arch(one)) {
      p.os = "linux";
      a = normalize(one, "");
    } else {
      return bad("unknown operating system or architecture '" + std::string(parts[0]) + "'");
    }
  } else {
    p.os = lower(parts[0]);
    a = normalize(parts[1], parts.size() == 3 ? parts[2] : std::string_view{});
  }
  p.architecture = std::move(a.arch);
  p.variant = std::move(a.variant);
  return p;
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform host_platform() {
  Platform p;
  p.os = "linux";
#if defined(__x86_64__)
  p.architecture = "amd64";
#elif defined(__aarch64__)
  p.architecture = "arm64";
  p.variant = "v8";
#elif defined(__arm__)
  p.architecture = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 5 && __ARM_ARCH <= 8
  p.variant = "v" + std::to_string(__ARM_ARCH);
#else
  p.variant = "v7";
#endif
#elif defined(__i386__)
  p.architecture = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  p.architecture = "ppc64le";
#elif defined(__powerpc64__)
  p.architecture = "ppc64";
#elif defined(__s390x__)
  p.architecture = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  p.architecture = "riscv64";
#elif defined(__loongarch64)
  p.architecture = "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  p.architecture = "mips64le";
#elif defined(__mips64)
  p.architecture = "mips64";
#elif defined(__mips__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  p.architecture = "mipsle";
#elif defined(__mips__)
  p.architecture = "mips";
#else
#error "host_platform: unknown architecture; add its GOARCH name"
#endif
  return p;
}

bool platform_matches(const Platform &want, const Platform &have) {
  if (lower(want.os) != lower(have.os)) return false;
  Arch w = normalize(want.architecture, want.variant), h = normalize(have.architecture, have.variant);
  if (w.arch != h.arch) return false;
  return w.variant.empty() || full_variant(w) == full_variant(h);
}

Result<Descriptor> select_platform(const Index &index, const Platform &platform) {
  bool any_platform = false;
  const Descriptor *best = nullptr;
  int best_rank = -1;
  std::vector<std::string> have;
  for (const auto &d : index.manifests) {
    if (!d.platform) continue;
    any_platform = true;
    int r = match_rank(platform, *d.platform);
    if (r >= 0 && (!best || r < best_rank)) {
      best = &d;
      best_rank = r;
    }
    // Attestations (buildkit) say unknown/unknown: nothing a user can pick.
    std::string s = d.platform->str();
    if (s != "unknown/unknown" && std::find(have.begin(), have.end(), s) == have.end()) have.push_back(s);
  }
  if (best) return *best;
  // An index that names no platform at all (an OCI layout of one image):
  // its first manifest, whose config then says what it runs on.
  if (!any_platform) {
    for (const auto &d : index.manifests)
      if (d.media_type == media::oci_manifest || d.media_type == media::docker_manifest) return d;
    return fail_msg("no image for " + platform.str() + " in the index: it names no platforms and holds no image manifest");
  }
  std::string list;
  for (const auto &h : have) list += (list.empty() ? "" : ", ") + h;
  return fail_msg("no image for " + platform.str() + " in the index (it has " + (list.empty() ? "none" : list) + ")");
}

nlohmann::json to_json(const Platform &p) {
  nlohmann::json j = {{"architecture", p.architecture}, {"os", p.os}};
  if (!p.variant.empty()) j["variant"] = p.variant;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  return j;
}

Result<Platform> parse_platform_json(const nlohmann::json &j) { return detail::read_platform(j, ""); }

namespace detail {

Result<Platform> read_platform(const json &j, const std::string &path) {
  ASSIGN_OR_RETURN(Obj o, Obj::of(j, path));
  Platform p;
  TRY(o.get("architecture", p.architecture, Need::required));
  TRY(o.get("os", p.os, Need::required));
  TRY(o.get("variant", p.variant));
  TRY(o.get("os.version", p.os_version));
  TRY(o.get("os.features", p.os_features));
  return p;
}

} // namespace detail
} // namespace berth::oci
