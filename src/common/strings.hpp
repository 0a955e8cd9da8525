// Splitting text without streams: <sstream> and <iostream> bring the
// locale machinery, whose start-up is a large part of a short command's
// resident memory.
#pragma once

#include <string_view>
#include <vector>

namespace berth {

// Blank-separated words (spaces and tabs).
inline std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> w;
  while (!line.empty()) {
    auto b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos) break;
    line.remove_prefix(b);
    auto e = line.find_first_of(" \t");
    w.push_back(line.substr(0, e));
    line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  }
  return w;
}

// The parts between sep (empty ones included; "" gives none).
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
    if (s.empty()) out.emplace_back();
  }
  return out;
}

// Calls f on each line of text (without its '\n').
template <class F> void each_line(std::string_view text, F f) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    f(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

} // namespace berth
