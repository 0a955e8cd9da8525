// parse_spec on a config that sets every field: each value must arrive.
#include "oci/spec_json.hpp"

#include <gtest/gtest.h>

using namespace berth::oci;

namespace {

const char *kFullConfig = R"({
  "ociVersion": "1.3.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [5, 4294967295], "username": "u"},
    "args": ["sh", "-c", "true"],
    "commandLine": "cmd.exe /c true",
    "env": ["PATH=/bin", "EMPTY="],
    "cwd": "/root",
    "capabilities": {
      "bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"],
      "permitted": ["CAP_CHOWN"], "inheritable": ["CAP_SETUID"], "ambient": ["CAP_NET_RAW"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
      {"type": "RLIMIT_CORE", "soft": 18446744073709551615, "hard": 18446744073709551615}
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "acme",
    "oomScoreAdj": -500,
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 3,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"],
                  "runtime": 100, "deadline": 200, "period": 300},
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "execCPUAffinity": {"initial": "7", "final": "0-3,7"}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.test",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "none", "source": "/vol", "options": ["rbind", "idmap"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "a"], "env": ["K=V"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}, {"path": "/bin/ps2"}],
    "poststop": [{"path": "/bin/pst", "timeout": 1}]
  },
  "annotations": {"com.example.key": "v", "org.opencontainers.image.os": "linux"},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "mount"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 32000}],
    "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 16000},
                    {"containerID": 16000, "hostID": 300000, "size": 1}],
    "timeOffsets": {"monotonic": {"secs": -172800, "nanosecs": 5},
                    "boottime": {"secs": 604800}},
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438,
       "uid": 0, "gid": 3},
      {"type": "p", "path": "/dev/fifo"}
    ],
    "netDevices": {"eth1": {"name": "ceth1"}, "dummy0": {}},
    "cgroupsPath": "/berth/c1",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 9223372036854775807, "reservation": 1024, "swap": -1,
                 "kernel": -1, "kernelTCP": 2048, "swappiness": 60, "disableOOMKiller": true,
                 "useHierarchy": false, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": -1, "burst": 10, "period": 100000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "2-3",
              "mems": "0-7", "idle": 1},
      "pids": {"limit": 32771},
      "blockIO": {
        "weight": 10, "leafWeight": 65535,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                         {"major": 8, "minor": 16, "weight": 500}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 1, "rate": 601}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 2, "rate": 602}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]
      },
      "hugepageLimits": [{"pageSize": "2MB", "limit": 18446744073709551615},
                         {"pageSize": "64KB", "limit": 1000000}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx4_0": {"hcaObjects": 1}},
      "unified": {"io.max": "8:0 rbps=1000", "memory.high": "1G"}
    },
    "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0", "memBwSchema": "MB:0=20",
                 "schemata": ["L2:0=ff"], "enableMonitoring": true},
    "memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "2-3", "flags": ["MPOL_F_STATIC_NODES"]},
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.msgmax": "65536"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/agent.sock", "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "args": [{"index": 0, "value": 8, "valueTwo": 9, "op": "SCMP_CMP_MASKED_EQ"},
                  {"index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_NE"}]}
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": []}
  }
})";

