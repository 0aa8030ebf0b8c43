"""Guest threads: one engine and one host thread each, one guest lock, futex wait queues.

The concurrency model: every guest thread has its own Unicorn engine (``Cpu``) on the shared
host-backed ``AddressSpace`` and runs in its own host thread, but only the holder of the
``GuestLock`` executes guest code or syscall handlers. The lock changes hands at syscalls: when
one blocks (futex wait, sleep, pause, poll, wait4, read on a pipe) and after any syscall while
another thread waits for it. Why not parallel engines: Unicorn's ldrex/strex, ldaxr/stlxr and
ll/sc are not atomic across engines (each has its own exclusive monitor), so guest atomics would
break; serialized, they compare the loaded value like qemu-user's and stay correct. Why not
preemptive time slices: stopping an engine at an arbitrary point from another thread and running
another engine meanwhile corrupted guest state in measurements (stock Unicorn 2.1.4, all arches:
it can stop in the middle of a block), so there a thread that spins without syscalls keeps the
lock (a known limit: pure spinlocks can hang). pyemu's patched engine checks stop requests only
at block starts, where the guest state is whole: there a ``Preempter`` hands the lock on from a
thread that kept it for a time slice while others wait.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable


class GuestLock:
    """A fair (FIFO ticket) lock: a thread that releases and re-takes it queues behind others."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0
        self.owner: int | None = None
        self.waiters = 0        # threads queued for the lock (read without it: a hint)

    def acquire(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            self.waiters += 1
            while self._serving != ticket:
                self._cond.wait()
            self.waiters -= 1
            self.owner = threading.get_ident()

    def release(self) -> None:
        with self._cond:
            self.owner = None
            self._serving += 1
            self._cond.notify_all()

    def waiting(self) -> int:
        """How many threads queue for the lock."""
        return self.waiters

    @property
    def turn(self) -> int:
        """Counts the hand-overs: unchanged while one holder keeps the lock."""
        return self._serving


@dataclass
class SignalState:
    """A thread's signal state; ``actions`` is one dict shared by all threads of a process."""

    actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked: int = 0
    altstack: tuple[int, int, int] = (0, 2, 0)  # ss_sp, ss_flags (SS_DISABLE), ss_size
    pending: dict[int, list[Any]] = field(default_factory=dict)   # signal -> its SigInfos
    suspend_mask: int | None = None   # the mask a handler frame saves during sigsuspend
    waiting: int = 0                  # signals sigtimedwait or a signalfd read waits for


class WakeEvent:
    """A thread's wake-up flag (threading.Event's interface) that host signal handlers set.

    Python runs a signal handler in the main thread between two bytecodes, maybe while that
    thread is inside clear() or wait() with the event's lock held: threading.Event's lock is not
    re-entrant, and its set() deadlocked there (a SIGCHLD while wait4 polled hung pyemu). This
    lock is re-entrant, and wait() looks at the flag again at least every ``SLICE`` seconds, for
    a set() that ran after wait() looked and before it slept."""

    SLICE = 0.05

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._flag:
                left = self.SLICE if end is None else min(self.SLICE, end - time.monotonic())
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._flag


@dataclass
class GuestThread:
    tid: int
    cpu: Any
    signals: SignalState
    tid_address: int = 0                 # CLONE_CHILD_CLEARTID / set_tid_address
    robust_list: tuple[int, int] = (0, 0)
    wake: WakeEvent = field(default_factory=WakeEvent)   # interrupts a block
    host: threading.Thread | None = None
    alive: bool = True


class Futexes:
    """Wait queues keyed by guest address (the futex word); used under the guest lock."""

    def __init__(self) -> None:
        self._queues: dict[int, list[tuple[WakeEvent, int]]] = {}

    def enqueue(self, addr: int, bitset: int, event: WakeEvent) -> None:
        """Queue ``event`` (a thread's wake event) on ``addr``; a wake sets it."""
        self._queues.setdefault(addr, []).append((event, bitset))

    def forget(self, addr: int, event: WakeEvent) -> bool:
        """Take ``event`` off the queue; False when a wake had already taken it."""
        queue = self._queues.get(addr, [])
        keep = [w for w in queue if w[0] is not event]
        self._queues[addr] = keep
        return len(keep) != len(queue)

    def wake(self, addr: int, count: int, bitset: int = 0xFFFFFFFF) -> int:
        queue = self._queues.get(addr, [])
        woken, keep = 0, []
        for event, bits in queue:
            if woken < count and bits & bitset:
                event.set()
                woken += 1
            else:
                keep.append((event, bits))
        self._queues[addr] = keep
        return woken

    def requeue(self, addr: int, count: int, target: int, limit: int) -> int:
        woken = self.wake(addr, count)
        moved = self._queues.get(addr, [])[:limit]
        self._queues[addr] = self._queues.get(addr, [])[limit:]
        self._queues.setdefault(target, []).extend(moved)
        return woken + len(moved)


class Preempter:
    """Time slices for guest threads whose engine can be stopped safely from another thread.

    Every ``SLICE`` seconds it looks at the guest lock: when threads queue for it and one
    holder has kept it since the last look, that holder's CPU is asked to stop
    (``Cpu.preempt``: the patched engine checks the request inline at the start of each block,
    a clean instruction boundary); its run loop then hands the lock on. One per process,
    started with the second guest thread."""

    SLICE = 0.005

    def __init__(self, threads: "Threads") -> None:
        self.threads = threads
        self.pid = os.getpid()
        self._host = threading.Thread(target=self._run, name="pyemu-preempter", daemon=True)
        self._host.start()

    def _run(self) -> None:
        seen = -1
        threads = self.threads
        while not threads.exiting:
            time.sleep(self.SLICE)
            lock = threads.lock
            turn, holder = lock.turn, threads.running
            if turn == seen and lock.waiting() and holder is not None:
                holder.cpu.preempt()
            seen = turn


class Threads:
    """The threads of one process and the lock that serializes them."""

    def __init__(self) -> None:
        self.lock = GuestLock()
        self.futexes = Futexes()
        self.by_tid: dict[int, GuestThread] = {}
        self.main: GuestThread | None = None
        self.running: GuestThread | None = None    # the thread holding the lock
        # signals sent to the process (kill, host signals, timers): any thread not blocking
        # one may take it (guest signal -> SigInfo)
        self.shared_pending: dict[int, list[Any]] = {}
        self.exiting = False        # exit_group or a fatal signal: no guest code runs after
        self.preempter: Preempter | None = None
        self._local = threading.local()

    def start_time_slices(self) -> None:
        """Preempt threads that keep the lock (once this process has a second thread)."""
        if self.preempter is None or self.preempter.pid != os.getpid():
            self.preempter = Preempter(self)

    @property
    def current(self) -> GuestThread:
        return self._local.thread

    def current_or_none(self) -> GuestThread | None:
        """The calling host thread's guest thread; None in pyemu's own threads (timers)."""
        return getattr(self._local, "thread", None)

    def bind(self, thread: GuestThread) -> None:
        """Make ``thread`` the current guest thread of the calling host thread."""
        self._local.thread = thread
        self.by_tid[thread.tid] = thread
        self.running = thread
        if self.main is None:
            self.main = thread

    def after_fork(self, me: GuestThread) -> None:
        """In a forked child only the forking thread exists: forget the others, their queued
        tickets and futex waits, and hold a fresh lock."""
        self.lock = GuestLock()
        self.lock.acquire()
        self.futexes = Futexes()
        self.shared_pending = {}              # pending signals are not inherited
        self.by_tid = {}
        self.main = None
        self.bind(me)

    def others_alive(self) -> list[GuestThread]:
        me = self.current
        return [t for t in self.by_tid.values() if t.alive and t is not me]

    def blocking(self, wait: Callable[[], Any]) -> Any:
        """Run ``wait`` (a blocking host call) without the guest lock."""
        me = self.current
        self.running = None
        self.lock.release()
        try:
            return wait()
        finally:
            self.lock.acquire()
            self.running = me
