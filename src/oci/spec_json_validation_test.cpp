// Each validation rule of parse_spec: the error names the field by its path.
#include "oci/spec_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace berth::oci;
using nlohmann::json;

namespace {

json base() {
  return json::parse(R"({"ociVersion": "1.3.0", "root": {"path": "rootfs"},
    "process": {"args": ["sh"], "cwd": "/"},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}})");
}

// The error message of parse_spec(j), or "<ok>".
std::string error_of(const json &j) {
  auto r = parse_spec(j.dump());
  return r ? "<ok>" : r.error().message();
}

#define EXPECT_ERROR(j, text)                                                        \
  do {                                                                               \
    std::string m_ = error_of(j);                                                    \
    EXPECT_NE(m_.find(text), std::string::npos) << "want: " << (text) << "\ngot:  " << m_; \
  } while (0)

#define EXPECT_OK(j) EXPECT_EQ(error_of(j), "<ok>")

TEST(SpecValidation, BaseIsValid) { EXPECT_OK(base()); }

TEST(SpecValidation, Version) {
  json j = base();
  j["ociVersion"] = "2.0.0";
  EXPECT_EQ(error_of(j),
            "ociVersion: unsupported version \"2.0.0\" (this runtime supports 1.x)");
  j["ociVersion"] = "0.5.0-dev";
  EXPECT_ERROR(j, "unsupported version \"0.5.0-dev\"");
  j["ociVersion"] = "latest";
  EXPECT_ERROR(j, "ociVersion: invalid version \"latest\"");
  j["ociVersion"] = 1;
  EXPECT_ERROR(j, "ociVersion: expected a string, got integer");
  j.erase("ociVersion");
  EXPECT_EQ(error_of(j), "ociVersion: required field missing");
}

TEST(SpecValidation, DocumentShape) {
  EXPECT_EQ(error_of(json::array()), "expected an object, got array");
  auto r = parse_spec("{\"ociVersion\": ");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("invalid JSON: "), std::string::npos)
      << r.error().message();
  json j = base();
  j.erase("root");
  EXPECT_EQ(error_of(j), "root: required field missing");
  j = base();
  j["root"] = {{"readonly", true}};
  EXPECT_EQ(error_of(j), "root.path: required field missing");
  j = base();
  j["annotations"] = {{"a", "b"}, {"n", 1}};
  EXPECT_ERROR(j, "annotations[\"n\"]: expected a string, got integer");
  j = base();
  j["hostname"] = std::string("a\0b", 3);
  EXPECT_ERROR(j, "hostname: must not contain a NUL byte");
}

TEST(SpecValidation, TypeMismatchNamesField) {
  json j = base();
  j["linux"]["resources"]["memory"]["limit"] = "1G";
  EXPECT_EQ(error_of(j),
            "linux.resources.memory.limit: expected an integer, got string");
  j["linux"]["resources"]["memory"]["limit"] = 1.5;
  EXPECT_ERROR(j, "memory.limit: expected an integer, got number 1.5");
  j = base();
  j["process"]["terminal"] = "yes";
  EXPECT_ERROR(j, "process.terminal: expected a boolean, got string");
  j = base();
  j["mounts"] = {{"destination", "/x"}};
  EXPECT_ERROR(j, "mounts: expected an array, got object");
  j = base();
  j["process"]["env"] = {"A=1", 2};
  EXPECT_ERROR(j, "process.env[1]: expected a string, got integer");
}

TEST(SpecValidation, IntegerRanges) {
  json j = base();
  j["process"]["user"] = {{"uid", 4294967296ull}, {"gid", 0}};
  EXPECT_ERROR(j, "process.user.uid: value 4294967296 out of range for uint32");
  j["process"]["user"] = {{"uid", 0}, {"gid", -1}};
  EXPECT_ERROR(j, "process.user.gid: value -1 out of range for uint32");
  j["process"]["user"] = {{"uid", 0}, {"gid", 0}, {"additionalGids", {1, -2}}};
  EXPECT_ERROR(j, "process.user.additionalGids[1]: value -2 out of range for uint32");
  j = base();
  j["linux"]["resources"]["blockIO"]["weight"] = 70000;
  EXPECT_ERROR(j, "linux.resources.blockIO.weight: value 70000 out of range for uint16");
  j = base();
  j["linux"]["resources"]["memory"]["limit"] = 9223372036854775808ull;
  EXPECT_ERROR(j, "memory.limit: value 9223372036854775808 out of range for int64");
  j = base();
  j["linux"]["resources"]["cpu"]["shares"] = -1;
  EXPECT_ERROR(j, "linux.resources.cpu.shares: value -1 out of range for uint64");
}

