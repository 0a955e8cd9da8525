#include "oci/reference.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace berth::oci;

namespace {

const std::string kHex = "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
const std::string kDigest = "sha256:" + kHex;

struct Case {
  std::string in, domain, path, tag, str, familiar;
};

Reference ok(const std::string &s, bool default_tag = true) {
  auto r = Reference::parse(s, default_tag);
  EXPECT_TRUE(r.has_value()) << s << ": " << (r ? "" : r.error().message());
  return r ? *r : Reference{};
}

std::string err(const std::string &s) {
  auto r = Reference::parse(s);
  EXPECT_FALSE(r.has_value()) << s << " parsed as " << (r ? r->str() : "");
  return r ? "" : r.error().message();
}

} // namespace

// Docker's normalisation (distribution/reference's ParseNormalizedNamed,
// FamiliarString; the cases of its normalize_test.go where they apply).
TEST(Reference, NormalisationTable) {
  const Case cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest", "busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
      {"library/debian", "docker.io", "library/debian", "latest", "docker.io/library/debian:latest", "debian:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest", "busybox:latest"},
      {"docker.io/library/debian", "docker.io", "library/debian", "latest", "docker.io/library/debian:latest", "debian:latest"},
      {"index.docker.io/debian", "docker.io", "library/debian", "latest", "docker.io/library/debian:latest", "debian:latest"},
      {"index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", "docker.io/docker/docker:latest", "docker/docker:latest"},
      {"docker/docker", "docker.io", "docker/docker", "latest", "docker.io/docker/docker:latest", "docker/docker:latest"},
      {"user/app:1.0", "docker.io", "user/app", "1.0", "docker.io/user/app:1.0", "user/app:1.0"},
      {"fooo/bar", "docker.io", "fooo/bar", "latest", "docker.io/fooo/bar:latest", "fooo/bar:latest"},
      {"other/library", "docker.io", "other/library", "latest", "docker.io/other/library:latest", "other/library:latest"},
      // library/ is dropped only before a single component.
      {"library/foo/bar", "docker.io", "library/foo/bar", "latest", "docker.io/library/foo/bar:latest", "library/foo/bar:latest"},
      {"store/foo/bar", "docker.io", "store/foo/bar", "latest", "docker.io/store/foo/bar:latest", "store/foo/bar:latest"},
      {"ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "latest", "docker.io/library/ubuntu-12.04-base:latest", "ubuntu-12.04-base:latest"},
      {"localhost/x", "localhost", "x", "latest", "localhost/x:latest", "localhost/x:latest"},
      {"localhost:5000/x", "localhost:5000", "x", "latest", "localhost:5000/x:latest", "localhost:5000/x:latest"},
      // No slash: "localhost" is a name and 5000 its tag.
      {"localhost:5000", "docker.io", "library/localhost", "5000", "docker.io/library/localhost:5000", "localhost:5000"},
      {"host.tld/a/b:tag", "host.tld", "a/b", "tag", "host.tld/a/b:tag", "host.tld/a/b:tag"},
      {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "latest", "127.0.0.1:8000/private/moonbase:latest", "127.0.0.1:8000/private/moonbase:latest"},
      {"example.com/privatebase", "example.com", "privatebase", "latest", "example.com/privatebase:latest", "example.com/privatebase:latest"},
      {"example.com:8000/private/moonbase", "example.com:8000", "private/moonbase", "latest", "example.com:8000/private/moonbase:latest", "example.com:8000/private/moonbase:latest"},
      {"quay.io/podman/stable:v4", "quay.io", "podman/stable", "v4", "quay.io/podman/stable:v4", "quay.io/podman/stable:v4"},
      {"[::1]:5000/x", "[::1]:5000", "x", "latest", "[::1]:5000/x:latest", "[::1]:5000/x:latest"},
      {"[2001:db8::1]/a/b:v1", "[2001:db8::1]", "a/b", "v1", "[2001:db8::1]/a/b:v1", "[2001:db8::1]/a/b:v1"},
      // A first part with upper case is a host (distribution: "Foo/bar").
      {"Foo/bar", "Foo", "bar", "latest", "Foo/bar:latest", "Foo/bar:latest"},
      {"FOO/bar", "FOO", "bar", "latest", "FOO/bar:latest", "FOO/bar:latest"},
      {"192.168.0.1", "docker.io", "library/192.168.0.1", "latest", "docker.io/library/192.168.0.1:latest", "192.168.0.1:latest"},
      {"192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80"},
      {"192.168.0.1:8/debian", "192.168.0.1:8", "debian", "latest", "192.168.0.1:8/debian:latest", "192.168.0.1:8/debian:latest"},
      {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
       "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest",
       "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
       "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest"},
      {"docker-rules/docker", "docker.io", "docker-rules/docker", "latest", "docker.io/docker-rules/docker:latest", "docker-rules/docker:latest"},
      {"docker---rules/docker", "docker.io", "docker---rules/docker", "latest", "docker.io/docker---rules/docker:latest", "docker---rules/docker:latest"},
      {"d/docker", "docker.io", "d/docker", "latest", "docker.io/d/docker:latest", "d/docker:latest"},
      {"jess/t", "docker.io", "jess/t", "latest", "docker.io/jess/t:latest", "jess/t:latest"},
      {"dock__er/docker", "docker.io", "dock__er/docker", "latest", "docker.io/dock__er/docker:latest", "dock__er/docker:latest"},
      {"a_b__c-d/e.f", "docker.io", "a_b__c-d/e.f", "latest", "docker.io/a_b__c-d/e.f:latest", "a_b__c-d/e.f:latest"},
      // Tags: word characters, '.' and '-', upper case allowed.
      {"busybox:Latest_1.0-rc", "docker.io", "library/busybox", "Latest_1.0-rc", "docker.io/library/busybox:Latest_1.0-rc", "busybox:Latest_1.0-rc"},
      {"busybox:_x", "docker.io", "library/busybox", "_x", "docker.io/library/busybox:_x", "busybox:_x"},
      // By digest: no default tag; a tag given with it is kept.
      {"busybox@" + kDigest, "docker.io", "library/busybox", "", "docker.io/library/busybox@" + kDigest, "busybox@" + kDigest},
      {"busybox:latest@" + kDigest, "docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest@" + kDigest, "busybox:latest@" + kDigest},
      {"localhost:5000/a/b:1@" + kDigest, "localhost:5000", "a/b", "1", "localhost:5000/a/b:1@" + kDigest, "localhost:5000/a/b:1@" + kDigest},
      // "sha256:<hex>" with no name is docker's library/sha256 with a 64-hex tag.
      {kDigest, "docker.io", "library/sha256", kHex, "docker.io/library/sha256:" + kHex, "sha256:" + kHex},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.in);
    Reference r = ok(c.in);
    EXPECT_EQ(r.domain, c.domain);
    EXPECT_EQ(r.path, c.path);
    EXPECT_EQ(r.tag, c.tag);
    EXPECT_EQ(r.str(), c.str);
    EXPECT_EQ(r.familiar(), c.familiar);
    EXPECT_EQ(r.name(), c.domain + "/" + c.path);
    // What str() and familiar() print parses back to the same reference.
    EXPECT_EQ(ok(r.str()), r);
    EXPECT_EQ(ok(r.familiar()), r);
  }
}

