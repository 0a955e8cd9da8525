#include "registry/http.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <optional>

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

struct Http::Shared {
  CURLSH *share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  std::string system_cas; // the default CA bundle, read once (for CAINFO_BLOB)
  std::once_flag cas_once;
  ~Shared() {
    if (share) curl_share_cleanup(share);
  }
};

namespace {

void lock_cb(CURL *, curl_lock_data d, curl_lock_access, void *p) {
  static_cast<Http::Shared *>(p)->locks[d].lock();
}
void unlock_cb(CURL *, curl_lock_data d, void *p) { static_cast<Http::Shared *>(p)->locks[d].unlock(); }

// What one transfer collects; curl's callbacks see it.
struct Transfer {
  const Request &req;
  Response resp;
  std::optional<Error> failed; // set by a callback that stopped the transfer
  uint64_t sent = 0;
};

size_t on_header(char *p, size_t size, size_t n, void *ud) {
  auto &t = *static_cast<Transfer *>(ud);
  std::string_view line(p, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) { // a new answer (a redirect, 100 Continue): start over
    t.resp.headers.clear();
    auto sp = line.find(' ');
    t.resp.status = sp == line.npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == line.npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view v = line.substr(colon + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  t.resp.headers.emplace_back(std::move(name), std::string(v));
  return size * n;
}

size_t on_body(char *p, size_t size, size_t n, void *ud) {
  auto &t = *static_cast<Transfer *>(ud);
  size_t len = size * n;
  if (t.req.sink && t.resp.status / 100 == 2) {
    auto r = t.req.sink(t.resp, std::span(reinterpret_cast<const std::byte *>(p), len));
    if (!r) {
      t.failed = std::move(r).error();
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  if (t.resp.body.size() + len > t.req.max_body) {
    t.failed = Error::msg("the answer is larger than " + std::to_string(t.req.max_body) + " bytes");
    return CURL_WRITEFUNC_ERROR;
  }
  t.resp.body.append(p, len);
  return len;
}

size_t on_read(char *p, size_t size, size_t n, void *ud) {
  auto &t = *static_cast<Transfer *>(ud);
  auto r = t.req.upload(std::span(reinterpret_cast<std::byte *>(p), size * n));
  if (!r) {
    t.failed = std::move(r).error();
    return CURL_READFUNC_ABORT;
  }
  t.sent += *r;
  return *r;
}

int errno_of(CURLcode c) {
  switch (c) {
  case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
  case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_SEND_FAIL_REWIND: // a reused connection died under an upload: start over
    return ECONNRESET;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR: return EPROTO;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return EHOSTUNREACH;
  default: return EIO;
  }
}

struct Easy {
  CURL *h = curl_easy_init();
  curl_slist *headers = nullptr;
  ~Easy() {
    curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

} // namespace

Http::Http(std::unique_ptr<Shared> s) : shared_(std::move(s)) {}
Http::Http(Http &&) noexcept = default;
Http &Http::operator=(Http &&) noexcept = default;
Http::~Http() = default;

Result<Http> Http::create() {
  static CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) return fail_msg(std::string("initialise libcurl: ") + curl_easy_strerror(init));
  auto s = std::make_unique<Shared>();
  s->share = curl_share_init();
  if (!s->share) return fail_msg("initialise libcurl: curl_share_init failed");
  curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, lock_cb);
  curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, unlock_cb);
  curl_share_setopt(s->share, CURLSHOPT_USERDATA, s.get());
  for (auto d : {CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION})
    curl_share_setopt(s->share, CURLSHOPT_SHARE, d);
  return Http(std::move(s));
}

std::string url_origin(const std::string &url) {
  CURLU *u = curl_url();
  if (!u) return {};
  std::string out;
  char *scheme = nullptr, *host = nullptr, *port = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
    out = std::string(scheme) + "://" + host + ":" + port;
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return out;
}

Result<std::string> resolve_url(const std::string &base, const std::string &ref) {
  CURLU *u = curl_url();
  if (!u) return fail_msg("resolve " + ref + ": curl_url failed");
  char *full = nullptr;
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, base.c_str(), 0);
  if (rc == CURLUE_OK) rc = curl_url_set(u, CURLUPART_URL, ref.c_str(), 0);
  if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_URL, &full, 0);
  std::string out = rc == CURLUE_OK && full ? full : "";
  curl_free(full);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK) return fail_msg("resolve the URL \"" + ref + "\" against " + base + ": " + curl_url_strerror(rc));
  return out;
}

Result<Response> Http::send(const Request &r, const Tls &tls) const {
  Request cur = r;
  Tls t = tls;
  const std::string origin = url_origin(r.url);
  for (int hops = 0;; ++hops) {
    ASSIGN_OR_RETURN(Response resp, send_once(cur, t));
    bool redirect = resp.status == 301 || resp.status == 302 || resp.status == 303 || resp.status == 307 ||
                    resp.status == 308;
    // An upload's body cannot be sent twice: its redirect is the caller's.
    if (!r.follow_redirects || !redirect || resp.redirect.empty() || r.upload) return resp;
    if (hops == 10) return fail_msg(r.method + " " + r.url + ": more than 10 redirects");
    cur.url = resp.redirect;
    if (url_origin(cur.url) != origin) {
      t = Tls{};
      std::erase_if(cur.headers, [](const std::string &h) {
        return h.size() >= 14 && strncasecmp(h.c_str(), "authorization:", 14) == 0;
      });
    }
    if (resp.status == 303 || ((resp.status == 301 || resp.status == 302) && cur.method == "POST")) {
      cur.method = "GET";
      cur.body = {};
    }
  }
}

Result<Response> Http::send_once(const Request &r, const Tls &tls) const {
  std::string what = r.method + " " + r.url;
  Easy e;
  if (!e.h) return fail_msg(what + ": curl_easy_init failed");
  Transfer t{r, {}, {}};
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *h = e.h;
  curl_easy_setopt(h, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/0.1");
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (under 1 KiB/s for a minute) fails, to be retried.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, r.timeout_seconds);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); // send() follows, origin by origin
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);

  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
  std::string cas;
  if (!tls.ca_pem.empty()) {
    // CAINFO_BLOB replaces the default bundle: give it both.
    std::call_once(shared_->cas_once, [&] {
      char *path = nullptr;
      if (curl_easy_getinfo(h, CURLINFO_CAINFO, &path) == CURLE_OK && path) {
        if (FILE *f = std::fopen(path, "re")) {
          char buf[65536];
          size_t got;
          while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) shared_->system_cas.append(buf, got);
          std::fclose(f);
        }
      }
    });
    cas = shared_->system_cas + "\n" + tls.ca_pem;
    curl_blob blob{cas.data(), cas.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!tls.client_cert.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, tls.client_cert.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, tls.client_key.c_str());
  }

  for (auto &hd : r.headers) e.headers = curl_slist_append(e.headers, hd.c_str());
  e.headers = curl_slist_append(e.headers, "Expect:"); // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, e.headers);

  if (r.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r.upload) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r.upload_size);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else if (r.method != "GET") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r.body.size());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  CURLcode rc = curl_easy_perform(h);
  if (t.failed) return fail(std::move(*t.failed).with(what));
  if (rc != CURLE_OK) {
    std::string msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    return fail(Error(errno_of(rc), what + ": " + msg));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  t.resp.status = status;
  char *url = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) t.resp.url = url;
  char *loc = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) t.resp.redirect = loc;
  return std::move(t.resp);
}

} // namespace berth::registry
