// Waking up on OOM kills instead of polling for them: v1 registers an eventfd
// on memory.oom_control through cgroup.event_control; v2 watches
// memory.events with inotify (the kernel notifies file modification there).
#include "cgroups/driver.hpp"
#include "cgroups/fs.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace berth::cgroups {

Result<UniqueFd> oom_notifier_v1(const std::string &memory_dir) {
  UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd) return fail_errno("watch for OOM kills: eventfd");
  std::string control = memory_dir + "/memory.oom_control";
  UniqueFd cfd(::open(control.c_str(), O_RDONLY | O_CLOEXEC));
  if (!cfd) return fail_errno("watch for OOM kills: open " + control);
  // The registration lives as long as the eventfd.
  TRY_CTX(cg_write(memory_dir, "cgroup.event_control",
                   std::to_string(efd.get()) + " " + std::to_string(cfd.get())),
          "watch for OOM kills");
  return efd;
}

Result<UniqueFd> oom_notifier_v2(const std::string &dir) {
  UniqueFd ifd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!ifd) return fail_errno("watch for OOM kills: inotify_init1");
  std::string events = dir + "/memory.events";
  if (::inotify_add_watch(ifd.get(), events.c_str(), IN_MODIFY) < 0)
    return fail_errno("watch for OOM kills: inotify_add_watch " + events);
  return ifd;
}

} // namespace berth::cgroups
