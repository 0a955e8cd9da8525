#include "common/error.hpp"

#include <cstring>

namespace berth {

Error Error::sys(int err, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += strerror(err);
  return Error(err, std::move(m));
}

std::unexpected<Error> fail_hint(int err, std::string what, const char *hint) {
  what += ": ";
  what += strerror(err);
  if (hint) {
    what += " (";
    what += hint;
    what += ')';
  }
  return std::unexpected(Error(err, std::move(what)));
}

Error &Error::context(std::string_view c) {
  std::string m(c);
  if (!msg_.empty()) {
    m += ": ";
    m += msg_;
  }
  msg_ = std::move(m);
  return *this;
}

} // namespace berth
