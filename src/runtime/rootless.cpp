// Rootless mode: how --rootless auto decides, and where state goes by default.
#include "common/file.hpp"
#include "common/strings.hpp"
#include "runtime/runtime.hpp"

#include <unistd.h>

#include <cstdlib>

namespace berth::runtime {

bool running_rootless() {
  if (::geteuid() != 0) return true;
  // Root of a user namespace: the initial one maps the whole id range.
  auto m = read_file("/proc/self/uid_map");
  if (!m) return false;
  // The first line only: the initial namespace has exactly "0 0 4294967295".
  std::string_view first = *m; // words() points into it: *m must outlive w
  auto w = words(first.substr(0, first.find('\n')));
  return !(w.size() == 3 && w[0] == "0" && w[1] == "0" && w[2] == "4294967295");
}

std::string rootless_state_root() {
  const char *xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return path_join(xdg, "berth-runtime");
  return GlobalOptions{}.root;
}

} // namespace berth::runtime
