// Logging: the library reports warnings and debug records here; the CLI
// decides where they go (stderr, a --log file, text or json).
#pragma once

#include <string_view>

namespace berth::log {

enum class Level { Debug, Info, Warn, Error };

// Sink installed by the CLI. Default: warnings and errors to stderr as text.
using Sink = void (*)(Level, std::string_view msg);
void set_sink(Sink s);
void set_min_level(Level l);

void write(Level l, std::string_view msg);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warn, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

const char *level_name(Level l);

// RFC 3339 UTC time with nanoseconds: "2026-11-29T01:02:03.123456789Z".
std::string_view now_rfc3339(char (&buf)[40]);

} // namespace berth::log
