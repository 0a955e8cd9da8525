"""process.terminal: the pty master over --console-socket, consoleSize."""
import os

import pytest

from helpers import assert_error, json_lines, poll, run_on_pty


def tty_bundle(bundle, *probe_args, size=None):
    bundle.process["terminal"] = True
    if size:
        bundle.process["consoleSize"] = {"height": size[0], "width": size[1]}
    bundle.probe(*probe_args)
    return bundle


def console_json(srv):
    srv.wait_eof()
    text = srv.data.decode(errors="replace").replace("\r", "")
    objs = json_lines(text)
    assert objs, f"no JSON on the console: {srv.data!r}"
    return objs[-1]


def test_create_sends_pty_master(rt, bundle, console):
    srv = console()
    tty_bundle(bundle, "report", size=(40, 100))
    cid = rt.create(bundle, flags=("--console-socket", srv.path))
    fd = srv.wait_fd()
    assert os.isatty(fd)
    assert os.readlink(f"/proc/self/fd/{fd}") == "/dev/ptmx" or \
        os.readlink(f"/proc/self/fd/{fd}").endswith("ptmx")
    rt("start", cid)
    rep = console_json(srv)
    assert rep["isatty"] == {"0": True, "1": True, "2": True}
    assert rep["tty"].startswith("/dev/pts/")


def test_console_size(rt, bundle, console):
    srv = console()
    tty_bundle(bundle, size=(33, 111))
    rt.run_detached(bundle, flags=("--console-socket", srv.path))
    assert console_json(srv)["winsize"] == {"rows": 33, "cols": 111}


def test_terminal_makes_session_leader_with_ctty(rt, bundle, console):
    srv = console()
    tty_bundle(bundle)
    rt.run_detached(bundle, flags=("--console-socket", srv.path))
    rep = console_json(srv)
    assert rep["sid"] == rep["pid"]
    assert rep["tty_pgrp"] == rep["pgid"]


def test_dev_console_is_the_pty(rt, bundle, console):
    srv = console()
    tty_bundle(bundle, "stat", "/dev/console")
    rt.run_detached(bundle, flags=("--console-socket", srv.path))
    st = console_json(srv)
    assert st["ok"] and st["type"] == "char" and st["major"] == 136


def test_console_input_reaches_process(rt, bundle, console):
    srv = console()
    bundle.process["terminal"] = True
    bundle.args("/bin/sh", "-c", "read line; echo got:$line")
    rt.run_detached(bundle, flags=("--console-socket", srv.path))
    srv.wait_fd()
    srv.write(b"hello\n")
    srv.wait_data(b"got:hello")


def test_consolesize_ignored_without_terminal(rt, bundle):
    bundle.process["consoleSize"] = {"height": 10, "width": 10}
    rep = rt.run_probe(bundle)
    assert rep["tty"] is None and rep["winsize"] is None


def test_terminal_without_console_socket_is_error(rt, bundle):
    tty_bundle(bundle)
    r = rt.create_r(bundle)
    assert_error(r, "console")


def test_console_socket_without_terminal_is_error(rt, bundle, console):
    srv = console()
    r = rt.create_r(bundle, flags=("--console-socket", srv.path))
    assert_error(r, "console")


def pty_json(data):
    objs = json_lines(data.decode(errors="replace").replace("\r", ""))
    assert objs, f"no JSON on the terminal: {data!r}"
    return objs[-1]


def test_exec_tty_foreground(rt, bundle):
    """Foreground exec --tty: the runtime relays between its own terminal
    and the new pty."""
    cid = rt.start_sigwait(bundle)
    rc, data = run_on_pty(rt.cmd("exec", "--tty", cid, "/probe"))
    assert rc == 0, data
    rep = pty_json(data)
    assert rep["isatty"]["0"] and rep["tty"].startswith("/dev/pts/")


def test_exec_tty_foreground_exit_status(rt, bundle):
    cid = rt.start_sigwait(bundle)
    rc, data = run_on_pty(rt.cmd("exec", "-t", cid, "/probe", "exit", "9"))
    assert rc == 9, data


def test_run_terminal_foreground(rt, bundle):
    tty_bundle(bundle)
    rc, data = run_on_pty(rt.cmd("run", "--bundle", bundle.path, rt.new_id()))
    assert rc == 0, data
    rep = pty_json(data)
    assert rep["isatty"] == {"0": True, "1": True, "2": True}


def test_exec_tty_detach(rt, bundle, console):
    cid = rt.start_sigwait(bundle)
    srv = console()
    rt("exec", "-d", "-t", "--console-socket", srv.path, cid, "/probe")
    assert console_json(srv)["isatty"]["1"]


def test_console_socket_message(rt, bundle, console):
    """One message carries the fd (runc's payload: the name "/dev/ptmx")."""
    srv = console()
    tty_bundle(bundle, "exit", "0")
    rt.run_detached(bundle, flags=("--console-socket", srv.path))
    srv.wait_fd()
    assert poll(lambda: srv.msg is not None)


@pytest.mark.parametrize("bad", ["relative.sock", "/tmp/does/not/exist.sock"])
def test_console_socket_bad_path_is_error(rt, bundle, bad):
    tty_bundle(bundle)
    r = rt.create_r(bundle, flags=("--console-socket", bad))
    assert r.returncode == 1
