#include "image/stream.hpp"

#include <cerrno>
#include <unistd.h>

namespace berth::image {

Result<size_t> FdSource::read(std::span<std::byte> buf) {
  for (;;) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return fail_errno("read " + what_);
  }
}

} // namespace berth::image
