#include "linux/signals.hpp"

#include <csignal>
#include <cctype>

namespace berth::linuxf {

namespace {

struct Name {
  const char *name; // without "SIG"
  int sig;
};

// signal(7), from the platform's own numbers. The first entry for a number is
// the name signal_name prints; later ones are aliases parse_signal accepts.
constexpr Name kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},     {"CLD", SIGCHLD},      {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},         {"POLL", SIGPOLL},
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    {"SYS", SIGSYS},
};

std::string upper(std::string_view s) {
  std::string r(s);
  for (char &c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

// Decimal digits only, no sign: -1 when not a number (or absurdly long).
int parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 9) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-1" (already upper-cased, no "SIG").
// SIGRTMIN is glibc's (34): 32 and 33 belong to the C library's threads.
int parse_realtime(std::string_view s) {
  const bool min = s.starts_with("RTMIN"), max = s.starts_with("RTMAX");
  if (!min && !max) return -1;
  std::string_view rest = s.substr(5);
  const int base = min ? SIGRTMIN : SIGRTMAX;
  if (rest.empty()) return base;
  if (rest[0] != (min ? '+' : '-')) return -1;
  const int off = parse_uint(rest.substr(1));
  if (off < 0) return -1;
  const int sig = min ? base + off : base - off;
  return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
}

} // namespace

Result<int> parse_signal(std::string_view s) {
  auto invalid = [&] { return fail_msg("invalid signal \"" + std::string(s) + "\""); };
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    // 0 only probes for the process: not a signal to send.
    const int n = parse_uint(s);
    if (n < 1 || n > SIGRTMAX) return invalid();
    return n;
  }
  std::string u = upper(s);
  std::string_view name = u;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const Name &n : kSignals)
    if (name == n.name) return n.sig;
  const int rt = parse_realtime(name);
  if (rt < 0) return invalid();
  return rt;
}

std::string signal_name(int sig) {
  for (const Name &n : kSignals)
    if (n.sig == sig) return std::string("SIG") + n.name;
  if (sig == SIGRTMIN) return "SIGRTMIN";
  if (sig == SIGRTMAX) return "SIGRTMAX";
  if (sig > SIGRTMIN && sig < SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  // No name (32, 33, out of range): the number, which parse_signal reads back.
  return std::to_string(sig);
}

} // namespace berth::linuxf