TEST(Reference, DigestIsParsed) {
  Reference r = ok("busybox@" + kDigest);
  ASSERT_TRUE(r.digest);
  EXPECT_EQ(r.digest->algo, DigestAlgo::sha256);
  EXPECT_EQ(r.digest->hex, kHex);
  Reference s = ok("busybox:1@sha512:" + kHex + kHex);
  ASSERT_TRUE(s.digest);
  EXPECT_EQ(s.digest->algo, DigestAlgo::sha512);
  EXPECT_FALSE(ok("busybox").digest);
}

TEST(Reference, FamiliarName) {
  EXPECT_EQ(ok("docker.io/library/busybox:1").familiar_name(), "busybox");
  EXPECT_EQ(ok("docker.io/user/app").familiar_name(), "user/app");
  EXPECT_EQ(ok("docker.io/library/a/b").familiar_name(), "library/a/b");
  EXPECT_EQ(ok("localhost:5000/library/busybox").familiar_name(), "localhost:5000/library/busybox");
  EXPECT_EQ(ok("ghcr.io/o/r@" + kDigest).familiar_name(), "ghcr.io/o/r");
  // Where docker's short form would name another registry (or an image id),
  // docker.io stays: docker prints "foo.bar/baz" here.
  EXPECT_EQ(ok("docker.io/foo.bar/baz").familiar_name(), "docker.io/foo.bar/baz");
  EXPECT_EQ(ok("docker.io/localhost/x").familiar(), "docker.io/localhost/x:latest");
  EXPECT_EQ(ok("docker.io/library/foo.bar").familiar_name(), "foo.bar");
  const std::string id(64, 'a');
  EXPECT_EQ(ok("docker.io/" + id, false).familiar(), "docker.io/library/" + id);
  EXPECT_EQ(ok(ok("docker.io/" + id, false).familiar(), false).path, "library/" + id);
}

