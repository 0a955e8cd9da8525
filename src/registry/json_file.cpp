#include "registry/json_file.hpp"

#include "common/file.hpp"

namespace berth::registry {

Result<std::optional<nlohmann::json>> read_json_object(const std::string &path, size_t max_bytes) {
  auto text = read_file(path, max_bytes);
  if (!text) {
    if (text.error().code() == ENOENT) return std::nullopt;
    return fail(std::move(text).error());
  }
  if (text->find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception &e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string_view w = e.what();
    if (auto p = w.find("] "); p != std::string_view::npos) w.remove_prefix(p + 2);
    return fail_msg("parse " + path + ": invalid JSON: " + std::string(w));
  }
  if (!j.is_object()) return fail_msg("parse " + path + ": expected a JSON object, got " + j.type_name());
  return j;
}

} // namespace berth::registry
