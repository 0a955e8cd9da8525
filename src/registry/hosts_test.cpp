#include "registry/hosts.hpp"

#include "registry/registries_conf.hpp"
#include "registry/testing.hpp"

#include <gtest/gtest.h>

using namespace berth::registry;
using berth::registry::testing::EnvGuard;
using berth::registry::testing::TempDir;

namespace {

// Every setting the host reads points into a temp dir: nothing of /etc.
class Hosts : public ::testing::Test {
 protected:
  void SetUp() override {
    env.set("BERTH_CERTS_D", tmp.sub("containers-certs.d") + ":" + tmp.sub("docker-certs.d"));
    env.set("CONTAINERS_REGISTRIES_CONF", conf());
    env.set("BERTH_DOCKER_DAEMON_JSON", daemon());
  }
  std::string conf() const { return tmp.sub("registries.conf"); }
  std::string daemon() const { return tmp.sub("daemon.json"); }
  Host resolve(std::string_view reg, HostOptions o = {}) {
    auto h = resolve_host(reg, o);
    EXPECT_TRUE(h) << h.error().message();
    return h ? *h : Host{};
  }
  std::string error(std::string_view reg, HostOptions o = {}) {
    auto h = resolve_host(reg, o);
    return h ? std::string("<no error>") : h.error().message();
  }
  bool insecure(std::string_view reg) { return resolve(reg).insecure; }

  TempDir tmp;
  EnvGuard env;
};

} // namespace

TEST_F(Hosts, ApiName) {
  Host h = resolve("docker.io");
  EXPECT_EQ(h.name, "docker.io");
  EXPECT_EQ(h.api, "registry-1.docker.io");
  EXPECT_EQ(h.base_url(), "https://registry-1.docker.io");
  EXPECT_EQ(resolve("127.0.0.1:5000").api, "127.0.0.1:5000");
  EXPECT_NE(error("a/b").find("not a registry host name"), std::string::npos);
  EXPECT_NE(error("..").find("not a registry host name"), std::string::npos);
}

TEST_F(Hosts, NothingInsecureByDefault) {
  Host h = resolve("127.0.0.1:5000");
  EXPECT_FALSE(h.insecure);
  EXPECT_TRUE(h.tls.verify);
  EXPECT_TRUE(h.tls.ca_pem.empty());
  EXPECT_TRUE(h.tls.client_cert.empty());
}

TEST_F(Hosts, TlsVerifyFlagDecides) {
  tmp.write("registries.conf", "[[registry]]\nlocation = \"r.io\"\ninsecure = true\n");
  EXPECT_TRUE(insecure("r.io"));
  Host off = resolve("q.io", {.tls_verify = false});
  EXPECT_TRUE(off.insecure);
  EXPECT_FALSE(off.tls.verify);
  Host on = resolve("r.io", {.tls_verify = true});
  EXPECT_FALSE(on.insecure);
  EXPECT_TRUE(on.tls.verify);
  // With the flag given, the settings are not read (nor their errors).
  tmp.write("registries.conf", "[[registry]]\nlocation = r.io\n");
  EXPECT_TRUE(resolve_host("r.io", {.tls_verify = true}));
}

TEST_F(Hosts, CertsDirectories) {
  tmp.write("containers-certs.d/r.io:5000/a.crt", "CA-A\n");
  tmp.write("containers-certs.d/r.io:5000/b.crt", "CA-B"); // no final newline
  tmp.write("containers-certs.d/r.io:5000/notes.txt", "ignored");
  tmp.write("docker-certs.d/r.io:5000/c.crt", "CA-C\n");
  tmp.write("docker-certs.d/r.io:5000/client.cert", "CERT");
  tmp.write("docker-certs.d/r.io:5000/client.key", "KEY", 0600);
  tmp.write("docker-certs.d/other.io/z.crt", "CA-Z\n");
  Host h = resolve("r.io:5000");
  EXPECT_EQ(h.tls.ca_pem, "CA-A\nCA-B\nCA-C\n");
  EXPECT_EQ(h.tls.client_cert, tmp.sub("docker-certs.d/r.io:5000/client.cert"));
  EXPECT_EQ(h.tls.client_key, tmp.sub("docker-certs.d/r.io:5000/client.key"));

  // --cert-dir: only it.
  tmp.write("mine/only.crt", "CA-MINE\n");
  Host m = resolve("r.io:5000", {.cert_dir = tmp.sub("mine")});
  EXPECT_EQ(m.tls.ca_pem, "CA-MINE\n");
  EXPECT_TRUE(m.tls.client_cert.empty());
  // A directory that does not exist holds no certificates.
  // A --cert-dir the user named must exist (a typo is not "no CA"); the
  // certs.d directories need not.
  EXPECT_NE(error("r.io:5000", {.cert_dir = tmp.sub("absent")}).find("--cert-dir"), std::string::npos);
}

TEST_F(Hosts, HalfAClientCertPair) {
  tmp.write("containers-certs.d/r.io/client.cert", "CERT");
  std::string e = error("r.io");
  EXPECT_NE(e.find(tmp.sub("containers-certs.d/r.io/client.cert")), std::string::npos) << e;
  EXPECT_NE(e.find(tmp.sub("containers-certs.d/r.io/client.key") + " is missing"), std::string::npos) << e;

  tmp.write("mine/lonely.key", "KEY");
  e = error("r.io", {.cert_dir = tmp.sub("mine")});
  EXPECT_NE(e.find("needs both " + tmp.sub("mine/lonely.cert") + " and " + tmp.sub("mine/lonely.key")),
            std::string::npos)
      << e;
}

