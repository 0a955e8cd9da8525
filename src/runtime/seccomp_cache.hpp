// A cache of compiled seccomp programs in the state root.
//
// libseccomp's compile is most of a create's work when the config has a
// profile: a 300-syscall allow-list for three architectures takes ~24
// million instructions (~8 ms), several times everything else the runtime
// does. The program depends only on the profile, the libseccomp version and
// the kernel's seccomp API level, so it is kept in <root>/@cache/ (a name no
// container id can have), keyed by all three. The whole key is stored in the
// file and compared byte for byte: a hash collision costs a compile, it
// never loads another profile's filter. Any problem with the cache (absent,
// unreadable, damaged, full disk) falls back to compiling.
#pragma once

#include "common/error.hpp"
#include "linux/seccomp.hpp"
#include "oci/spec.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::runtime {

inline constexpr const char *kCacheDir = "@cache";

// A freshly compiled program, to be stored once the container (or exec'd
// process) exists: a create that fails leaves nothing behind, cache included.
struct SeccompCacheEntry {
  std::string name, data; // empty: nothing to store
};

// compile_seccomp, or the program an earlier call compiled for the same key.
// The warnings are those the compile gave (also when cached). root "" = no
// cache. After a compile, *to_store is what store_seccomp_cache writes.
Result<linuxf::CompiledSeccomp> compile_seccomp_cached(const oci::Seccomp &cfg, const std::string &root,
                                                       std::vector<std::string> &warnings,
                                                       SeccompCacheEntry *to_store);

// Writes the entry under <root>/@cache (creating it); failures only log.
void store_seccomp_cache(const std::string &root, const SeccompCacheEntry &e);

// The program in a cache file's data when the file is whole and holds key
// (the warnings it recorded are appended); nullopt otherwise.
std::optional<linuxf::CompiledSeccomp> read_seccomp_cache_entry(std::string_view data, const std::string &key,
                                                                std::vector<std::string> &warnings);
// The file's data for a compiled program (what store_seccomp_cache writes).
std::string seccomp_cache_entry_data(const std::string &key, const linuxf::CompiledSeccomp &c,
                                     const std::vector<std::string> &warnings);

// The cache key: every field of the profile that reaches the program (not
// the listener path or metadata), and seccomp_build_id().
std::string seccomp_cache_key(const oci::Seccomp &cfg);

} // namespace berth::runtime
