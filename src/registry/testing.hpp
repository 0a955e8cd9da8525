// Test helpers for src/registry/*_test.cpp: temp dirs and environment
// variables that are put back however the test ends.
#pragma once

#include "common/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace berth::registry::testing {

// A directory under /tmp, removed (with what is in it) at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/berth-registry-test-XXXXXX";
    const char *p = ::mkdtemp(t);
    EXPECT_NE(p, nullptr) << "mkdtemp: " << strerror(errno);
    path = p ? p : "/nonexistent-berth-test-dir";
  }
  ~TempDir() { (void)remove_tree(path); }
  std::string sub(const std::string &name) const { return path + "/" + name; }
  // Writes sub(name) (its directories created), mode as given.
  std::string write(const std::string &name, const std::string &data, mode_t mode = 0644) const {
    std::string p = sub(name);
    EXPECT_TRUE(mkdir_all(p.substr(0, p.rfind('/')), 0755));
    auto r = write_path_atomic(p, data, mode);
    EXPECT_TRUE(r) << r.error().message();
    ::chmod(p.c_str(), mode); // past the umask
    return p;
  }
};

// Sets (or unsets, with nullopt) environment variables for one test and
// restores the old values when it ends.
class EnvGuard {
 public:
  EnvGuard() = default;
  EnvGuard(const EnvGuard &) = delete;
  EnvGuard &operator=(const EnvGuard &) = delete;
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) put(it->first, it->second);
  }
  void set(const std::string &name, std::optional<std::string> value) {
    const char *old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    put(name, value);
  }

 private:
  static void put(const std::string &name, const std::optional<std::string> &v) {
    if (v) ::setenv(name.c_str(), v->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

inline std::string contents(const std::string &path) {
  auto r = read_file(path);
  return r ? *r : std::string("<unreadable: ") + r.error().message() + ">";
}

inline mode_t mode_of(const std::string &path) {
  struct stat st{};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

} // namespace berth::registry::testing
