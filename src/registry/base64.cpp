#include "registry/base64.hpp"

#include <cstdint>

namespace berth::registry {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of c, -1 when c is not in the alphabet.
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

} // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8 | uint8_t(data[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = data.size() - i) {
    uint32_t v = uint32_t(uint8_t(data[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(data[i + 1])) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  size_t pad = 0;
  while (pad < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++pad;
  }
  // A lone character left over holds 6 bits: less than one byte.
  if (text.size() % 4 == 1) return fail_msg("invalid base64: truncated (length " + std::to_string(text.size()) + ")");
  if (pad && (text.size() + pad) % 4 != 0) return fail_msg("invalid base64: wrong padding");
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = sextet(text[i]);
    if (v < 0) {
      unsigned char c = uint8_t(text[i]);
      std::string what = c == '=' ? std::string("'=' before the end")
                         : c > ' ' && c < 127 ? "character '" + std::string(1, char(c)) + "'"
                                              : "byte " + std::to_string(c);
      return fail_msg("invalid base64: " + what + " at offset " + std::to_string(i));
    }
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char(acc >> bits & 0xff);
    }
  }
  // The bits below the last whole byte must be zero: otherwise two texts
  // would decode to the same bytes.
  if (bits && (acc & ((1u << bits) - 1))) return fail_msg("invalid base64: non-zero bits after the last byte");
  return out;
}

} // namespace berth::registry
