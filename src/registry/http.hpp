// HTTP for the registry client, over libcurl: HTTP/1.1 and HTTP/2 (over
// TLS), keep-alive (connections, DNS and TLS sessions shared by every thread
// of one Http), proxies from the environment (http_proxy, https_proxy,
// no_proxy, as curl reads them). Nothing here knows about registries.
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::registry {

// TLS towards one host (hosts.hpp fills it from certs.d and the settings).
struct Tls {
  bool verify = true;       // peer certificate and host name
  std::string ca_pem;       // extra CAs (PEM), trusted besides the system's
  std::string client_cert;  // a client certificate file (PEM), and its key
  std::string client_key;
};

struct Response;

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  // The body: upload_size bytes read from upload when set, else body.
  std::string_view body;
  std::function<Result<size_t>(std::span<std::byte>)> upload;
  uint64_t upload_size = 0;
  // A 2xx answer's body goes to sink as it arrives when set (blobs; head
  // holds the status and headers); any other body is kept in
  // Response::body, up to max_body bytes (more is an error: a registry
  // cannot make berth hold an unbounded answer).
  std::function<Result<>(const Response &head, std::span<const std::byte>)> sink;
  size_t max_body = 4u << 20;
  // Redirects (blob GETs go to storage) are followed; to another origin
  // without the Authorization header and with default TLS (the system's
  // CAs, verified): the registry's settings are for the registry.
  bool follow_redirects = true;
  // The whole exchange may take this long (0: no limit, for blobs; a
  // stalled transfer fails anyway).
  long timeout_seconds = 300;
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers; // names lower case, last answer only
  std::string body;
  std::string url;      // after redirects
  std::string redirect; // a 3xx's Location, absolute
  // The first header of that (lower-case) name, "" when absent.
  std::string header(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
};

// Errors of send() that did not come with an HTTP status (refused, reset,
// dropped mid-body, timed out) carry ECONNRESET, ECONNREFUSED or ETIMEDOUT;
// they are worth a retry. A TLS failure carries EPROTO and is not.
bool is_transient(const Error &e);

// "scheme://host:port" of url (the port filled in); "" when url does not parse.
std::string url_origin(const std::string &url);

// ref (a Location header) resolved against base as RFC 3986 says.
Result<std::string> resolve_url(const std::string &base, const std::string &ref);

class Http {
 public:
  static Result<Http> create();
  Http(Http &&) noexcept;
  Http &operator=(Http &&) noexcept;
  ~Http();
  // One exchange; redirects followed when asked. Thread-safe.
  Result<Response> send(const Request &r, const Tls &tls) const;

  struct Shared; // curl's share handle and its locks

 private:
  explicit Http(std::unique_ptr<Shared> s);
  Result<Response> send_once(const Request &r, const Tls &tls) const;
  std::unique_ptr<Shared> shared_;
};

} // namespace berth::registry
