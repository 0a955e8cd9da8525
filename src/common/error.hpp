// Error and Result: every fallible function returns Result<T>.
// An Error carries errno (0 when not a system error) and a message built from
// context, outermost first: "mount proc on /x/rootfs/proc: Operation not permitted".
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace berth {

class Error {
public:
  Error() = default;
  Error(int err, std::string msg) : errno_(err), msg_(std::move(msg)) {}

  // A plain error with no errno: bad input, protocol violations.
  static Error msg(std::string m) { return Error(0, std::move(m)); }
  // A system call failure: "what: strerror(err)".
  static Error sys(int err, std::string_view what);
  // Shorthand for Error::sys(errno, what), errno read at the call.
  static Error last(std::string_view what) { return sys(errno, what); }

  // Prefixes context: "ctx: previous message". Returns *this for chaining.
  Error &context(std::string_view ctx);
  Error with(std::string_view ctx) && { context(ctx); return std::move(*this); }
  Error with(std::string_view ctx) const & { Error e = *this; e.context(ctx); return e; }

  int code() const { return errno_; }
  const std::string &message() const { return msg_; }

private:
  int errno_ = 0;
  std::string msg_;
};

template <class T = void> using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Error e) { return std::unexpected(std::move(e)); }
inline std::unexpected<Error> fail_msg(std::string m) { return std::unexpected(Error::msg(std::move(m))); }
inline std::unexpected<Error> fail_errno(std::string_view what) { return std::unexpected(Error::last(what)); }
inline std::unexpected<Error> fail_sys(int err, std::string_view what) { return std::unexpected(Error::sys(err, what)); }
// "what: strerror(err) (hint)": the likely reason, for errors users hit often.
std::unexpected<Error> fail_hint(int err, std::string what, const char *hint);

// Adds context to an error on the way up: return ctx(std::move(r).error(), "...").
inline std::unexpected<Error> ctx(Error e, std::string_view c) { return std::unexpected(std::move(e).with(c)); }

} // namespace berth

// Propagates an error from a Result<void> or Result<T> expression.
#define TRY(expr)                                                   \
  do {                                                              \
    auto &&_r = (expr);                                             \
    if (!_r) return std::unexpected(std::move(_r).error());         \
  } while (0)

// Same, prefixing context.
#define TRY_CTX(expr, c)                                            \
  do {                                                              \
    auto &&_r = (expr);                                             \
    if (!_r) return std::unexpected(std::move(_r).error().with(c)); \
  } while (0)

// Assigns the value of a Result<T> expression or propagates its error.
#define BERTH_CAT2(a, b) a##b
#define BERTH_CAT(a, b) BERTH_CAT2(a, b)
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(BERTH_CAT(_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                       \
  auto tmp = (expr);                                                \
  if (!tmp) return std::unexpected(std::move(tmp).error());         \
  lhs = std::move(*tmp)
