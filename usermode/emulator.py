"""One emulated process from start to exit: load, build the stack, run, report how it ended."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

from .errors import GuestExit, LoaderError, MissingFile, UnsupportedBinary
from .kernel.process import Kernel, Process
from .kernel.signals import default_action, describe
from .loader.elf import ElfFile, read_elf
from .loader.image import LoadedImage, load_image
from .loader.stack import (AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS,
                           AT_GID, AT_HWCAP, AT_HWCAP2, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM,
                           AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_UID, AuxRef, build_initial_stack)
from .sysroot.discover import choose as choose_sysroot
from .sysroot.paths import PathResolver
from .translate.arches import ARCHES, CpuSpec, spec_for_elf
from .translate.cpu import Cpu, engine_description, engine_reason, host_window
from .guestthreads import ThreadRunner
from .syscalls.sigframe import SigInfo
from .translate.memory import PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace

DEFAULT_STACK_SIZE = 8 << 20
# set by the boot code of a pyemu that a guest's execve started: its -D log continues the
# file rather than starting it again
LOG_APPEND = False


@dataclass
class RunConfig:
    """Everything the command line (or the API) decides about one run."""

    program: str
    argv: list[bytes]                  # the guest's argv, argv[0] included
    env: list[bytes]                   # the guest's environment, "NAME=value" entries
    arch: str | None = None            # None: detect from the ELF header
    sysroot: str | None = None
    stack_size: int = DEFAULT_STACK_SIZE
    seed: int | None = None
    strace: bool = False
    log_unimplemented: bool = False
    cpu_model: str | None = None
    verbose: bool = False
    log_items: tuple[str, ...] = ()    # -d: "in_asm", "exec"
    log_file: str | None = None        # -D: where -d writes (default stderr)
    coverage: str | None = None        # file for the blocks that ran
    coverage_format: str = "drcov"     # or "plain"
    host_exec: bool = False            # execve of a host program runs it (else ENOEXEC)
    timeout: float | None = None       # --timeout: wall seconds (the command line enforces it)
    max_insns: int | None = None       # --max-insns: guest instructions, then status 123
    gdb_port: int | None = None        # -g: wait for gdb on this port (usermode.gdbstub)
    stderr: object = field(default_factory=lambda: sys.stderr)


def select_cpu(elf: ElfFile, arch: str | None) -> CpuSpec:
    """The CPU for this file (checked against the command's arch when there is one)."""
    found = spec_for_elf(elf.machine, elf.elf_class, elf.byteorder)
    kind = f"{elf.elf_class}-bit {elf.byteorder}-endian {elf.machine_name}"
    if arch is not None and (found is None or found.name != arch):
        hint = f" (try pyemu-{found.name})" if found else ""
        raise UnsupportedBinary(f"{elf.path}: {kind} program, not {arch}{hint}")
    if found is None:
        raise UnsupportedBinary(f"{elf.path}: {kind} programs are not supported")
    for mask, accepted, what in found.elf_flag_checks:
        if elf.flags & mask not in accepted:
            raise UnsupportedBinary(f"{elf.path}: {what} are not supported")
    return found


class Emulation:
    """A loaded guest process, ready to run."""

    def __init__(self, config: RunConfig):
        from .syscalls.abi import ABI_FOR_ARCH, Abi
        from .syscalls.delivery import Delivery
        from .syscalls.strace import Tracer

        self.config = config
        self.syscall_hooks: Any = None    # (before, after), from usermode.Emulator
        listener = None
        if config.gdb_port is not None:         # first: a port in use is reported at once
            from .gdbstub import listen
            listener = listen(config.gdb_port)
        elf = read_elf(config.program)
        self.spec = select_cpu(elf, config.arch)
        model = self.spec.model(config.cpu_model)
        if model is None:
            raise UnsupportedBinary(f"unknown CPU model '{config.cpu_model}' for {self.spec.name}"
                                    " (see -cpu help)")
        self.sysroot = choose_sysroot(self.spec.name, elf.interp, config.sysroot)
        if config.verbose:
            config.stderr.write(f"pyemu: {self.spec.name}, sysroot "
                                f"{self.sysroot.prefix or '/'} ({self.sysroot.reason})\n")
        self.abi = Abi(ABI_FOR_ARCH[self.spec.name], self.spec.byteorder)
        layout = self.abi.spec.layout
        self.space = AddressSpace(layout.limit, layout.mmap_base,
                                  window=host_window(layout.limit))
        self.cpu = Cpu(self.spec, self.space, model)
        if config.verbose:
            direct = ", direct memory access" if self.cpu.direct_access else ""
            config.stderr.write(f"pyemu: engine {engine_description()}, "
                                f"{'virtual' if self.cpu.virtual_tlb else 'engine'} TLB"
                                f"{direct}\n")
            config.stderr.write(f"pyemu: engine chosen: {engine_reason()}\n")
        image = load_image(self.space, elf, layout.dyn_base)
        interp = self._load_interpreter(elf) if elf.interp else None
        process = Process(self.space, os.path.abspath(elf.path), config.argv, config.env,
                          brk_start=image.end, brk=image.end)
        paths = PathResolver(self.sysroot.prefix, elf.path, process.ids.pid)
        self.kernel = Kernel(process=process, abi=self.abi, cpu=self.cpu, paths=paths,
                             seed=config.seed, exec_options=self._exec_options())
        self.kernel.host_exec = config.host_exec
        self.entry = interp.entry if interp else image.entry
        self.sp = self._build_stack(elf, image, interp, process, model.hwcap, model.hwcap2)
        # -D: the -d log and the -strace lines go to that file (qemu's rule), else to stderr
        self._log_out: Any = None
        if config.log_file and (config.log_items or config.strace):
            self._log_out = self._open_log(config.log_file)
        self.tracer = Tracer(self._log_out or config.stderr, strace=config.strace,
                             log_unimplemented=config.log_unimplemented)
        self.cpu.on_syscall = self.make_dispatcher(self.cpu)
        self.kernel.delivery = Delivery(self.kernel, self.cpu, self._map_sigreturn_page())
        self.runner = ThreadRunner(self)
        self.kernel.spawn_thread = self.runner.spawn
        self.blocks: Any = None          # translate.blocks.BlockCache, made for a feature
        self.budget: Any = None          # limits.InstructionBudget, with --max-insns
        self._coverage: Any = None       # tracing.Coverage, with -coverage
        self._setup_tracing()
        self.debugger: Any = None        # gdbstub.Debugger, with -g
        if listener is not None:
            from .gdbstub import start
            self.debugger = self.kernel.debugger = start(listener, self.kernel, self.spec)

    # -- block features (the block cache exists only when one is asked for) ---------------------
    def watch_blocks(self, watcher: object) -> None:
        """Show every guest block to ``watcher`` (see translate.blocks.BlockCache.watch)."""
        if self.blocks is None:
            from .translate.blocks import BlockCache
            self.blocks = BlockCache(self.space)
            for cpu in self.runner.cpus():
                self.blocks.attach(cpu)
        self.blocks.watch(watcher)

    def on_block(self, fn) -> None:
        """Call ``fn(block)`` for each block the guest runs (Python API)."""
        from .tracing import BlockHook
        self.watch_blocks(BlockHook(fn))

    def cpu_created(self, cpu: Cpu) -> None:
        """A new thread's CPU: give it the block hook when features use one."""
        if self.blocks is not None:
            self.blocks.attach(cpu)

    def _setup_tracing(self) -> None:
        config = self.config
        if config.max_insns is not None:
            from .limits import InstructionBudget
            self.budget = InstructionBudget(self.spec, config.max_insns)
            self.watch_blocks(self.budget)
        if not config.log_items and not config.coverage:
            return
        from .symbols import Symbolizer
        from .tracing import Coverage, ExecLog, InAsmLog
        if config.log_items:
            out = self._log_out or config.stderr
            # a function address's bit 0 is the Thumb bit where there is one
            symbols = Symbolizer(self.space, ~1 if self.spec.mode_flag else ~0)
            for item in config.log_items:
                log = {"in_asm": InAsmLog, "exec": ExecLog}[item]
                self.watch_blocks(log(self.spec, out, symbols))
        if config.coverage:
            self._coverage = Coverage(config.coverage, self.space, config.coverage_format)
            self.watch_blocks(self._coverage)

    @staticmethod
    def _open_log(path: str) -> Any:
        """The -D file, on one of pyemu's own fds (the guest can neither see nor close it);
        appended to by a pyemu an execve started (LOG_APPEND, set by its boot code)."""
        from .kernel.fdspace import PRIVATE
        mode = os.O_APPEND if LOG_APPEND else os.O_TRUNC
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode | os.O_CLOEXEC, 0o666)
        except OSError as err:
            raise MissingFile(f"{path}: {err.strerror}") from None
        return open(PRIVATE.adopt(fd), "w")

    def finish_tracing(self) -> None:
        """At exit: write what the features collected, flush the -d log."""
        if self._coverage is not None and self.blocks is not None:
            self._coverage.write(self.blocks.blocks.values())
        if self._log_out is not None:
            self._log_out.flush()

    def make_dispatcher(self, cpu: Cpu):
        from .syscalls.dispatch import Dispatcher

        return Dispatcher(self.kernel, cpu, self.tracer, self.syscall_hooks)

    def _map_sigreturn_page(self) -> int:
        """The rt_sigreturn trampoline for handlers without a restorer (Linux's sigpage)."""
        where = self.abi.spec.layout.mmap_base
        code = b"".join(w.to_bytes(4, self.spec.byteorder) for w in self.abi.spec.sigreturn_code)
        self.space.map(where, PAGE_SIZE, PROT_READ | PROT_EXEC, name="[sigpage]")
        self.space.write(where, code, check=False)
        return where

    def _exec_options(self) -> list[bytes]:
        """Options a program started by execve keeps (the arch comes from its own header)."""
        options: list[bytes] = []
        if self.sysroot.prefix:
            options += [b"-L", os.fsencode(self.sysroot.prefix)]
        if self.config.strace:
            options.append(b"-strace")
            if self.config.log_file:    # the exec'd program's lines follow ours (appended)
                options += [b"-D", os.fsencode(os.path.abspath(self.config.log_file))]
        if self.config.host_exec:
            options.append(b"-host-exec")
        if self.config.stack_size != DEFAULT_STACK_SIZE:
            options += [b"-s", str(self.config.stack_size).encode()]
        return options

    def _load_interpreter(self, elf: ElfFile) -> LoadedImage:
        """Map the program's dynamic loader (PT_INTERP), found through the sysroot."""
        resolver = PathResolver(self.sysroot.prefix, elf.path, os.getpid())
        host_path = os.fsdecode(resolver.host(os.fsencode(elf.interp)))
        if not os.path.exists(host_path):
            where = f" under {self.sysroot.prefix}" if self.sysroot.prefix else ""
            raise MissingFile(f"{elf.path}: interpreter {elf.interp} not found{where} "
                              "(give the guest's sysroot with -L)")
        interp = read_elf(host_path)
        if select_cpu(interp, self.spec.name) is not self.spec or interp.interp:
            raise UnsupportedBinary(f"{host_path}: not a {self.spec.name} dynamic loader")
        return load_image(self.space, interp, 0)

    def _build_stack(self, elf: ElfFile, image: LoadedImage, interp: LoadedImage | None,
                     process: Process, hwcap: int, hwcap2: int) -> int:
        layout = self.abi.spec.layout
        size = max(self.config.stack_size, 16 * PAGE_SIZE) & ~(PAGE_SIZE - 1)
        prot = PROT_READ | PROT_WRITE | (PROT_EXEC if elf.executable_stack else 0)
        self.space.map(layout.stack_top - size, size, prot, name="[stack]")
        ids = process.ids
        auxv = [(AT_HWCAP, hwcap), (AT_PAGESZ, PAGE_SIZE), (AT_CLKTCK, 100),
                (AT_PHDR, image.phdr), (AT_PHENT, elf.phentsize),
                (AT_PHNUM, len(elf.segments)), (AT_BASE, interp.bias if interp else 0),
                (AT_FLAGS, 0), (AT_ENTRY, image.entry), (AT_UID, ids.uid), (AT_EUID, ids.euid),
                (AT_GID, ids.gid), (AT_EGID, ids.egid), (AT_SECURE, 0),
                (AT_RANDOM, AuxRef.RANDOM), (AT_HWCAP2, hwcap2), (AT_EXECFN, AuxRef.EXECFN)]
        platform = self.spec.platform
        if platform is not None:
            auxv.append((AT_PLATFORM, AuxRef.PLATFORM))
        stack = build_initial_stack(
            layout.stack_top, self.config.argv, self.config.env, auxv,
            execfn=os.fsencode(self.config.program),
            platform=platform.encode() if platform else None,
            random=self.kernel.random_bytes(16), word_size=self.spec.word_size,
            byteorder=self.spec.byteorder)
        if len(stack.data) > size // 2:
            raise LoaderError("argument list and environment are too large for the stack")
        self.space.write(stack.sp, stack.data)
        process.auxv = stack.auxv
        return stack.sp

    death_signal: int | None = None   # host signal number when the guest was killed by one

    def catch_host_signals(self) -> None:
        """Route signals sent to this process to the guest (the command line does this), and
        start the guest with the signal mask, ignored signals and pending signals the process
        inherited (from a guest's execve through pyemu, or from whatever started pyemu)."""
        from .kernel.hostsig import HostSignals, take_inherited

        delivery = self.kernel.delivery
        inherited = take_inherited(self.abi)
        state = self.kernel.threads.main.signals
        state.blocked = inherited.blocked
        for signo in inherited.ignored:
            state.actions[signo] = {"sa_handler": 1}

        def terminates(guest: int) -> bool:
            """Fatal now: the default action terminates, and some thread does not block it
            (else it waits, pending, as in the kernel)."""
            name = self.abi.signal_names.get(guest, "")
            bit = 1 << (guest - 1)
            unblocked = any(not t.signals.blocked & bit
                            for t in list(self.kernel.threads.by_tid.values()) if t.alive)
            return (delivery.handler_of(guest) == 0 and default_action(name) in ("term", "core")
                    and unblocked)

        def arrived(guest: int) -> None:
            # The engine is not stopped from this thread: a handler runs at the guest's next
            # syscall or time-slice stop; a fatal signal ends the process from here at once,
            # unless gdb is attached: gdb sees it first, when it is delivered (as under qemu).
            if terminates(guest) and not (self.debugger and self.debugger.attached):
                name = self.abi.signal_names.get(guest, "")
                self.report_signal(guest, default_action(name) == "core")
                die_by_signal(self.abi.signal_to_host(guest), from_thread=True)
            delivery.post(SigInfo(guest))

        self.kernel.host_signals = host = HostSignals(self.abi, arrived)
        for signo in inherited.ignored:
            host.follow(signo, 1)
        for signo in inherited.pending:
            delivery.post(SigInfo(signo))

    def run(self) -> int:
        """Run to the end; the process's exit status (128+N for a death by signal N).

        The guest lock stays with the exiting thread: the process's other guest threads
        (queued for the lock, or back from a blocking call) never run guest code again. The
        caller ends the host process (the command line with ``os._exit``, as the kernel's
        exit_group ends every thread at once), never by returning into interpreter shutdown
        while engines may still be in use."""
        self.cpu.write(self.spec.sp, self.sp)
        self.kernel.threads.lock.acquire()
        try:
            self.runner.loop(self.cpu, self.entry)
        except GuestExit as done:
            return self.exited(done)
        raise AssertionError("the run loop only ends by GuestExit")

    def exited(self, done: GuestExit) -> int:
        """The process ends (in whichever guest thread): write what tracing collected, report
        a death by signal; the exit status. Called with the guest lock held, which it keeps."""
        self.kernel.threads.exiting = True
        self.finish_tracing()
        if self.config.strace:
            name = self.abi.signal_names.get(done.signal) if done.signal is not None else None
            self.tracer.exited(self.kernel.thread.tid, done.status, name)
        message = getattr(done, "message", None)      # a run limit's (limits.LimitReached)
        if message:
            self.config.stderr.write(message + "\n")
            self.config.stderr.flush()
        if done.signal is not None:
            self.report_signal(done.signal, done.core)
            self.death_signal = self.abi.signal_to_host(done.signal)
        if self.debugger is not None:
            self.debugger.exited(done.status, done.signal or 0)
        return done.status

    def report_signal(self, number: int, core: bool) -> None:
        if core:
            name = self.abi.signal_names.get(number, f"SIG{number}")
            self.config.stderr.write(f"pyemu: uncaught target signal {number} "
                                     f"({describe(name)}) - core dumped\n")
            self.config.stderr.flush()


def run(config: RunConfig) -> int:
    return Emulation(config).run()


def die_by_signal(host_signal: int, from_thread: bool = False) -> None:
    """End this process by ``host_signal``, as qemu does, so a parent's wait() sees the signal.

    No core file: a guest that dumps core must not leave a core of the emulator behind.
    """
    import ctypes
    import resource
    import signal

    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    sys.stderr.flush()
    if host_signal not in (signal.SIGKILL, signal.SIGSTOP):
        if from_thread:     # signal.signal() works in the main thread only
            ctypes.CDLL(None).signal(host_signal, ctypes.c_void_p(0))
        else:
            signal.signal(host_signal, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [host_signal])
    os.kill(os.getpid(), host_signal)


__all__ = ["ARCHES", "RunConfig", "Emulation", "run", "select_cpu"]
