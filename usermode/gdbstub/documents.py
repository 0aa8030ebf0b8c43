"""The documents gdb reads with ``qXfer``: the auxiliary vector, the thread list and the shared
library list.

The library list is what gdbserver's ``qXfer:libraries-svr4:read`` reports: the dynamic
linker's ``struct r_debug`` (glibc's elf/link.h) lists the loaded objects as ``struct
link_map`` entries (l_addr, l_name, l_ld, l_next, l_prev: one word each). It is found from the
program's dynamic section, located through the auxiliary vector (AT_PHDR/AT_PHNUM: PT_PHDR gives
the load bias, PT_DYNAMIC the section), where the dynamic linker stores its address in the
DT_DEBUG entry (MIPS: in the word that DT_MIPS_RLD_MAP or DT_MIPS_RLD_MAP_REL designate, its
.dynamic being read-only). The first entry is the program itself, reported as ``main-lm``.
"""
from __future__ import annotations

from typing import Any, Iterator
from xml.sax.saxutils import quoteattr

from ..translate.memory import GuestFault

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM = 0, 3, 4, 5
PT_DYNAMIC, PT_PHDR = 2, 6
DT_NULL, DT_DEBUG = 0, 21
_MAX_LIBRARIES = 4096        # a corrupt (cyclic) list ends here


def auxv_bytes(auxv: tuple[tuple[int, int], ...], word_size: int, byteorder: str) -> bytes:
    """The auxiliary vector as /proc/PID/auxv holds it, AT_NULL included."""
    pairs = list(auxv)
    if not pairs or pairs[-1][0] != AT_NULL:
        pairs.append((AT_NULL, 0))
    return b"".join(v.to_bytes(word_size, byteorder) for pair in pairs for v in pair)


def threads_xml(threads: list[tuple[int, str]]) -> str:
    """``<threads>`` for qXfer:threads:read: (tid, name) pairs; ids in hex as elsewhere."""
    items = "".join(f'<thread id="{tid:x}" core="0" name={quoteattr(name)}/>'
                    for tid, name in threads)
    return f'<?xml version="1.0"?><threads>{items}</threads>'


class GuestWords:
    """Word-sized reads of guest memory in the guest's byte order."""

    def __init__(self, space: Any, word_size: int, byteorder: str) -> None:
        self.space = space
        self.size = word_size
        self.byteorder = byteorder

    def word(self, address: int, size: int | None = None) -> int:
        n = size or self.size
        return int.from_bytes(self.space.read(address, n, check=False), self.byteorder)

    def string(self, address: int) -> bytes:
        return self.space.read_cstr(address)


def _program_headers(mem: GuestWords, auxv: dict[int, int]) -> Iterator[tuple[int, int]]:
    """(p_type, p_vaddr) of each program header of the running program."""
    phdr, phent, phnum = auxv.get(AT_PHDR, 0), auxv.get(AT_PHENT, 0), auxv.get(AT_PHNUM, 0)
    vaddr_at = 8 if mem.size == 4 else 16       # Elf32_Phdr / Elf64_Phdr p_vaddr
    for i in range(phnum if phdr and phent else 0):
        entry = phdr + i * phent
        yield mem.word(entry, 4), mem.word(entry + vaddr_at)


def dynamic_section(mem: GuestWords, auxv: dict[int, int]) -> int | None:
    """The run-time address of the program's dynamic section (None: a static program)."""
    headers = list(_program_headers(mem, auxv))
    bias = next((auxv[AT_PHDR] - vaddr for kind, vaddr in headers if kind == PT_PHDR), 0)
    return next((bias + vaddr for kind, vaddr in headers if kind == PT_DYNAMIC), None)


def r_debug_address(mem: GuestWords, dynamic: int, extra_tags: tuple[tuple[int, str], ...]) -> int:
    """Where the dynamic linker's r_debug is (0 until the linker has filled the entry in)."""
    how = dict(extra_tags)
    entry = dynamic
    for _ in range(4096):
        tag, value = mem.word(entry), mem.word(entry + mem.size)
        if tag == DT_NULL:
            break
        if tag == DT_DEBUG and value:
            return value
        if how.get(tag) == "pointer" and value:
            return mem.word(value)
        if how.get(tag) == "relative":
            return mem.word((entry + value) & ((1 << (8 * mem.size)) - 1))
        entry += 2 * mem.size
    return 0


def libraries_svr4_xml(mem: GuestWords, auxv: dict[int, int],
                       extra_tags: tuple[tuple[int, str], ...]) -> str:
    """gdbserver's ``<library-list-svr4>`` document for the running process."""
    empty = '<library-list-svr4 version="1.0"/>'
    try:
        dynamic = dynamic_section(mem, auxv)
        r_debug = r_debug_address(mem, dynamic, extra_tags) if dynamic else 0
        if not r_debug:
            return empty
        items, main_lm = _link_maps(mem, mem.word(r_debug + mem.size))
    except GuestFault:
        return empty
    head = '<library-list-svr4 version="1.0"'
    if main_lm is not None:
        head += f' main-lm="0x{main_lm:x}"'
    return head + ">" + "".join(items) + "</library-list-svr4>"


def _link_maps(mem: GuestWords, lm: int) -> tuple[list[str], int | None]:
    """The <library> elements from link_map ``lm`` on, and the program's own entry."""
    w = mem.size
    items: list[str] = []
    main_lm = None
    prev = 0
    while lm and len(items) < _MAX_LIBRARIES:
        l_addr, l_name, l_ld = mem.word(lm), mem.word(lm + w), mem.word(lm + 2 * w)
        l_next, l_prev = mem.word(lm + 3 * w), mem.word(lm + 4 * w)
        if l_prev != prev:
            break                               # not a consistent list: stop here
        if prev == 0:
            main_lm = lm
        else:
            name = mem.string(l_name).decode("utf-8", "replace") if l_name else ""
            if name:
                items.append(f"<library name={quoteattr(name)} lm=\"0x{lm:x}\" "
                             f"l_addr=\"0x{l_addr:x}\" l_ld=\"0x{l_ld:x}\" lmid=\"0x0\"/>")
        prev, lm = lm, l_next
    return items, main_lm
