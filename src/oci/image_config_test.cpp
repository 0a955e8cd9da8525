#include "oci/image.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace berth::oci;

namespace {

// Docker's config of an nginx-like image (docker image inspect's keys).
const char *kDockerConfig = R"({
  "architecture": "amd64",
  "config": {
    "Hostname": "",
    "User": "nginx",
    "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.25.3"],
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "Volumes": {"/var/cache/nginx": {}},
    "WorkingDir": "/srv",
    "Labels": {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"},
    "StopSignal": "SIGQUIT",
    "ArgsEscaped": true,
    "OnBuild": null
  },
  "container": "3d1c2a1f",
  "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) CMD [\"nginx\"]"]},
  "created": "2023-11-01T20:09:39.454393785Z",
  "docker_version": "20.10.23",
  "history": [
    {"created": "2023-11-01T00:20:38.5Z", "created_by": "/bin/sh -c #(nop) ADD file:0a5 in / "},
    {"created": "2023-11-01T00:20:38.9Z", "created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": true},
    {"created": "2023-11-01T20:09:39.4Z", "created_by": "COPY docker-entrypoint.sh / # buildkit",
     "author": "someone", "comment": "buildkit.dockerfile.v0"}
  ],
  "os": "linux",
  "rootfs": {
    "type": "layers",
    "diff_ids": [
      "sha256:0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665",
      "sha256:a9485d17c39b521f9de31b558df98f81dd72a9c7498f57f27b74356ea150fbd9"
    ]
  }
})";

// The OCI example of config.md, cut down.
const char *kOciConfig = R"({
    "created": "2015-10-31T22:22:56.015925234Z",
    "author": "Alyssa P. Hacker <alyspdev@example.com>",
    "architecture": "arm64",
    "variant": "v8",
    "os": "linux",
    "config": {
        "User": "alice",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a", "BAR=well_written_spec"],
        "Entrypoint": ["/bin/my-app-binary"],
        "Cmd": ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
        "Volumes": {"/var/job-result-data": {}, "/var/log/my-app-logs": {}},
        "WorkingDir": "/home/alice",
        "Labels": {"com.example.project.git.url": "https://example.com/project.git"}
    },
    "rootfs": {
      "diff_ids": [
        "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
      ],
      "type": "layers"
    },
    "history": [
      {"created": "2015-10-31T22:22:54.690851953Z", "created_by": "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"},
      {"created": "2015-10-31T22:22:55.613815829Z", "created_by": "/bin/sh -c #(nop) CMD [\"sh\"]", "empty_layer": true}
    ]
})";

std::string config_err(const std::string &doc) {
  auto c = parse_image_config(doc);
  EXPECT_FALSE(c.has_value()) << doc;
  return c ? "" : c.error().message();
}

} // namespace

TEST(ImageConfig, Docker) {
  auto c = parse_image_config(kDockerConfig);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->created, "2023-11-01T20:09:39.454393785Z");
  EXPECT_EQ(c->user, "nginx");
  EXPECT_EQ(c->exposed_ports, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(c->env.size(), 2u);
  EXPECT_EQ(c->env[1], "NGINX_VERSION=1.25.3");
  EXPECT_TRUE(c->entrypoint_set);
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
  EXPECT_TRUE(c->cmd_set);
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(c->volumes, std::vector<std::string>{"/var/cache/nginx"});
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->labels.at("maintainer"), "NGINX Docker Maintainers <docker-maint@nginx.com>");
  EXPECT_EQ(c->stop_signal, "SIGQUIT");
  ASSERT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->diff_ids[1].str(), "sha256:a9485d17c39b521f9de31b558df98f81dd72a9c7498f57f27b74356ea150fbd9");
  ASSERT_EQ(c->history.size(), 3u);
  EXPECT_FALSE(c->history[0].empty_layer);
  EXPECT_TRUE(c->history[1].empty_layer);
  EXPECT_EQ(c->history[2].author, "someone");
  EXPECT_EQ(c->history[2].comment, "buildkit.dockerfile.v0");
  EXPECT_EQ(c->history[2].created_by, "COPY docker-entrypoint.sh / # buildkit");
  // raw keeps what the struct does not have, for inspect.
  EXPECT_EQ(c->raw["docker_version"], "20.10.23");
  EXPECT_EQ(c->raw["config"]["ArgsEscaped"], true);
}

TEST(ImageConfig, Oci) {
  auto c = parse_image_config(kOciConfig);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->author, "Alyssa P. Hacker <alyspdev@example.com>");
  EXPECT_EQ(c->architecture, "arm64");
  EXPECT_EQ(c->variant, "v8");
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->exposed_ports, std::vector<std::string>{"8080/tcp"});
  EXPECT_EQ(c->volumes, (std::vector<std::string>{"/var/job-result-data", "/var/log/my-app-logs"}));
  EXPECT_EQ(c->cmd.size(), 3u);
  EXPECT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->history.size(), 2u);
  EXPECT_EQ(c->stop_signal, "");
}

