"""AddressSpace bookkeeping without an engine: mapping, splitting, protections, access checks."""
from __future__ import annotations

import pytest

from usermode.translate.memory import (PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace,
                                       GuestFault)

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


@pytest.fixture
def space():
    s = AddressSpace(limit=1 << 32, mmap_base=0x40000000)
    s.attach(Recorder())
    return s


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
    space.map(0x10000, 0x1000, PROT_READ | PROT_EXEC)
    engine = space._engines[0]
    space.write(0x10010, b"\0" * 4, check=False)
    assert ("invalidate", 0x10010, 0x10014) in engine.calls


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
