"""ELF file parsing for loading (System V gABI, "Program Loading" chapter).

A small, strict parser of the ELF header and program headers: just what loading needs, with a
one-line error for every malformed input (pyemu never trusts a file it is asked to run).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import LoaderError, UnsupportedBinary

ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4

MACHINE_NAMES = {
    2: "SPARC", 3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "S/390", 40: "ARM",
    42: "SuperH", 50: "IA-64", 62: "x86-64", 183: "AArch64", 243: "RISC-V", 258: "LoongArch",
}
_TYPE_NAMES = {ET_REL: "a relocatable object file", ET_CORE: "a core dump"}
_MAX_FILE = 1 << 32


@dataclass(frozen=True)
class Segment:
    """One program header."""

    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int


@dataclass(frozen=True)
class ElfFile:
    """A parsed executable: identification, entry point, segments and the file's bytes."""

    path: str
    elf_class: int          # 32 or 64
    byteorder: str          # "little" or "big"
    type: int
    machine: int
    flags: int
    entry: int
    phoff: int
    phentsize: int
    segments: tuple[Segment, ...]
    interp: str | None
    data: bytes

    @property
    def machine_name(self) -> str:
        return MACHINE_NAMES.get(self.machine, f"machine {self.machine}")

    @property
    def loads(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.type == PT_LOAD)

    @property
    def executable_stack(self) -> bool:
        stack = [s for s in self.segments if s.type == PT_GNU_STACK]
        return bool(stack and stack[0].flags & PF_X)


def read_elf(path: str | os.PathLike[str]) -> ElfFile:
    """Read and validate an ELF executable; LoaderError with a one-line reason otherwise."""
    name = os.fspath(path)
    try:
        if Path(name).is_dir():
            raise LoaderError(f"{name}: is a directory")
        with open(name, "rb") as f:
            data = f.read(_MAX_FILE)
    except FileNotFoundError:
        raise LoaderError(f"{name}: no such file") from None
    except PermissionError:
        raise LoaderError(f"{name}: permission denied") from None
    except OSError as err:
        raise LoaderError(f"{name}: {err.strerror}") from None
    return parse_elf(data, name)


def parse_elf(data: bytes, name: str = "<memory>") -> ElfFile:
    if data[:4] != b"\x7fELF":
        raise LoaderError(f"{name}: not an ELF file")
    if len(data) < 52:
        raise LoaderError(f"{name}: truncated ELF header")
    elf_class = {1: 32, 2: 64}.get(data[4])
    byteorder = {1: "little", 2: "big"}.get(data[5])
    if elf_class is None or byteorder is None or data[6] != 1:
        raise LoaderError(f"{name}: invalid ELF identification")
    end = "<" if byteorder == "little" else ">"
    if elf_class == 32:
        fmt = end + "HHIIIIIHHHHHH"
    else:
        fmt = end + "HHIQQQIHHHHHH"
    if len(data) < 16 + struct.calcsize(fmt):
        raise LoaderError(f"{name}: truncated ELF header")
    (etype, machine, _version, entry, phoff, _shoff, flags, _ehsize, phentsize, phnum,
     *_rest) = struct.unpack_from(fmt, data, 16)
    if etype in _TYPE_NAMES:
        raise UnsupportedBinary(f"{name}: {_TYPE_NAMES[etype]}, not an executable")
    if etype not in (ET_EXEC, ET_DYN):
        raise LoaderError(f"{name}: unknown ELF type {etype}")
    segments = _program_headers(data, name, end, elf_class, phoff, phentsize, phnum)
    interp = _interpreter(data, name, segments)
    return ElfFile(name, elf_class, byteorder, etype, machine, flags, entry, phoff, phentsize,
                   segments, interp, data)


def _program_headers(data: bytes, name: str, end: str, elf_class: int, phoff: int,
                     phentsize: int, phnum: int) -> tuple[Segment, ...]:
    fmt = end + ("IIIIIIII" if elf_class == 32 else "IIQQQQQQ")
    if phnum == 0 or phentsize != struct.calcsize(fmt):
        raise LoaderError(f"{name}: bad program header table")
    if phoff + phnum * phentsize > len(data):
        raise LoaderError(f"{name}: truncated program header table")
    limit = 1 << elf_class
    segments = []
    for i in range(phnum):
        raw = struct.unpack_from(fmt, data, phoff + i * phentsize)
        if elf_class == 32:
            ptype, offset, vaddr, _paddr, filesz, memsz, pflags, align = raw
        else:
            ptype, pflags, offset, vaddr, _paddr, filesz, memsz, align = raw
        seg = Segment(ptype, pflags, offset, vaddr, filesz, memsz, align)
        if ptype == PT_LOAD:
            if offset + filesz > len(data):
                raise LoaderError(f"{name}: segment {i} extends past the end of the file")
            if memsz < filesz or vaddr + memsz > limit:
                raise LoaderError(f"{name}: segment {i} has an impossible size")
            if align > 1 and (vaddr - offset) % min(align, 0x1000):
                raise LoaderError(f"{name}: segment {i} is misaligned")
        segments.append(seg)
    if not any(s.type == PT_LOAD for s in segments):
        raise LoaderError(f"{name}: no loadable segments")
    return tuple(segments)


def _interpreter(data: bytes, name: str, segments: tuple[Segment, ...]) -> str | None:
    for seg in segments:
        if seg.type == PT_INTERP:
            raw = data[seg.offset:seg.offset + seg.filesz]
            if len(raw) != seg.filesz or not raw.endswith(b"\0") or len(raw) > 4096:
                raise LoaderError(f"{name}: bad PT_INTERP")
            return os.fsdecode(raw[:-1])
    return None
