#include "oci/image.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace berth::oci;

namespace {

// A docker schema2 manifest as Docker Hub serves busybox's (sizes real,
// digests made up).
const char *kDockerManifest = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1457,
      "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2591575,
         "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
      }
   ]
})";

// An OCI manifest with everything image-spec 1.1 allows.
const char *kOciManifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2",
      "size": 32654
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
      "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06",
      "size": 16724,
      "urls": ["https://mirror.example.com/blobs/95cf"],
      "annotations": {"org.opencontainers.image.title": "layer2.tar.zst"}
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar",
      "digest": "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
      "size": 73109,
      "data": "ignored"
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665",
    "size": 1234
  },
  "annotations": {"com.example.key1": "value1", "com.example.key2": "value2"},
  "unknownField": {"is": ["ignored"]}
})";

// Docker Hub's busybox manifest list: ten platforms.
const char *kBusyboxList = R"({
   "manifests": [
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:41c8d0e67e6020d92055b363a0ae126005999ef49fbddb9e2485dd7caf6e3800",
       "platform": {"architecture": "amd64", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:5b93ff5f5cd53074088b6155e5d584c4606f26fc75be9f3d0ca03a60e8d00d8c",
       "platform": {"architecture": "arm", "os": "linux", "variant": "v5"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf",
       "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee",
       "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:d182c920d56d5bf143d2406c07022ea0969e792c2e1650749defe28a6cb0cf2b",
       "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:9dc791dd691bdc1f90231b8285ce2ccc511836abecfe7dcdf8bcdb457571f5bf",
       "platform": {"architecture": "386", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:e5d1745972711d6993b08470e8a7b46857c480085f7a4fad7f92b40438617da5",
       "platform": {"architecture": "mips64le", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:01f584502c06c5edac730925a5c86aab1cdd8b9a7ce258ac8ba37e3227df6c41",
       "platform": {"architecture": "ppc64le", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:b377a1ccf79f44b9fa600a9ea3fb2d16e416f231af92fc20c58a2fbde606bb76",
       "platform": {"architecture": "riscv64", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 527,
       "digest": "sha256:beeff5a7743eaa844b6746b70a62bd18e00ae8ec436584c27d5cb300f430b505",
       "platform": {"architecture": "s390x", "os": "linux"}}
   ],
   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
   "schemaVersion": 2
})";

// An OCI index as buildkit writes it: an image per platform, each with its
// attestation manifest (unknown/unknown).
const char *kOciIndex = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "digest": "sha256:41c8d0e67e6020d92055b363a0ae126005999ef49fbddb9e2485dd7caf6e3800", "size": 1022,
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "digest": "sha256:d182c920d56d5bf143d2406c07022ea0969e792c2e1650749defe28a6cb0cf2b", "size": 1022,
     "platform": {"architecture": "arm64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "digest": "sha256:b377a1ccf79f44b9fa600a9ea3fb2d16e416f231af92fc20c58a2fbde606bb76", "size": 566,
     "annotations": {"vnd.docker.reference.digest": "sha256:41c8d0e67e6020d92055b363a0ae126005999ef49fbddb9e2485dd7caf6e3800",
                     "vnd.docker.reference.type": "attestation-manifest"},
     "platform": {"architecture": "unknown", "os": "unknown"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "digest": "sha256:beeff5a7743eaa844b6746b70a62bd18e00ae8ec436584c27d5cb300f430b505", "size": 5000,
     "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.5329",
                  "os.features": ["win32k"]}}
  ],
  "annotations": {"org.opencontainers.image.ref.name": "v1"}
})";

std::string manifest_err(const std::string &doc) {
  auto m = parse_manifest(doc);
  EXPECT_FALSE(m.has_value()) << doc;
  return m ? "" : m.error().message();
}

std::string index_err(const std::string &doc) {
  auto x = parse_index(doc);
  EXPECT_FALSE(x.has_value()) << doc;
  return x ? "" : x.error().message();
}

const std::string kD1 = "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2";

