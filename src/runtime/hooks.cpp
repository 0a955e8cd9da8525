#include "runtime/hooks.hpp"

#include "common/file.hpp"
#include "common/log.hpp"
#include "common/syscalls.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

namespace berth::runtime {

namespace {

long long now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

Result<> run_hook(const oci::Hook &h, const std::string &stage, const std::string &state) {
  const std::string what = stage + " hook " + h.path;
  int in[2], out[2];
  // stdin is a socket so that writing to a hook that never reads gets EPIPE
  // (MSG_NOSIGNAL) instead of SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) return fail_errno(what + ": socketpair");
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) < 0) return fail_errno(what + ": pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);

  std::vector<char *> argv, envp;
  std::string path = h.path;
  for (auto &a : h.args) argv.push_back(const_cast<char *>(a.c_str()));
  if (argv.empty()) argv.push_back(path.data());
  argv.push_back(nullptr);
  for (auto &e : h.env) envp.push_back(const_cast<char *>(e.c_str()));
  envp.push_back(nullptr);

  const pid_t runtime = ::getpid();
  int pidfd = -1;
  pid_t pid = sys::clone3(CLONE_PIDFD, SIGCHLD, -1, &pidfd);
  if (pid < 0) return fail_errno(what + ": fork");
  if (pid == 0) {
    // The hook dies with the process that waits for it and enforces its
    // timeout: a runtime killed mid-create leaves no hook running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != runtime) ::_exit(1);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 2);
    // The hook's stdout goes where its stderr goes: into the error message.
    ::dup2(out_w.get(), 1);
    ::execve(path.c_str(), argv.data(), envp.data());
    ::dprintf(2, "exec: %s", strerror(errno));
    ::_exit(127);
  }
  UniqueFd pfd(pidfd);
  in_r.reset();
  out_w.reset();
  for (size_t off = 0; off < state.size();) {
    ssize_t n = ::send(in_w.get(), state.data() + off, state.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; // the hook does not read its stdin: fine
    off += size_t(n);
  }
  in_w.reset();

  std::string output;
  long long deadline = h.timeout ? now_ms() + *h.timeout * 1000LL : -1;
  bool timed_out = false, exited = false;
  while (!exited) {
    struct pollfd p[2] = {{pfd.get(), POLLIN, 0}, {out_r.get(), POLLIN, 0}};
    int nfds = out_r ? 2 : 1;
    int wait = deadline < 0 ? -1 : int(std::max(0LL, deadline - now_ms()));
    int n = ::poll(p, nfds, wait);
    if (n < 0 && errno != EINTR) return fail_errno(what + ": poll");
    if (n == 0) {
      timed_out = true;
      sys::pidfd_send_signal(pfd.get(), SIGKILL);
      break;
    }
    if (nfds == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t r = ::read(out_r.get(), buf, sizeof buf);
      if (r <= 0) out_r.reset();
      else if (output.size() < 4096) output.append(buf, size_t(r));
    }
    if (p[0].revents & POLLIN) exited = true;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  std::string tail = output.empty() ? "" : ": " + output;
  if (timed_out) return fail_msg(what + ": timed out after " + std::to_string(*h.timeout) + "s" + tail);
  if (WIFSIGNALED(status))
    return fail_msg(what + ": killed by signal " + std::to_string(WTERMSIG(status)) + tail);
  if (WEXITSTATUS(status) != 0)
    return fail_msg(what + ": exited with status " + std::to_string(WEXITSTATUS(status)) + tail);
  return {};
}

} // namespace

Result<> run_hooks(const std::vector<oci::Hook> &hooks, const std::string &stage,
                   const std::string &state_json) {
  for (auto &h : hooks) TRY(run_hook(h, stage, state_json));
  return {};
}

void run_hooks_warn(const std::vector<oci::Hook> &hooks, const std::string &stage,
                    const std::string &state_json) {
  for (auto &h : hooks) {
    auto r = run_hook(h, stage, state_json);
    if (!r) log::warn(r.error().message());
  }
}

std::string hooks_to_json(const std::vector<oci::Hook> &hooks) {
  nlohmann::json a = nlohmann::json::array();
  for (auto &h : hooks) {
    nlohmann::json j = {{"path", h.path}};
    if (!h.args.empty()) j["args"] = h.args;
    if (!h.env.empty()) j["env"] = h.env;
    if (h.timeout) j["timeout"] = *h.timeout;
    a.push_back(j);
  }
  return a.dump();
}

std::vector<oci::Hook> hooks_from_json(const std::string &json) {
  std::vector<oci::Hook> out;
  auto a = nlohmann::json::parse(json, nullptr, false);
  if (!a.is_array()) return out;
  auto strings = [](const nlohmann::json &j, const char *key, std::vector<std::string> &v) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_array()) return false;
    for (auto &s : *it) {
      if (!s.is_string()) return false;
      v.push_back(s.get<std::string>());
    }
    return true;
  };
  // Written by hooks_to_json; an entry of any other shape (a damaged state
  // file) is skipped with a warning, never thrown or converted out of range.
  for (auto &j : a) {
    oci::Hook h;
    auto path = j.is_object() ? j.find("path") : j.end();
    auto timeout = j.is_object() ? j.find("timeout") : j.end();
    bool ok = j.is_object() && path != j.end() && path->is_string() && strings(j, "args", h.args) &&
              strings(j, "env", h.env) &&
              (timeout == j.end() || (timeout->is_number_integer() && timeout->get<int64_t>() > 0 &&
                                      timeout->get<int64_t>() <= INT32_MAX));
    if (!ok) {
      log::warn("skipping a malformed hook entry in the container's state");
      continue;
    }
    h.path = path->get<std::string>();
    if (timeout != j.end()) h.timeout = int(timeout->get<int64_t>());
    out.push_back(std::move(h));
  }
  return out;
}

} // namespace berth::runtime
