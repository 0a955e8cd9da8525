#include "registry/client.hpp"

#include "registry/auth.hpp"
#include "registry/errors.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace berth::registry {

const char *const kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct Client::State {
  const Http &http;
  Host host;
  std::optional<Credentials> creds;
  std::mutex ping_mu; // one thread finds the way in; the others wait for it
  std::mutex mu;      // guards what follows
  std::string base;                       // "https://api" or "http://api", after ping
  std::optional<Challenge> challenge;     // how the registry wants to be asked
  std::map<std::string, Token> tokens;    // by scopes, space-separated
};

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kAttempts = 5; // 1 + 4 retries: 0.25, 0.5, 1 and 2 s apart

// Hooks of one exchange: prepare the request before each attempt (Range,
// rewinding an upload); progress says whether the last attempt moved on
// (then a dropped download does not count against the attempts).
struct Attempts {
  std::function<void(Request &)> prepare;
  std::function<uint64_t()> progress;
  // An upload's PATCH or PUT: a retry could repeat what the registry took;
  // put_blob starts over instead.
  bool once = false;
};

std::string join_scopes(const std::vector<std::string> &scopes) {
  std::string k;
  for (auto &s : scopes) k += (k.empty() ? "" : " ") + s;
  return k;
}

// How to reach the token server: the registry's TLS when it is the same
// origin; else that host's own certs.d (verified: the registry's being
// insecure says nothing of it). Credentials go to it only over https,
// unless the registry itself is reached over plain http.
Result<Tls> realm_tls(const Client::State &st, const std::string &realm) {
  std::string origin = url_origin(realm);
  if (origin.empty()) return fail_msg("the token realm \"" + realm + "\" is not a URL");
  if (origin == url_origin(st.base)) return st.host.tls;
  if (!origin.starts_with("https://") && !st.base.starts_with("http://"))
    return fail_msg("the token realm " + realm + " is not https while the registry is: refused (it would see the " +
                    "credentials in clear)");
  std::string hostport = origin.substr(origin.find("://") + 3);
  if (hostport.ends_with(":443")) hostport.resize(hostport.size() - 4);
  auto h = resolve_host(hostport, {.tls_verify = true, .cert_dir = {}});
  return h ? h->tls : Tls{};
}

// The auth header for scopes, fetching a token when there is none cached or
// it expired. Under st.mu.
Result<std::string> auth_header(Client::State &st, const std::vector<std::string> &scopes) {
  if (!st.challenge) return std::string();
  if (st.challenge->scheme == "basic") return st.creds ? "Authorization: " + basic_header(*st.creds) : std::string();
  if (st.challenge->scheme != "bearer") return std::string();
  std::string key = join_scopes(scopes);
  auto it = st.tokens.find(key);
  if (it == st.tokens.end() || Clock::now() >= it->second.expires) {
    ASSIGN_OR_RETURN(Tls tls, realm_tls(st, st.challenge->params["realm"]));
    ASSIGN_OR_RETURN(Token t, fetch_token(st.http, tls, *st.challenge, scopes, st.creds));
    it = st.tokens.insert_or_assign(key, std::move(t)).first;
  }
  return "Authorization: Bearer " + it->second.value;
}

void remember_challenge(Client::State &st, const Response &r) {
  std::optional<Challenge> basic;
  for (auto &h : r.all("www-authenticate"))
    for (auto &c : parse_challenges(h)) {
      if (c.scheme == "bearer") {
        st.challenge = c;
        return;
      }
      if (c.scheme == "basic") basic = c;
    }
  if (basic) st.challenge = basic;
}

