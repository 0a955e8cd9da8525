// parse_process, parse_resources, and the guards every parse has.
#include "oci/spec_json.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace berth::oci;

namespace {

TEST(SpecProcess, ParsesLoneProcess) {
  auto r = parse_process(R"({"terminal": false, "user": {"uid": 1000, "gid": 1000},
    "args": ["/bin/ls", "-l"], "env": ["A=b"], "cwd": "/tmp",
    "capabilities": {"bounding": ["CAP_KILL"]}, "noNewPrivileges": true})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->user.uid, 1000u);
  EXPECT_EQ(r->args.size(), 2u);
  EXPECT_EQ(r->cwd, "/tmp");
  EXPECT_TRUE(r->no_new_privileges);
}

TEST(SpecProcess, ErrorsArePrefixedWithProcess) {
  auto r = parse_process(R"({"args": [], "cwd": "/"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.args: must not be empty");
  r = parse_process(R"({"args": ["sh"], "cwd": "/", "user": {"uid": "root"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process.user.uid: expected an integer, got string");
  r = parse_process(R"(["sh"])");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "process: expected an object, got array");
}

TEST(SpecResources, ParsesContainerdUpdate) {
  // What containerd's shim writes for `update --resources`.
  auto r = parse_resources(R"({"memory": {"limit": 268435456, "swap": 536870912},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1"},
    "pids": {"limit": 100}, "unified": {"memory.high": "200M"}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->memory->limit, 268435456);
  EXPECT_EQ(r->cpu->quota, 50000);
  EXPECT_EQ(r->cpu->cpus, "0-1");
  EXPECT_EQ(r->pids->limit, 100);
  EXPECT_EQ(r->unified.at("memory.high"), "200M");
  EXPECT_FALSE(r->block_io);
}

TEST(SpecResources, ErrorsArePrefixedWithResources) {
  auto r = parse_resources(R"({"memory": {"limit": "1G"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "resources.memory.limit: expected an integer, got string");
  r = parse_resources(R"({"pids": {}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "resources.pids.limit: required field missing");
  r = parse_resources(R"({"hugepageLimits": [{"pageSize": "64kB", "limit": 1}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "resources.hugepageLimits[0].pageSize: invalid page size \"64kB\" (e.g. 2MB)");
  r = parse_resources(R"({"blockIO": {"weightDevice": [{"major": 8, "weight": 1}]}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "resources.blockIO.weightDevice[0].minor: required field missing");
  r = parse_resources(R"({"network": {"priorities": [{"name": "eth0"}]}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "resources.network.priorities[0].priority: required field missing");
}

std::string nested(int levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

TEST(SpecGuards, DeepNestingRefused) {
  // The top-level object is one level: 199 arrays inside it make 200.
  std::string ok = R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "x": )" + nested(199) + "}";
  auto r = parse_spec(ok);
  EXPECT_TRUE(r) << r.error().message();
  std::string deep = R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "x": )" + nested(200) + "}";
  r = parse_spec(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "JSON nested deeper than 200 levels");
  // Far deeper than any stack could take: refused before parsing.
  auto p = parse_process(nested(1000000));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "JSON nested deeper than 200 levels");
  auto s = parse_resources(std::string(1000000, '{'));
  ASSERT_FALSE(s);
}

TEST(SpecGuards, BracketsInStringsDoNotCount) {
  std::string doc = R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "annotations": {"a": ")" +
                    std::string(1000, '[') + R"(\"{{"}})";
  auto r = parse_spec(doc);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->annotations.at("a").size(), 1003u);
}

TEST(SpecGuards, HugeDocumentRefused) {
  std::string doc = R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "x": ")";
  doc.append((64u << 20) - doc.size() + 1, 'a');
  auto r = parse_spec(doc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "document too large (67108865 bytes, limit 64 MiB)");
}

TEST(SpecGuards, InvalidJsonIsAnErrorNotAnException) {
  for (const char *doc : {"", "{", "{\"a\": }", "nul", "{\"a\": \"\xff\"}", "[1,]", "{} x"}) {
    auto r = parse_spec(doc);
    ASSERT_FALSE(r) << doc;
    EXPECT_EQ(r.error().message().rfind("invalid JSON: ", 0), 0u)
        << r.error().message();
  }
}

} // namespace
