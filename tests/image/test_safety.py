"""Layers that try to write outside the snapshot: refused, or confined to
it, and nothing appears outside. Tar bombs fail cleanly."""
import os
import tarfile

import pytest
from imagegen import Image, Layer, busybox_layer, config_for


def load_layer(berth, name, layer):
    img = Image([layer], config_for([layer]), ["none"])
    return berth("load", "-i", img.oci_archive(f"{berth.tmp}/{name}.tar", ref_name=f"evil/{name}:1"), check=False)


@pytest.fixture
def outside(berth):
    """A directory beside the store that no layer may write into."""
    d = f"{berth.tmp}/outside"
    os.makedirs(d)
    yield d
    assert os.listdir(d) == [], "a layer wrote outside its snapshot"


def snapshots_clean(berth):
    return [n for n in os.listdir(f"{berth.root}/snapshots") if n.startswith("tmp-")] == []


@pytest.mark.parametrize("name", ["../escape", "a/../../escape", "/abs-escape"])
def test_names_that_leave_are_refused(berth, outside, name):
    before = berth.store_state() if os.path.exists(berth.root) else None
    p = load_layer(berth, "names", Layer().file(name.replace("escape", os.path.relpath(outside, "/")), "x").bytes())
    assert p.returncode != 0 and "entry" in p.err, p.err
    assert snapshots_clean(berth)
    if before:
        assert berth.store_state() == before


def test_hardlink_out_is_refused(berth, outside):
    with open(f"{outside}/../target", "w") as f:
        f.write("host file")
    p = load_layer(berth, "hl", Layer().hardlink("link", "../../target").bytes())
    assert p.returncode != 0 and "link" in p.err
    # An absolute hardlink target is taken inside the layer, where it is not.
    p = load_layer(berth, "hlabs", Layer().hardlink("link", os.path.abspath(f"{outside}/../target")).bytes())
    assert p.returncode != 0
    assert os.stat(f"{outside}/../target").st_nlink == 1


@pytest.mark.parametrize("target", ["OUTSIDE", "../../../../../../OUTSIDE_REL"])
def test_symlink_then_write_through_it_stays_inside(berth, outside, target):
    t = target.replace("OUTSIDE_REL", os.path.relpath(outside, "/")).replace("OUTSIDE", outside)
    layer = Layer().symlink("evil", t).file("evil/file", "x").bytes()
    p = load_layer(berth, "sym", layer)
    if p.returncode == 0:  # confined: it landed inside the snapshot
        snaps = [d for d in os.listdir(f"{berth.root}/snapshots")]
        found = [d for d in snaps if os.path.exists(f"{berth.root}/snapshots/{d}/fs/{outside.lstrip('/')}/file")]
        assert found, "the entry went nowhere visible"


def test_symlink_swapped_under_a_later_entry(berth, outside):
    layer = (Layer().dir("a").file("a/first", "1")
             .symlink("a", outside)  # replaces the directory
             .file("a/second", "2").bytes())
    load_layer(berth, "swap", layer)
    # outside fixture checks nothing landed there


def test_a_huge_declared_size_fails_cleanly(berth):
    # A header declaring 2 TiB (over the 1 TiB limit) and then little data:
    # refused at the header, before anything is written.
    ti = tarfile.TarInfo("huge")
    ti.size = 2 << 40
    raw = ti.tobuf(tarfile.PAX_FORMAT) + b"\0" * (1 << 20)
    p = load_layer(berth, "bigsize", raw)
    assert p.returncode != 0 and "huge" in p.err, p.err
    assert snapshots_clean(berth)


def test_deep_nesting_fails_cleanly(berth):
    deep = "/".join(["d"] * 1000) + "/f"
    p = load_layer(berth, "deep", Layer().file(deep, "x").bytes())
    assert p.returncode != 0 and ("depth" in p.err or "long" in p.err), p.err
    assert snapshots_clean(berth)
