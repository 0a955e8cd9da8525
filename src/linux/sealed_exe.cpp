#include "linux/sealed_exe.hpp"

#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

extern char **environ;

namespace berth::linuxf {

namespace {

// Set for the re-executed copy: it must not try again, whatever it finds.
constexpr const char *kMarker = "_BERTH_RUNTIME_SEALED";

Result<UniqueFd> readonly_bind_of_self() {
  int fd = int(::syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (fd < 0) return fail_errno("open_tree /proc/self/exe");
  UniqueFd tree(fd);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return fail_errno("make the bind mount of /proc/self/exe read-only");
  return tree;
}

Result<UniqueFd> sealed_copy_of_self() {
  UniqueFd src(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!src) return fail_errno("open /proc/self/exe");
  struct stat st {};
  if (::fstat(src.get(), &st) < 0) return fail_errno("stat /proc/self/exe");
  UniqueFd mem(::memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return fail_errno("memfd_create for a sealed copy of the runtime");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = ::sendfile(mem.get(), src.get(), &off, size_t(st.st_size - off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_errno("copy /proc/self/exe into a memfd");
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return fail_errno("seal the memfd copy of the runtime");
  return mem;
}

} // namespace

bool exe_is_sealed() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return false;
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE)) return true;
  struct statvfs sv {};
  return ::fstatvfs(self.get(), &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

Result<> reexec_sealed(char **argv) {
  if (std::getenv(kMarker)) {
    ::unsetenv(kMarker);
    return {};
  }
  if (exe_is_sealed()) return {};
  auto view = readonly_bind_of_self();
  if (!view) {
    auto copy = sealed_copy_of_self();
    if (!copy)
      return fail_msg("run from a read-only view of the runtime binary (CVE-2019-5736): " +
                      view.error().message() + "; " + copy.error().message());
    view = std::move(copy);
  }
  ::setenv(kMarker, "1", 1);
  ::syscall(SYS_execveat, view->get(), "", argv, environ, AT_EMPTY_PATH);
  const int err = errno;
  ::unsetenv(kMarker);
  return fail_sys(err, "re-execute the runtime from a read-only view of its binary (CVE-2019-5736)");
}

} // namespace berth::linuxf