bool worth_retry(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

std::chrono::milliseconds backoff(int attempt, const Response *r) {
  if (r && r->status == 429) {
    long secs = std::atol(r->header("retry-after").c_str());
    if (secs > 0) return std::chrono::milliseconds(std::min(secs, 30L) * 1000);
  }
  return std::chrono::milliseconds(250 << attempt);
}

// One request, authenticated and retried. with_auth false: the ping.
Result<Response> exchange(Client::State &st, Request req, const std::vector<std::string> &scopes,
                          const Attempts &a = {}, bool with_auth = true) {
  const auto base_headers = req.headers;
  bool reauthed = false;
  uint64_t moved = a.progress ? a.progress() : 0;
  for (int attempt = 0;; ++attempt) {
    req.headers = base_headers;
    if (a.prepare) a.prepare(req);
    if (with_auth) {
      // Credentials and tokens are for the registry: an upload Location on
      // another origin gets none.
      std::lock_guard lock(st.mu);
      if (url_origin(req.url) == url_origin(st.base)) {
        ASSIGN_OR_RETURN(std::string h, auth_header(st, scopes));
        if (!h.empty()) req.headers.push_back(std::move(h));
      }
    }
    auto r = st.http.send(req, st.host.tls);
    if (a.progress) { // bytes got through: a fresh start for the count
      uint64_t now = a.progress();
      if (now > moved) attempt = 0;
      moved = now;
    }
    if (!r) {
      if (is_transient(r.error()) && !a.once && attempt + 1 < kAttempts) {
        std::this_thread::sleep_for(backoff(attempt, nullptr));
        continue;
      }
      return r;
    }
    if (r->status == 401 && with_auth && !reauthed) {
      // A first challenge, an expired token or one of too narrow a scope.
      std::lock_guard lock(st.mu);
      remember_challenge(st, *r);
      st.tokens.erase(join_scopes(scopes));
      reauthed = true;
      if (st.challenge && (st.challenge->scheme == "bearer" || st.creds)) {
        --attempt;
        continue;
      }
    }
    if (worth_retry(r->status) && !a.once && attempt + 1 < kAttempts) {
      std::this_thread::sleep_for(backoff(attempt, &*r));
      continue;
    }
    return r;
  }
}

// Decides the way in (once): https; for an insecure host, http when https
// fails. Learns the challenge of /v2/.
Result<std::string> base_url(Client::State &st) {
  std::lock_guard ping(st.ping_mu);
  {
    std::lock_guard lock(st.mu);
    if (!st.base.empty()) return st.base;
  }
  std::vector<std::string> bases = {"https://" + st.host.api};
  if (st.host.insecure) bases.push_back("http://" + st.host.api);
  std::optional<Error> first;
  for (auto &b : bases) {
    Request req;
    req.url = b + "/v2/";
    req.max_body = 64u << 10;
    auto r = exchange(st, req, {}, {}, false);
    if (!r) {
      if (!first) first = r.error();
      continue;
    }
    std::lock_guard lock(st.mu);
    if (r->status == 401) remember_challenge(st, *r);
    st.base = b;
    return st.base;
  }
  Error e = std::move(*first);
  if (e.code() == EPROTO && !st.host.insecure)
    e = Error(e.code(), e.message() + " (for a plain-HTTP or untrusted registry: --tls-verify=false, "
                                      "or its CA in certs.d or --cert-dir)");
  return fail(std::move(e).with("reach the registry " + st.host.name));
}

std::string repo_scope(const std::string &repo, const char *actions) { return "repository:" + repo + ":" + actions; }

std::string escaped_digest(const oci::Digest &d) {
  std::string s = d.str();
  auto c = s.find(':');
  return s.substr(0, c) + "%3A" + s.substr(c + 1);
}

} // namespace

Client::Client(std::unique_ptr<State> s) : st_(std::move(s)) {}
Client::Client(Client &&) noexcept = default;
Client &Client::operator=(Client &&) noexcept = default;
Client::~Client() = default;

Result<Client> Client::open(const Http &http, std::string_view registry, ClientOptions opts) {
  ASSIGN_OR_RETURN(Host host, resolve_host(registry, opts.host));
  std::optional<Credentials> creds = std::move(opts.creds);
  if (!creds) {
    ASSIGN_OR_RETURN(creds, find_credentials(registry, opts.authfile));
  }
  auto st = std::unique_ptr<State>(new State{http, std::move(host), std::move(creds)});
  return Client(std::move(st));
}

const Host &Client::host() const { return st_->host; }
bool Client::has_credentials() const { return st_->creds.has_value(); }

