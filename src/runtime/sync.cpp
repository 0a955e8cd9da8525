#include "runtime/sync.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>
#include <vector>

namespace berth::runtime {

namespace {
struct Header {
  uint32_t type;
  int32_t err;
};
constexpr size_t kMaxPayload = 1 << 20;
} // namespace

Result<> sync_send(int fd, SyncMsg type, std::string_view payload, int err) {
  Header h{uint32_t(type), err};
  struct iovec iov[2] = {{&h, sizeof h}, {const_cast<char *>(payload.data()), payload.size()}};
  struct msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  ssize_t n;
  do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("sync with container init");
  return {};
}

Result<SyncPacket> sync_recv(int fd) {
  std::vector<char> buf(sizeof(Header) + kMaxPayload);
  ssize_t n;
  do n = ::recv(fd, buf.data(), buf.size(), 0);
  while (n < 0 && errno == EINTR);
  // A peer that died with unread data gives ECONNRESET rather than EOF.
  if (n == 0 || (n < 0 && errno == ECONNRESET)) return fail_sys(EPIPE, "sync with container init: it exited");
  if (n < 0) return fail_errno("sync with container init");
  if (size_t(n) < sizeof(Header)) return fail_msg("sync with container init: short message");
  Header h;
  std::memcpy(&h, buf.data(), sizeof h);
  return SyncPacket{SyncMsg(h.type), h.err, std::string(buf.data() + sizeof h, size_t(n) - sizeof h)};
}

Result<SyncPacket> sync_expect(int fd, SyncMsg want, const std::string &what) {
  ASSIGN_OR_RETURN(SyncPacket p, sync_recv(fd));
  if (p.type == SyncMsg::Error) return fail(Error(p.err, p.payload));
  if (p.type != want)
    return fail_msg(what + ": unexpected message " + std::to_string(uint32_t(p.type)) + " from container init");
  return p;
}

} // namespace berth::runtime
