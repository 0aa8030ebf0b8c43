"""The data address of a faulting load/store, from the instruction itself (capstone).

Needed where the engine only tells the page of a fault (virtual TLB mode). Imported on faults
only: capstone stays off the start-up path.
"""
from __future__ import annotations

from typing import Any

import capstone
from capstone import arm64_const

_ARM64: capstone.Cs | None = None


def memory_operand_address(cpu: Any, code: bytes, pc: int) -> int | None:
    """The faulting access's address, for the CPUs that run with the virtual TLB."""
    decoder = _DECODERS.get(cpu.spec.name)
    return decoder(cpu, code, pc) if decoder else None


def _arm64(cpu: Any, code: bytes, pc: int) -> int | None:
    """base + displacement (+ shifted index) of an AArch64 load/store's memory operand."""
    global _ARM64
    if _ARM64 is None:
        _ARM64 = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
        _ARM64.detail = True
    insn = next(_ARM64.disasm(code, pc), None)
    if insn is None:
        return None
    for op in insn.operands:
        if op.type != arm64_const.ARM64_OP_MEM:
            continue
        base = cpu.read(insn.reg_name(op.mem.base)) if op.mem.base else 0
        index = cpu.read(insn.reg_name(op.mem.index)) if op.mem.index else 0
        if op.mem.index and op.shift.type == arm64_const.ARM64_SFT_LSL:
            index <<= op.shift.value
        post_indexed = getattr(insn, "post_index", False)
        disp = 0 if post_indexed else op.mem.disp
        return (base + index + disp) & 0xFFFFFFFFFFFFFFFF
    return None


_DECODERS = {"aarch64": _arm64}
