"""Run limits that end a guest run from outside: wall time (``--timeout``) and a deterministic
instruction budget (``--max-insns``).

Each ends the run with its own exit status and one line on stderr, like a death by signal:

- ``--timeout S``: after S seconds of wall time, status 124 (GNU timeout's). The guest's
  other processes in pyemu's process group are killed with it.
- ``--max-insns N``: after exactly N guest instructions, status 123, and the line names the pc
  where the run stopped: the same instruction every run (time slices aside: a multi-threaded
  guest switches threads at times that depend on the host).

The instruction budget counts whole blocks through the block cache (one Python call per
executed block, only while the feature is on); the block that would overrun it is not started:
the engine runs exactly the instructions left (``Cpu.step``) and the run ends there.
"""
from __future__ import annotations

import os
import signal
import threading
from typing import Any, Callable

from .errors import GuestExit

TIMEOUT_STATUS = 124
MAX_INSNS_STATUS = 123


class LimitReached(GuestExit):
    """A run limit ended the guest: its status and the line to print."""

    def __init__(self, status: int, message: str):
        super().__init__(status)
        self.message = message


class BudgetExhausted(Exception):
    """Raised from the block hook before a block the budget cannot pay for in full."""

    def __init__(self, block: Any, remaining: int):
        super().__init__(remaining)
        self.block = block
        self.remaining = remaining


def instruction_offsets(spec: Any, code: bytes, thumb: bool) -> list[int]:
    """Where each instruction of a block starts: fixed-size words, or Thumb's 16- and 32-bit
    ones (a 32-bit one is marked by the top bits of its first halfword,
    ``CpuSpec.thumb_wide_prefixes``)."""
    if not thumb:
        return list(range(0, len(code) - 3, 4))
    offsets, i = [], 0
    while i + 2 <= len(code):
        offsets.append(i)
        first = int.from_bytes(code[i:i + 2], spec.byteorder)
        i += 4 if first >> 11 in spec.thumb_wide_prefixes else 2
    return offsets


def instruction_count(spec: Any, code: bytes, thumb: bool) -> int:
    return len(instruction_offsets(spec, code, thumb))


class InstructionBudget:
    """A block-cache watcher that stops the guest after exactly ``limit`` instructions."""

    def __init__(self, spec: Any, limit: int):
        self.spec = spec
        self.limit = limit
        self.used = 0
        self.spent = False

    def new_block(self, block: Any) -> None:
        block.data["insns"] = instruction_count(self.spec, block.code, block.thumb)

    def executed(self, block: Any) -> None:
        count = block.data["insns"]
        if self.spent:
            return
        if self.used + count > self.limit:
            raise BudgetExhausted(block, self.limit - self.used)
        self.used += count

    def finish(self, cpu: Any, spent: BudgetExhausted) -> LimitReached:
        """Run the instructions the budget has left in the block it stopped before (MIPS: not
        as far as into a branch's delay slot, which runs with its branch); the limit's exit."""
        self.spent = True
        block, remaining = spent.block, spent.remaining
        offsets = instruction_offsets(self.spec, block.code, block.thumb)
        if self.spec.delay_slots and remaining == len(offsets) - 1:
            remaining -= 1
        if remaining:
            cpu.run_to(block.address + offsets[remaining])
        self.used = self.limit - spent.remaining + remaining
        word = 8 if self.spec.elf_class == 32 else 16
        return LimitReached(MAX_INSNS_STATUS, f"pyemu: instruction limit reached ({self.used} "
                                              f"instructions) at pc 0x{cpu.pc & ~1:0{word}x}")


class Deadline:
    """``--timeout``: a timer thread that ends the process when the wall time is up."""

    def __init__(self, seconds: float, expire: Callable[[str], None]):
        self.seconds = seconds
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.name = "pyemu-timeout"
        self._expire = expire

    def start(self) -> None:
        self._timer.start()

    def _fire(self) -> None:
        self._expire(f"pyemu: timeout: the guest ran for {self.seconds:g} s")


def kill_process_group_except_self() -> None:
    """SIGKILL every other process of this process group (the guest's children), as GNU
    timeout does with its command's group; processes that left the group are not found."""
    me, group = os.getpid(), os.getpgrp()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:              # field 5, pgrp
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
