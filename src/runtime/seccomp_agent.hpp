// linux.seccomp.listenerPath: the parent's side of SCMP_ACT_NOTIFY. The
// container process loads its filter with a listener and passes the fd up
// the sync socket (SyncMsg::SeccompFd); the parent hands it to the agent
// listening at listenerPath, with the container process state, and lets the
// child go on (SyncMsg::SeccompDone).
#pragma once

#include "common/error.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"
#include "runtime/sync.hpp"

namespace berth::runtime {

// One connection to cfg.listener_path (AF_UNIX, SOCK_STREAM): the container
// process state JSON and, in the same sendmsg, the notify fd; then closed.
Result<> send_to_seccomp_agent(const oci::Seccomp &cfg, int notify_fd, const oci::State &state, int pid);

// The child's SeccompFd packet: sends its fd to the agent, then answers
// SeccompDone. cfg: the container's linux.seccomp (nullptr if none).
Result<> relay_seccomp_fd(int sync_sock, SyncPacket &pkt, const oci::Seccomp *cfg, const oci::State &state,
                          int pid);

} // namespace berth::runtime