TEST(SpecJson, FullConfigProcess) {
  auto r = parse_spec(kFullConfig);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->oci_version, "1.3.0");
  ASSERT_TRUE(r->process);
  const Process &p = *r->process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size);
  EXPECT_EQ(p.console_size->height, 25u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1u);
  EXPECT_EQ(p.user.gid, 2u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 4294967295u}));
  EXPECT_EQ(p.user.username, "u");
  EXPECT_EQ(p.args, (std::vector<std::string>{"sh", "-c", "true"}));
  EXPECT_EQ(p.command_line, "cmd.exe /c true");
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/bin", "EMPTY="}));
  EXPECT_EQ(p.cwd, "/root");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, (std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"}));
  EXPECT_EQ(p.capabilities->effective, std::vector<std::string>{"CAP_KILL"});
  EXPECT_EQ(p.capabilities->permitted, std::vector<std::string>{"CAP_CHOWN"});
  EXPECT_EQ(p.capabilities->inheritable, std::vector<std::string>{"CAP_SETUID"});
  EXPECT_EQ(p.capabilities->ambient, std::vector<std::string>{"CAP_NET_RAW"});
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[0].hard, 4096u);
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "acme");
  EXPECT_EQ(p.oom_score_adj, -500);
  ASSERT_TRUE(p.scheduler);
  EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
  EXPECT_EQ(p.scheduler->nice, -5);
  EXPECT_EQ(p.scheduler->priority, 3);
  EXPECT_EQ(p.scheduler->flags.size(), 2u);
  EXPECT_EQ(p.scheduler->runtime, 100u);
  EXPECT_EQ(p.scheduler->deadline, 200u);
  EXPECT_EQ(p.scheduler->period, 300u);
  EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
  ASSERT_TRUE(p.io_priority);
  EXPECT_EQ(p.io_priority->klass, "IOPRIO_CLASS_BE");
  EXPECT_EQ(p.io_priority->priority, 4);
  ASSERT_TRUE(p.exec_cpu_affinity);
  EXPECT_EQ(p.exec_cpu_affinity->initial, "7");
  EXPECT_EQ(p.exec_cpu_affinity->final_, "0-3,7");
}

TEST(SpecJson, FullConfigTopLevel) {
  auto r = parse_spec(kFullConfig);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->root);
  EXPECT_EQ(r->root->path, "rootfs");
  EXPECT_TRUE(r->root->readonly);
  EXPECT_EQ(r->hostname, "box");
  EXPECT_EQ(r->domainname, "example.test");
  ASSERT_EQ(r->mounts.size(), 2u);
  EXPECT_EQ(r->mounts[0].destination, "/proc");
  EXPECT_EQ(r->mounts[0].type, "proc");
  EXPECT_EQ(r->mounts[0].source, "proc");
  EXPECT_TRUE(r->mounts[0].options.empty());
  EXPECT_EQ(r->mounts[1].options, (std::vector<std::string>{"rbind", "idmap"}));
  ASSERT_EQ(r->mounts[1].uid_mappings.size(), 1u);
  EXPECT_EQ(r->mounts[1].uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(r->mounts[1].uid_mappings[0].size, 65536u);
  EXPECT_EQ(r->mounts[1].gid_mappings[0].host_id, 200000u);
  ASSERT_TRUE(r->hooks);
  const Hooks &h = *r->hooks;
  ASSERT_EQ(h.prestart.size(), 1u);
  EXPECT_EQ(h.prestart[0].path, "/bin/pre");
  EXPECT_EQ(h.prestart[0].args, (std::vector<std::string>{"pre", "a"}));
  EXPECT_EQ(h.prestart[0].env, std::vector<std::string>{"K=V"});
  EXPECT_EQ(h.prestart[0].timeout, 5);
  EXPECT_EQ(h.create_runtime.at(0).path, "/bin/cr");
  EXPECT_EQ(h.create_container.at(0).path, "/bin/cc");
  EXPECT_EQ(h.start_container.at(0).path, "/bin/sc");
  EXPECT_EQ(h.poststart.size(), 2u);
  EXPECT_FALSE(h.poststart[0].timeout);
  EXPECT_EQ(h.poststop.at(0).timeout, 1);
  EXPECT_EQ(r->annotations.at("com.example.key"), "v");
  EXPECT_EQ(r->annotations.size(), 2u);
}

