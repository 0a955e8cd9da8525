// The container's filesystem view: rootfs bind, config mounts, /dev, pivot_root,
// masked and read-only paths. Prepared in the parent (RootfsPlan), carried out
// by the container's init between clone and exec.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "linux/mount_options.hpp"
#include "oci/spec.hpp"

#include <map>
#include <string>
#include <vector>

namespace berth::linuxf {

struct MountEntry {
  oci::Mount m;
  MountOptions o;
  std::string source; // host path for binds (made absolute against the bundle)
  bool source_is_dir = true;
  bool is_bind = false;
  int idmap_fd = -1; // an idmapped detached tree made by the parent (open_tree)
};

struct RootfsPlan {
  std::string rootfs; // absolute host path
  bool readonly = false;
  bool no_pivot = false;
  unsigned long root_propagation = 0; // rootfsPropagation, 0 = not set
  std::vector<MountEntry> mounts;
  bool setup_dev = true;   // no bind mount at /dev: make the default devices
  bool userns = false;     // devices are bind-mounted from the host, not made
  bool cgroupns = false;
  std::vector<oci::Device> devices;
  std::vector<std::string> masked_paths, readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::string mount_label; // linux.mountLabel (SELinux context of the mounts made)
};

// Parent side: validates mounts and devices, resolves bind sources.
Result<RootfsPlan> plan_rootfs(const oci::Spec &spec, const std::string &bundle);

// Parent side, for each idmap/ridmap mount: a detached clone of the source
// with the mount's id mapping (or the container's) applied. Needs the host's
// privileges, hence done here; the init only moves the trees into place.
// The fds are kept in `owned` and referenced from the plan.
Result<> prepare_idmapped_mounts(RootfsPlan &plan, const oci::Spec &spec, std::vector<UniqueFd> &owned);

// Child side, in order:
// 1. mount propagation of "/", rootfs bound onto itself, every mount, /dev.
Result<> setup_mounts(const RootfsPlan &plan);
// 2. pivot_root (or MS_MOVE + chroot), old root detached.
Result<> enter_rootfs(const RootfsPlan &plan);
// 3. After the console is in place: masked and read-only paths, sysctl,
//    read-only root, rootfs propagation.
Result<> finish_rootfs(const RootfsPlan &plan);

} // namespace berth::linuxf
