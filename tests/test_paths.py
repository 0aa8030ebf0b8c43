"""Guest path resolution under a sysroot prefix (qemu's -L rule, symlinks kept inside)."""
from __future__ import annotations

import os

import pytest

from usermode.sysroot.paths import PathResolver


@pytest.fixture
def root(tmp_path):
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/libc.so.6").write_text("libc")
    os.symlink("usr/lib", tmp_path / "lib")                       # merged /usr, relative
    os.symlink("/usr/lib/libc.so.6", tmp_path / "usr/lib/abs.so")  # absolute, inside the root
    os.symlink("/nonexistent-in-root", tmp_path / "dangling")
    return tmp_path


def resolver(root):
    return PathResolver(str(root), "/bin/true", os.getpid())


def test_prefix_first_then_host(root):
    r = resolver(root)
    assert r.host(b"/lib/libc.so.6") == os.fsencode(root / "usr/lib/libc.so.6")
    assert r.host(b"/etc/hostname") == b"/etc/hostname"          # not in the root: the host's
    assert r.host(b"relative/path") == b"relative/path"


def test_absolute_symlink_stays_inside(root):
    assert resolver(root).host(b"/lib/abs.so") == os.fsencode(root / "usr/lib/libc.so.6")


def test_nofollow_keeps_the_link_itself(root):
    assert resolver(root).host(b"/lib/abs.so", follow=False) == os.fsencode(root / "usr/lib/abs.so")


def test_dotdot_cannot_escape(root):
    assert resolver(root).host(b"/usr/../../../usr/lib/libc.so.6") == \
        os.fsencode(root / "usr/lib/libc.so.6")


def test_dangling_link_falls_back_to_host(root):
    assert resolver(root).host(b"/dangling") == b"/dangling"


def test_proc_self_exe_is_the_guest_program(root):
    r = resolver(root)
    assert r.link_target(b"/proc/self/exe") == b"/bin/true"
    assert r.proc_kind(b"/proc/self/maps") == "maps"
    assert r.proc_kind(b"/proc/%d/auxv" % os.getpid()) == "auxv"
    assert r.proc_kind(b"/proc/1/maps") is None
    assert r.proc_kind(b"/proc/cpuinfo") == "cpuinfo"
