// Writing tars: a directory tree as a layer (import of a directory), and
// plain files (save's archives).
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace berth::image {

// A pax tar of the tree under dirfd, written to out: every type unpack
// handles, with owners, modes, mtimes (to the second, as docker's layer
// tars: no pax header for that alone), xattrs and hardlinks as links.
// Entries are sorted by name (depth first) so the same tree gives the same
// bytes. A snapshot in overlay form becomes a layer again: a 0/0 character
// device is written as the whiteout ".wh.NAME", trusted.overlay.opaque=y as
// ".wh..wh..opq" in its directory; other trusted.overlay.* are not written.
Result<> write_tree_tar(int dirfd, int out, const std::string &what);

// A tar written entry by entry (save): regular files and directories.
class TarWriter {
 public:
  explicit TarWriter(int out, std::string what);
  ~TarWriter();
  TarWriter(const TarWriter &) = delete;
  TarWriter &operator=(const TarWriter &) = delete;
  Result<> add_dir(const std::string &name);
  Result<> add_data(const std::string &name, std::string_view data);
  // size bytes read from fd (a blob file).
  Result<> add_file(const std::string &name, int fd, uint64_t size);
  Result<> close();

  struct Out; // where the archive's bytes go (tar_write.cpp)

 private:
  void *a_ = nullptr; // struct archive
  std::unique_ptr<Out> out_;
  std::string what_;
};

} // namespace berth::image
