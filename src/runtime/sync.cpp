#include "runtime/sync.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>
#include <memory>

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

Result<> sync_send_fd(int sock, SyncMsg type, int fd) {
  Header h{uint32_t(type), 0};
  struct iovec iov = {&h, sizeof h};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("sync with container init: pass a file descriptor");
  return {};
}

Result<SyncPacket> sync_recv(int fd) {
  // Not zero-filled: only the pages a message fills become resident (a
  // zeroed MiB would be most of a create's peak RSS).
  constexpr size_t size = sizeof(Header) + kMaxPayload;
  std::unique_ptr<char[]> buf(new char[size]);
  struct iovec iov = {buf.get(), size};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  UniqueFd passed;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(sizeof(int)))
      continue;
    int got;
    std::memcpy(&got, CMSG_DATA(c), sizeof got);
    passed.reset(got);
  }
  // A peer that died with unread data gives ECONNRESET rather than EOF.
  if (n == 0 || (n < 0 && errno == ECONNRESET)) return fail_sys(EPIPE, "sync with container init: it exited");
  if (n < 0) return fail_errno("sync with container init");
  if (size_t(n) < sizeof(Header)) return fail_msg("sync with container init: short message");
  Header h;
  std::memcpy(&h, buf.get(), sizeof h);
  return SyncPacket{SyncMsg(h.type), h.err, std::string(buf.get() + sizeof h, size_t(n) - sizeof h),
                    std::move(passed)};
}

Result<SyncPacket> sync_expect(int fd, SyncMsg want, const std::string &what) {
  ASSIGN_OR_RETURN(SyncPacket p, sync_recv(fd));
  if (p.type == SyncMsg::Error) return fail(Error(p.err, p.payload));
  if (p.type != want)
    return fail_msg(what + ": unexpected message " + std::to_string(uint32_t(p.type)) + " from container init");
  return p;
}

} // namespace berth::runtime