TEST(SpecValidation, Namespaces) {
  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "foo"}});
  // As `create` reports it, with the file as context.
  auto r = parse_spec(j.dump());
  ASSERT_FALSE(r);
  std::string m = std::move(r).error().with("config.json").message();
  EXPECT_EQ(m.rfind("config.json: linux.namespaces[2].type: unknown namespace type \"foo\"", 0), 0u)
      << m;
  j = base();
  j["linux"]["namespaces"].push_back({{"type", "pid"}});
  EXPECT_ERROR(j, "linux.namespaces[2].type: duplicate namespace type \"pid\"");
  j = base();
  j["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "run/netns/x"}});
  EXPECT_ERROR(j, "linux.namespaces[2].path: must be an absolute path");
  j = base();
  j["linux"]["namespaces"].push_back({{"path", "/run/netns/x"}});
  EXPECT_ERROR(j, "linux.namespaces[2].type: required field missing");
}

TEST(SpecValidation, UserNamespaceMappings) {
  json maps = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
  json j = base();
  j["linux"]["uidMappings"] = maps;
  j["linux"]["gidMappings"] = maps;
  EXPECT_ERROR(j, "linux.uidMappings: user namespace mappings specified, but no user namespace");
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  EXPECT_OK(j);
  j["linux"].erase("uidMappings");
  EXPECT_ERROR(j, "linux.uidMappings: user namespaces enabled, but no uid mappings");
  j["linux"]["uidMappings"] = maps;
  j["linux"].erase("gidMappings");
  EXPECT_ERROR(j, "linux.gidMappings: user namespaces enabled, but no gid mappings");
  // A joined user namespace already has its mappings.
  j = base();
  j["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
  EXPECT_OK(j);
  j = base();
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1}}};
  j["linux"]["gidMappings"] = maps;
  EXPECT_ERROR(j, "linux.uidMappings[0].size: required field missing");
}

TEST(SpecValidation, TimeOffsets) {
  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "time"}});
  j["linux"]["timeOffsets"] = {{"realtime", {{"secs", 1}}}};
  EXPECT_ERROR(j, "linux.timeOffsets[\"realtime\"]: unknown clock \"realtime\"");
  j["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1}, {"nanosecs", 1000000000}}}};
  EXPECT_ERROR(j, "linux.timeOffsets[\"boottime\"].nanosecs: must be less than 1e9");
  j["linux"]["timeOffsets"] = {{"boottime", {{"secs", -1}}}};
  EXPECT_OK(j);
  j["linux"]["namespaces"].erase(2);
  EXPECT_ERROR(j, "linux.timeOffsets: time offsets specified, but no time namespace");
}

TEST(SpecValidation, Devices) {
  json j = base();
  j["linux"]["devices"] = {{{"type", "x"}, {"path", "/dev/x"}, {"major", 1}, {"minor", 1}}};
  EXPECT_ERROR(j, "linux.devices[0].type: unknown device type \"x\"");
  j["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/x"}, {"minor", 1}}};
  EXPECT_ERROR(j, "linux.devices[0].major: required field missing");
  j["linux"]["devices"] = {{{"type", "b"}, {"path", "/dev/x"}, {"major", 1}}};
  EXPECT_ERROR(j, "linux.devices[0].minor: required field missing");
  j["linux"]["devices"] = {{{"type", "p"}, {"path", "/dev/fifo"}}};
  EXPECT_OK(j);
  j["linux"]["devices"] = {{{"type", "u"}, {"path", "dev/x"}, {"major", 1}, {"minor", 1}}};
  EXPECT_ERROR(j, "linux.devices[0].path: must be an absolute path");
  j["linux"]["devices"] = {{{"type", "u"}, {"major", 1}, {"minor", 1}}};
  EXPECT_ERROR(j, "linux.devices[0].path: required field missing");
}

TEST(SpecValidation, Hooks) {
  json j = base();
  j["hooks"]["poststart"] = {{{"path", "/ok"}}, {{"args", {"x"}}}};
  EXPECT_ERROR(j, "hooks.poststart[1].path: required field missing");
  j["hooks"]["poststart"] = {{{"path", "bin/hook"}}};
  EXPECT_ERROR(j, "hooks.poststart[0].path: must be an absolute path");
  j["hooks"]["poststart"] = {{{"path", "/bin/hook"}, {"timeout", 0}}};
  EXPECT_ERROR(j, "hooks.poststart[0].timeout: must be greater than zero");
  j["hooks"]["poststart"] = {{{"path", "/bin/hook"}, {"timeout", 1}}};
  EXPECT_OK(j);
}