// A manifest whose layers are `layers` (a JSON array text).
std::string with_layers(const std::string &layers) {
  return R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 +
         R"(","size":2},"layers":)" + layers + "}";
}

} // namespace

TEST(Image, DockerManifest) {
  auto m = parse_manifest(kDockerManifest);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->schema_version, 2);
  EXPECT_EQ(m->media_type, media::docker_manifest);
  EXPECT_EQ(m->config.media_type, media::docker_config);
  EXPECT_EQ(m->config.size, 1457);
  EXPECT_EQ(m->config.digest.str(), "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910");
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].media_type, media::docker_layer_gzip);
  EXPECT_EQ(m->layers[0].size, 2591575);
  EXPECT_EQ(m->layers[0].digest.str(), kD1);
  EXPECT_FALSE(m->subject);
  EXPECT_TRUE(m->annotations.empty());
  EXPECT_EQ(*layer_compression(m->layers[0].media_type), Compression::gzip);
}

TEST(Image, OciManifestWithEverything) {
  auto m = parse_manifest(kOciManifest);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->media_type, media::oci_manifest);
  ASSERT_EQ(m->layers.size(), 3u);
  EXPECT_EQ(m->layers[1].urls, std::vector<std::string>{"https://mirror.example.com/blobs/95cf"});
  EXPECT_EQ(m->layers[1].annotations.at("org.opencontainers.image.title"), "layer2.tar.zst");
  EXPECT_EQ(m->layers[2].digest.algo, DigestAlgo::sha512);
  ASSERT_TRUE(m->subject);
  EXPECT_EQ(m->subject->size, 1234);
  EXPECT_EQ(m->annotations.size(), 2u);
  EXPECT_EQ(*layer_compression(m->layers[0].media_type), Compression::gzip);
  EXPECT_EQ(*layer_compression(m->layers[1].media_type), Compression::zstd);
  EXPECT_EQ(*layer_compression(m->layers[2].media_type), Compression::none);
}

TEST(Image, ArtifactManifest) {
  // image-spec's artifact guidance: the empty config, artifactType set, a
  // layer of a type no runtime knows (accepted here, refused by
  // layer_compression when someone tries to unpack it).
  auto m = parse_manifest(R"({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.example.sbom.v1",
    "config": {"mediaType": "application/vnd.oci.empty.v1+json",
               "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2,
               "data": "e30="},
    "layers": [{"mediaType": "application/spdx+json",
                "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2", "size": 100,
                "artifactType": "application/spdx+json"}]
  })");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->artifact_type, "application/vnd.example.sbom.v1");
  EXPECT_EQ(m->config.media_type, "application/vnd.oci.empty.v1+json");
  EXPECT_EQ(m->layers[0].artifact_type, "application/spdx+json");
  auto c = layer_compression(m->layers[0].media_type);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("media type 'application/spdx+json' is not a layer"), std::string::npos);
}

TEST(Image, ManifestLenientWhereDockerIs) {
  // No mediaType (OCI allows it), no layers, nulls as absent.
  auto m = parse_manifest(R"({"schemaVersion":2,"mediaType":null,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",
    "digest":")" + kD1 + R"(","size":0,"urls":null,"annotations":null,"platform":null},"annotations":null,"subject":null})");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->media_type, "");
  EXPECT_TRUE(m->layers.empty());
  EXPECT_EQ(m->config.size, 0);
}

