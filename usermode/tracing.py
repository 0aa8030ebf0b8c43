"""Features built on the block cache (translate.blocks): qemu's ``-d in_asm`` and ``-d exec``
logs, block coverage, and the API's block hooks. Each is a watcher; none exists unless asked.
"""
from __future__ import annotations

import functools
import os
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


class Coverage:
    """Blocks that ran: written at exit as ``address size executions`` lines, by address."""

    def __init__(self, path: str):
        self.path = path
        self.ran: dict[tuple[int, int], int] = {}
        self.pid = os.getpid()

    def new_block(self, block: Any) -> None:
        pass

    def write(self, blocks: Any) -> None:
        """Write the counts of ``blocks`` (the cache's) and of those dropped before."""
        ran = dict(self.ran)
        for block in blocks:
            key = (block.address, block.size)
            ran[key] = ran.get(key, 0) + block.executions
        path = self.path if os.getpid() == self.pid else f"{self.path}.{os.getpid()}"
        with open(path, "w") as f:
            f.write("# pyemu coverage: address size executions\n")
            for (address, size), count in sorted(ran.items()):
                f.write(f"0x{address:x} {size} {count}\n")

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
