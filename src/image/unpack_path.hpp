// The safe half of unpacking: tar names made relative and checked, and the
// parent directory of an entry opened inside the target (symlinks in it
// resolved as if the target were "/", never outside it).
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <string>
#include <string_view>

namespace berth::image::detail {

struct CleanName {
  std::string path;   // "a/b/c": no ".", "" or ".." components; "" for the root
  std::string parent; // "a/b" ("" for the root)
  std::string base;   // "c"
  size_t depth = 0;   // components
};

// "./a//b/" -> "a/b". A leading "/" or a ".." component is an error (what
// a tar bomb or an escape attempt looks like; no image writer makes them).
Result<CleanName> clean_name(std::string_view raw);

// Opens the directory an entry goes in, creating what is missing (0755,
// root-owned, as containerd does). Keeps the last one open: tars list a
// directory's entries together.
class Parents {
 public:
  explicit Parents(int root) : root_(root) {}
  // O_DIRECTORY fd of dir ("" is the root), owned by Parents: valid until
  // the next call or invalidate().
  Result<int> open(const std::string &dir);
  // The same without creating anything (a hardlink's target).
  Result<UniqueFd> find(const std::string &dir) const;
  // After anything was removed: a cached path may now lead elsewhere.
  void invalidate() {
    cached_.reset();
    cached_path_.clear();
  }

 private:
  Result<UniqueFd> create(const std::string &dir);
  int root_;
  std::string cached_path_;
  UniqueFd cached_;
};

} // namespace berth::image::detail
