// Rootless mode: how --rootless auto decides, and where state goes by default.
#include "common/file.hpp"
#include "runtime/runtime.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace berth::runtime {

bool running_rootless() {
  if (::geteuid() != 0) return true;
  // Root of a user namespace: the initial one maps the whole id range.
  auto m = read_file("/proc/self/uid_map");
  if (!m) return false;
  std::istringstream in(*m);
  unsigned long inside = 1, outside = 1, count = 0;
  in >> inside >> outside >> count;
  return !(inside == 0 && outside == 0 && count == 4294967295ul);
}

std::string rootless_state_root() {
  const char *xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return path_join(xdg, "berth-runtime");
  return GlobalOptions{}.root;
}

} // namespace berth::runtime
