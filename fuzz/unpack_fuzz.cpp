// Layers come from registries: untrusted tars, compressed. The first byte
// picks the compression (0 none, 1 gzip, 2 zstd; oci::sniff_compression
// is not in this branch), the rest is the layer. It is unpacked into a
// fresh directory beside which nothing may appear, removed after each input.
#include "common/file.hpp"
#include "common/unique_fd.hpp"
#include "fuzz.hpp"
#include "image/stream.hpp"
#include "image/unpack.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstring>

namespace {

using namespace berth;

class MemSource final : public image::Source {
 public:
  MemSource(const uint8_t *d, size_t n) : d_(d), n_(n) {}
  Result<size_t> read(std::span<std::byte> buf) override {
    size_t k = std::min(buf.size(), n_ - pos_);
    std::memcpy(buf.data(), d_ + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  const uint8_t *d_;
  size_t n_, pos_ = 0;
};

int entries_in(const std::string &dir) {
  int n = 0;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d)) n += std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..");
    ::closedir(d);
  }
  return n;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::quiet();
  if (size < 1) return 0;
  static const oci::Compression comps[] = {oci::Compression::none, oci::Compression::gzip, oci::Compression::zstd};
  oci::Compression c = comps[data[0] % 3];
  char tmpl[] = "/tmp/berth-fuzz-unpack-XXXXXX";
  if (!::mkdtemp(tmpl)) return 0;
  std::string base = tmpl, target = base + "/target";
  ::mkdir(target.c_str(), 0755);
  {
    UniqueFd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    FUZZ_CHECK(fd.valid());
    MemSource raw(data + 1, size - 1);
    image::LayerStream ls(raw, c, {}, "layer fuzz");
    // Small: a fuzz input must not fill the disk or take seconds.
    image::UnpackLimits lim;
    lim.max_entries = 2000;
    lim.max_entry_size = 16 << 20;
    lim.max_total_size = 64 << 20;
    lim.max_depth = 64;
    auto r = image::unpack_layer(ls, fd.get(), "layer fuzz", lim);
    if (r) {
      FUZZ_CHECK(r->entries <= lim.max_entries);
      (void)ls.finish();
    } else {
      FUZZ_CHECK(!r.error().message().empty());
    }
  }
  // Nothing escaped the target.
  FUZZ_CHECK(entries_in(base) == 1);
  (void)remove_tree(base);
  return 0;
}
