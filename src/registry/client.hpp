// A client of one registry (distribution-spec): finds the way in (https,
// or http when the host is insecure), authenticates (anonymous, basic, or
// bearer tokens cached per scope and refreshed when they expire), retries
// with backoff (5xx, 429, dropped connections) and turns error answers into
// messages that say what the registry said. Thread-safe: pull fetches
// several blobs at once through one Client.
#pragma once

#include "common/error.hpp"
#include "oci/digest.hpp"
#include "oci/image.hpp"
#include "registry/credentials.hpp"
#include "registry/hosts.hpp"
#include "registry/http.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace berth::registry {

struct ClientOptions {
  HostOptions host;
  std::optional<Credentials> creds; // --creds; else what login stored
  std::string authfile;             // --authfile
};

// A manifest or an index as the registry served it (the bytes its digest
// is of).
struct Document {
  std::string bytes;
  std::string media_type;
  oci::Digest digest;
};

// Largest manifest or index accepted (the spec's registries take 4 MiB).
inline constexpr size_t kMaxManifest = 4u << 20;

class Client {
 public:
  static Result<Client> open(const Http &http, std::string_view registry, ClientOptions opts);
  Client(Client &&) noexcept;
  Client &operator=(Client &&) noexcept;
  ~Client();

  const Host &host() const;
  bool has_credentials() const;

  // GET /v2/ authenticated: reaches the registry and checks the
  // credentials (login).
  Result<> check();

  // reference: a tag or a digest. The bytes are checked against the digest
  // (the reference's, else the Docker-Content-Digest the registry sent).
  Result<Document> get_manifest(const std::string &repo, const std::string &reference);
  // HEAD of a manifest: its digest, or nullopt when there is none.
  Result<std::optional<oci::Digest>> head_manifest(const std::string &repo, const std::string &reference);

  // A blob's bytes, in order, each once, to sink; a dropped download
  // resumes where it stopped (Range). The caller checks the digest.
  Result<> get_blob(const std::string &repo, const oci::Descriptor &d,
                    const std::function<Result<>(std::span<const std::byte>)> &sink);
  // A small blob (a config), checked against its digest.
  Result<std::string> get_small_blob(const std::string &repo, const oci::Descriptor &d, size_t max = 16u << 20);

  // HEAD: whether repo has the blob.
  Result<bool> has_blob(const std::string &repo, const oci::Digest &d);
  // Mounts the blob from another repository of this registry; false when
  // the registry started an upload instead (it does not have it there).
  Result<bool> mount_blob(const std::string &repo, const oci::Digest &d, const std::string &from);
  // Uploads size bytes read by read_at(offset, buf) (returns how many,
  // 0 at the end): monolithic when chunk is 0, else chunk bytes per PATCH.
  using ReadAt = std::function<Result<size_t>(uint64_t offset, std::span<std::byte> buf)>;
  Result<> put_blob(const std::string &repo, const oci::Descriptor &d, const ReadAt &read_at, uint64_t chunk = 0);
  // PUT of a manifest or index under reference (a tag or its digest).
  Result<> put_manifest(const std::string &repo, const std::string &reference, const Document &doc);

  struct State; // the way in and the auth state, shared by threads

 private:
  explicit Client(std::unique_ptr<State> s);
  std::unique_ptr<State> st_;
};

// The Accept header of manifest requests: OCI and Docker schema 2.
extern const char *const kManifestAccept;

} // namespace berth::registry
