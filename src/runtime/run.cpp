#include "runtime/create.hpp"
#include "runtime/relay.hpp"
#include "runtime/state_store.hpp"

#include <signal.h>

namespace berth::runtime {

Result<int> run(const GlobalOptions &g, const CreateOptions &o, bool detach, bool keep) {
  if (!detach) block_forwarded_signals();
  ASSIGN_OR_RETURN(Created c, create_container(g, o, !detach));
  Result<> started = start_locked(*c.dir, c.rec);
  c.dir.reset(); // the lock goes with it: remove takes it again
  if (!started) {
    (void)remove(g, o.id, true);
    if (!detach) (void)relay_and_wait(c.pid, c.pidfd.get(), -1);
    return fail(started.error());
  }
  if (detach) return 0;
  auto ws = relay_and_wait(c.pid, c.pidfd.get(), c.console ? c.console.get() : -1);
  if (!keep) {
    auto r = remove(g, o.id, true);
    if (!r && ws) return fail(r.error());
  }
  if (!ws) return fail(ws.error());
  return exit_status(*ws);
}

} // namespace berth::runtime
