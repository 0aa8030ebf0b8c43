"""Long straight-line code on MIPS: the stock engine's translator overflowed on it (host
SIGSEGV); pyemu hooks such runs so the engine ends its blocks sooner (translate/blocksplit)."""
from __future__ import annotations

import struct

import pytest
from harness import ARCHES, GUEST_DIR, assert_same, build, guest

from usermode.translate.blocksplit import code_sections, straight_runs

ADDU = 0x00851021      # addu v0, a0, a1
SYNC = 0x0000000F      # sync: does not end a block
TEQ = 0x00A00034       # teq a1, zero: a conditional trap, does not end a block
BLOCK_ENDS = {
    "jr ra": 0x03E00008, "jalr t9": 0x0320F809, "syscall": 0x0000000C, "break": 0x0000000D,
    "j": 0x08000000, "jal": 0x0C000000, "beq": 0x10850003, "bne": 0x14850003,
    "blez": 0x18800003, "bgtz": 0x1C800003, "beql": 0x50850003, "bltz": 0x04800003,
    "bgez": 0x04810003, "bltzal": 0x04900003, "bc1t": 0x45010003, "jalx": 0x74000000,
}


def encode(words, byteorder):
    return b"".join(struct.pack("<I" if byteorder == "little" else ">I", w) for w in words)


@pytest.mark.parametrize("arch", ARCHES)
def test_long_straight_line_function(arch):
    """1024 unrolled mixing steps (11,485 MIPS instructions without a branch), 1000 calls."""
    assert_same(arch, [guest("longblock", arch)])


@pytest.mark.parametrize("arch", ARCHES)
def test_long_straight_line_function_in_a_library(arch):
    """The same function in a shared library: mapped by the guest's ld.so (mmap and mprotect
    while guest code runs), not by pyemu's loader."""
    source = GUEST_DIR / "longblock.c"
    library = build(source, arch, ("-O2", "-shared", "-fPIC", "-DMIX_LIB"))
    program = build(source, arch, ("-O2", "-DMIX_EXTERN", str(library)))
    root = {"arm": "/usr/arm-linux-gnueabihf", "aarch64": "/usr/aarch64-linux-gnu",
            "mips": "/usr/mips-linux-gnu", "mipsel": "/usr/mipsel-linux-gnu"}[arch]
    assert_same(arch, [program], qemu_args=["-L", root])


@pytest.mark.parametrize("byteorder", ["big", "little"])
@pytest.mark.parametrize("name", sorted(BLOCK_ENDS))
def test_block_ending_instructions_split_runs(name, byteorder):
    code = encode([ADDU] * 300 + [BLOCK_ENDS[name]] + [ADDU] * 300, byteorder)
    assert straight_runs(code, byteorder, 256) == [(0, 1200), (1204, 2404)]
    assert straight_runs(code, byteorder, 300) == []


@pytest.mark.parametrize("byteorder", ["big", "little"])
def test_other_instructions_do_not_split_runs(byteorder):
    code = encode([ADDU] * 100 + [SYNC, TEQ, 0] + [ADDU] * 200 + [BLOCK_ENDS["jr ra"]], byteorder)
    assert straight_runs(code, byteorder, 256) == [(0, 4 * 303)]


def test_zero_filled_memory_is_not_code():
    code = encode([ADDU] * 200 + [0] * 17 + [ADDU] * 257 + [0] * 4000, "little")
    assert straight_runs(code, "little", 256) == [(4 * 217, 4 * 474)]
    assert straight_runs(encode([ADDU] * 200 + [0] * 16 + [ADDU] * 100, "little"), "little",
                         256) == [(0, 4 * 316)]


@pytest.mark.parametrize("arch", ["mips", "mipsel"])
def test_code_sections_of_a_binary(arch):
    path = guest("longblock", arch)
    sections = code_sections(str(path))
    data = path.read_bytes()
    order = "big" if arch == "mips" else "little"
    runs = [(lo + a, lo + b) for lo, hi in sections
            for a, b in straight_runs(data[lo:hi], order, 256)]
    assert any(b - a >= 4 * 11000 for a, b in runs), runs     # the unrolled function, found
    assert code_sections(str(path.parent)) is None