Result<> Client::check() {
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  Request req;
  req.url = base + "/v2/";
  req.max_body = 64u << 10;
  ASSIGN_OR_RETURN(Response r, exchange(*st_, req, {}));
  if (r.status != 200) return fail(status_error(r, "log in to " + st_->host.name, has_credentials()));
  return {};
}

Result<Document> Client::get_manifest(const std::string &repo, const std::string &reference) {
  std::string what = "fetch the manifest " + repo + (reference.find(':') != std::string::npos ? "@" : ":") +
                     reference + " from " + st_->host.name;
  auto want = oci::Digest::parse(reference); // a tag does not parse
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  Request req;
  req.url = base + "/v2/" + repo + "/manifests/" + reference;
  req.headers.push_back(kManifestAccept);
  req.max_body = kMaxManifest;
  auto r = exchange(*st_, req, {repo_scope(repo, "pull")});
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status != 200) return fail(status_error(*r, what, has_credentials()));
  Document doc;
  doc.bytes = std::move(r->body);
  doc.media_type = r->header("content-type");
  if (auto semi = doc.media_type.find(';'); semi != std::string::npos) doc.media_type.resize(semi);
  // Checked against what was asked for, else against what the registry says
  // it sent (Docker-Content-Digest).
  std::optional<oci::Digest> expect;
  if (want) expect = *want;
  else if (auto d = oci::Digest::parse(r->header("docker-content-digest")); d) expect = *d;
  doc.digest = oci::digest_of(doc.bytes, expect ? expect->algo : oci::DigestAlgo::sha256);
  if (expect && doc.digest != *expect)
    return fail_msg(what + ": the manifest's digest is " + doc.digest.str() + ", not " + expect->str() +
                    " (corrupted in transit or by the registry)");
  return doc;
}

Result<std::optional<oci::Digest>> Client::head_manifest(const std::string &repo, const std::string &reference) {
  std::string what = "look up the manifest " + repo + ":" + reference + " on " + st_->host.name;
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  Request req;
  req.method = "HEAD";
  req.url = base + "/v2/" + repo + "/manifests/" + reference;
  req.headers.push_back(kManifestAccept);
  auto r = exchange(*st_, req, {repo_scope(repo, "pull")});
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status == 404) return std::optional<oci::Digest>();
  if (r->status != 200) return fail(status_error(*r, what, has_credentials()));
  // There; its digest as the registry says, else as asked for.
  auto d = oci::Digest::parse(r->header("docker-content-digest"));
  if (!d) d = oci::Digest::parse(reference);
  if (!d) return fail_msg(what + ": the registry has it but gave no Docker-Content-Digest");
  return std::optional<oci::Digest>(*d);
}

Result<> Client::get_blob(const std::string &repo, const oci::Descriptor &d,
                          const std::function<Result<>(std::span<const std::byte>)> &sink) {
  std::string what = "fetch the blob " + d.digest.str() + " of " + repo + " from " + st_->host.name;
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  uint64_t delivered = 0; // bytes sink has had
  uint64_t skip = 0;      // of this answer: already delivered (a 200 to a Range)
  bool checked = false;   // this answer's start is known
  Request req;
  req.url = base + "/v2/" + repo + "/blobs/" + d.digest.str();
  req.timeout_seconds = 0; // a large layer takes what it takes; a stall still fails
  req.sink = [&](const Response &head, std::span<const std::byte> bytes) -> Result<> {
    if (!checked) {
      checked = true;
      skip = 0;
      if (delivered > 0 && head.status == 206) {
        std::string range = head.header("content-range"); // "bytes START-END/SIZE"
        if (std::strtoull(range.c_str() + (range.starts_with("bytes ") ? 6 : 0), nullptr, 10) != delivered)
          return fail_msg("the registry resumed at \"" + range + "\", not at byte " + std::to_string(delivered));
      } else if (delivered > 0) {
        skip = delivered; // the whole blob again
      }
    }
    if (skip > 0) {
      size_t n = std::min<uint64_t>(skip, bytes.size());
      skip -= n;
      bytes = bytes.subspan(n);
    }
    if (d.size >= 0 && delivered + bytes.size() > static_cast<uint64_t>(d.size))
      return fail_msg("the registry sent more than the " + std::to_string(d.size) + " bytes the manifest gives");
    if (!bytes.empty()) TRY(sink(bytes));
    delivered += bytes.size();
    return {};
  };
  Attempts a;
  a.prepare = [&](Request &r) {
    checked = false;
    if (delivered > 0) r.headers.push_back("Range: bytes=" + std::to_string(delivered) + "-");
  };
  a.progress = [&] { return delivered; };
  auto r = exchange(*st_, req, {repo_scope(repo, "pull")}, a);
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status / 100 != 2) return fail(status_error(*r, what, has_credentials()));
  if (d.size >= 0 && delivered != static_cast<uint64_t>(d.size))
    return fail_msg(what + ": got " + std::to_string(delivered) + " bytes, the manifest gives " + std::to_string(d.size));
  return {};
}

