// Content digests as the image spec writes them: "algorithm:hex".
// sha256 and sha512 (libcrypto, which uses SHA-NI where the CPU has it).
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace berth::oci {

enum class DigestAlgo { sha256, sha512 };

struct Digest {
  DigestAlgo algo = DigestAlgo::sha256;
  std::string hex; // lower case, 64 (sha256) or 128 (sha512) digits

  // "sha256:<64 hex>" or "sha512:<128 hex>"; anything else (upper case,
  // other algorithms, wrong length) is an error naming the input.
  static Result<Digest> parse(std::string_view s);
  std::string str() const;          // "sha256:…"
  std::string_view algo_name() const; // "sha256"
  bool operator==(const Digest &) const = default;
};

// Hashes a stream as it passes; finish() once.
class Hasher {
 public:
  explicit Hasher(DigestAlgo algo = DigestAlgo::sha256);
  ~Hasher();
  Hasher(Hasher &&) noexcept;
  Hasher &operator=(Hasher &&) noexcept;
  void update(const void *data, size_t n);
  Digest finish();
  DigestAlgo algo() const { return algo_; }

 private:
  DigestAlgo algo_;
  void *ctx_ = nullptr; // EVP_MD_CTX
};

Digest digest_of(std::string_view data, DigestAlgo algo = DigestAlgo::sha256);

} // namespace berth::oci
