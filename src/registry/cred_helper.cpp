#include "registry/cred_helper.hpp"

#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

extern char **environ;

namespace berth::registry {

namespace {

using nlohmann::json;

// A helper answers with one small JSON object; more than this is a broken
// (or hostile) helper, not credentials.
constexpr size_t kMaxOutput = 1u << 20;
// What docker's helpers print when they have nothing for a URL.
constexpr std::string_view kNotFound = "credentials not found";
// docker's marker for an identity token in place of a user name.
constexpr std::string_view kTokenUser = "<token>";

struct Output {
  int status = 0; // as from waitpid
  std::string out, err;
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  // What the helper said, for messages: stdout (where docker's helpers
  // write their errors), else stderr; never a stdout that holds a secret.
  std::string said() const {
    bool secret = out.find("Secret") != std::string::npos || out.find("secret") != std::string::npos;
    std::string_view s = !secret && out.find_first_not_of(" \t\r\n") != std::string::npos ? out : err;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
    return std::string(s.substr(0, 500));
  }
  bool not_found() const { return out.find(kNotFound) != std::string::npos || err.find(kNotFound) != std::string::npos; }
  std::string how_it_ended() const {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
  }
};

// The owner of a spawned helper: kills and reaps it when the exchange
// failed half-way, so that no helper outlives the call.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  Result<int> wait(const std::string &what) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0)
      if (errno != EINTR) return fail_errno(what + ": wait");
    pid = -1;
    return st;
  }
};

// Appends what fd has to buf; false at its end.
Result<bool> drain(int fd, std::string &buf, const std::string &what) {
  char chunk[4096];
  ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? Result<bool>(true) : fail_errno(what + ": read its output");
  if (n == 0) return false;
  if (buf.size() + size_t(n) > kMaxOutput)
    return fail_msg(what + ": more than " + std::to_string(kMaxOutput) + " bytes of output");
  buf.append(chunk, size_t(n));
  return true;
}

// Runs docker-credential-NAME ACTION with input on stdin, no shell, and
// collects its output (bounded).
Result<Output> run(std::string_view name, const char *action, std::string_view input) {
  std::string prog = "docker-credential-" + std::string(name);
  std::string what = "credential helper " + prog + " " + action;
  // A name is a suffix looked up on $PATH, never a path: the auth file must
  // not be able to run an arbitrary program.
  if (name.empty() || name.find('/') != std::string_view::npos)
    return fail_msg(what + ": invalid helper name '" + std::string(name) + "'");

  int in[2], out[2], err[2];
  // stdin is a socket: writing to a helper that does not read gets EPIPE
  // (MSG_NOSIGNAL), not SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) return fail_errno(what + ": socketpair");
  UniqueFd in_child(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) < 0) return fail_errno(what + ": pipe");
  UniqueFd out_r(out[0]), out_child(out[1]);
  if (::pipe2(err, O_CLOEXEC) < 0) return fail_errno(what + ": pipe");
  UniqueFd err_r(err[0]), err_child(err[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_child.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_child.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_child.get(), 2);
  // berth ignores SIGPIPE and may block signals; the helper gets defaults.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *argv[] = {prog.data(), const_cast<char *>(action), nullptr};
  Child child;
  int rc = ::posix_spawnp(&child.pid, prog.c_str(), &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    child.pid = -1;
    return fail_hint(rc, "run " + what, rc == ENOENT ? "is it installed and on $PATH?" : nullptr);
  }
  in_child.reset();
  out_child.reset();
  err_child.reset();

  Output res;
  size_t sent = 0;
  if (input.empty()) in_w.reset();
  // A helper waiting on a locked keychain's prompt must not hang berth
  // (docker waits for ever); the Child is killed when this returns.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out_r || err_r) {
    pollfd p[3] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}, {in_w.get(), POLLOUT, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail_msg(what + ": no answer within 60 s");
    int n = ::poll(p, 3, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(what + ": poll");
    }
    if (p[2].revents) {
      ssize_t n = ::send(in_w.get(), input.data() + sent, input.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += size_t(n);
      // A helper that stops reading early is judged by its answer.
      if ((n < 0 && errno != EINTR && errno != EAGAIN) || sent == input.size()) in_w.reset();
    }
    for (auto [i, fd, buf] : {std::tuple{0, &out_r, &res.out}, std::tuple{1, &err_r, &res.err}}) {
      if (!p[i].revents) continue;
      ASSIGN_OR_RETURN(bool more, drain(fd->get(), *buf, what));
      if (!more) fd->reset();
    }
  }
  in_w.reset();
  ASSIGN_OR_RETURN(res.status, child.wait(what));
  return res;
}

Result<> failed(const Output &o, std::string_view name, const char *action, std::string_view url) {
  std::string m = "credential helper docker-credential-" + std::string(name) + " " + action + " for " +
                  std::string(url) + ": " + o.how_it_ended();
  if (auto s = o.said(); !s.empty()) m += ": " + s;
  return fail_msg(std::move(m));
}

} // namespace

Result<std::optional<Credentials>> helper_get(std::string_view name, std::string_view server_url) {
  ASSIGN_OR_RETURN(Output o, run(name, "get", server_url));
  if (!o.ok()) {
    if (o.not_found()) return std::nullopt;
    TRY(failed(o, name, "get", server_url));
  }
  std::string what = "credential helper docker-credential-" + std::string(name) + " get for " + std::string(server_url);
  json j = json::parse(o.out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail_msg(what + ": its answer is not a JSON object: " + o.said());
  auto field = [&](const char *k) -> Result<std::string> {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) return fail_msg(what + ": \"" + k + "\" is not a string");
    return it->get<std::string>();
  };
  ASSIGN_OR_RETURN(std::string user, field("Username"));
  ASSIGN_OR_RETURN(std::string secret, field("Secret"));
  // Some helpers answer an empty object rather than "not found".
  if (user.empty() && secret.empty()) return std::nullopt;
  Credentials c;
  if (user == kTokenUser) c.identity_token = std::move(secret);
  else c.username = std::move(user), c.password = std::move(secret);
  return c;
}

Result<> helper_store(std::string_view name, std::string_view server_url, const Credentials &c) {
  json j = {{"ServerURL", std::string(server_url)}};
  if (!c.identity_token.empty()) j["Username"] = kTokenUser, j["Secret"] = c.identity_token;
  else j["Username"] = c.username, j["Secret"] = c.password;
  std::string input;
  try {
    input = j.dump();
  } catch (const json::exception &) {
    // JSON strings are UTF-8: the protocol cannot carry other bytes.
    return fail_msg("credential helper docker-credential-" + std::string(name) + " store for " +
                    std::string(server_url) + ": the user name or password is not valid UTF-8");
  }
  ASSIGN_OR_RETURN(Output o, run(name, "store", input));
  if (!o.ok()) return failed(o, name, "store", server_url);
  return {};
}

Result<bool> helper_erase(std::string_view name, std::string_view server_url) {
  ASSIGN_OR_RETURN(Output o, run(name, "erase", server_url));
  if (o.ok()) return true;
  if (o.not_found()) return false;
  TRY(failed(o, name, "erase", server_url));
  return false;
}

} // namespace berth::registry
