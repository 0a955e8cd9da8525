// Small file helpers. Every one returns an Error naming the path.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace berth {

Result<UniqueFd> open_file(const std::string &path, int flags, mode_t mode = 0);
Result<UniqueFd> open_at(int dirfd, const std::string &path, int flags, mode_t mode = 0);

// Reads a whole file (also /proc and sysfs files, whose size is not known).
// Refuses files larger than max_bytes: input may be hostile.
Result<std::string> read_file(const std::string &path, size_t max_bytes = 64u << 20);
Result<std::string> read_fd(int fd, const std::string &what, size_t max_bytes = 64u << 20);
// read_fd for a regular file: a short read is its end (saves the read that
// returns 0; not for /proc or sysfs files, whose reads may stop early).
Result<std::string> read_regular(int fd, const std::string &what, size_t max_bytes = 64u << 20);

// Writes data to an existing file in one write(2): cgroup and /proc files.
Result<> write_file(const std::string &path, std::string_view data);
Result<> write_at(int dirfd, const std::string &name, std::string_view data);

// Writes name under dirfd via a temp file and rename: readers see the old or
// the new content, never a half-written file.
Result<> write_file_atomic(int dirfd, const std::string &name, std::string_view data,
                           mode_t mode = 0600);

// write_file_atomic that also survives a crash of the machine: the file is
// fsynced before the rename and the directory after it.
Result<> write_file_durable(int dirfd, const std::string &name, std::string_view data,
                            mode_t mode = 0644);

// write_file_atomic for a path: the temp file goes beside it.
Result<> write_path_atomic(const std::string &path, std::string_view data, mode_t mode = 0644);

// write(2) all of data, retrying on EINTR and short writes.
Result<> write_all(int fd, std::string_view data, const std::string &what);

// mkdir -p; existing directories are fine.
Result<> mkdir_all(const std::string &path, mode_t mode = 0755);

// rm -rf of a directory tree on one filesystem, fd-relative (no symlink follow).
Result<> remove_tree(const std::string &path);
// rm -rf of name in dirfd (a file, a symlink itself, or a directory tree).
// Recursion is as deep as the tree; an absent name is fine.
Result<> remove_at(int dirfd, const std::string &name);

bool path_exists(const std::string &path);

// Joins two paths with exactly one '/' between them.
std::string path_join(std::string_view a, std::string_view b);

} // namespace berth
