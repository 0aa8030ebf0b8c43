"""Keeping MIPS translation blocks short enough for the stock Unicorn 2.1.4 library.

The engine's MIPS translator takes one TCG temporary per guest instruction and never gives it
back (unicorn issue 2240). A block of more than about 380 instructions overflows the 512 temps
of the translation context (130 are globals on MIPS) and the host process dies with SIGSEGV
while translating: Debian's mipsel md5sum, sha*sum and b2sum all have such straight-line code.

A block ends at every branch or jump (after its delay slot) and at every syscall or break, so
only runs of straight-line code can be that long. pyemu finds the runs longer than the CPU's
``block_split_limit`` in each new executable mapping (before guest code runs again: when the
syscall that made it returns, or before the engine is started) and puts a
code hook on them whose callback is a native no-op function. An instrumented instruction emits
at least 14 TCG ops, and the engine ends a block at 4000 ops (at most ~290 such instructions),
well before the temps run out. Only code inside those runs pays (a native call and the engine's
exit check per instruction); code the guest writes into executable memory later is not
scanned. An engine built with pyemu's patch (tools/build_engine.py) frees the temp and needs
none of this.
"""
from __future__ import annotations

import ctypes
import re
import struct

import unicorn
from unicorn.unicorn_py3.unicorn import uclib as _uclib

PROT_EXEC = 4
_SHF_EXECINSTR = 4
_SHT_NOBITS = 8


def _mask(condition) -> bytes:
    """A translation table giving 1 for the bytes that satisfy ``condition``, else 0."""
    return bytes(1 if condition(b) else 0 for b in range(256))


# MIPS32 encodings. Only instructions that always end a block count: J, JAL, BEQ, BNE, BLEZ,
# BGTZ, the branch-likely forms and JALX by major opcode (top 6 bits of the high byte); JR,
# JALR, SYSCALL, BREAK by SPECIAL function (low byte); the REGIMM branches by rt (middle byte);
# BC1/BC2 by rs (high and middle bytes). Missing one only makes a run look longer (a hook
# more), never shorter.
_ENDS_BY_OPCODE = _mask(lambda b: b >> 2 in (2, 3, 4, 5, 6, 7, 20, 21, 22, 23, 29))
_SPECIAL = _mask(lambda b: b >> 2 == 0)
_JUMP_FUNCT = _mask(lambda b: b & 0x3F in (8, 9, 12, 13))
_REGIMM = _mask(lambda b: b >> 2 == 1)
_BRANCH_RT = _mask(lambda b: b & 0x1F in (0, 1, 2, 3, 16, 17, 18, 19))
_COP_BC = _mask(lambda b: b >> 2 in (17, 18) and b & 3 == 1)   # rs = 8 needs these bits...
_RS_LOW_ZERO = _mask(lambda b: b >> 5 == 0)                     # ... and these
_NONZERO = re.compile(rb"[^\0]")
# Zero-filled memory decodes as NOPs; code never holds 17 NOPs in a row, so such a stretch is
# taken as a separator rather than hooked (untouched pages of executable mappings, padding).
_ZERO_WORDS = 17


def _zero_stretches(data: bytes, length: int, start: int = 0):
    """[begin, end) of every stretch of at least ``length`` zero bytes in ``data``."""
    gap = bytes(length)
    begin = data.find(gap, start)
    while begin >= 0:
        found = _NONZERO.search(data, begin)
        end = found.start() if found else len(data)
        yield begin, end
        begin = data.find(gap, end)


