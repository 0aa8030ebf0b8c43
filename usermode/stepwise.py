"""Step-wise control of a guest in this Python process: ``usermode.Emulator``.

    from usermode import Emulator
    emu = Emulator(["./prog-aarch64", "arg"])
    emu.on_syscall(before=lambda call: ...)        # see and change syscalls
    stop = emu.run(until=0x400580)                 # to an address ...
    print(hex(emu.read_register("x0")), emu.read_memory(emu.pc, 4))
    stop = emu.run(count=1000)                     # ... or N instructions
    stop = emu.run()                               # ... or to the end: stop.status

The guest runs in the caller's process, on the caller's stdin, stdout and stderr: a crash of
the emulator is the caller's, and a guest that forks forks the caller (the child never returns
into the caller's code: it ends when its guest does). For isolated runs use ``usermode.run``.
Guest threads run as under the command line (the main thread's run drives the process).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .emulator import Emulation, RunConfig
from .errors import GuestExit
from .limits import BudgetExhausted, InstructionBudget, LimitReached
from .syscalls.dispatch import SyscallEvent, SyscallHook


@dataclass(frozen=True)
class Stop:
    """Why ``Emulator.run`` returned: "exit" (the guest ended: ``status``, ``signal``),
    "address" (it reached ``until``) or "count" (it ran ``count`` instructions)."""

    reason: str
    pc: int
    status: int | None = None
    signal: int | None = None


class _BlockWithTarget(Exception):
    """Raised before the block that holds ``Emulator.run``'s ``until`` address runs."""


class _AddressWatch:
    """A block-cache watcher that stops the guest before the block holding ``target``: the
    engine then runs to the address itself (``Cpu.run_to``), exactly, on every arch (a code
    hook's stop request is seen only at the next block start on pyemu's engine)."""

    def __init__(self) -> None:
        self.target: int | None = None

    def new_block(self, block: Any) -> None:
        pass

    def executed(self, block: Any) -> None:
        target = self.target
        if target is not None and block.address <= target < block.address + block.size:
            raise _BlockWithTarget()


class Emulator:
    """A loaded guest process, run on request (see the module docstring)."""

    def __init__(self, argv: Sequence[str | os.PathLike[str]], *, arch: str | None = None,
                 sysroot: str | os.PathLike[str] | None = None,
                 env: dict[str, str] | None = None):
        args = [os.fsencode(a) for a in argv]
        environ = os.environ if env is None else env
        config = RunConfig(program=os.fsdecode(args[0]), argv=args, arch=arch,
                           env=[os.fsencode(f"{k}={v}") for k, v in environ.items()],
                           sysroot=None if sysroot is None else os.fspath(sysroot))
        self._em = Emulation(config)
        self._cpu = self._em.cpu
        self._cpu.write(self._em.spec.sp, self._em.sp)
        self._start: int | None = self._em.entry
        self._budget: InstructionBudget | None = None
        self._watch: _AddressWatch | None = None
        self._pid = os.getpid()
        self.arch = self._em.spec.name
        self.exited: Stop | None = None

    # -- state --------------------------------------------------------------------------------
    @property
    def pc(self) -> int:
        return self._start if self._start is not None else self._cpu.pc

    def read_register(self, name: str) -> int:
        return self.pc if name == self._em.spec.pc else self._cpu.read(name)

    def write_register(self, name: str, value: int) -> None:
        if name == self._em.spec.pc:
            self._start = value
        else:
            self._cpu.write(name, value)

    def read_memory(self, address: int, size: int) -> bytes:
        """Guest memory, whatever its protection (a GuestFault where nothing is mapped)."""
        return self._em.space.read(address, size, check=False)

    def write_memory(self, address: int, data: bytes) -> None:
        self._em.space.write(address, data, check=False)

    def symbol(self, address: int) -> str | None:
        """``main+0x14`` for a code address, when the ELF file has symbols."""
        from .symbols import Symbolizer
        return Symbolizer(self._em.space, ~1 if self._em.spec.mode_flag else ~0).name(address)

    # -- hooks --------------------------------------------------------------------------------
    def on_block(self, fn: Callable[[Any], None]) -> None:
        """``fn(block)`` before each block of guest code runs (``block.address``, ``.size``)."""
        self._em.on_block(fn)

    def on_syscall(self, before: SyscallHook | None = None,
                   after: SyscallHook | None = None) -> None:
        """Hooks around every syscall, with a ``SyscallEvent`` (name, args, result) they may
        change (see ``syscalls.dispatch.SyscallEvent``)."""
        self._em.syscall_hooks = (before, after)
        for cpu in self._em.runner.cpus():
            cpu.on_syscall = self._em.make_dispatcher(cpu)

    def on_memory(self, start: int, end: int, fn: Callable[[str, int, int, int], None], *,
                  read: bool = True, write: bool = True) -> Any:
        """``fn(kind, address, size, value)`` for guest reads and writes in [start, end)."""
        return self._cpu.hook_memory(start, end - 1, read, write, fn)

    # -- running ------------------------------------------------------------------------------
    def run(self, *, until: int | None = None, count: int | None = None) -> Stop:
        """Run the guest until it ends, reaches ``until`` or has run ``count`` instructions."""
        if self.exited is not None:
            return self.exited
        threads = self._em.kernel.threads
        if until is not None:
            if self._watch is None:
                self._watch = _AddressWatch()
                self._em.watch_blocks(self._watch)
            self._watch.target = until & ~1
        if count is not None:
            self._count(count)
        threads.lock.acquire()
        start, self._start = self._start, None
        try:
            while True:
                try:
                    self._em.runner.loop(self._cpu, start)
                except _BlockWithTarget:
                    fault = self._cpu.run_to(until)
                    if fault is None:
                        return Stop("address", self._cpu.pc)
                    self._em.runner.take_fault(self._cpu, fault)
                    start = None
        except LimitReached:
            return Stop("count", self._cpu.pc)
        except GuestExit as done:
            self._em.finish_tracing()
            if os.getpid() != self._pid:        # a guest fork's child: never back to the caller
                os._exit(done.status)
            self.exited = Stop("exit", self._cpu.pc, done.status, done.signal)
            return self.exited
        finally:
            threads.lock.release()
            if self._watch is not None:
                self._watch.target = None
            if self._budget is not None:
                self._budget.limit = 1 << 62

    def _count(self, count: int) -> None:
        if self._budget is None:
            self._budget = InstructionBudget(self._em.spec, 0)
            self._em.budget = self._budget
            self._em.watch_blocks(self._budget)
        self._budget.limit = self._budget.used + count
        self._budget.spent = False


__all__ = ["Emulator", "Stop", "SyscallEvent", "BudgetExhausted"]