TEST(Image, ManifestErrorsNameTheField) {
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":1},
      {"mediaType":"a/b","digest":")" + kD1 + R"(","size":1},{"mediaType":"a/b","digest":"x","size":1}])")),
            "manifest: layers[2].digest: invalid digest 'x': expected algorithm:hex");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":-1}])")),
            "manifest: layers[0].size: must not be negative, got -1");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":1.5}])")),
            "manifest: layers[0].size: expected an integer, got number 1.5");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":"1"}])")),
            "manifest: layers[0].size: expected an integer, got string");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"("}])")),
            "manifest: layers[0].size: required field missing");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","size":3}])")),
            "manifest: layers[0].digest: required field missing");
  EXPECT_EQ(manifest_err(with_layers(R"([{"digest":")" + kD1 + R"(","size":3}])")),
            "manifest: layers[0].mediaType: required field missing");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":7,"digest":")" + kD1 + R"(","size":3}])")),
            "manifest: layers[0].mediaType: expected a string, got integer");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":5,"size":3}])")),
            "manifest: layers[0].digest: expected a string, got integer");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":1,"urls":"x"}])")),
            "manifest: layers[0].urls: expected an array of strings, got string");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":1,"annotations":{"k":1}}])")),
            "manifest: layers[0].annotations[\"k\"]: expected a string, got integer");
  EXPECT_EQ(manifest_err(with_layers(R"([{"mediaType":"a/b","digest":")" + kD1 + R"(","size":1,"platform":{"os":"linux"}}])")),
            "manifest: layers[0].platform.architecture: required field missing");
  EXPECT_EQ(manifest_err(with_layers(R"({})")), "manifest: layers: expected an array, got object");
  EXPECT_EQ(manifest_err(with_layers(R"(["x"])")), "manifest: layers[0]: expected an object, got string");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":2})"), "manifest: config: required field missing");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":2,"config":[]})"), "manifest: config: expected an object, got array");
  EXPECT_EQ(manifest_err(R"({"config":{}})"), "manifest: schemaVersion: required field missing");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":3,"config":{}})"), "manifest: schemaVersion: must be 2, got 3");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":"2","config":{}})"), "manifest: schemaVersion: expected an integer, got string");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":2,"config":{},"subject":"x"})"),
            "manifest: config.mediaType: required field missing");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})"),
            "manifest: mediaType: 'application/vnd.oci.image.index.v1+json' is an image index, not a manifest");
  EXPECT_EQ(manifest_err(R"({"schemaVersion":2,"manifests":[]})"),
            "manifest: the document is an image index (it has \"manifests\"), not a manifest");
  EXPECT_NE(manifest_err(R"({"schemaVersion":2,"mediaType":"text/plain","config":{}})")
                .find("manifest: mediaType: unsupported manifest media type 'text/plain'"),
            std::string::npos);
  EXPECT_EQ(manifest_err("[]"), "manifest: expected an object, got array");
  EXPECT_EQ(manifest_err("null"), "manifest: expected an object, got null");
  EXPECT_NE(manifest_err("{").find("manifest: invalid JSON: "), std::string::npos);
  EXPECT_NE(manifest_err("").find("manifest: invalid JSON: "), std::string::npos);
  EXPECT_NE(manifest_err(std::string(300, '[')).find("manifest: JSON nested deeper than"), std::string::npos);
  // The subject is read as a descriptor too.
  EXPECT_EQ(manifest_err(with_layers(R"([],"subject":{"mediaType":"a/b","digest":")" + kD1 + R"(","size":-5})")),
            "manifest: subject.size: must not be negative, got -5");
}

TEST(Image, Schema1IsRefusedClearly) {
  const std::string want = "manifest: schema1 manifests are not supported (deprecated by docker in 2019)";
  // As Docker Hub served them: schemaVersion 1, fsLayers, signatures.
  EXPECT_EQ(manifest_err(R"({"schemaVersion":1,"name":"library/busybox","tag":"latest","architecture":"amd64",
    "fsLayers":[{"blobSum":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],
    "history":[{"v1Compatibility":"{}"}],"signatures":[]})"),
            want);
  EXPECT_EQ(manifest_err(R"({"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"})"), want);
  EXPECT_EQ(manifest_err(R"({"mediaType":"application/vnd.docker.distribution.manifest.v1+json"})"), want);
  EXPECT_EQ(index_err(R"({"schemaVersion":1})"),
            "image index: schema1 manifests are not supported (deprecated by docker in 2019)");
  auto k = doc_kind(R"({"schemaVersion":1,"fsLayers":[]})");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message(), "manifest or index: schema1 manifests are not supported (deprecated by docker in 2019)");
  auto k2 = doc_kind(R"({"schemaVersion":1})", "application/vnd.docker.distribution.manifest.v1+prettyjws");
  ASSERT_FALSE(k2);
  EXPECT_NE(k2.error().message().find("schema1"), std::string::npos);
}

