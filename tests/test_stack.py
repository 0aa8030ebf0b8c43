"""The initial stack builder is a pure function: check its layout against Linux's rules."""
from __future__ import annotations

import struct

import pytest

from usermode.loader.stack import (AT_EXECFN, AT_NULL, AT_PAGESZ, AT_PLATFORM, AT_RANDOM, AuxRef,
                                   build_initial_stack)

TOP = 0x7FFF0000
RANDOM = bytes(range(16))


def build(word_size: int, byteorder: str, argv=(b"prog", b"arg one"), envp=(b"A=1", b"B=2")):
    auxv = [(AT_PAGESZ, 4096), (AT_RANDOM, AuxRef.RANDOM), (AT_EXECFN, AuxRef.EXECFN),
            (AT_PLATFORM, AuxRef.PLATFORM)]
    return build_initial_stack(TOP, list(argv), list(envp), auxv, execfn=b"./prog",
                               platform=b"v7l", random=RANDOM, word_size=word_size,
                               byteorder=byteorder)


def words(stack, word_size, byteorder, count):
    fmt = ("<" if byteorder == "little" else ">") + ("I" if word_size == 4 else "Q") * count
    return struct.unpack_from(fmt, stack.data, 0)


def cstr(stack, addr):
    off = addr - stack.sp
    return stack.data[off:stack.data.index(b"\0", off)]


@pytest.mark.parametrize("word_size,byteorder", [(4, "little"), (4, "big"), (8, "little")])
def test_layout(word_size, byteorder):
    stack = build(word_size, byteorder)
    assert stack.sp % 16 == 0
    assert stack.sp + len(stack.data) == TOP
    w = words(stack, word_size, byteorder, 1 + 3 + 3 + 10)
    argc, argv, envp, aux = w[0], w[1:3], w[4:6], w[7:]
    assert argc == 2 and w[3] == 0 and w[6] == 0
    assert [cstr(stack, a) for a in argv] == [b"prog", b"arg one"]
    assert [cstr(stack, a) for a in envp] == [b"A=1", b"B=2"]
    pairs = dict(zip(aux[0::2], aux[1::2]))
    assert pairs[AT_PAGESZ] == 4096 and AT_NULL in pairs
    off = pairs[AT_RANDOM] - stack.sp
    assert stack.data[off:off + 16] == RANDOM
    assert cstr(stack, pairs[AT_EXECFN]) == b"./prog"
    assert cstr(stack, pairs[AT_PLATFORM]) == b"v7l"


def test_strings_order_matches_linux():
    """argv strings lie below envp strings, which lie below the execfn string; NULL word on top."""
    stack = build(4, "little")
    assert stack.argv[0] < stack.argv[1] < stack.envp[0] < stack.envp[1]
    assert stack.data[-4:] == bytes(4)
    assert stack.data[-4 - len(b"./prog\0"):-4] == b"./prog\0"


def test_auxv_ends_with_null_and_resolves_refs():
    stack = build(8, "little")
    assert stack.auxv[-1] == (AT_NULL, 0)
    assert all(isinstance(v, int) for _, v in stack.auxv)


@pytest.mark.parametrize("envc", range(0, 6))
def test_alignment_for_any_count(envc):
    env = [b"V%d=%s" % (i, b"x" * i) for i in range(envc)]
    for ws in (4, 8):
        assert build(ws, "little", envp=env).sp % 16 == 0


def test_random_must_be_16_bytes():
    with pytest.raises(ValueError):
        build_initial_stack(TOP, [b"p"], [], [], execfn=b"p", platform=None, random=b"x",
                            word_size=4, byteorder="little")