TEST(SpecJson, FullConfigLinux) {
  auto r = parse_spec(kFullConfig);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->linux_);
  const Linux &l = *r->linux_;
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[1].type, "network");
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/x");
  ASSERT_NE(r->find_namespace("time"), nullptr);
  EXPECT_EQ(l.uid_mappings.at(0).host_id, 1000u);
  EXPECT_EQ(l.gid_mappings.size(), 2u);
  EXPECT_EQ(l.gid_mappings[1].container_id, 16000u);
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, -172800);
  EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 5u);
  EXPECT_EQ(l.time_offsets.at("boottime").secs, 604800);
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.devices[0].gid, 3u);
  EXPECT_EQ(l.devices[1].type, "p");
  EXPECT_EQ(l.net_devices.at("eth1").name, "ceth1");
  EXPECT_EQ(l.net_devices.at("dummy0").name, "");
  EXPECT_EQ(l.cgroups_path, "/berth/c1");
  ASSERT_TRUE(l.intel_rdt);
  EXPECT_EQ(l.intel_rdt->clos_id, "guaranteed");
  EXPECT_EQ(l.intel_rdt->l3_cache_schema, "L3:0=7f0");
  EXPECT_EQ(l.intel_rdt->mem_bw_schema, "MB:0=20");
  EXPECT_EQ(l.intel_rdt->schemata, std::vector<std::string>{"L2:0=ff"});
  EXPECT_EQ(l.intel_rdt->enable_monitoring, true);
  ASSERT_TRUE(l.memory_policy);
  EXPECT_EQ(l.memory_policy->mode, "MPOL_INTERLEAVE");
  EXPECT_EQ(l.memory_policy->nodes, "2-3");
  EXPECT_EQ(l.memory_policy->flags, std::vector<std::string>{"MPOL_F_STATIC_NODES"});
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.masked_paths.size(), 2u);
  EXPECT_EQ(l.readonly_paths, std::vector<std::string>{"/proc/sys"});
  EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
  ASSERT_TRUE(l.personality);
  EXPECT_EQ(l.personality->domain, "LINUX32");
}