TEST(Reference, DefaultTagOnlyWhenAsked) {
  Reference r = ok("busybox", false);
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.str(), "docker.io/library/busybox");
  EXPECT_EQ(r.familiar(), "busybox");
  EXPECT_EQ(ok("busybox:1", false).tag, "1");
  EXPECT_EQ(ok("busybox").tag, "latest");
  EXPECT_EQ(ok("busybox@" + kDigest).tag, "");
}

TEST(Reference, Errors) {
  EXPECT_EQ(err(""), "invalid reference '': empty");
  EXPECT_EQ(err("Busybox"), "invalid reference 'Busybox': repository name must be lowercase");
  EXPECT_EQ(err("docker/Docker"), "invalid reference 'docker/Docker': repository name must be lowercase");
  EXPECT_EQ(err("docker.io/docker/Docker"), "invalid reference 'docker.io/docker/Docker': repository name must be lowercase");
  EXPECT_EQ(err("localhost:5000/Upper:tag"), "invalid reference 'localhost:5000/Upper:tag': repository name must be lowercase");
  // A 64-hex string is an image id.
  const std::string id = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
  EXPECT_EQ(err(id), "invalid reference '" + id + "': a 64-character hex string is an image id, not a repository name");
  // Tags.
  EXPECT_EQ(err("busybox:"), "invalid reference 'busybox:': invalid tag: empty after ':'");
  EXPECT_NE(err("busybox:.x").find("': invalid tag '.x'"), std::string::npos);
  EXPECT_NE(err("busybox:-x").find("invalid tag '-x'"), std::string::npos);
  EXPECT_NE(err("busybox:a+b").find("invalid tag 'a+b'"), std::string::npos);
  EXPECT_NE(err("busybox:" + std::string(129, 'a')).find("invalid tag: 129 characters, at most 128"), std::string::npos);
  EXPECT_EQ(ok("busybox:" + std::string(128, 'a')).tag, std::string(128, 'a'));
  // Digests.
  EXPECT_NE(err("busybox@sha256:abc").find("invalid reference 'busybox@sha256:abc': invalid digest 'sha256:abc'"),
            std::string::npos);
  EXPECT_NE(err("busybox@").find("invalid digest ''"), std::string::npos);
  EXPECT_NE(err("busybox@md5:d41d8cd98f00b204e9800998ecf8427e").find("invalid digest"), std::string::npos);
  EXPECT_NE(err("busybox@" + kDigest + "@" + kDigest).find("invalid digest"), std::string::npos);
  // Names.
  EXPECT_NE(err("@" + kDigest).find("empty repository name"), std::string::npos);
  EXPECT_NE(err(":tag").find("empty repository name"), std::string::npos);
  EXPECT_NE(err("docker/").find("empty component"), std::string::npos);
  EXPECT_NE(err("docker///docker").find("empty component"), std::string::npos);
  EXPECT_NE(err("docker.io/docker///docker").find("empty component"), std::string::npos);
  EXPECT_NE(err("/busybox").find("empty component"), std::string::npos);
  EXPECT_NE(err("-docker").find("invalid repository name component '-docker'"), std::string::npos);
  EXPECT_NE(err("-docker/docker").find("component '-docker'"), std::string::npos);
  EXPECT_NE(err("docker-/docker").find("component 'docker-'"), std::string::npos);
  EXPECT_NE(err("-docker-/docker").find("component '-docker-'"), std::string::npos);
  EXPECT_NE(err("____/____").find("component '____'"), std::string::npos);
  EXPECT_NE(err("_docker/_docker").find("component '_docker'"), std::string::npos);
  EXPECT_NE(err("a___b").find("component 'a___b'"), std::string::npos);
  EXPECT_NE(err("a..b").find("component 'a..b'"), std::string::npos);
  EXPECT_NE(err("a b").find("component 'a b'"), std::string::npos);
  EXPECT_NE(err("docker/dock.-er").find("component 'dock.-er'"), std::string::npos);
  // Hosts.
  EXPECT_NE(err("-docker.io/docker/docker").find("invalid registry host '-docker.io'"), std::string::npos);
  EXPECT_NE(err("dock..er/docker").find("invalid registry host 'dock..er'"), std::string::npos);
  EXPECT_NE(err("dock_.er/docker").find("invalid registry host 'dock_.er'"), std::string::npos);
  EXPECT_NE(err("a.b_c/d").find("invalid registry host 'a.b_c'"), std::string::npos);
  EXPECT_NE(err("dock-.er/docker").find("invalid registry host 'dock-.er'"), std::string::npos);
  EXPECT_NE(err("https://github.com/docker/docker").find("invalid port '' of the registry"), std::string::npos);
  EXPECT_NE(err("localhost:/x").find("invalid port ''"), std::string::npos);
  EXPECT_NE(err("host:50a0/x").find("invalid port '50a0'"), std::string::npos);
  EXPECT_NE(err(":5000/x").find("empty registry host"), std::string::npos);
  EXPECT_NE(err("[::1/x").find("lacks its ']'"), std::string::npos);
  // No '.' or ':' in "[]": a path component, as distribution takes it.
  EXPECT_NE(err("[]/x").find("component '[]'"), std::string::npos);
  EXPECT_NE(err("[]:1/x").find("empty IPv6 address"), std::string::npos);
  EXPECT_NE(err("[fe80::1%eth0]/x").find("invalid IPv6 address 'fe80::1%eth0'"), std::string::npos);
  EXPECT_NE(err("[::1]x/y").find("invalid registry host '[::1]x'"), std::string::npos);
  // Length: the whole normalised name, at most 255.
  std::string c = std::string(200, 'a');
  EXPECT_NE(err("x.io/" + c + "/" + std::string(50, 'b')).find("repository name too long (256 characters, at most 255)"),
            std::string::npos);
  EXPECT_EQ(ok("x.io/" + c + "/" + std::string(49, 'b')).name().size(), 255u);
  // Not 64 hex: 63 digits, or upper case, are names.
  EXPECT_EQ(ok(id.substr(1)).path, "library/" + id.substr(1));
  // Long inputs are cut in the message.
  EXPECT_LT(err(std::string(10000, 'A')).size(), 400u);
}
