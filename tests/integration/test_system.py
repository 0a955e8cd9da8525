"""hostname, domainname, sysctl, personality."""
import os

import pytest

from helpers import assert_error


def test_hostname(rt, bundle):
    bundle.cfg["hostname"] = "berth-box"
    assert rt.run_probe(bundle)["hostname"] == "berth-box"


def test_hostname_default_unchanged_in_new_uts(rt, bundle):
    bundle.cfg.pop("hostname", None)
    assert rt.run_probe(bundle)["hostname"] == os.uname().nodename


def test_hostname_without_uts_namespace_is_error(rt, bundle):
    bundle.set_namespace("uts", present=False)
    bundle.cfg["hostname"] = "nope"
    bundle.write()
    assert_error(rt.run(bundle), "hostname")
    assert os.uname().nodename != "nope"


@pytest.mark.berth_only
def test_domainname(rt, bundle):
    bundle.cfg["domainname"] = "berth.example"
    rep = rt.run_probe(bundle)
    assert rep["domainname"] == "berth.example"


def test_sysctl_net(rt, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1",
                              "net.ipv4.ping_group_range": "0 0"}
    bundle.linux["readonlyPaths"] = []
    rep = rt.run_probe(bundle, "read", "/proc/sys/net/ipv4/ip_forward")
    assert rep["data"].strip() == "1"
    rep = rt.run_probe(bundle, "read", "/proc/sys/net/ipv4/ping_group_range")
    assert rep["data"].split() == ["0", "0"]


def test_sysctl_ipc(rt, bundle):
    bundle.linux["sysctl"] = {"kernel.shm_rmid_forced": "1",
                              "kernel.msgmax": "4096"}
    rep = rt.run_probe(bundle, "read", "/proc/sys/kernel/msgmax")
    assert rep["data"].strip() == "4096"
    rep = rt.run_probe(bundle, "read", "/proc/sys/kernel/shm_rmid_forced")
    assert rep["data"].strip() == "1"


def test_sysctl_does_not_touch_host(rt, bundle):
    host = open("/proc/sys/kernel/msgmax").read()
    bundle.linux["sysctl"] = {"kernel.msgmax": "4097"}
    rt.run_probe(bundle)
    assert open("/proc/sys/kernel/msgmax").read() == host


def test_sysctl_slash_form(rt, bundle):
    bundle.linux["sysctl"] = {"net/ipv4/ip_forward": "1"}
    rep = rt.run_probe(bundle, "read", "/proc/sys/net/ipv4/ip_forward")
    assert rep["data"].strip() == "1"


def test_sysctl_not_namespaced_is_error(rt, bundle):
    bundle.linux["sysctl"] = {"kernel.panic": "5"}
    bundle.write()
    assert_error(rt.run(bundle), "kernel.panic")


def test_sysctl_net_without_netns_is_error(rt, bundle):
    bundle.set_namespace("network", present=False)
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.write()
    assert_error(rt.run(bundle), "net.ipv4.ip_forward")


def test_sysctl_unknown_key_is_error(rt, bundle):
    bundle.linux["sysctl"] = {"net.ipv4.no_such_knob": "1"}
    bundle.write()
    assert rt.run(bundle).returncode == 1


def test_personality_default(rt, bundle):
    rep = rt.run_probe(bundle)
    assert rep["personality"] == 0 and rep["machine"] == os.uname().machine


@pytest.mark.berth_only
def test_personality_linux32(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    rep = rt.run_probe(bundle)
    assert rep["personality"] & 0xff == 0x0008  # PER_LINUX32
    assert rep["machine"] in ("i686", "i386")


def test_personality_linux(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX"}
    assert rt.run_probe(bundle)["personality"] & 0xff == 0


@pytest.mark.berth_only
def test_personality_bad_domain_is_error(rt, bundle):
    bundle.linux["personality"] = {"domain": "BOGUS"}
    bundle.write()
    assert_error(rt.run(bundle), "BOGUS")