TEST(Image, DockerManifestList) {
  auto x = parse_index(kBusyboxList);
  ASSERT_TRUE(x) << x.error().message();
  EXPECT_EQ(x->schema_version, 2);
  EXPECT_EQ(x->media_type, media::docker_list);
  ASSERT_EQ(x->manifests.size(), 10u);
  std::vector<std::string> platforms;
  for (const auto &d : x->manifests) {
    ASSERT_TRUE(d.platform);
    EXPECT_EQ(d.media_type, media::docker_manifest);
    EXPECT_EQ(d.size, 527);
    platforms.push_back(d.platform->str());
  }
  EXPECT_EQ(platforms, (std::vector<std::string>{"linux/amd64", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7",
                                                 "linux/arm64/v8", "linux/386", "linux/mips64le", "linux/ppc64le",
                                                 "linux/riscv64", "linux/s390x"}));
}

TEST(Image, OciIndex) {
  auto x = parse_index(kOciIndex);
  ASSERT_TRUE(x) << x.error().message();
  EXPECT_EQ(x->media_type, media::oci_index);
  ASSERT_EQ(x->manifests.size(), 4u);
  EXPECT_EQ(x->annotations.at("org.opencontainers.image.ref.name"), "v1");
  EXPECT_EQ(x->manifests[2].annotations.at("vnd.docker.reference.type"), "attestation-manifest");
  const Platform &win = *x->manifests[3].platform;
  EXPECT_EQ(win.os, "windows");
  EXPECT_EQ(win.os_version, "10.0.17763.5329");
  EXPECT_EQ(win.os_features, std::vector<std::string>{"win32k"});
  // An index of no manifests is valid (image-index.md: MAY be zero).
  auto empty = parse_index(R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_TRUE(empty->manifests.empty());
}

TEST(Image, IndexErrorsNameTheField) {
  EXPECT_EQ(index_err(R"({"schemaVersion":2})"), "image index: manifests: required field missing");
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"manifests":null})"), "image index: manifests: required field missing");
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"manifests":{}})"), "image index: manifests: expected an array, got object");
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":")" + kD1 +
                      R"(","size":1,"platform":{"architecture":"amd64","os":"linux","os.features":"x"}}]})"),
            "image index: manifests[0].platform.os.features: expected an array of strings, got string");
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":")" + kD1 +
                      R"(","size":1,"platform":{"architecture":"amd64"}}]})"),
            "image index: manifests[0].platform.os: required field missing");
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":")" + kD1 +
                      R"(","size":1,"platform":[]}]})"),
            "image index: manifests[0].platform: expected an object, got array");
  EXPECT_NE(index_err(R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"sha256:ABC","size":1}]})")
                .find("image index: manifests[0].digest: invalid digest 'sha256:ABC'"),
            std::string::npos);
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","manifests":[]})"),
            "image index: mediaType: 'application/vnd.docker.distribution.manifest.v2+json' is an image manifest, not an index");
  EXPECT_NE(index_err(R"({"schemaVersion":2,"mediaType":"x/y","manifests":[]})").find("unsupported index media type 'x/y'"),
            std::string::npos);
  EXPECT_EQ(index_err(R"({"schemaVersion":2,"manifests":[],"annotations":[]})"),
            "image index: annotations: expected an object, got array");
  EXPECT_EQ(index_err("7"), "image index: expected an object, got integer");
}

