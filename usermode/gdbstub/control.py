"""Execution control under gdb: breakpoints on every CPU, stops and resumes of guest threads.

The model is gdb's all-stop mode on pyemu's serialized threads (``kernel.threads``): only the
holder of the guest lock runs guest code, so a thread that stops (a breakpoint, a finished
step, a watchpoint, a signal about to be delivered) reports the stop and waits for gdb while
it keeps the lock; no other thread can run guest code meanwhile. Threads blocked in a syscall
may finish it, but then queue for the lock. A Ctrl-C from gdb is a pyemu thread that queues
for the lock (the time slices of ``kernel.threads.Preempter`` then stop the thread running
guest code at a block start, where the engine allows that, see ``translate.cpu.preemptible``;
elsewhere it hands the lock on at its next syscall) and reports the stop in the name of the
thread that ran last.

A resume sets a policy: per thread "c" (run), "s" (run one instruction, then report), or held
(gdb's scheduler locking, and its stepping over a breakpoint in one thread: held threads wait
without the lock). The policy lasts until the next stop. Breakpoint and watchpoint changes
are made on every CPU while stopped (no engine runs guest code then); after gdb detaches or
goes away, each thread drops its hooks itself before it runs again and the guest runs on.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..translate.cpu import Fault, preemptible
from ..translate.debug import DebugHooks, Watch


@dataclass
class Stop:
    """A stop to report: a thread's, or the end of the process (``thread`` None)."""

    thread: Any
    signal: int = 0            # guest signal number (SIGTRAP for breakpoints and steps)
    reason: str = ""           # "swbreak", "hwbreak", "watch", "rwatch", "awatch"
    address: int = 0           # the watched address
    deliverable: bool = False  # a signal on its way to the guest: gdb may pass or cancel it
    initial: bool = False      # before the first instruction: reported when gdb asks
    exit_status: int = 0       # the process ended: its status, or its death signal
    death_signal: int = 0


