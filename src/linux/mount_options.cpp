#include "linux/mount_options.hpp"

#include <linux/mount.h>
#include <sys/mount.h>

#include <string_view>

namespace berth::linuxf {

namespace {

struct FlagWord {
  std::string_view word;
  bool clear;
  unsigned long flag;
};
constexpr FlagWord kFlags[] = {
    {"ro", false, MS_RDONLY},           {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},       {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},         {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},       {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},     {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},       {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},     {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},   {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"symfollow", true, MS_NOSYMFOLLOW},
    {"silent", false, MS_SILENT},       {"loud", true, MS_SILENT},
};

struct PropWord {
  std::string_view word;
  unsigned long flag;
};
constexpr PropWord kProps[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrWord {
  std::string_view word;
  bool clear;
  uint64_t attr;
};
constexpr AttrWord kAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},        {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},      {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

// Access-time attributes form one field in mount_setattr: setting one clears the others.
struct AtimeWord {
  std::string_view word;
  uint64_t attr;
};
constexpr AtimeWord kAtimes[] = {
    {"rnoatime", MOUNT_ATTR_NOATIME},
    {"ratime", MOUNT_ATTR_RELATIME}, // "atime" with no relatime is closest to relatime off... see below
    {"rrelatime", MOUNT_ATTR_RELATIME},
    {"rnorelatime", MOUNT_ATTR_STRICTATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", MOUNT_ATTR_RELATIME},
};

} // namespace

unsigned long propagation_flag(const std::string &word) {
  for (auto &p : kProps)
    if (word == p.word) return p.flag;
  return 0;
}

MountOptions parse_mount_options(const std::vector<std::string> &opts) {
  MountOptions m;
  for (const std::string &o : opts) {
    bool done = false;
    for (auto &f : kFlags) {
      if (o == f.word) {
        if (f.clear) m.flags &= ~f.flag;
        else m.flags |= f.flag;
        done = true;
        break;
      }
    }
    if (done) continue;
    if (o == "bind" || o == "rbind") {
      m.bind = true;
      m.recursive = m.recursive || o == "rbind";
      continue;
    }
    if (unsigned long p = propagation_flag(o)) {
      m.propagation.push_back(p);
      continue;
    }
    for (auto &a : kAttrs) {
      if (o == a.word) {
        if (a.clear) {
          m.attr_clr |= a.attr;
          m.attr_set &= ~a.attr;
        } else {
          m.attr_set |= a.attr;
          m.attr_clr &= ~a.attr;
        }
        done = true;
        break;
      }
    }
    if (done) continue;
    for (auto &a : kAtimes) {
      if (o == a.word) {
        m.attr_clr |= MOUNT_ATTR__ATIME;
        m.attr_set = (m.attr_set & ~uint64_t(MOUNT_ATTR__ATIME)) | a.attr;
        done = true;
        break;
      }
    }
    if (done) continue;
    if (o == "tmpcopyup") m.tmpcopyup = true;
    else if (o == "idmap") m.idmap = true;
    else if (o == "ridmap") m.idmap = m.ridmap = true;
    else {
      if (!m.data.empty()) m.data += ',';
      m.data += o;
    }
  }
  return m;
}

} // namespace berth::linuxf
