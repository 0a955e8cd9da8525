// Writing tars: a directory tree as a layer (import of a directory), and
// plain files (save's archives).
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>

namespace berth::image {

// A pax tar of the tree under dirfd, written to out: every type unpack
// handles, with owners, modes, mtimes, xattrs and hardlinks as links.
// Entries are sorted by name so the same tree gives the same bytes.
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

 private:
  void *a_ = nullptr; // struct archive
  std::string what_;
};

} // namespace berth::image
