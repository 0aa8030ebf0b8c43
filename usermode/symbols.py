"""Symbol names for guest code addresses (``main+0x14``), from the ELF files the guest mapped.

The program, its interpreter and every library it maps are host files behind guest mappings
(``Vma.name``); a file's symbols come from its ``.symtab`` when it has one (an unstripped
program), else its ``.dynsym`` (a shared library's exports). pyelftools reads them, imported
only when a feature asks for names (``-d in_asm``, coverage, the debugger): its import costs
about 50 ms that a plain run should not pay.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

# Symbol types that name code or data a guest address can be in.
_KINDS = ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE", "STT_GNU_IFUNC")


@dataclass(frozen=True)
class FileSymbols:
    """One ELF file's symbols by link-time address, and its loadable segments."""

    starts: list[int]                        # sorted symbol addresses
    entries: list[tuple[int, int, str]]      # (address, size, name), in the same order
    segments: tuple[tuple[int, int, int], ...]   # PT_LOAD (p_vaddr, p_offset, p_filesz)

    def load_bias(self, start: int, offset: int) -> int | None:
        """How far the file was moved, from a mapping of it at ``start`` from file ``offset``."""
        for vaddr, seg_offset, filesz in self.segments:
            if seg_offset <= offset < seg_offset + max(filesz, 1):
                return start - (vaddr + offset - seg_offset)
        return None

    def lookup(self, address: int) -> tuple[str, int] | None:
        """(name, offset into it) of the symbol containing link-time ``address``."""
        i = bisect.bisect_right(self.starts, address) - 1
        if i < 0:
            return None
        start, size, name = self.entries[i]
        if size and address >= start + size:
            return None
        return name, address - start


def read_symbols(path: str, code_mask: int = ~0) -> FileSymbols | None:
    """The symbols of the ELF file at ``path`` (None: not readable as ELF). ``code_mask``
    clears the bits a function address carries besides the address (Thumb's bit 0)."""
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError:
        return None
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            segments = tuple((seg["p_vaddr"], seg["p_offset"], seg["p_filesz"])
                             for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD")
            table = elf.get_section_by_name(".symtab") or elf.get_section_by_name(".dynsym")
            found: dict[int, tuple[int, int, str]] = {}
            for sym in table.iter_symbols() if table is not None else ():
                kind = sym["st_info"]["type"]
                if kind not in _KINDS or not sym.name or sym["st_shndx"] == "SHN_UNDEF":
                    continue
                address = sym["st_value"] & code_mask if kind == "STT_FUNC" else sym["st_value"]
                if address == 0 or sym.name.startswith("$"):    # ARM's mapping symbols
                    continue
                size = sym["st_size"]
                # several names for one address: the global, sized one (a function's alias)
                best = found.get(address)
                if best is None or (size, sym["st_info"]["bind"] == "STB_GLOBAL") > (best[1], False):
                    found[address] = (address, size, sym.name)
    except (OSError, ELFError, ValueError, KeyError, AttributeError):
        return None
    entries = sorted(found.values())
    return FileSymbols([e[0] for e in entries], entries, segments)


class Symbolizer:
    """Names for guest addresses in a process's address space (files read once each)."""

    def __init__(self, space: Any, code_mask: int = ~0):
        self.space = space
        self.code_mask = code_mask
        self._files: dict[str, FileSymbols | None] = {}

    def lookup(self, address: int) -> tuple[str, int] | None:
        """(symbol name, offset) for a guest code address (Thumb's bit 0 aside), or None."""
        address &= self.code_mask
        vma = self.space.find(address)
        if vma is None or not vma.name.startswith("/"):
            return None
        if vma.name not in self._files:
            self._files[vma.name] = read_symbols(vma.name, self.code_mask)
        symbols = self._files[vma.name]
        if symbols is None:
            return None
        bias = symbols.load_bias(vma.start, vma.offset)
        if bias is None:
            return None
        return symbols.lookup(address - bias)

    def name(self, address: int) -> str | None:
        """``main`` or ``main+0x14`` for a guest address, or None."""
        found = self.lookup(address)
        if found is None:
            return None
        symbol, offset = found
        return f"{symbol}+{offset:#x}" if offset else symbol