TEST(Image, DocKind) {
  auto kind = [](std::string_view doc, std::string_view ct = {}) {
    auto k = doc_kind(doc, ct);
    EXPECT_TRUE(k.has_value()) << doc << " " << ct << ": " << (k ? "" : k.error().message());
    return k ? *k : DocKind{};
  };
  EXPECT_EQ(kind(kDockerManifest), DocKind::manifest);
  EXPECT_EQ(kind(kOciManifest), DocKind::manifest);
  EXPECT_EQ(kind(kBusyboxList), DocKind::index);
  EXPECT_EQ(kind(kOciIndex), DocKind::index);
  // The mediaType wins over the content type and the shape.
  EXPECT_EQ(kind(R"({"mediaType":"application/vnd.oci.image.index.v1+json","config":{}})", media::oci_manifest), DocKind::index);
  // No mediaType: the content type, with its parameters.
  EXPECT_EQ(kind(R"({"schemaVersion":2})", "application/vnd.oci.image.index.v1+json; charset=utf-8"), DocKind::index);
  EXPECT_EQ(kind(R"({"schemaVersion":2})", media::docker_manifest), DocKind::manifest);
  EXPECT_EQ(kind(R"({"schemaVersion":2,"mediaType":null})", media::docker_list), DocKind::index);
  // Neither: the shape.
  EXPECT_EQ(kind(R"({"schemaVersion":2,"manifests":[]})", "application/json"), DocKind::index);
  EXPECT_EQ(kind(R"({"schemaVersion":2,"config":{}})"), DocKind::manifest);
  EXPECT_EQ(kind(R"({"schemaVersion":2,"layers":[]})", "application/octet-stream"), DocKind::manifest);

  auto fails = [](std::string_view doc, std::string_view ct = {}) {
    auto k = doc_kind(doc, ct);
    EXPECT_FALSE(k.has_value()) << doc;
    return k ? "" : k.error().message();
  };
  EXPECT_EQ(fails(R"({"mediaType":"application/vnd.oci.image.config.v1+json"})"),
            "manifest or index: mediaType 'application/vnd.oci.image.config.v1+json' is neither a manifest nor an index");
  EXPECT_EQ(fails(R"({"mediaType":3})"), "manifest or index: mediaType: expected a string, got integer");
  EXPECT_EQ(fails(R"({"schemaVersion":2})"),
            "manifest or index: no mediaType, and neither \"manifests\" (an index) nor \"config\" (a manifest)");
  EXPECT_EQ(fails("[1]"), "manifest or index: expected an object, got array");
  EXPECT_NE(fails("nope").find("manifest or index: invalid JSON"), std::string::npos);
}

TEST(Image, ManifestRoundTrip) {
  for (const char *doc : {kDockerManifest, kOciManifest}) {
    auto m = parse_manifest(doc);
    ASSERT_TRUE(m) << m.error().message();
    std::string out = to_json_string(*m);
    EXPECT_EQ(out.find('\n'), std::string::npos);
    EXPECT_EQ(out.find(": "), std::string::npos);
    auto again = parse_manifest(out);
    ASSERT_TRUE(again) << again.error().message() << "\n" << out;
    EXPECT_EQ(to_json_string(*again), out);
    EXPECT_EQ(again->media_type, m->media_type);
    EXPECT_EQ(again->config.digest, m->config.digest);
    ASSERT_EQ(again->layers.size(), m->layers.size());
    for (size_t i = 0; i < m->layers.size(); ++i) {
      EXPECT_EQ(again->layers[i].digest, m->layers[i].digest);
      EXPECT_EQ(again->layers[i].size, m->layers[i].size);
      EXPECT_EQ(again->layers[i].urls, m->layers[i].urls);
      EXPECT_EQ(again->layers[i].annotations, m->layers[i].annotations);
    }
    EXPECT_EQ(again->subject.has_value(), m->subject.has_value());
    EXPECT_EQ(again->annotations, m->annotations);
  }
}

TEST(Image, ManifestToJsonIsOciAndOmitsEmptyFields) {
  Manifest m;
  m.config.media_type = media::oci_config;
  m.config.digest = *Digest::parse(kD1);
  m.config.size = 2;
  auto j = nlohmann::json::parse(to_json_string(m));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 + R"(","size":2},"layers":[]})"));
}

