// unpack_layer: libarchive parses the tar (ustar, pax, GNU: long names,
// sparse files, xattrs); berth checks every header against the limits and
// writes the entry itself (unpack_entry.cpp), fd-relative.
#include "image/unpack.hpp"

#include "image/unpack_entry.hpp"
#include "image/unpack_path.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <optional>
#include <vector>

namespace berth::image {

namespace {

struct ReadCtx {
  Source *src;
  std::vector<std::byte> buf = std::vector<std::byte>(256 << 10);
  std::optional<Error> err; // the source's own error, kept whole
};

la_ssize_t read_cb(struct archive *a, void *p, const void **out) {
  auto *c = static_cast<ReadCtx *>(p);
  auto r = c->src->read(c->buf);
  if (!r) {
    c->err = std::move(r).error();
    archive_set_error(a, EIO, "reading the layer failed");
    return -1;
  }
  *out = c->buf.data();
  return la_ssize_t(*r);
}

struct ArchiveFree {
  void operator()(struct archive *a) const { archive_read_free(a); }
};

std::string shown(std::string_view name) {
  if (name.size() <= 256) return std::string(name);
  return std::string(name.substr(0, 256)) + "…";
}

std::unexpected<Error> over(const char *limit, uint64_t value, uint64_t max) {
  return fail_msg(std::string(limit) + " exceeded: " + std::to_string(value) + " > " + std::to_string(max));
}

// Everything a header declares, checked before anything is written.
Result<detail::CleanName> check(struct archive_entry *e, const char *raw, const UnpackLimits &lim,
                                uint64_t &total) {
  size_t len = std::string_view(raw).size();
  if (len > lim.max_path) return over("max_path (bytes in a name)", len, lim.max_path);
  ASSIGN_OR_RETURN(detail::CleanName n, detail::clean_name(raw));
  if (n.depth > lim.max_depth) return over("max_depth (components in a name)", n.depth, lim.max_depth);
  if (const char *l = archive_entry_hardlink(e); l && std::string_view(l).size() > lim.max_path)
    return over("max_path (bytes in a hardlink target)", std::string_view(l).size(), lim.max_path);
  if (const char *l = archive_entry_symlink(e); l && std::string_view(l).size() > lim.max_path)
    return over("max_path (bytes in a symlink target)", std::string_view(l).size(), lim.max_path);
  int64_t size = archive_entry_size(e);
  if (size < 0) return fail_msg("negative size");
  if (uint64_t(size) > lim.max_entry_size) return over("max_entry_size (declared size)", uint64_t(size), lim.max_entry_size);
  total += uint64_t(size);
  if (total > lim.max_total_size) return over("max_total_size (sum of declared sizes)", total, lim.max_total_size);
  size_t xattrs = 0;
  archive_entry_xattr_reset(e);
  const char *key;
  const void *value;
  size_t vsize;
  while (archive_entry_xattr_next(e, &key, &value, &vsize) == ARCHIVE_OK) xattrs += std::string_view(key).size() + vsize;
  if (xattrs > lim.max_xattrs_size) return over("max_xattrs_size (xattrs of one entry)", xattrs, lim.max_xattrs_size);
  return n;
}

} // namespace

Result<UnpackStats> unpack_layer(Source &tar, int dirfd, const std::string &what, const UnpackLimits &limits) {
  std::unique_ptr<struct archive, ArchiveFree> a(archive_read_new());
  if (!a) return fail_msg(what + ": out of memory for the tar reader");
  archive_read_support_format_tar(a.get()); // ustar, pax, GNU (and their sparse forms)
  archive_read_support_filter_none(a.get()); // decompression is LayerStream's
  ReadCtx rc{&tar};
  // A source error is reported as itself; libarchive's own as a tar error.
  auto tar_error = [&](const std::string &doing) -> std::unexpected<Error> {
    if (rc.err) return std::unexpected(*rc.err);
    const char *m = archive_error_string(a.get());
    return fail_msg(what + ": " + doing + ": " + (m ? m : "unknown libarchive error"));
  };
  if (archive_read_open(a.get(), &rc, nullptr, read_cb, nullptr) != ARCHIVE_OK) return tar_error("read tar");

  detail::EntryWriter w(a.get(), dirfd);
  UnpackStats st;
  uint64_t total = 0;
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return tar_error("read tar header after " + std::to_string(st.entries) + " entries");
    const char *raw = archive_entry_pathname(e);
    if (!raw) raw = archive_entry_pathname_utf8(e);
    if (!raw) return fail_msg(what + ": entry " + std::to_string(st.entries + 1) + ": no name");
    auto fail_entry = [&](Error err) -> std::unexpected<Error> {
      if (rc.err) return std::unexpected(*rc.err);
      return std::unexpected(std::move(err).with(what + ": entry '" + shown(raw) + "'"));
    };
    if (++st.entries > limits.max_entries)
      return fail_entry(over("max_entries (entries in a layer)", st.entries, limits.max_entries).error());
    auto n = check(e, raw, limits, total);
    if (!n) return fail_entry(std::move(n).error());
    auto bytes = w.write(e, *n);
    if (!bytes) return fail_entry(std::move(bytes).error());
    st.bytes += *bytes;
  }
  TRY_CTX(w.finish(), what);
  return st;
}

} // namespace berth::image
