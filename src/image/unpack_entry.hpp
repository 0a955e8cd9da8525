// One tar entry written into the target (unpack.cpp reads the tar and
// enforces the limits; this file creates files, applies metadata, and keeps
// directory mtimes right).
#pragma once

#include "common/error.hpp"
#include "image/unpack_path.hpp"

#include <sys/stat.h>

#include <string>
#include <vector>

struct archive;
struct archive_entry;

namespace berth::image::detail {

class EntryWriter {
 public:
  EntryWriter(struct archive *a, int root) : a_(a), root_(root), parents_(root) {}
  // Creates e (named n) and applies its metadata; returns the data bytes written.
  Result<uint64_t> write(struct archive_entry *e, const CleanName &n);
  // Sets the mtimes still pending (directories whose content may follow).
  Result<> finish();

 private:
  struct Pending {
    std::string path;
    struct timespec times[2];
  };
  Result<uint64_t> whiteout(struct archive_entry *e, const CleanName &n, int pfd);
  Result<> settle_dirs(const std::string &parent);
  Result<> apply_times(const Pending &p);
  Result<> replace(int pfd, const std::string &name, bool new_is_dir, bool *keep_dir = nullptr);
  Result<uint64_t> create(struct archive_entry *e, const CleanName &n, int pfd);
  Result<uint64_t> write_data(int fd, int64_t size);
  Result<> metadata(struct archive_entry *e, int fd, int pfd, const std::string &name, mode_t type,
                    bool times);

  struct archive *a_;
  int root_;
  Parents parents_;
  bool stale_ = false; // something was removed: parents_ forgets after this entry
  // Directories whose entries were seen, innermost last: their mtimes are
  // set once the tar has moved past them (at most max_depth of them, as
  // tars list a directory's content right after it; a later entry into a
  // settled directory keeps its mtime by restoring it).
  std::vector<Pending> open_dirs_;
};

} // namespace berth::image::detail
