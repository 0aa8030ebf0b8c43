"""The emulated kernel's per-process state that syscall handlers act on."""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from ..translate.memory import AddressSpace


@dataclass
class Identity:
    """Process ids and credentials; the guest sees the host's, like qemu-user."""

    pid: int = field(default_factory=os.getpid)
    ppid: int = field(default_factory=os.getppid)
    uid: int = field(default_factory=os.getuid)
    euid: int = field(default_factory=os.geteuid)
    gid: int = field(default_factory=os.getgid)
    egid: int = field(default_factory=os.getegid)

    @property
    def tid(self) -> int:
        return self.pid


@dataclass
class SignalState:
    """Dispositions (raw sigaction fields per guest signal number) and the blocked mask."""

    actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked: int = 0
    altstack: tuple[int, int, int] = (0, 2, 0)  # ss_sp, ss_flags (SS_DISABLE), ss_size
    pending: dict[int, Any] = field(default_factory=dict)   # guest signal -> SigInfo
    suspend_mask: int | None = None   # the mask a handler frame saves during sigsuspend


@dataclass
class Process:
    """One guest process: its memory, program, ids, heap and signal state."""

    space: AddressSpace
    exe: str                          # host path of the running program
    argv: list[bytes]
    envp: list[bytes]
    brk_start: int
    brk: int
    ids: Identity = field(default_factory=Identity)
    signals: SignalState = field(default_factory=SignalState)
    tid_address: int = 0
    robust_list: tuple[int, int] = (0, 0)
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
        self.cpu = cpu
        self.paths = paths
        self.rng = random.Random(seed) if seed is not None else None
        self.exec_options = exec_options or []   # pyemu options an execve'd program keeps
        self.delivery: Any = None        # syscalls.delivery.Delivery, set up by the emulator
        self.host_signals: Any = None    # kernel.hostsig.HostSignals, when running for real
        self.in_syscall = False          # a host signal may interrupt the handler (EINTR)

    @staticmethod
    def log_flush() -> None:
        """Flush pyemu's own output before the process forks or is replaced."""
        sys.stderr.flush()

    def random_bytes(self, n: int) -> bytes:
        """Entropy for AT_RANDOM and getrandom: deterministic with -seed, else the host's."""
        if self.rng is not None:
            return self.rng.randbytes(n)
        return os.urandom(n)


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

    def maps(self):
        from ..sysroot.procfs import MapEntry

        for vma in self._k.space.vmas():
            yield MapEntry(vma.start, vma.end, vma.prot, vma.offset, vma.device, vma.inode,
                           self._k.paths.guest_name(vma.name))
