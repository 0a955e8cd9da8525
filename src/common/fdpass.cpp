#include "common/fdpass.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace berth {

Result<> send_fd(int sock, int fd, std::string_view payload, const std::string &what) {
  char byte = 0;
  struct iovec iov;
  if (payload.empty()) {
    iov.iov_base = &byte;
    iov.iov_len = 1;
  } else {
    iov.iov_base = const_cast<char *>(payload.data());
    iov.iov_len = payload.size();
  }
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
  if (n < 0) return fail_errno("send " + what);
  return {};
}

Result<UniqueFd> recv_fd(int sock, std::string *payload, const std::string &what) {
  char buf[4096];
  struct iovec iov = {buf, sizeof buf};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("receive " + what);
  if (n == 0) return fail_msg("receive " + what + ": connection closed");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return fail_msg("receive " + what + ": no file descriptor");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  if (payload) payload->assign(buf, size_t(n));
  return UniqueFd(fd);
}

Result<UniqueFd> connect_unix(const std::string &path) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return fail_msg("connect " + path + ": path too long");
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno("socket for " + path);
  if (::connect(s.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0)
    return fail_errno("connect to " + path);
  return s;
}

} // namespace berth
