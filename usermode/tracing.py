"""Features built on the block cache (translate.blocks): qemu's ``-d in_asm`` and ``-d exec``
logs, block coverage, and the API's block hooks. Each is a watcher; none exists unless asked.
"""
from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass
from typing import Any, Callable, TextIO

LOG_ITEMS = {"in_asm": "the guest code of each new block, disassembled",
             "exec": "every block as it runs"}


@functools.cache
def _decoder(arch: str, modes: tuple[str, ...]) -> Any:
    import capstone         # only when disassembling: not on the start-up path
    mode = 0
    for name in modes:
        mode |= getattr(capstone, f"CS_MODE_{name}")
    return capstone.Cs(getattr(capstone, f"CS_ARCH_{arch}"), mode)


def disassemble(spec: Any, block: Any) -> list[tuple[int, bytes, str, str]]:
    """(address, bytes, mnemonic, operands) of each instruction of ``block``."""
    modes = spec.disasm_thumb if block.thumb else spec.disasm[1]
    cs = _decoder(spec.disasm[0], tuple(modes))
    out = [(i.address, bytes(i.bytes), i.mnemonic, i.op_str)
           for i in cs.disasm(block.code, block.address)]
    done = sum(len(raw) for _, raw, _, _ in out)
    if done < len(block.code):      # bytes capstone does not know
        out.append((block.address + done, block.code[done:], ".byte", "(undecoded)"))
    return out


class InAsmLog:
    """``-d in_asm``: each block when it is (re)translated, as qemu prints it; the ``IN:`` line
    names the symbol the block is in (``main+0x14``) when the file has symbols."""

    def __init__(self, spec: Any, out: TextIO, symbols: Any = None):
        self.spec, self.out, self.symbols = spec, out, symbols
        self.word = "{:08x}" if spec.elf_class == 32 else "{:016x}"

    def new_block(self, block: Any) -> None:
        where = self.symbols.name(block.address) if self.symbols is not None else None
        lines = ["----------------", f"IN: {where or ''}"]
        for address, raw, mnemonic, operands in disassemble(self.spec, block):
            hexed = self._hex(raw, block.thumb)
            lines.append(f"0x{self.word.format(address)}:  {hexed:<8}  {mnemonic:<8} {operands}"
                         .rstrip())
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()


    def _hex(self, raw: bytes, thumb: bool) -> str:
        """The instruction as the CPU reads it: words (Thumb: halfwords) in the guest's order."""
        unit = 2 if thumb else 4
        if len(raw) % unit:
            return raw.hex()
        parts = [raw[i:i + unit] for i in range(0, len(raw), unit)]
        if self.spec.byteorder == "little":
            parts = [p[::-1] for p in parts]
        return " ".join(p.hex() for p in parts)


class ExecLog:
    """``-d exec``: every block as it runs."""

    def __init__(self, spec: Any, out: TextIO, symbols: Any = None):
        self.out = out
        self.word = "{:08x}" if spec.elf_class == 32 else "{:016x}"

    def new_block(self, block: Any) -> None:
        pass

    def executed(self, block: Any) -> None:
        self.out.write(f"Trace: 0x{self.word.format(block.address)} [{block.size}]\n")


COVERAGE_FORMATS = ("drcov", "plain")


@dataclass
class Module:
    """A mapped ELF file, for drcov's module table."""

    id: int
    path: str
    base: int
    end: int


class Coverage:
    """Blocks that ran, written at exit (a forked child writes ``FILE.PID``):

    - ``drcov`` (DynamoRIO's drcov format, version 2, as Lighthouse, bncov and Dragon Dance
      read it): a module table naming each ELF file the blocks ran in (its host path, where
      the tools find it; load base; end), then the blocks as (offset from their module's base, size, module id) records;
      blocks in memory that is no file's (code a program generated) are left out, as drcov
      does;
    - ``plain``: ``address size executions`` lines, by address.
    """

    def __init__(self, path: str, space: Any = None, fmt: str = "drcov"):
        self.path = path
        self.space = space
        self.format = fmt
        self.ran: dict[tuple[int, int], int] = {}
        self.modules: dict[str, Module] = {}
        self.module_of: dict[int, Module] = {}        # block address -> its module
        self.pid = os.getpid()

    def new_block(self, block: Any) -> None:
        vma = self.space.find(block.address) if self.space is not None else None
        if vma is None or not vma.name.startswith("/"):
            return
        module = self.modules.get(vma.name)
        base = vma.start - vma.offset
        if module is None:
            module = self.modules[vma.name] = Module(len(self.modules), vma.name, base, vma.end)
        module.base, module.end = min(module.base, base), max(module.end, vma.end)
        self.module_of[block.address] = module

    def write(self, blocks: Any) -> None:
        """Write the counts of ``blocks`` (the cache's) and of those dropped before."""
        ran = dict(self.ran)
        for block in blocks:
            key = (block.address, block.size)
            ran[key] = ran.get(key, 0) + block.executions
        path = self.path if os.getpid() == self.pid else f"{self.path}.{os.getpid()}"
        if self.format == "plain":
            with open(path, "w") as f:
                f.write("# pyemu coverage: address size executions\n")
                for (address, size), count in sorted(ran.items()):
                    f.write(f"0x{address:x} {size} {count}\n")
            return
        with open(path, "wb") as f:
            f.write(self.drcov(ran))

    def drcov(self, ran: dict[tuple[int, int], int]) -> bytes:
        modules = sorted(self.modules.values(), key=lambda m: m.id)
        lines = ["DRCOV VERSION: 2", "DRCOV FLAVOR: pyemu",
                 f"Module Table: version 2, count {len(modules)}",
                 "Columns: id, base, end, entry, checksum, timestamp, path"]
        for m in modules:
            lines.append(f"{m.id:3d}, 0x{m.base:016x}, 0x{m.end:016x}, 0x{0:016x}, "
                         f"0x{0:08x}, 0x{0:08x}, {m.path}")
        records = bytearray()
        count = 0
        for address, size in sorted(ran):
            module = self.module_of.get(address)
            if module is None or not module.base <= address < module.end:
                continue
            records += struct.pack("<IHH", address - module.base, min(size, 0xFFFF), module.id)
            count += 1
        lines.append(f"BB Table: {count} bbs")
        return ("\n".join(lines) + "\n").encode() + bytes(records)

    def dropped(self, block: Any) -> None:
        """Keep the counts of a block the cache drops (its code changed or went away)."""
        key = (block.address, block.size)
        self.ran[key] = self.ran.get(key, 0) + block.executions


class BlockHook:
    """An API user's function, called with each block as it runs."""

    def __init__(self, fn: Callable[[Any], None]):
        self.fn = fn

    def new_block(self, block: Any) -> None:
        pass

    def executed(self, block: Any) -> None:
        self.fn(block)