TEST(SpecValidation, Rlimits) {
  json j = base();
  j["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 2048}, {"hard", 1024}}};
  EXPECT_ERROR(j, "process.rlimits[0]: soft limit 2048 is greater than hard limit 1024");
  j["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 1}, {"hard", 1}},
                             {{"type", "RLIMIT_NOFILE"}, {"soft", 2}, {"hard", 2}}};
  EXPECT_ERROR(j, "process.rlimits[1].type: duplicate rlimit RLIMIT_NOFILE");
  j["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 1}}};
  EXPECT_ERROR(j, "process.rlimits[0].hard: required field missing");
  // Names are checked where rlimits are applied; the parser keeps the string.
  j["process"]["rlimits"] = {{{"type", "RLIMIT_FUTURE"}, {"soft", 1}, {"hard", 1}}};
  EXPECT_OK(j);
}

TEST(SpecValidation, Mounts) {
  json j = base();
  j["mounts"] = {{{"destination", "/a"}}, {{"destination", "/b"}}, {{"destination", "/c"}},
                 {{"destination", "tmp"}, {"type", "tmpfs"}}};
  EXPECT_EQ(error_of(j), "mounts[3].destination: must be an absolute path");
  j["mounts"] = {{{"type", "tmpfs"}}};
  EXPECT_ERROR(j, "mounts[0].destination: required field missing");
  j["mounts"] = {{{"destination", "/a"},
                  {"uidMappings", {{{"containerID", 0}, {"hostID", 1}, {"size", 1}}}}}};
  EXPECT_ERROR(j, "mounts[0]: uidMappings and gidMappings must be specified together");
}

TEST(SpecValidation, ProcessBasics) {
  json j = base();
  j["process"]["args"] = json::array();
  EXPECT_EQ(error_of(j), "process.args: must not be empty");
  j["process"].erase("args");
  EXPECT_ERROR(j, "process.args: must not be empty");
  j = base();
  j["process"]["cwd"] = "root";
  EXPECT_ERROR(j, "process.cwd: must be an absolute path");
  j["process"].erase("cwd");
  EXPECT_ERROR(j, "process.cwd: required field missing");
  j = base();
  j["process"]["env"] = {"A=1", "NOEQUALS"};
  EXPECT_ERROR(j, "process.env[1]: invalid environment variable \"NOEQUALS\"");
  j = base();
  j["process"]["oomScoreAdj"] = 1001;
  EXPECT_ERROR(j, "process.oomScoreAdj: must be between -1000 and 1000");
  j = base();
  j["process"]["execCPUAffinity"] = {{"final", "0-3;7"}};
  EXPECT_ERROR(j, "process.execCPUAffinity.final: invalid CPU list");
}

TEST(SpecValidation, ConsoleSizeNeedsTerminal) {
  json j = base();
  j["process"]["consoleSize"] = {{"height", 25}, {"width", 80}};
  auto r = parse_spec(j.dump());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->process->console_size); // the spec: ignored without a terminal
  j["process"]["terminal"] = true;
  r = parse_spec(j.dump());
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->process->console_size);
  EXPECT_EQ(r->process->console_size->width, 80u);
  j["process"]["consoleSize"] = {{"height", 25}};
  EXPECT_ERROR(j, "process.consoleSize.width: required field missing");
}

TEST(SpecValidation, CommandLineRecorded) {
  json j = base();
  j["process"]["commandLine"] = "app.exe --flag";
  auto r = parse_spec(j.dump());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->process->command_line, "app.exe --flag");
}

TEST(SpecValidation, SchedulerAndIoPriority) {
  json j = base();
  j["process"]["scheduler"] = {{"policy", "SCHED_FAST"}};
  EXPECT_ERROR(j, "process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\"");
  j["process"]["scheduler"] = {{"nice", 1}};
  EXPECT_ERROR(j, "process.scheduler.policy: required field missing");
  j["process"]["scheduler"] = {{"policy", "SCHED_RR"}, {"flags", {"SCHED_FLAG_NOPE"}}};
  EXPECT_ERROR(j, "process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_NOPE\"");
  j["process"]["scheduler"] = {{"policy", "SCHED_RR"}, {"nice", 4294967296ll}};
  EXPECT_ERROR(j, "process.scheduler.nice: value 4294967296 out of range for int32");
  j = base();
  j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_NONE"}};
  EXPECT_ERROR(j, "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"");
  j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_RT"}, {"priority", 8}};
  EXPECT_ERROR(j, "process.ioPriority.priority: must be 0..7");
  j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 7}};
  EXPECT_OK(j);
}

