"""Breakpoints and watchpoints on one CPU's engine, for the gdb stub (``usermode.gdbstub``).

A breakpoint is a ``UC_HOOK_CODE`` hook bounded to its one address: the engine emits the call
only into code translated at that address, so it costs nothing elsewhere (hooks apply at
translation, hence the cached translation of that address is dropped when one is added or
removed). The callback records the hit and stops the engine before the instruction runs
(pyemu's engine patch ``hook-stops-1``; stock Unicorn does the same). A watchpoint is a
memory hook on its range, which exists only while watchpoints do: any memory hook sends every
guest access through the engine's slow path, and translated code made without one never calls
it, so adding or removing one drops all translated code. The engine calls a write hook before
the store and stops after the instruction's access, with the pc still on it: the
"non-steppable" watchpoints gdb expects on ARM, AArch64 and MIPS (gdb then steps the
instruction itself with the watchpoint removed).

Everything here is changed while the CPU's guest code is stopped (the debugger changes it only
in an all-stop state).
"""
from __future__ import annotations

from dataclasses import dataclass

import unicorn

# the widest guest access (a 128-bit SIMD load or store) may start this far before a range
_WIDEST_ACCESS = 16

_WATCH_HOOKS = {
    "watch": unicorn.UC_HOOK_MEM_WRITE,
    "rwatch": unicorn.UC_HOOK_MEM_READ,
    "awatch": unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE,
}


@dataclass(frozen=True)
class Watch:
    """A watched range and how it is watched: "watch" (writes), "rwatch" (reads), "awatch"."""

    kind: str
    address: int
    length: int


@dataclass(frozen=True)
class Hit:
    """Why the hooks stopped the CPU: "breakpoint" or a watch kind, and the address."""

    kind: str
    address: int


class DebugHooks:
    """The breakpoint and watchpoint hooks of one Cpu."""

    def __init__(self, cpu) -> None:
        self.cpu = cpu
        cpu.debug_hooks = self              # one per engine, kept when the engine is reused
        self.hit: Hit | None = None
        self.skip_once: int | None = None    # resume: the breakpoint here is not hit again
        self._code: dict[int, int] = {}       # address -> hook handle
        self._watch: dict[Watch, int] = {}

    def take_hit(self) -> Hit | None:
        hit, self.hit = self.hit, None
        return hit

    # -- breakpoints -------------------------------------------------------------------------
    def set_breakpoints(self, addresses: set[int]) -> None:
        """Make the hooked addresses exactly ``addresses``."""
        for address in set(self._code) - addresses:
            self.cpu.uc.hook_del(self._code.pop(address))
            self._forget_code(address)
        for address in addresses - set(self._code):
            self._code[address] = self.cpu.uc.hook_add(
                unicorn.UC_HOOK_CODE, self._on_code, begin=address, end=address)
            self._forget_code(address)

    def _forget_code(self, address: int) -> None:
        self.cpu.invalidate_code(address, address + 4)

    def _on_code(self, uc, address: int, size: int, _data) -> None:
        skip, self.skip_once = self.skip_once, None
        if address == skip:
            return
        self.hit = Hit("breakpoint", address)
        uc.emu_stop()

    # -- watchpoints -------------------------------------------------------------------------
    def set_watchpoints(self, watches: set[Watch]) -> None:
        """Make the watched ranges exactly ``watches``."""
        if set(self._watch) == watches:
            return
        for watch in set(self._watch) - watches:
            self.cpu.uc.hook_del(self._watch.pop(watch))
        for watch in watches - set(self._watch):
            self._watch[watch] = self.cpu.uc.hook_add(
                _WATCH_HOOKS[watch.kind], self._on_access, user_data=watch,
                begin=max(watch.address - _WIDEST_ACCESS + 1, 0),
                end=watch.address + watch.length - 1)
        self.cpu.uc.ctl_flush_tb()          # translated code calls hooks that existed then
        self.cpu.uc.ctl(unicorn.UC_CTL_TLB_FLUSH, unicorn.UC_CTL_IO_WRITE)

    def _on_access(self, uc, _access: int, address: int, size: int, _value: int,
                   watch: Watch) -> None:
        if address + size <= watch.address or address >= watch.address + watch.length:
            return                          # near the range (the hook's bounds), not in it
        self.hit = Hit(watch.kind, max(address, watch.address))
        uc.emu_stop()

    def clear(self) -> None:
        self.set_breakpoints(set())
        self.set_watchpoints(set())
