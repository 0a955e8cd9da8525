#include "runtime/seccomp_agent.hpp"

#include "common/fdpass.hpp"

namespace berth::runtime {

Result<> send_to_seccomp_agent(const oci::Seccomp &cfg, int notify_fd, const oci::State &state, int pid) {
  const std::string what = "hand the seccomp notify fd to the agent at linux.seccomp.listenerPath " +
                           cfg.listener_path;
  auto sock = connect_unix(cfg.listener_path);
  if (!sock) return ctx(std::move(sock).error(), what);
  const std::string msg = oci::container_process_state_json(state, pid, cfg.listener_metadata);
  TRY_CTX(send_fd(sock->get(), notify_fd, msg, "the container process state"), what);
  return {};
}

Result<> relay_seccomp_fd(int sync_sock, SyncPacket &pkt, const oci::Seccomp *cfg, const oci::State &state,
                          int pid) {
  if (!pkt.fd) return fail_msg("sync with container process: seccomp listener message without its fd");
  // plan_process refuses NOTIFY rules without a listenerPath.
  if (!cfg || cfg->listener_path.empty())
    return fail_msg("linux.seccomp.listenerPath: not set, but the filter has a notify listener");
  TRY(send_to_seccomp_agent(*cfg, pkt.fd.get(), state, pid));
  pkt.fd.reset();
  return sync_send(sync_sock, SyncMsg::SeccompDone);
}

} // namespace berth::runtime