class Debugger:
    """The debugger's side of the run loop and of signal delivery, for one process."""

    def __init__(self, kernel: Any) -> None:
        self.k = kernel
        self.threads = kernel.threads
        self.abi = kernel.abi
        self.attached = True
        self.breakpoints: dict[int, str] = {}     # address -> "swbreak" or "hwbreak"
        self.watchpoints: set[Watch] = set()
        self.stop: Stop | None = None              # the stop gdb is looking at (None: running)
        self.last_thread: Any = kernel.threads.main
        self.wake: Callable[[], None] = lambda: None   # tells the server a stop is waiting
        self.release: Callable[[], None] = lambda: None    # closes the server's descriptors
        self._cond = threading.Condition()
        self._epoch = 0                            # counts resumes
        self._policy: dict[int, str] = {}
        self._default: str | None = None
        self._signal = 0                           # for the stopped thread's pending signal
        self._break_pc: dict[int, int] = {}        # tid -> the breakpoint it stopped at
        self._interrupting = False
        self._sent = threading.Event()             # the exit report went out

    # -- the guest threads' side -------------------------------------------------------------
    def run(self, cpu: Any, start: int | None) -> Fault | None:
        """One slice of a thread's run loop (``ThreadRunner.loop``) under the debugger."""
        thread = self.threads.current
        if start is not None:                      # the process's first instruction
            cpu.jump(start)
            self.report(Stop(thread, self.abi.signals["SIGTRAP"], initial=True))
        mode = self._turn(thread)
        hooks = self._hooks_of(cpu)
        if not self.attached:
            return cpu.run()
        self.last_thread = thread
        if self._break_pc.pop(thread.tid, None) == cpu.read(cpu.spec.pc):
            hooks.skip_once = cpu.read(cpu.spec.pc)     # resuming from that breakpoint
        epoch = self._epoch
        try:
            fault = cpu.step() if mode == "s" else cpu.run()
        finally:
            hooks.skip_once = None
        hit = hooks.take_hit()
        trap = self.abi.signals["SIGTRAP"]
        if hit is not None:
            reason = hit.kind
            if hit.kind == "breakpoint":
                self._break_pc[thread.tid] = hit.address
                reason = self.breakpoints.get(hit.address, "swbreak")
            self.inject(thread, self.report(Stop(thread, trap, reason, hit.address)))
        elif mode == "s" and fault is None and self._epoch == epoch:
            self.inject(thread, self.report(Stop(thread, trap)))
        return fault

    def inject(self, thread: Any, signo: int) -> None:
        """A signal gdb gave with its resume of a stop that was not a signal's: the thread
        gets it (gdb's ``signal`` command)."""
        if signo:
            from ..syscalls.sigframe import SigInfo
            self.k.delivery.post(SigInfo(signo), thread)

    def signal(self, cpu: Any, signo: int) -> int:
        """A signal is about to be delivered to the calling thread: gdb sees it first and says
        which signal to deliver (0: none). Called by ``syscalls.delivery``, maybe inside the
        engine (at a syscall's return): the engine is then asked to stop at its next block,
        so that the run loop follows what gdb said (a step, a hold, changed breakpoints)."""
        if not self.attached:
            return signo
        signo = self.report(Stop(self.threads.current, signo, deliverable=True))
        cpu.preempt()
        return signo

    def report(self, stop: Stop) -> int:
        """Stop (the caller holds the guest lock) until gdb resumes; the signal gdb gave the
        stopped thread with the resume (0: none). The thread's part of the resume is read by
        its next run slice."""
        with self._cond:
            if not self.attached:
                return stop.signal if stop.deliverable else 0
            self.stop = stop
            self._interrupting = False          # a pending Ctrl-C is answered by this stop
            epoch = self._epoch
            self.wake()
            while self._epoch == epoch and self.attached:
                self._cond.wait()
            if not self.attached:               # gdb went away: the signal goes on (qemu)
                return stop.signal if stop.deliverable else 0
            signal, self._signal = self._signal, 0
            return signal

    def _turn(self, thread: Any) -> str:
        """This thread's part of the current resume; waits (without the guest lock) while gdb
        holds it stopped."""
        while True:
            with self._cond:
                if not self.attached:
                    return "c"
                epoch = self._epoch
                mode = self._policy.get(thread.tid, self._default) if self.stop is None else None
                if mode is not None:
                    return mode
            self.threads.blocking(lambda: self._await_resume(epoch))

    def _await_resume(self, epoch: int) -> None:
        with self._cond:
            while self._epoch == epoch and self.attached:
                self._cond.wait()

    def _hooks_of(self, cpu: Any) -> DebugHooks:
        """``cpu``'s hooks, brought in line with gdb's breakpoints and watchpoints (none after
        a detach): a new thread's engine, or an ended thread's engine serving a new one, may
        have missed changes. Called with the engine stopped."""
        with self._cond:
            hooks = cpu.debug_hooks or DebugHooks(cpu)
            hooks.set_breakpoints(set(self.breakpoints))
            hooks.set_watchpoints(set(self.watchpoints))
            return hooks

    def exited(self, status: int, death_signal: int) -> None:
        """The process ends (the caller holds the guest lock and never gives it back): tell
        gdb (``W``/``X``), waiting a little for the server to send it."""
        with self._cond:
            if not self.attached:
                return
            self.stop = Stop(None, exit_status=status, death_signal=death_signal)
            self.wake()
        self._sent.wait(5)

    def forked(self) -> None:
        """In a forked child: the server thread is not there, the connection is the
        parent's. Run free, as qemu does (the hooks are dropped before the child runs on),
        and close the child's copies of the stub's descriptors (gdb would not see the
        connection end while a child kept one)."""
        self._cond = threading.Condition()
        self.attached = False
        self.breakpoints.clear()
        self.watchpoints.clear()
        self.release()

    # -- the server's side (all-stop: called while a stop is being served) -------------------
    def live_threads(self) -> list[Any]:
        return [t for t in self.threads.by_tid.values() if t.alive]

    def set_breakpoint(self, address: int, kind: str, insert: bool) -> None:
        if insert:
            self.breakpoints.setdefault(address, kind)
        else:
            self.breakpoints.pop(address, None)
        self._apply(lambda hooks: hooks.set_breakpoints(set(self.breakpoints)))

    def set_watchpoint(self, watch: Watch, insert: bool) -> None:
        (self.watchpoints.add if insert else self.watchpoints.discard)(watch)
        self._apply(lambda hooks: hooks.set_watchpoints(set(self.watchpoints)))

    def _apply(self, change: Callable[[DebugHooks], None]) -> None:
        """Change the hooks of the live threads' engines (an ended thread's engine kept for
        a new thread catches up in _hooks_of)."""
        with self._cond:
            for thread in self.live_threads():
                change(thread.cpu.debug_hooks or DebugHooks(thread.cpu))

    def resume(self, policy: dict[int, str], default: str | None, signal: int) -> None:
        """Let the threads run as gdb said; ``signal`` goes to the stopped thread."""
        with self._cond:
            for thread in self.live_threads():
                if policy.get(thread.tid, default) != "c":
                    # held or stepping: one blocked in a syscall would go on inside its engine,
                    # stop it at its next block (it runs no guest code now), so that it
                    # passes through _turn
                    thread.cpu.preempt()
            self._policy, self._default, self._signal = policy, default, signal
            self.stop = None
            self._epoch += 1
            self._cond.notify_all()

    def interrupt(self) -> None:
        """gdb's Ctrl-C while the guest runs: stop everything (see the module docstring)."""
        with self._cond:
            if self.stop is not None or self._interrupting or not self.attached:
                return
            self._interrupting = True
        if preemptible():
            # time slices: a thread that keeps the lock while the interrupter waits for it
            # is stopped at a block start (until then, it may be between two runs)
            self.threads.start_time_slices()
        threading.Thread(target=self._interrupter, name="pyemu-gdb-interrupt",
                         daemon=True).start()

    def _interrupter(self) -> None:
        lock = self.threads.lock
        lock.acquire()
        try:
            with self._cond:
                wanted, self._interrupting = self._interrupting, False
            if wanted and self.attached:
                thread = self.last_thread
                self.inject(thread, self.report(Stop(thread, self.abi.signals["SIGINT"])))
        finally:
            lock.release()

    def detach(self) -> None:
        """gdb detached or went away: the guest runs on without breakpoints; a signal it was
        stopped for is delivered."""
        with self._cond:
            self.attached = False
            self.breakpoints.clear()
            self.watchpoints.clear()
            self.stop = None
            self._epoch += 1
            self._cond.notify_all()
        self._sent.set()

    def exit_reported(self) -> None:
        self._sent.set()

    @staticmethod
    def kill() -> None:
        """gdb's kill: the process dies of SIGKILL, as a killed native process would."""
        from ..emulator import die_by_signal
        import signal as host_signal

        die_by_signal(host_signal.SIGKILL, from_thread=True)
        os._exit(128 + host_signal.SIGKILL)