Result<std::string> Client::get_small_blob(const std::string &repo, const oci::Descriptor &d, size_t max) {
  if (d.size < 0 || static_cast<uint64_t>(d.size) > max)
    return fail_msg("fetch the blob " + d.digest.str() + " of " + repo + ": its size " + std::to_string(d.size) +
                    " is above the limit of " + std::to_string(max) + " bytes");
  std::string out;
  TRY(get_blob(repo, d, [&](std::span<const std::byte> b) -> Result<> {
    out.append(reinterpret_cast<const char *>(b.data()), b.size());
    return {};
  }));
  auto got = oci::digest_of(out, d.digest.algo);
  if (got != d.digest)
    return fail_msg("fetch the blob " + d.digest.str() + " of " + repo + ": its content hashes to " + got.str() +
                    " (corrupted in transit or by the registry)");
  return out;
}

Result<bool> Client::has_blob(const std::string &repo, const oci::Digest &digest) {
  std::string what = "look up the blob " + digest.str() + " in " + repo + " on " + st_->host.name;
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  Request req;
  req.method = "HEAD";
  req.url = base + "/v2/" + repo + "/blobs/" + digest.str();
  auto r = exchange(*st_, req, {repo_scope(repo, "pull,push")});
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status == 200) return true;
  if (r->status == 404) return false;
  return fail(status_error(*r, what, has_credentials()));
}

Result<bool> Client::mount_blob(const std::string &repo, const oci::Digest &digest, const std::string &from) {
  std::string what = "mount the blob " + digest.str() + " from " + from + " into " + repo + " on " + st_->host.name;
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  Request req;
  req.method = "POST";
  req.url = base + "/v2/" + repo + "/blobs/uploads/?mount=" + escaped_digest(digest) + "&from=" + from;
  auto r = exchange(*st_, req, {repo_scope(repo, "pull,push"), repo_scope(from, "pull")});
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status == 201) return true;
  if (r->status == 202) { // an upload was started instead: give it back
    std::string loc = r->header("location");
    auto url = resolve_url(req.url, loc);
    if (!loc.empty() && url) {
      Request del;
      del.method = "DELETE";
      del.url = *url;
      (void)exchange(*st_, del, {repo_scope(repo, "pull,push")});
    }
    return false;
  }
  return fail(status_error(*r, what, has_credentials()));
}

namespace {

// A failed PATCH or PUT: worth starting over (EAGAIN) when the registry
// had a passing problem.
Error upload_error(const Response &r, const std::string &what, bool creds) {
  Error e = status_error(r, what, creds);
  return worth_retry(r.status) ? Error(EAGAIN, e.message()) : e;
}

// One upload from POST to the final PUT; errors of PATCH and PUT are not
// retried here (put_blob starts over).
Result<> upload_once(Client::State &st, const std::string &base, const std::string &repo, const oci::Descriptor &d,
                     const Client::ReadAt &read_at, uint64_t chunk, const std::string &what, bool creds) {
  std::vector<std::string> scopes = {repo_scope(repo, "pull,push")};
  uint64_t size = static_cast<uint64_t>(d.size);

  Request start;
  start.method = "POST";
  start.url = base + "/v2/" + repo + "/blobs/uploads/";
  auto r = exchange(st, start, scopes);
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status != 202) return fail(status_error(*r, what, creds));
  if (r->header("location").empty()) return fail_msg(what + ": the registry started an upload but gave no Location");
  ASSIGN_OR_RETURN(std::string location, resolve_url(start.url, r->header("location")));
  // The registry's minimum chunk (OCI-Chunk-Min-Length), if it has one.
  if (chunk > 0) chunk = std::max<uint64_t>(chunk, std::strtoull(r->header("oci-chunk-min-length").c_str(), nullptr, 10));