TEST(SpecJson, FullConfigSeccomp) {
  auto r = parse_spec(kFullConfig);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->linux_->seccomp);
  const Seccomp &s = *r->linux_->seccomp;
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret, 1u);
  EXPECT_EQ(s.architectures.size(), 2u);
  EXPECT_EQ(s.flags, std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  EXPECT_EQ(s.listener_path, "/run/agent.sock");
  EXPECT_EQ(s.listener_metadata, "meta");
  ASSERT_EQ(s.syscalls.size(), 2u);
  EXPECT_EQ(s.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_FALSE(s.syscalls[0].errno_ret);
  EXPECT_EQ(s.syscalls[1].errno_ret, 38u);
  ASSERT_EQ(s.syscalls[1].args.size(), 2u);
  EXPECT_EQ(s.syscalls[1].args[0].value_two, 9u);
  EXPECT_EQ(s.syscalls[1].args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(s.syscalls[1].args[1].index, 1u);
  EXPECT_EQ(s.syscalls[1].args[1].value, UINT64_MAX);
}

TEST(SpecJson, FullConfigResources) {
  auto r = parse_spec(kFullConfig);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->linux_->resources);
  const Resources &res = *r->linux_->resources;
  ASSERT_EQ(res.devices.size(), 2u);
  EXPECT_FALSE(res.devices[0].allow);
  EXPECT_EQ(res.devices[0].type, "");
  EXPECT_FALSE(res.devices[0].major);
  EXPECT_EQ(res.devices[1].major, 10);
  EXPECT_EQ(res.devices[1].access, "rw");
  ASSERT_TRUE(res.memory);
  EXPECT_EQ(res.memory->limit, INT64_MAX);
  EXPECT_EQ(res.memory->reservation, 1024);
  EXPECT_EQ(res.memory->swap, -1);
  EXPECT_EQ(res.memory->kernel, -1);
  EXPECT_EQ(res.memory->kernel_tcp, 2048);
  EXPECT_EQ(res.memory->swappiness, 60u);
  EXPECT_EQ(res.memory->disable_oom_killer, true);
  EXPECT_EQ(res.memory->use_hierarchy, false);
  EXPECT_EQ(res.memory->check_before_update, true);
  ASSERT_TRUE(res.cpu);
  EXPECT_EQ(res.cpu->shares, 1024u);
  EXPECT_EQ(res.cpu->quota, -1);
  EXPECT_EQ(res.cpu->burst, 10u);
  EXPECT_EQ(res.cpu->period, 100000u);
  EXPECT_EQ(res.cpu->realtime_runtime, 950000);
  EXPECT_EQ(res.cpu->realtime_period, 1000000u);
  EXPECT_EQ(res.cpu->cpus, "2-3");
  EXPECT_EQ(res.cpu->mems, "0-7");
  EXPECT_EQ(res.cpu->idle, 1);
  ASSERT_TRUE(res.pids);
  EXPECT_EQ(res.pids->limit, 32771);
  ASSERT_TRUE(res.block_io);
  EXPECT_EQ(res.block_io->weight, 10);
  EXPECT_EQ(res.block_io->leaf_weight, 65535);
  ASSERT_EQ(res.block_io->weight_device.size(), 2u);
  EXPECT_EQ(res.block_io->weight_device[0].leaf_weight, 300);
  EXPECT_FALSE(res.block_io->weight_device[1].leaf_weight);
  EXPECT_EQ(res.block_io->throttle_read_bps.at(0).rate, 600u);
  EXPECT_EQ(res.block_io->throttle_write_bps.at(0).rate, 601u);
  EXPECT_EQ(res.block_io->throttle_read_iops.at(0).rate, 602u);
  EXPECT_EQ(res.block_io->throttle_write_iops.at(0).minor, 16);
  ASSERT_EQ(res.hugepage_limits.size(), 2u);
  EXPECT_EQ(res.hugepage_limits[0].limit, UINT64_MAX);
  EXPECT_EQ(res.hugepage_limits[1].page_size, "64KB");
  ASSERT_TRUE(res.network);
  EXPECT_EQ(res.network->class_id, 1048577u);
  EXPECT_EQ(res.network->priorities.at(0).name, "eth0");
  EXPECT_EQ(res.network->priorities.at(0).priority, 500u);
  EXPECT_EQ(res.rdma.at("mlx5_1").hca_handles, 3u);
  EXPECT_FALSE(res.rdma.at("mlx4_0").hca_handles);
  EXPECT_EQ(res.unified.at("memory.high"), "1G");
}

TEST(SpecJson, MinimalConfigLeavesDefaults) {
  auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "/abs/rootfs"}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->process);
  EXPECT_FALSE(r->linux_);
  EXPECT_FALSE(r->hooks);
  EXPECT_FALSE(r->root->readonly);
}

TEST(SpecJson, UnknownFieldsAndPlatformsIgnored) {
  auto r = parse_spec(R"({"ociVersion": "1.2.0", "root": {"path": "r", "future": 1},
    "windows": {"layerFolders": 5}, "vm": [], "x-new": {"a": [1, 2]},
    "process": {"args": ["sh"], "cwd": "/", "newThing": true},
    "linux": {"resources": {"misc": {"x": 1}}, "newField": "v"}})");
  ASSERT_TRUE(r) << r.error().message();
}

TEST(SpecJson, NullIsAbsent) {
  // Go encoders write null for nil slices and pointers; runc reads it as unset.
  auto r = parse_spec(R"({"ociVersion": "1.0.2", "root": {"path": "r"}, "mounts": null,
    "hooks": null, "process": {"args": ["sh"], "cwd": "/", "env": null, "capabilities": null},
    "linux": {"resources": {"memory": {"limit": null}}, "seccomp": null}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->hooks);
  EXPECT_FALSE(r->linux_->seccomp);
  EXPECT_FALSE(r->linux_->resources->memory->limit);
  EXPECT_FALSE(r->process->capabilities);
}

TEST(SpecJson, VersionsAccepted) {
  for (const char *v : {"1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.3.0", "1.3.7", "1.4.0", "1.10.0+x"}) {
    std::string doc = std::string(R"({"ociVersion": ")") + v + R"(", "root": {"path": "r"}})";
    auto r = parse_spec(doc);
    EXPECT_TRUE(r) << v << ": " << r.error().message();
  }
}

} // namespace