TEST(ImageConfig, NullAndEmptyEntrypointDiffer) {
  const std::string rootfs = R"("rootfs":{"type":"layers","diff_ids":[]})";
  auto none = parse_image_config("{" + rootfs + R"(,"config":{"Entrypoint":null}})");
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(none->entrypoint_set);
  EXPECT_FALSE(none->cmd_set);
  auto cleared = parse_image_config("{" + rootfs + R"(,"config":{"Entrypoint":[],"Cmd":[]}})");
  ASSERT_TRUE(cleared) << cleared.error().message();
  EXPECT_TRUE(cleared->entrypoint_set);
  EXPECT_TRUE(cleared->entrypoint.empty());
  EXPECT_TRUE(cleared->cmd_set);
}

TEST(ImageConfig, MinimalAndLenient) {
  // A scratch image of no layers: moby omits diff_ids; no config, no os.
  auto c = parse_image_config(R"({"rootfs":{"type":"layers"},"config":null,"history":null})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->diff_ids.empty());
  EXPECT_TRUE(c->env.empty());
  EXPECT_EQ(c->architecture, "");
}

TEST(ImageConfig, ErrorsNameTheField) {
  EXPECT_EQ(config_err("{}"), "image config: rootfs: required field missing");
  EXPECT_EQ(config_err(R"({"rootfs":{}})"), "image config: rootfs.type: required field missing");
  EXPECT_EQ(config_err(R"({"rootfs":{"type":"squashfs"}})"), "image config: rootfs.type: must be \"layers\", got \"squashfs\"");
  EXPECT_EQ(config_err(R"({"rootfs":[]})"), "image config: rootfs: expected an object, got array");
  EXPECT_EQ(config_err(R"({"rootfs":{"type":"layers","diff_ids":["sha256:0697c0f434f8672811eb1b52d443d0d4cb616fa58e4d10b25e91471b7f45a665","x"]}})"),
            "image config: rootfs.diff_ids[1]: invalid digest 'x': expected algorithm:hex");
  EXPECT_EQ(config_err(R"({"rootfs":{"type":"layers","diff_ids":"x"}})"),
            "image config: rootfs.diff_ids: expected an array, got string");
  const std::string r = R"("rootfs":{"type":"layers"},)";
  EXPECT_EQ(config_err("{" + r + R"("config":{"Env":"A=1"}})"), "image config: config.Env: expected an array of strings, got string");
  EXPECT_EQ(config_err("{" + r + R"("config":{"Cmd":["a",1]}})"), "image config: config.Cmd[1]: expected a string, got integer");
  EXPECT_EQ(config_err("{" + r + R"("config":{"Entrypoint":"sh"}})"),
            "image config: config.Entrypoint: expected an array of strings, got string");
  EXPECT_EQ(config_err("{" + r + R"("config":{"ExposedPorts":["80/tcp"]}})"),
            "image config: config.ExposedPorts: expected an object, got array");
  EXPECT_EQ(config_err("{" + r + R"("config":{"Volumes":"/data"}})"), "image config: config.Volumes: expected an object, got string");
  EXPECT_EQ(config_err("{" + r + R"("config":{"Labels":{"a":true}}})"),
            "image config: config.Labels[\"a\"]: expected a string, got boolean");
  EXPECT_EQ(config_err("{" + r + R"("config":{"User":0}})"), "image config: config.User: expected a string, got integer");
  EXPECT_EQ(config_err("{" + r + R"("config":{"WorkingDir":[]}})"), "image config: config.WorkingDir: expected a string, got array");
  EXPECT_EQ(config_err("{" + r + R"("config":{"StopSignal":9}})"), "image config: config.StopSignal: expected a string, got integer");
  EXPECT_EQ(config_err("{" + r + R"("config":"x"})"), "image config: config: expected an object, got string");
  EXPECT_EQ(config_err("{" + r + R"("history":[{"empty_layer":"yes"}]})"),
            "image config: history[0].empty_layer: expected a boolean, got string");
  EXPECT_EQ(config_err("{" + r + R"("history":{}})"), "image config: history: expected an array, got object");
  EXPECT_EQ(config_err("{" + r + R"("history":[1]})"), "image config: history[0]: expected an object, got integer");
  EXPECT_EQ(config_err("{" + r + R"("architecture":64})"), "image config: architecture: expected a string, got integer");
  EXPECT_EQ(config_err("{" + r + R"("created":1})"), "image config: created: expected a string, got integer");
  EXPECT_EQ(config_err("\"x\""), "image config: expected an object, got string");
  EXPECT_NE(config_err("{\"rootfs\":").find("image config: invalid JSON"), std::string::npos);
}