def straight_runs(code: bytes, byteorder: str, limit: int) -> list[tuple[int, int]]:
    """Byte ranges [start, end) of ``code`` (MIPS32 instructions) holding more than ``limit``
    consecutive instructions, none of which ends a translation block (nor is in a stretch of
    zeros)."""
    words = len(code) // 4
    high, middle, low = ((code[i:4 * words:4] for i in (3, 2, 0)) if byteorder == "little"
                         else (code[i:4 * words:4] for i in (0, 1, 3)))

    def bits(data: bytes, table: bytes) -> int:
        return int.from_bytes(data.translate(table), "big")

    ends = (bits(high, _ENDS_BY_OPCODE)
            | bits(high, _SPECIAL) & bits(low, _JUMP_FUNCT)
            | bits(high, _REGIMM) & bits(middle, _BRANCH_RT)
            | bits(high, _COP_BC) & bits(middle, _RS_LOW_ZERO))
    flags = ends.to_bytes(words, "big")     # one byte per instruction: 1 where a block ends
    runs = []
    for base, end in _zero_stretches(flags, limit + 1):
        first = base
        for z_begin, z_end in _zero_stretches(code[4 * base:4 * end], 4 * _ZERO_WORDS):
            if base + (z_begin + 3) // 4 - first > limit:
                runs.append((4 * first, 4 * (base + (z_begin + 3) // 4)))
            first = base + z_end // 4
        if end - first > limit:
            runs.append((4 * first, 4 * end))
    return runs


def code_sections(path: str) -> list[tuple[int, int]] | None:
    """File ranges [offset, end) of the executable sections of the ELF32 file at ``path``, or
    None when that is unknown (not a readable ELF32 file with section headers). Executable
    segments also hold data (read-only data, symbol tables), which could look like long runs."""
    try:
        with open(path, "rb") as f:
            header = f.read(52)
            if len(header) < 52 or header[:5] != b"\x7fELF\x01":
                return None
            order = "<" if header[5] == 1 else ">"
            shoff, = struct.unpack_from(order + "I", header, 32)
            shentsize, shnum = struct.unpack_from(order + "HH", header, 46)
            if not shoff or not shnum or shentsize < 40:
                return None
            f.seek(shoff)
            table = f.read(shentsize * shnum)
    except OSError:
        return None
    ranges = []
    for i in range(len(table) // shentsize):
        _, kind, flags, _, offset, size = struct.unpack_from(order + "6I", table, i * shentsize)
        if flags & _SHF_EXECINSTR and kind != _SHT_NOBITS:
            ranges.append((offset, offset + size))
    return ranges


class BlockSplitter:
    """The code hooks of one engine over the long straight-line runs of its executable memory."""

    def __init__(self, uc: unicorn.Uc, byteorder: str, limit: int):
        self._uch = uc._uch
        self._byteorder = byteorder
        self._limit = limit
        self._pending: list[tuple[int, int, int, str, int]] = []  # start, size, host, file, offset
        self._hooks: dict[tuple[int, int], ctypes.c_size_t] = {}   # [first, last] -> handle
        # Any exported function that ignores its arguments will do as the callback: the engine
        # calls it directly from translated code, so it must be native. uc_arch_supported(int)
        # reads one integer register and returns.
        self._noop = ctypes.cast(_uclib.uc_arch_supported, ctypes.c_void_p)

    def mapped(self, start: int, size: int, prot: int, host: int, path: str = "",
               offset: int = 0) -> None:
        """Memory became executable (its contents may still be written before the next run);
        ``path`` and ``offset`` name the host file it was mapped from, if any."""
        if prot & PROT_EXEC:
            self._pending.append((start, size, host, path, offset))

    def unmapped(self, start: int, size: int) -> None:
        """Memory stopped being executable."""
        self._pending = [p for p in self._pending if p[0] + p[1] <= start or p[0] >= start + size]
        for first, last in [r for r in self._hooks if r[1] >= start and r[0] < start + size]:
            _uclib.uc_hook_del(self._uch, self._hooks.pop((first, last)))

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def prepare(self) -> None:
        """Hook the long runs of the memory that became executable since the last call."""
        pending, self._pending = self._pending, []
        for start, size, host, path, offset in pending:
            sections = code_sections(path) if path.startswith("/") else None
            if sections is None:
                pieces = [(0, size)]
            else:
                pieces = [(max(lo - offset, 0), min(hi - offset, size)) for lo, hi in sections]
            for lo, hi in pieces:
                if hi - lo <= 4 * self._limit:
                    continue
                code = ctypes.string_at(host + lo, hi - lo)
                for begin, end in straight_runs(code, self._byteorder, self._limit):
                    self._hook(start + lo + begin, start + lo + end - 1)

    def _hook(self, first: int, last: int) -> None:
        if (first, last) in self._hooks:
            return
        handle = ctypes.c_size_t()
        status = _uclib.uc_hook_add(self._uch, ctypes.byref(handle), unicorn.UC_HOOK_CODE,
                                    self._noop, None, ctypes.c_uint64(first),
                                    ctypes.c_uint64(last))
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        self._hooks[(first, last)] = handle