TEST(Image, IndexRoundTrip) {
  for (const char *doc : {kBusyboxList, kOciIndex}) {
    auto x = parse_index(doc);
    ASSERT_TRUE(x) << x.error().message();
    std::string out = to_json_string(*x);
    auto again = parse_index(out);
    ASSERT_TRUE(again) << again.error().message() << "\n" << out;
    EXPECT_EQ(to_json_string(*again), out);
    EXPECT_EQ(again->media_type, x->media_type);
    EXPECT_EQ(again->annotations, x->annotations);
    ASSERT_EQ(again->manifests.size(), x->manifests.size());
    for (size_t i = 0; i < x->manifests.size(); ++i) {
      EXPECT_EQ(again->manifests[i].digest, x->manifests[i].digest);
      EXPECT_EQ(again->manifests[i].platform->str(), x->manifests[i].platform->str());
      EXPECT_EQ(again->manifests[i].platform->os_version, x->manifests[i].platform->os_version);
      EXPECT_EQ(again->manifests[i].platform->os_features, x->manifests[i].platform->os_features);
    }
  }
  Index empty;
  EXPECT_EQ(to_json_string(empty), R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
}

TEST(Image, DescriptorToJson) {
  Descriptor d;
  d.media_type = media::oci_manifest;
  d.digest = *Digest::parse(kD1);
  d.size = 42;
  d.platform = Platform{"linux", "arm", "v7", "", {}};
  d.artifact_type = "application/x";
  d.annotations = {{"a", "b"}};
  auto j = to_json(d);
  EXPECT_EQ(j["platform"], nlohmann::json::parse(R"({"os":"linux","architecture":"arm","variant":"v7"})"));
  EXPECT_EQ(j["artifactType"], "application/x");
  EXPECT_FALSE(j.contains("urls"));
  auto back = parse_descriptor(j);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->digest, d.digest);
  EXPECT_EQ(back->size, 42);
  EXPECT_EQ(back->platform->str(), "linux/arm/v7");
  EXPECT_EQ(back->annotations, d.annotations);
  EXPECT_EQ(back->artifact_type, d.artifact_type);
  auto bad = parse_descriptor(nlohmann::json::parse(R"({"mediaType":"a/b","digest":"sha256:00","size":1})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "digest: invalid digest 'sha256:00': wrong length of the hex part");
}

TEST(Image, LayerCompression) {
  const std::pair<std::string_view, Compression> known[] = {
      {media::oci_layer, Compression::none},
      {media::oci_layer_gzip, Compression::gzip},
      {media::oci_layer_zstd, Compression::zstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::none},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::gzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::zstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::none},
      {media::docker_layer_gzip, Compression::gzip},
      {media::docker_foreign_gzip, Compression::gzip},
  };
  for (auto [mt, c] : known) {
    auto r = layer_compression(mt);
    ASSERT_TRUE(r) << mt;
    EXPECT_EQ(*r, c) << mt;
  }
  for (std::string_view mt : {media::oci_config, media::docker_manifest, std::string_view("application/octet-stream"),
                              std::string_view(""), std::string_view("application/vnd.oci.image.layer.v1.tar+bzip2")}) {
    auto r = layer_compression(mt);
    ASSERT_FALSE(r) << mt;
    EXPECT_EQ(r.error().message().find("media type '" + std::string(mt) + "' is not a layer"), 0u);
  }
  EXPECT_EQ(compression_name(Compression::none), "none");
  EXPECT_EQ(compression_name(Compression::gzip), "gzip");
  EXPECT_EQ(compression_name(Compression::zstd), "zstd");
}

TEST(Image, SniffCompression) {
  const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00};
  const unsigned char zs[] = {0x28, 0xb5, 0x2f, 0xfd, 0x04};
  const char tar[] = "etc/\0\0\0";
  EXPECT_EQ(sniff_compression(gz, sizeof gz), Compression::gzip);
  EXPECT_EQ(sniff_compression(zs, sizeof zs), Compression::zstd);
  EXPECT_EQ(sniff_compression(tar, sizeof tar), Compression::none);
  // Too short to tell: none, and no read past n.
  EXPECT_EQ(sniff_compression(gz, 1), Compression::none);
  EXPECT_EQ(sniff_compression(zs, 3), Compression::none);
  EXPECT_EQ(sniff_compression(nullptr, 0), Compression::none);
}
