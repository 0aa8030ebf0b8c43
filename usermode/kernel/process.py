"""The emulated kernel's per-process state that syscall handlers act on."""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..translate.memory import AddressSpace
from .threads import GuestThread, SignalState, Threads


@dataclass
class Identity:
    """Process ids and credentials; the guest sees the host's, like qemu-user."""

    pid: int = field(default_factory=os.getpid)
    ppid: int = field(default_factory=os.getppid)
    uid: int = field(default_factory=os.getuid)
    euid: int = field(default_factory=os.geteuid)
    gid: int = field(default_factory=os.getgid)
    egid: int = field(default_factory=os.getegid)



@dataclass
class Process:
    """One guest process: its memory, program, ids and heap (threads: ``kernel.threads``)."""

    space: AddressSpace
    exe: str                          # host path of the running program
    argv: list[bytes]
    envp: list[bytes]
    brk_start: int
    brk: int
    ids: Identity = field(default_factory=Identity)
    auxv: tuple[tuple[int, int], ...] = ()


class Kernel:
    """Everything a syscall handler may touch: process state, ABI, paths, CPU, options.

    Handlers receive it as their first argument (``k``). It holds references only; behaviour
    lives in the handler modules.
    """

    def __init__(self, *, process: Process, abi: Any, cpu: Any, paths: Any, seed: int | None,
                 exec_options: list[bytes] | None = None):
        self.process = process
        self.space = process.space
        self.abi = abi
        self.paths = paths
        self.threads = Threads()
        self.threads.bind(GuestThread(process.ids.pid, cpu, SignalState()))
        self.rng = random.Random(seed) if seed is not None else None
        self.exec_options = exec_options or []   # pyemu options an execve'd program keeps
        self.host_exec = False           # execve may run host programs (-host-exec)
        self.delivery: Any = None        # syscalls.delivery.Delivery, set up by the emulator
        self.host_signals: Any = None    # kernel.hostsig.HostSignals, when running for real
        self.spawn_thread: Any = None    # clone(CLONE_THREAD), provided by the emulator
        self.debugger: Any = None        # gdbstub.Debugger, with -g: sees signals first

    @property
    def thread(self) -> GuestThread:
        """The guest thread making the current syscall."""
        return self.threads.current

    @property
    def cpu(self) -> Any:
        return self.threads.current.cpu

    @property
    def signals(self) -> SignalState:
        return self.threads.current.signals

    @staticmethod
    def log_flush() -> None:
        """Flush pyemu's own output before the process forks or is replaced."""
        sys.stderr.flush()

    def random_bytes(self, n: int) -> bytes:
        """Entropy for AT_RANDOM and getrandom: deterministic with -seed, else the host's."""
        if self.rng is not None:
            return self.rng.randbytes(n)
        return os.urandom(n)


def _mask(signals: Iterable[int]) -> int:
    return sum(1 << (s - 1) for s in set(signals))


class ProcView:
    """The process as /proc shows it (``sysroot.procfs.ProcessView``), read live from the kernel."""

    def __init__(self, k: Kernel):
        proc = k.process
        self._k = k
        self.pid = proc.ids.pid
        self.word_size = k.abi.word_size
        self.byteorder = k.abi.byteorder
        self.name = os.path.basename(proc.exe)[:15]
        self.argv = proc.argv
        self.envp = proc.envp
        self.auxv = proc.auxv
        self.cpuinfo = k.cpu.spec.cpuinfo(k.cpu.model, os.cpu_count() or 1)
        stack = next((v for v in k.space.vmas() if v.name == "[stack]"), None)
        self.stack_start = stack.end if stack else 0
        threads = k.threads
        self.threads = sum(1 for t in threads.by_tid.values() if t.alive) or 1
        self.nsig = k.abi.nsig
        state = k.signals
        self.sig_pending = _mask(state.pending)
        self.shared_pending = _mask(threads.shared_pending)
        self.blocked = state.blocked
        handlers = {signo: action.get("sa_handler", 0) for signo, action in state.actions.items()}
        self.ignored = _mask(s for s, h in handlers.items() if h == 1)
        self.caught = _mask(s for s, h in handlers.items() if h not in (0, 1))

    def maps(self):
        from ..sysroot.procfs import MapEntry

        for vma in self._k.space.vmas():
            yield MapEntry(vma.start, vma.end, vma.prot, vma.offset, vma.device, vma.inode,
                           self._k.paths.guest_name(vma.name), vma.shared)
