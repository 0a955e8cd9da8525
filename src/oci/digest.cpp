#include "oci/digest.hpp"

#include <openssl/evp.h>

#include <utility>

namespace berth::oci {
namespace {

size_t hex_len(DigestAlgo a) { return a == DigestAlgo::sha256 ? 64 : 128; }
const EVP_MD *md(DigestAlgo a) { return a == DigestAlgo::sha256 ? EVP_sha256() : EVP_sha512(); }

} // namespace

Result<Digest> Digest::parse(std::string_view s) {
  auto bad = [&](const char *why) {
    return fail_msg("invalid digest '" + std::string(s.substr(0, 200)) + "': " + why);
  };
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return bad("expected algorithm:hex");
  Digest d;
  std::string_view algo = s.substr(0, colon), hex = s.substr(colon + 1);
  if (algo == "sha256") d.algo = DigestAlgo::sha256;
  else if (algo == "sha512") d.algo = DigestAlgo::sha512;
  else return bad("unsupported algorithm (sha256 and sha512 are)");
  if (hex.size() != hex_len(d.algo)) return bad("wrong length of the hex part");
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("the hex part must be lower-case hex digits");
  d.hex = hex;
  return d;
}

std::string_view Digest::algo_name() const { return algo == DigestAlgo::sha256 ? "sha256" : "sha512"; }

std::string Digest::str() const { return std::string(algo_name()) + ":" + hex; }

Hasher::Hasher(DigestAlgo algo) : algo_(algo), ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX *>(ctx_), md(algo), nullptr);
}

Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(ctx_)); }

Hasher::Hasher(Hasher &&o) noexcept : algo_(o.algo_), ctx_(std::exchange(o.ctx_, nullptr)) {}

Hasher &Hasher::operator=(Hasher &&o) noexcept {
  if (this != &o) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(ctx_));
    algo_ = o.algo_;
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

void Hasher::update(const void *data, size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX *>(ctx_), data, n);
}

Digest Hasher::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX *>(ctx_), out, &n);
  static const char digits[] = "0123456789abcdef";
  Digest d{algo_, std::string(n * 2, '0')};
  for (unsigned i = 0; i < n; ++i) {
    d.hex[2 * i] = digits[out[i] >> 4];
    d.hex[2 * i + 1] = digits[out[i] & 15];
  }
  return d;
}

Digest digest_of(std::string_view data, DigestAlgo algo) {
  Hasher h(algo);
  h.update(data.data(), data.size());
  return h.finish();
}

} // namespace berth::oci