TEST(SpecValidation, LinuxEnums) {
  json j = base();
  j["linux"]["rootfsPropagation"] = "rshared";
  EXPECT_OK(j);
  j["linux"]["rootfsPropagation"] = "recursive";
  EXPECT_ERROR(j, "linux.rootfsPropagation: unknown rootfs propagation \"recursive\"");
  j = base();
  j["linux"]["personality"] = {{"domain", "LINUX64"}};
  EXPECT_ERROR(j, "linux.personality.domain: unknown personality domain \"LINUX64\"");
  j = base();
  j["linux"]["memoryPolicy"] = {{"mode", "MPOL_RANDOM"}};
  EXPECT_ERROR(j, "linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_RANDOM\"");
  j["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"flags", {"MPOL_F_X"}}};
  EXPECT_ERROR(j, "linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_X\"");
  j = base();
  j["linux"]["maskedPaths"] = {"/proc/kcore", "proc/keys"};
  EXPECT_ERROR(j, "linux.maskedPaths[1]: must be an absolute path");
}

TEST(SpecValidation, NetDevicesAndIntelRdt) {
  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "network"}});
  j["linux"]["netDevices"] = {{"eth0", {{"name", "a/b"}}}};
  EXPECT_ERROR(j, "linux.netDevices[\"eth0\"].name: invalid network interface name \"a/b\"");
  j["linux"]["netDevices"] = {{"eth0", {{"name", "veth%d"}}}};
  EXPECT_OK(j);
  j["linux"]["namespaces"].erase(2);
  EXPECT_ERROR(j, "linux.netDevices: network devices specified, but no network namespace");
  j = base();
  j["linux"]["intelRdt"] = {{"closID", "../x"}};
  EXPECT_ERROR(j, "linux.intelRdt.closID: invalid CLOS name");
  j["linux"]["intelRdt"] = {{"closID", "/"}, {"memBwSchema", "L3:0=1"}};
  EXPECT_ERROR(j, "linux.intelRdt.memBwSchema: must start with \"MB:\"");
}

TEST(SpecValidation, ResourceDevices) {
  json j = base();
  j["linux"]["resources"]["devices"] = {{{"allow", true}, {"access", "rwx"}}};
  EXPECT_ERROR(j, "linux.resources.devices[0].access: invalid access \"rwx\"");
  j["linux"]["resources"]["devices"] = {{{"allow", true}, {"type", "p"}}};
  EXPECT_ERROR(j, "linux.resources.devices[0].type: unknown device type \"p\"");
  j["linux"]["resources"]["devices"] = {{{"access", "r"}}};
  EXPECT_ERROR(j, "linux.resources.devices[0].allow: required field missing");
  j["linux"]["resources"]["devices"] = {{{"allow", true}, {"type", "a"}, {"access", "m"}}};
  EXPECT_OK(j);
}

TEST(SpecValidation, SeccompStructure) {
  json j = base();
  j["linux"]["seccomp"] = {{"architectures", {"SCMP_ARCH_X86_64"}}};
  EXPECT_ERROR(j, "linux.seccomp.defaultAction: required field missing");
  j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", "read"}, {"action", "SCMP_ACT_ERRNO"}}}}};
  EXPECT_ERROR(j, "linux.seccomp.syscalls[0].names: expected an array of strings, got string");
  j["linux"]["seccomp"]["syscalls"] = {{{"names", json::array()}, {"action", "SCMP_ACT_ERRNO"}}};
  EXPECT_ERROR(j, "linux.seccomp.syscalls[0].names: must not be empty");
  j["linux"]["seccomp"]["syscalls"] = {
      {{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 0}, {"value", 1}}}}}};
  EXPECT_ERROR(j, "linux.seccomp.syscalls[0].args[0].op: required field missing");
  // Names of actions and operators are checked by the seccomp compiler.
  j["linux"]["seccomp"]["syscalls"] = {{{"names", {"read"}}, {"action", "SCMP_ACT_SOMETHING"}}};
  EXPECT_OK(j);
  j["linux"]["seccomp"]["listenerMetadata"] = "m";
  EXPECT_ERROR(j, "linux.seccomp.listenerMetadata: set without listenerPath");
}

} // namespace