TEST_F(Hosts, RegistriesConfV2) {
  tmp.write("registries.conf", R"(# podman's settings
unqualified-search-registries = [
  "docker.io",   # a comment in an array
  "quay.io",
]
short-name-mode = "enforcing"

[[registry]]
prefix = "insecure.io"
location = "insecure.io"
insecure = true   # trailing comment
mirror = [{ location = "m.io", insecure = true }]

[[registry]]
location = 'local:5000/team'
insecure = true

[[registry]]
location = "secure.io"
insecure = false

[[registry]]
prefix = "*.dev.example"
location = "dev.example"
insecure = true

[[registry]]
prefix = "*.lab.example"
insecure = true

[[registry]]
prefix = "mirrored.io"
location = "mirror.example:5000"
insecure = true

[[registry.mirror]]
location = "mirror.io"
anything = goes here
)");
  EXPECT_TRUE(insecure("insecure.io"));
  EXPECT_FALSE(insecure("local:5000")); // an insecure namespace is not its whole host
  EXPECT_FALSE(insecure("secure.io"));
  // insecure is said of the location, not of the prefix mapped to it.
  EXPECT_FALSE(insecure("a.dev.example"));
  EXPECT_TRUE(insecure("dev.example"));
  EXPECT_FALSE(insecure("mirrored.io"));
  EXPECT_TRUE(insecure("mirror.example:5000"));
  EXPECT_TRUE(insecure("a.lab.example")); // a wildcard with no location of its own
  EXPECT_FALSE(insecure("lab.example"));
  EXPECT_FALSE(insecure("m.io"));
  EXPECT_FALSE(insecure("mirror.io"));
  EXPECT_FALSE(insecure("docker.io"));
  // registries.conf saying "secure" wins over a daemon.json listing.
  tmp.write("daemon.json", R"({"insecure-registries": ["secure.io", "other.io"]})");
  EXPECT_FALSE(insecure("secure.io"));
  EXPECT_TRUE(insecure("other.io"));
}

TEST_F(Hosts, RegistriesConfV1) {
  tmp.write("registries.conf", R"([registries.search]
registries = ['docker.io']

[registries.insecure]
registries = ['a.io:5000', "b.io",
  "c.io/ns"]

[registries.block]
registries = []
)");
  EXPECT_TRUE(insecure("a.io:5000"));
  EXPECT_TRUE(insecure("b.io"));
  EXPECT_TRUE(insecure("c.io"));
  EXPECT_FALSE(insecure("a.io"));
  EXPECT_FALSE(insecure("docker.io"));
}

TEST_F(Hosts, RegistriesConfErrors) {
  tmp.write("registries.conf", "[[registry]]\nlocation = \"r.io\"\ninsecure = yes\n");
  std::string e = error("r.io");
  EXPECT_NE(e.find(conf() + ":3: cannot parse insecure: expected true or false"), std::string::npos) << e;

  tmp.write("registries.conf", "# x\n\n[[registry]]\nthis is not toml\n");
  e = error("r.io");
  EXPECT_NE(e.find(conf() + ":4: cannot parse: expected key = value"), std::string::npos) << e;

  tmp.write("registries.conf", "[registries.insecure]\nregistries = [\"a\",\n  \"b\"\n");
  e = error("r.io");
  EXPECT_NE(e.find(conf() + ":2: cannot parse registries: unterminated array"), std::string::npos) << e;

  tmp.write("registries.conf", "[[registry]\nlocation = \"r.io\"\n");
  e = error("r.io");
  EXPECT_NE(e.find(conf() + ":1: cannot parse the table header"), std::string::npos) << e;

  // Lines of tables berth does not read are not its business.
  tmp.write("registries.conf", "[aliases]\nthis is not toml\n[engine]\n= =\n");
  EXPECT_FALSE(insecure("r.io"));
}

TEST_F(Hosts, DaemonJson) {
  tmp.write("daemon.json", R"({"insecure-registries": ["reg.local:5000", "http://plain.io/", "127.0.0.0/8", "fd00::/8"],
                              "other": 1})");
  EXPECT_TRUE(insecure("reg.local:5000"));
  EXPECT_FALSE(insecure("reg.local"));
  EXPECT_TRUE(insecure("plain.io"));
  EXPECT_TRUE(insecure("127.0.0.1:5000"));
  EXPECT_TRUE(insecure("127.1.2.3"));
  EXPECT_FALSE(insecure("128.0.0.1:5000"));
  EXPECT_TRUE(insecure("[fd00::1]:5000"));
  EXPECT_FALSE(insecure("[fe80::1]:5000"));
  EXPECT_FALSE(insecure("localhost:5000")); // names are not resolved

  tmp.write("daemon.json", "{\"insecure-registries\": [\"a\",]}");
  std::string e = error("a");
  EXPECT_NE(e.find("parse " + daemon() + ": invalid JSON"), std::string::npos) << e;
  tmp.write("daemon.json", R"({"insecure-registries": "a"})");
  e = error("a");
  EXPECT_NE(e.find(daemon() + ": \"insecure-registries\" is not an array"), std::string::npos) << e;
}
