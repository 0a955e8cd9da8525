#include "runtime/seccomp_cache.hpp"

#include "common/file.hpp"
#include "common/log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace berth::runtime {

namespace {

constexpr char kMagic[8] = {'B', 'S', 'E', 'C', 'C', 'M', 'P', '1'};
// More entries than this and the cache is emptied before the next write:
// profiles are few in practice; a bound keeps a stream of distinct ones
// from filling the state root's tmpfs.
constexpr int kMaxEntries = 32;

void put_u32(std::string &out, uint32_t v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }
void put_str(std::string &out, std::string_view s) {
  put_u32(out, uint32_t(s.size()));
  out.append(s);
}

// A reader of the cache file that refuses to run past its end.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint32_t u32() {
    uint32_t v = 0;
    if (in.size() < sizeof v) return ok = false, 0;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  std::string_view bytes(size_t n) {
    if (in.size() < n) return ok = false, std::string_view();
    auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string entry_name(const std::string &key) {
  char b[32];
  std::snprintf(b, sizeof b, "seccomp-%016llx", (unsigned long long)fnv1a(key));
  return b;
}

std::string encode_entry(const std::string &key, const linuxf::CompiledSeccomp &c,
                         const std::vector<std::string> &warnings) {
  std::string out(kMagic, sizeof kMagic);
  put_str(out, key);
  put_u32(out, c.flags);
  put_u32(out, c.uses_notify);
  put_u32(out, uint32_t(warnings.size()));
  for (auto &w : warnings) put_str(out, w);
  put_u32(out, uint32_t(c.program.size()));
  out.append(reinterpret_cast<const char *>(c.program.data()), c.program.size() * sizeof(sock_filter));
  uint64_t sum = fnv1a(out);
  out.append(reinterpret_cast<const char *>(&sum), sizeof sum);
  return out;
}

// The entry, if it is whole (its checksum matches: a damaged program must
// not reach the kernel) and its key is key.
bool decode(std::string_view data, const std::string &key, linuxf::CompiledSeccomp &c,
            std::vector<std::string> &warnings) {
  uint64_t sum;
  if (data.size() < sizeof sum) return false;
  std::memcpy(&sum, data.data() + data.size() - sizeof sum, sizeof sum);
  data.remove_suffix(sizeof sum);
  if (fnv1a(data) != sum) return false;
  Reader r{data};
  if (r.bytes(sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) return false;
  if (r.bytes(r.u32()) != key || !r.ok) return false;
  c.flags = r.u32();
  uint32_t notify = r.u32(), nwarn = r.u32();
  if (!r.ok || notify > 1 || nwarn > 4096) return false;
  c.uses_notify = notify;
  std::vector<std::string> ws(nwarn);
  for (auto &w : ws) w = r.bytes(r.u32());
  uint32_t n = r.u32();
  // BPF programs are at most BPF_MAXINSNS (4096) long.
  if (!r.ok || n == 0 || n > 4096 || r.in.size() != n * sizeof(sock_filter)) return false;
  c.program.resize(n);
  std::memcpy(c.program.data(), r.in.data(), r.in.size());
  warnings.insert(warnings.end(), ws.begin(), ws.end());
  return true;
}

// <root>/@cache, made 0700 when create and missing (the root exists: a
// container was just made in it); -1 when there is none.
UniqueFd open_cache_dir(const std::string &root, bool create) {
  std::string dir = path_join(root, kCacheDir);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create && (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST))
    fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return UniqueFd(fd);
}

// Empties the cache when it holds kMaxEntries or more.
void bound_entries(int dirfd) {
  int dup = ::dup(dirfd);
  if (dup < 0) return;
  DIR *d = ::fdopendir(dup);
  if (!d) return (void)::close(dup);
  std::vector<std::string> names;
  while (dirent *e = ::readdir(d))
    if (std::strncmp(e->d_name, "seccomp-", 8) == 0) names.emplace_back(e->d_name);
  ::closedir(d);
  if (names.size() < size_t(kMaxEntries)) return;
  for (auto &n : names) ::unlinkat(dirfd, n.c_str(), 0);
}

} // namespace

std::string seccomp_cache_key(const oci::Seccomp &cfg) {
  std::string k = linuxf::seccomp_build_id();
  k += '\n';
  put_str(k, cfg.default_action);
  put_u32(k, cfg.default_errno_ret ? *cfg.default_errno_ret : ~0u);
  put_u32(k, cfg.default_errno_ret.has_value());
  put_u32(k, uint32_t(cfg.architectures.size()));
  for (auto &a : cfg.architectures) put_str(k, a);
  put_u32(k, uint32_t(cfg.flags.size()));
  for (auto &f : cfg.flags) put_str(k, f);
  put_u32(k, uint32_t(cfg.syscalls.size()));
  for (auto &sc : cfg.syscalls) {
    put_u32(k, uint32_t(sc.names.size()));
    for (auto &n : sc.names) put_str(k, n);
    put_str(k, sc.action);
    put_u32(k, sc.errno_ret ? *sc.errno_ret : ~0u);
    put_u32(k, sc.errno_ret.has_value());
    put_u32(k, uint32_t(sc.args.size()));
    for (auto &a : sc.args) {
      put_u32(k, a.index);
      k.append(reinterpret_cast<const char *>(&a.value), sizeof a.value);
      k.append(reinterpret_cast<const char *>(&a.value_two), sizeof a.value_two);
      put_str(k, a.op);
    }
  }
  return k;
}

Result<linuxf::CompiledSeccomp> compile_seccomp_cached(const oci::Seccomp &cfg, const std::string &root,
                                                       std::vector<std::string> &warnings,
                                                       SeccompCacheEntry *to_store) {
  if (root.empty()) return linuxf::compile_seccomp(cfg, warnings);
  const std::string key = seccomp_cache_key(cfg);
  const std::string name = entry_name(key);
  if (UniqueFd dir = open_cache_dir(root, false)) {
    if (auto fd = open_at(dir.get(), name, O_RDONLY | O_NOFOLLOW)) {
      if (auto data = read_fd(fd->get(), name, 1u << 20)) {
        if (auto c = read_seccomp_cache_entry(*data, key, warnings)) return std::move(*c);
      }
    }
  }
  // A bad profile fails here every time, naming the field: nothing cached.
  std::vector<std::string> own;
  ASSIGN_OR_RETURN(linuxf::CompiledSeccomp c, linuxf::compile_seccomp(cfg, own));
  warnings.insert(warnings.end(), own.begin(), own.end());
  if (to_store) *to_store = {name, encode_entry(key, c, own)};
  return c;
}

std::optional<linuxf::CompiledSeccomp> read_seccomp_cache_entry(std::string_view data, const std::string &key,
                                                                std::vector<std::string> &warnings) {
  linuxf::CompiledSeccomp c;
  if (!decode(data, key, c, warnings)) return std::nullopt;
  return c;
}

std::string seccomp_cache_entry_data(const std::string &key, const linuxf::CompiledSeccomp &c,
                                     const std::vector<std::string> &warnings) {
  return encode_entry(key, c, warnings);
}

void store_seccomp_cache(const std::string &root, const SeccompCacheEntry &e) {
  if (root.empty() || e.name.empty()) return;
  UniqueFd dir = open_cache_dir(root, true);
  if (!dir) return log::debug("seccomp cache: open " + path_join(root, kCacheDir) + ": " + std::strerror(errno));
  bound_entries(dir.get());
  if (auto w = write_file_atomic(dir.get(), e.name, e.data); !w) log::debug("seccomp cache: " + w.error().message());
}

} // namespace berth::runtime
