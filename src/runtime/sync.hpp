// The numbered protocol between the runtime (parent) and the container's init
// (child) over a SOCK_SEQPACKET socketpair: one message per packet.
//
//   parent -> child  Go          cgroup joined, id maps written
//   child  -> parent Pid         (joined user namespace only) the real init's pid:
//                                the first child joined it, forked the init, exits
//   child  -> parent HooksReq    environment ready: run prestart/createRuntime hooks
//   parent -> child  HooksDone   payload: the state JSON for the init's hooks
//   child  -> parent SeccompFd   (SCMP_ACT_NOTIFY rules) the filter is loaded: the
//                                listener fd rides along (SCM_RIGHTS) for the
//                                parent to hand to linux.seccomp.listenerPath
//   parent -> child  SeccompDone the agent has it
//   child  -> parent Ready       init parked on exec.fifo, waiting for start
//   child  -> parent Error       payload: the message; the child then exits
// exec's child uses Error and SeccompFd/SeccompDone; its execve closes the
// socket, which is its success.
#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::runtime {

enum class SyncMsg : uint32_t {
  Go = 1, HooksReq = 2, HooksDone = 3, Ready = 4, Error = 5, Pid = 6, SeccompFd = 7, SeccompDone = 8
};

struct SyncPacket {
  SyncMsg type;
  int err = 0;
  std::string payload;
  UniqueFd fd; // passed along with the message (SeccompFd), close-on-exec
};

Result<> sync_send(int fd, SyncMsg type, std::string_view payload = {}, int err = 0);
// The same with a file descriptor attached (SCM_RIGHTS). No allocation.
Result<> sync_send_fd(int sock, SyncMsg type, int fd);
// EOF (the peer exited or exec'd) is an error with code EPIPE.
Result<SyncPacket> sync_recv(int fd);
// Waits for `want`; an Error packet becomes an Error with its message.
Result<SyncPacket> sync_expect(int fd, SyncMsg want, const std::string &what);

} // namespace berth::runtime
