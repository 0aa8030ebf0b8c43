"""ELF parsing: every malformed or unsupported input is a one-line LoaderError."""
from __future__ import annotations

import struct

import pytest

from usermode.emulator import select_cpu
from usermode.errors import LoaderError, UnsupportedBinary
from usermode.loader.elf import ET_DYN, ET_EXEC, PT_LOAD, parse_elf


def elf32(machine=40, etype=ET_EXEC, flags=0x05000400, byteorder="little", segments=None,
          extra=b""):
    end = "<" if byteorder == "little" else ">"
    segments = segments if segments is not None else [(PT_LOAD, 0, 0x10000, 0x100, 0x200, 5, 0x1000)]
    phoff = 52
    ident = b"\x7fELF" + bytes([1, 1 if byteorder == "little" else 2, 1]) + bytes(9)
    header = ident + struct.pack(end + "HHIIIIIHHHHHH", etype, machine, 1, 0x10054, phoff, 0,
                                 flags, 52, 32, len(segments), 40, 0, 0)
    phdrs = b"".join(struct.pack(end + "IIIIIIII", t, off, va, va, fs, ms, fl, al)
                     for t, off, va, fs, ms, fl, al in segments)
    body = header + phdrs + extra
    return body + bytes(max(0, 0x200 - len(body)))


def test_minimal_arm_executable():
    elf = parse_elf(elf32())
    assert (elf.elf_class, elf.byteorder, elf.machine, elf.type) == (32, "little", 40, ET_EXEC)
    assert select_cpu(elf, "arm").name == "arm"
    assert select_cpu(elf, None).name == "arm"


@pytest.mark.parametrize("data,message", [
    (b"hello world\n", "not an ELF file"),
    (b"", "not an ELF file"),
    (b"\x7fELF\x01\x01\x01" + bytes(13), "truncated ELF header"),
    (b"\x7fELF\x03\x01\x01" + bytes(60), "invalid ELF identification"),
])
def test_malformed(data, message):
    with pytest.raises(LoaderError, match=message):
        parse_elf(data)


def test_truncated_segment():
    data = elf32(segments=[(PT_LOAD, 0, 0x10000, 0x10000, 0x10000, 5, 0x1000)])
    with pytest.raises(LoaderError, match="past the end"):
        parse_elf(data)


def test_impossible_memsz():
    data = elf32(segments=[(PT_LOAD, 0, 0xFFFFF000, 0x100, 0x100000, 5, 0x1000)])
    with pytest.raises(LoaderError, match="impossible size"):
        parse_elf(data)


def test_core_file_refused():
    with pytest.raises(UnsupportedBinary, match="core dump"):
        parse_elf(elf32(etype=4))


@pytest.mark.parametrize("kwargs,arch,message", [
    ({"flags": 0}, "arm", "OABI"),
    ({"machine": 8, "flags": 0x20}, "mipsel", "n32"),
    ({"machine": 62}, None, "x86-64 programs are not supported"),
    ({"byteorder": "big"}, None, "big-endian ARM programs are not supported"),
    ({}, "aarch64", r"not aarch64 \(try pyemu-arm\)"),
])
def test_unsupported(kwargs, arch, message):
    with pytest.raises(UnsupportedBinary, match=message):
        select_cpu(parse_elf(elf32(**kwargs)), arch)


def test_static_pie_is_dyn_without_interp():
    elf = parse_elf(elf32(etype=ET_DYN))
    assert elf.type == ET_DYN and elf.interp is None
