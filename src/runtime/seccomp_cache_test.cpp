// The seccomp cache: same program from the cache as from a compile; the key
// covers every field that reaches the program; damaged, foreign and
// surplus entries are never used.
#include "runtime/seccomp_cache.hpp"

#include "common/file.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>

#include <cstring>

using namespace berth;
using namespace berth::runtime;

namespace {

oci::Seccomp profile(uint32_t errno_ret) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.architectures = {"SCMP_ARCH_X86_64"};
  s.syscalls.push_back({{"getppid", "no_such_syscall"}, "SCMP_ACT_ERRNO", errno_ret, {}});
  return s;
}

struct TempRoot {
  std::string path;
  TempRoot() {
    char t[] = "/tmp/berth-seccomp-cache-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempRoot() { (void)remove_tree(path); }
  std::string entry() const {
    std::string dir = path_join(path, kCacheDir), found;
    if (DIR *d = ::opendir(dir.c_str())) {
      while (dirent *e = ::readdir(d))
        if (e->d_name[0] != '.') found = path_join(dir, e->d_name);
      ::closedir(d);
    }
    return found;
  }
};

bool same(const linuxf::CompiledSeccomp &a, const linuxf::CompiledSeccomp &b) {
  return a.flags == b.flags && a.uses_notify == b.uses_notify && a.program.size() == b.program.size() &&
         std::memcmp(a.program.data(), b.program.data(), a.program.size() * sizeof(sock_filter)) == 0;
}

TEST(SeccompCache, ServesWhatItStored) {
  TempRoot root;
  std::vector<std::string> w1, w2;
  SeccompCacheEntry e1, e2;
  auto a = compile_seccomp_cached(profile(18), root.path, w1, &e1);
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_FALSE(e1.name.empty()); // compiled: to be stored
  EXPECT_EQ(root.entry(), "");   // not before store_seccomp_cache
  store_seccomp_cache(root.path, e1);
  ASSERT_NE(root.entry(), "");
  auto b = compile_seccomp_cached(profile(18), root.path, w2, &e2);
  ASSERT_TRUE(b);
  EXPECT_TRUE(e2.name.empty()); // served from the cache
  EXPECT_TRUE(same(*a, *b));
  EXPECT_EQ(w1, w2); // the skipped unknown syscall is reported again
  ASSERT_EQ(w2.size(), 1u);
  EXPECT_NE(w2[0].find("no_such_syscall"), std::string::npos);
}

TEST(SeccompCache, KeyCoversTheProgramNotTheListener) {
  auto base = seccomp_cache_key(profile(1));
  EXPECT_NE(base, seccomp_cache_key(profile(2)));
  auto s = profile(1);
  s.listener_path = "/run/agent.sock";
  s.listener_metadata = "x";
  EXPECT_EQ(base, seccomp_cache_key(s));
  s = profile(1);
  s.syscalls[0].args.push_back({0, 5, 0, "SCMP_CMP_EQ"});
  EXPECT_NE(base, seccomp_cache_key(s));
  s = profile(1);
  s.syscalls[0].errno_ret.reset();
  EXPECT_NE(base, seccomp_cache_key(s));
  s = profile(1);
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  EXPECT_NE(base, seccomp_cache_key(s));
  // Length-prefixed: moving a character between two names changes the key.
  s = profile(1);
  s.syscalls[0].names = {"getppi", "dno_such_syscall"};
  EXPECT_NE(base, seccomp_cache_key(s));
}

TEST(SeccompCache, DamagedEntryIsCompiledAgain) {
  TempRoot root;
  std::vector<std::string> w;
  SeccompCacheEntry e;
  auto a = compile_seccomp_cached(profile(18), root.path, w, &e);
  ASSERT_TRUE(a);
  store_seccomp_cache(root.path, e);
  std::string path = root.entry();
  for (size_t at : {e.data.size() - 1, e.data.size() / 2, size_t(0)}) {
    std::string bad = e.data;
    bad[at] ^= 0x40;
    UniqueFd dir(::open(path_join(root.path, kCacheDir).c_str(), O_RDONLY | O_DIRECTORY));
    ASSERT_TRUE(write_file_atomic(dir.get(), e.name, bad));
    SeccompCacheEntry again;
    auto b = compile_seccomp_cached(profile(18), root.path, w, &again);
    ASSERT_TRUE(b);
    EXPECT_FALSE(again.name.empty()) << "damage at byte " << at << " went unnoticed";
    EXPECT_TRUE(same(*a, *b));
  }
}

TEST(SeccompCache, EntryRoundTripAndStrictness) {
  std::vector<std::string> w;
  auto c = linuxf::compile_seccomp(profile(7), w);
  ASSERT_TRUE(c);
  std::string data = seccomp_cache_entry_data("k", *c, w);
  std::vector<std::string> back_w;
  auto back = read_seccomp_cache_entry(data, "k", back_w);
  ASSERT_TRUE(back);
  EXPECT_TRUE(same(*c, *back));
  EXPECT_EQ(back_w, w);
  EXPECT_FALSE(read_seccomp_cache_entry(data, "other key", back_w));
  EXPECT_FALSE(read_seccomp_cache_entry(data.substr(0, data.size() - 1), "k", back_w));
  EXPECT_FALSE(read_seccomp_cache_entry(data + "x", "k", back_w));
  EXPECT_FALSE(read_seccomp_cache_entry("", "k", back_w));
}

TEST(SeccompCache, BadProfileIsAnErrorAndNotStored) {
  TempRoot root;
  auto s = profile(1);
  s.syscalls[0].action = "SCMP_ACT_BOGUS";
  std::vector<std::string> w;
  SeccompCacheEntry e;
  auto r = compile_seccomp_cached(s, root.path, w, &e);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("SCMP_ACT_BOGUS"), std::string::npos);
  EXPECT_TRUE(e.name.empty());
}

TEST(SeccompCache, IsBounded) {
  TempRoot root;
  std::vector<std::string> w;
  for (uint32_t i = 1; i <= 40; i++) {
    SeccompCacheEntry e;
    ASSERT_TRUE(compile_seccomp_cached(profile(i), root.path, w, &e));
    store_seccomp_cache(root.path, e);
  }
  int n = 0;
  std::string dir = path_join(root.path, kCacheDir);
  DIR *d = ::opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (dirent *e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  EXPECT_GT(n, 0);
  EXPECT_LE(n, 32);
}

} // namespace
