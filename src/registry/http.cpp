#include "registry/http.hpp"

#include <strings.h>

namespace berth::registry {

std::string Response::header(std::string_view name) const {
  for (auto &[k, v] : headers)
    if (k == name) return v;
  return {};
}

std::vector<std::string> Response::all(std::string_view name) const {
  std::vector<std::string> out;
  for (auto &[k, v] : headers)
    if (k == name) out.push_back(v);
  return out;
}

bool is_transient(const Error &e) {
  return e.code() == ECONNRESET || e.code() == ECONNREFUSED || e.code() == ETIMEDOUT;
}

} // namespace berth::registry