  // Bytes [from, to) as the body of req.
  auto body = [&](Request &req, uint64_t from, uint64_t to) {
    auto pos = std::make_shared<uint64_t>(from);
    req.upload_size = to - from;
    req.timeout_seconds = 0;
    req.upload = [pos, to, &read_at](std::span<std::byte> buf) -> Result<size_t> {
      size_t n = std::min<uint64_t>(buf.size(), to - *pos);
      if (n == 0) return size_t{0};
      ASSIGN_OR_RETURN(size_t got, read_at(*pos, buf.first(n)));
      if (got == 0) return fail_msg("the blob ended early, at byte " + std::to_string(*pos));
      *pos += got;
      return got;
    };
  };
  Attempts once;
  once.once = true;
  uint64_t offset = 0;
  if (chunk > 0) {
    while (offset < size) {
      uint64_t end = std::min(size, offset + chunk);
      Request patch;
      patch.method = "PATCH";
      patch.url = location;
      patch.headers = {"Content-Type: application/octet-stream",
                       "Content-Range: " + std::to_string(offset) + "-" + std::to_string(end - 1)};
      body(patch, offset, end);
      auto p = exchange(st, patch, scopes, once);
      if (!p) return ctx(std::move(p).error(), what);
      if (p->status != 202) return fail(upload_error(*p, what, creds));
      if (auto loc = p->header("location"); !loc.empty()) {
        ASSIGN_OR_RETURN(location, resolve_url(location, loc));
      }
      offset = end;
    }
  }
  Request put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + escaped_digest(d.digest);
  put.headers = {"Content-Type: application/octet-stream"};
  if (offset < size) body(put, offset, size);
  auto p = exchange(st, put, scopes, once);
  if (!p) return ctx(std::move(p).error(), what);
  if (p->status != 201) return fail(upload_error(*p, what, creds));
  return {};
}

} // namespace

Result<> Client::put_blob(const std::string &repo, const oci::Descriptor &d, const ReadAt &read_at, uint64_t chunk) {
  std::string what = "upload the blob " + d.digest.str() + " to " + repo + " on " + st_->host.name;
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  // A broken upload starts over from POST: what a registry kept of a
  // dropped PATCH or PUT is not known. A PUT the registry completed before
  // the connection dropped shows in the HEAD.
  for (int attempt = 0;; ++attempt) {
    auto r = upload_once(*st_, base, repo, d, read_at, chunk, what, has_credentials());
    if (r) return r;
    if (attempt + 1 >= 3 || !(is_transient(r.error()) || r.error().code() == EAGAIN)) return r;
    auto there = has_blob(repo, d.digest);
    if (there && *there) return {};
    std::this_thread::sleep_for(backoff(attempt, nullptr));
  }
}

Result<> Client::put_manifest(const std::string &repo, const std::string &reference, const Document &doc) {
  std::string what = "push the manifest " + repo + ":" + reference + " to " + st_->host.name;
  ASSIGN_OR_RETURN(std::string base, base_url(*st_));
  Request req;
  req.method = "PUT";
  req.url = base + "/v2/" + repo + "/manifests/" + reference;
  req.headers = {"Content-Type: " + doc.media_type};
  req.body = doc.bytes;
  auto r = exchange(*st_, req, {repo_scope(repo, "pull,push")});
  if (!r) return ctx(std::move(r).error(), what);
  if (r->status != 201) return fail(status_error(*r, what, has_credentials()));
  return {};
}

} // namespace berth::registry
