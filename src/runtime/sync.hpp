// The numbered protocol between the runtime (parent) and the container's init
// (child) over a SOCK_SEQPACKET socketpair: one message per packet.
//
//   parent -> child  Go          cgroup joined, id maps written
//   child  -> parent Pid         (joined user namespace only) the real init's pid:
//                                the first child joined it, forked the init, exits
//   child  -> parent HooksReq    environment ready: run prestart/createRuntime hooks
//   parent -> child  HooksDone   payload: the state JSON for the init's hooks
//   child  -> parent Ready       init parked on exec.fifo, waiting for start
//   child  -> parent Error       payload: the message; the child then exits
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::runtime {

enum class SyncMsg : uint32_t { Go = 1, HooksReq = 2, HooksDone = 3, Ready = 4, Error = 5, Pid = 6 };

struct SyncPacket {
  SyncMsg type;
  int err = 0;
  std::string payload;
};

Result<> sync_send(int fd, SyncMsg type, std::string_view payload = {}, int err = 0);
// EOF (the peer exited or exec'd) is an error with code EPIPE.
Result<SyncPacket> sync_recv(int fd);
// Waits for `want`; an Error packet becomes an Error with its message.
Result<SyncPacket> sync_expect(int fd, SyncMsg want, const std::string &what);

} // namespace berth::runtime
