#include "cli/berth_registry.hpp"

#include "cli/berth_common.hpp"
#include "cli/progress.hpp"
#include "image/store.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"
#include "registry/credentials.hpp"
#include "registry/pull.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace berth::cli {
namespace {

using namespace berth::registry;

Result<std::string> read_line(bool echo) {
  termios old{};
  bool tty = ::isatty(0) == 1 && !echo && ::tcgetattr(0, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~ECHO;
    ::tcsetattr(0, TCSAFLUSH, &quiet);
  }
  char *buf = nullptr;
  size_t cap = 0;
  ssize_t n = ::getline(&buf, &cap, stdin);
  std::string line(buf ? buf : "", n > 0 ? static_cast<size_t>(n) : 0);
  std::free(buf);
  bool got = n >= 0;
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (tty) {
    ::tcsetattr(0, TCSAFLUSH, &old);
    std::fputs("\n", stderr);
  }
  if (!got && line.empty()) return fail_msg("read from standard input: it ended");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string short_hex(const oci::Digest &d) { return d.hex.substr(0, 12); }

const char *status_text(LayerStatus s) {
  switch (s) {
  case LayerStatus::exists: return "Already exists";
  case LayerStatus::waiting: return "Pulling fs layer";
  case LayerStatus::downloading: return "Downloading";
  case LayerStatus::unpacking: return "Extracting";
  case LayerStatus::complete: return "Pull complete";
  }
  return "";
}

} // namespace

void RegistryCommands::add_to(Parser &p, Where where) {
  if (where == Where::manifest) {
    auto &inspect = add_registry_flags(p.add("inspect", "print a manifest or index as the registry serves it"), reg)
                        .arg("NAME", arg1);
    run_[&inspect] = Op::manifest_inspect;
    return;
  }
  auto &pull = add_registry_flags(p.add("pull", "download an image from a registry"), reg)
                   .flag("--platform PLATFORM", "os/arch[/variant] to pull from a multi-platform image", platform)
                   .flag("-q,--quiet", "print only the image's name", quiet)
                   .flag("--max-concurrent-downloads N", "layers downloaded at once (default 3)", jobs)
                   .arg("NAME[:TAG|@DIGEST]", arg1);
  run_[&pull] = Op::pull;
  auto &push = p.add("push", "upload an image to a registry");
  add_push_flags(push, push_args);
  run_[&push] = Op::push;
  if (where != Where::top) return;
  auto &login = add_registry_flags(p.add("login", "log in to a registry (docker.io when none is given)"), reg, false)
                    .flag("-u,--username USER", "user name", username)
                    .flag("-p,--password PASS", "password (prefer --password-stdin)", password)
                    .flag("--password-stdin", "read the password from standard input", password_stdin)
                    .arg("REGISTRY", arg1, false);
  run_[&login] = Op::login;
  auto &logout = p.add("logout", "remove the credentials stored for a registry")
                     .flag("--authfile FILE", "the credentials file", reg.authfile)
                     .arg("REGISTRY", arg1, false);
  run_[&logout] = Op::logout;
}

int RegistryCommands::run(const Command *c, const std::string &root) {
  switch (run_.at(c)) {
  case Op::pull: return pull(root);
  case Op::push: return push_command(push_args, root);
  case Op::login: return login();
  case Op::logout: return logout();
  case Op::manifest_inspect: return manifest_inspect();
  }
  return 1;
}

int RegistryCommands::pull(const std::string &root) {
  auto ref = oci::Reference::parse(arg1);
  if (!ref) return report(ref.error().with("pull")), 125;
  if (jobs < 1) return report(Error::msg("pull: --max-concurrent-downloads must be at least 1")), 125;
  auto plat = platform_of(platform);
  if (!plat) return report(plat.error().with("pull")), 125;
  auto opts = client_options(reg);
  if (!opts) return report(opts.error().with("pull")), 125;

  auto store = image::Store::open(root);
  if (!store) return report(store.error());
  auto http = Http::create();
  if (!http) return report(http.error());
  auto client = Client::open(*http, ref->domain, std::move(*opts));
  if (!client) return report(client.error().with("pull " + ref->str()));

  Progress progress(stdout, quiet);
  PullOptions po;
  po.on_manifest = [&, first = true](const Document &) mutable {
    if (first) progress.line((ref->digest ? ref->digest->str() : ref->tag) + ": Pulling from " + ref->path);
    first = false;
  };
  po.platform = *plat;
  po.jobs = static_cast<unsigned>(jobs);
  po.on_layer = [&](const LayerEvent &e) {
    progress.update(short_hex(e.digest), status_text(e.status), e.done, e.total);
  };
  auto r = registry::pull(*store, *client, *ref, po);
  progress.finish();
  if (!r) return report(r.error());
  std::string name = familiar(r->name);
  if (!quiet) {
    std::printf("Digest: %s\n", r->digest.str().c_str());
    std::printf("Status: %s for %s\n", r->fetched ? "Downloaded newer image" : "Image is up to date", name.c_str());
  }
  std::printf("%s\n", r->name.c_str());
  return 0;
}

int RegistryCommands::login() {
  std::string registry = arg1.empty() ? "docker.io" : normalize_registry(arg1);
  std::string what = "log in to " + registry;
  if (password_stdin && !password.empty())
    return report(Error::msg(what + ": give --password or --password-stdin, not both")), 125;
  if (password_stdin && username.empty())
    return report(Error::msg(what + ": --password-stdin needs --username")), 125;
  if (!password.empty())
    std::fprintf(stderr, "berth: warning: --password on the command line is insecure (other users see it in "
                         "ps); use --password-stdin\n");
  Credentials c;
  c.username = username;
  c.password = password;
  if (c.username.empty()) {
    if (::isatty(0) != 1) return report(Error::msg(what + ": give --username (standard input is not a terminal)")), 125;
    std::fprintf(stderr, "Username: ");
    auto u = read_line(true);
    if (!u) return report(u.error().with(what));
    c.username = *u;
  }
  if (c.password.empty()) {
    if (!password_stdin && ::isatty(0) == 1) std::fprintf(stderr, "Password: ");
    else if (!password_stdin) return report(Error::msg(what + ": give --password-stdin or --password")), 125;
    auto p = read_line(!::isatty(0));
    if (!p) return report(p.error().with(what));
    c.password = *p;
  }
  if (c.username.empty() || c.password.empty())
    return report(Error::msg(what + ": the user name and the password must not be empty")), 125;

  auto opts = client_options(reg);
  if (!opts) return report(opts.error().with(what)), 125;
  opts->creds = c;
  auto http = Http::create();
  if (!http) return report(http.error());
  auto client = Client::open(*http, registry, std::move(*opts));
  if (!client) return report(client.error().with(what));
  if (auto r = client->check(); !r) return report(r.error());
  if (auto r = store_credentials(registry, c, reg.authfile); !r) return report(r.error().with(what));
  std::printf("Login Succeeded\n");
  return 0;
}

int RegistryCommands::logout() {
  std::string registry = arg1.empty() ? "docker.io" : normalize_registry(arg1);
  auto r = erase_credentials(registry, reg.authfile);
  if (!r) return report(r.error().with("log out of " + registry));
  if (!*r) return report(Error::msg("log out of " + registry + ": not logged in (no credentials stored in " +
                                    default_authfile(reg.authfile) + ")"));
  std::printf("Removing login credentials for %s\n", registry.c_str());
  return 0;
}

int RegistryCommands::manifest_inspect() {
  auto ref = oci::Reference::parse(arg1);
  if (!ref) return report(ref.error().with("manifest inspect")), 125;
  auto opts = client_options(reg);
  if (!opts) return report(opts.error().with("manifest inspect")), 125;
  auto http = Http::create();
  if (!http) return report(http.error());
  auto client = Client::open(*http, ref->domain, std::move(*opts));
  if (!client) return report(client.error().with("manifest inspect " + ref->str()));
  auto doc = client->get_manifest(ref->path, ref->digest ? ref->digest->str() : ref->tag);
  if (!doc) return report(doc.error().with("manifest inspect"));
  std::fwrite(doc->bytes.data(), 1, doc->bytes.size(), stdout);
  // The bytes exactly (their digest is the manifest's); a newline for a person.
  if (::isatty(1) == 1 && !doc->bytes.ends_with("\n")) std::fputs("\n", stdout);
  return 0;
}

} // namespace berth::cli
