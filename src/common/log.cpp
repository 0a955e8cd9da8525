#include "common/log.hpp"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace berth::log {

namespace {
void stderr_sink(Level l, std::string_view msg) {
  std::fprintf(stderr, "%s: %.*s\n", level_name(l), int(msg.size()), msg.data());
}
Sink g_sink = stderr_sink;
Level g_min = Level::Warn;
} // namespace

void set_sink(Sink s) { g_sink = s ? s : stderr_sink; }
void set_min_level(Level l) { g_min = l; }

void write(Level l, std::string_view msg) {
  if (l < g_min) return;
  g_sink(l, msg);
}

const char *level_name(Level l) {
  switch (l) {
  case Level::Debug: return "debug";
  case Level::Info: return "info";
  case Level::Warn: return "warning";
  case Level::Error: return "error";
  }
  return "error";
}

std::string_view now_rfc3339(char (&buf)[40]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  n += size_t(snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec));
  return {buf, n};
}

} // namespace berth::log
