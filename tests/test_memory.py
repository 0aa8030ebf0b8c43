"""AddressSpace bookkeeping without an engine: mapping, splitting, protections, access checks."""
from __future__ import annotations

import pytest

from usermode.translate.memory import (PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
                                       AddressSpace, GuestFault, HostWindow)

RW = PROT_READ | PROT_WRITE


class Recorder:
    def __init__(self):
        self.calls = []

    def map_host(self, start, size, prot, host):
        self.calls.append(("map", start, size, prot))

    def unmap(self, start, size):
        self.calls.append(("unmap", start, size))

    def protect(self, start, size, prot):
        self.calls.append(("protect", start, size, prot))

    def invalidate_code(self, start, end):
        self.calls.append(("invalidate", start, end))


@pytest.fixture(params=["anywhere", "window"])
def space(request):
    """Both host layouts: mappings wherever the host puts them, and a HostWindow (the layout
    of the patched engine's direct memory access)."""
    window = HostWindow(1 << 32) if request.param == "window" else None
    s = AddressSpace(limit=1 << 32, mmap_base=0x40000000, window=window)
    s.attach(Recorder())
    yield s
    if window:
        window.close()


def host_rights(address: int) -> str:
    """The host's rights on the page at ``address`` ("rw-", "---") from /proc/self/maps."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if lo <= address < hi:
                return perms[:3]
    return "unmapped"


def test_window_keeps_host_rights_in_step():
    """In a window each mapping's host memory is at base + address, with host rights that
    make a direct load or store the guest may not do fault: writable pages read-write,
    other accessible pages read-only, PROT_NONE pages inaccessible."""
    window = HostWindow(1 << 32)
    try:
        space = AddressSpace(limit=1 << 32, mmap_base=0x40000000, window=window)
        assert host_rights(window.base + 0x10000) == "---"
        vma = space.map(0x10000, 0x3000, PROT_READ)
        assert vma.host == window.base + 0x10000
        assert host_rights(window.base + 0x10000) == "r--"
        space.protect(0x11000, 0x1000, PROT_NONE)
        space.protect(0x12000, 0x1000, RW)
        assert [host_rights(window.base + a) for a in (0x10000, 0x11000, 0x12000)] == [
            "r--", "---", "rw-"]
        space.write(0x11000, b"kept", check=False)      # the emulator's own copies
        space.write(0x10000, b"also", check=False)
        assert space.read(0x11000, 4, check=False) == b"kept"
        assert [host_rights(window.base + a) for a in (0x10000, 0x11000)] == ["r--", "---"]
        space.protect(0x11000, 0x1000, PROT_READ | PROT_EXEC)
        assert space.read(0x11000, 4) == b"kept"
        assert space.read(0x10000, 4) == b"also"
        space.unmap(0x10000, 0x3000)
        assert host_rights(window.base + 0x10000) == "---"     # reserved, not given back
        assert window.size + window.GUARD > 1 << 32
    finally:
        window.close()


def test_read_write_roundtrip(space):
    space.map(0x10000, 0x3000, RW)
    space.write(0x10FFE, b"abcdef")
    assert space.read(0x10FFE, 6) == b"abcdef"
    assert space.read_cstr(0x10FFE) == b"abcdef"


def test_partial_unmap_splits_and_keeps_contents(space):
    space.map(0x10000, 0x3000, RW)
    space.write(0x12000, b"tail")
    space.unmap(0x11000, 0x1000)
    assert [(v.start, v.end) for v in space.vmas()] == [(0x10000, 0x11000), (0x12000, 0x13000)]
    assert space.read(0x12000, 4) == b"tail"
    with pytest.raises(GuestFault):
        space.read(0x11000, 1)


def test_protect_checks_rights(space):
    space.map(0x10000, 0x2000, RW)
    space.protect(0x11000, 0x1000, PROT_READ)
    with pytest.raises(GuestFault):
        space.write(0x11000, b"x")
    space.write(0x11000, b"x", check=False)
    assert space.read(0x11000, 1) == b"x"
    with pytest.raises(OSError):
        space.protect(0x30000, 0x1000, PROT_READ)


def test_writes_to_code_invalidate_translations(space):
    """Whole pages, before the copy (a page with code may be read-only on the host)."""
    space.map(0x10000, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC)
    engine = space._engines[0]
    space.write(0x10010, b"\0" * 4, check=False)
    assert engine.calls[-1] == ("invalidate", 0x10000, 0x11000)
    space.views(0x10ff0, 0x20, write=True)
    assert engine.calls[-1] == ("invalidate", 0x10000, 0x12000)


def test_find_free_is_top_down_and_skips_mappings(space):
    first = space.find_free(0x2000)
    assert first == 0x40000000 - 0x2000
    space.map(first, 0x2000, RW)
    assert space.find_free(0x1000) == first - 0x1000
    assert space.find_free(0x1000, hint=0x20000000) == 0x20000000


def test_views_partial_prefix(space):
    space.map(0x10000, 0x1000, RW)
    views = space.views(0x10F00, 0x1000, write=True, partial=True)
    assert sum(len(v) for v in views) == 0x100
    with pytest.raises(GuestFault):
        space.views(0x20000, 10, write=True, partial=True)
