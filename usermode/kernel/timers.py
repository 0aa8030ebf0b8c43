"""POSIX per-process timers (timer_create & co.): deadlines kept by one host thread per process.

A timer expiring calls ``fire(timer)``, which queues the guest signal (``syscalls.delivery``):
host timers cannot carry a guest's signal number, target thread and value, and guest signals are
emulated anyway. Like the kernel's, a timer has one signal in flight: an expiry while it is still
pending counts an overrun instead, reported when the signal is taken (``dequeued``). Times are
nanoseconds; deadlines are kept on the host's CLOCK_MONOTONIC (an absolute CLOCK_REALTIME time is
converted when the timer is set). Timers are not inherited by fork (a child starts without).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

_NS = 1_000_000_000
OVERRUN_MAX = 0x7FFFFFFF          # DELAYTIMER_MAX


@dataclass
class PosixTimer:
    ident: int
    clock: int                    # host clock id
    signo: int                    # 0: SIGEV_NONE
    value: int                    # sigev_value
    thread: Any = None            # SIGEV_THREAD_ID's target, None for the process
    deadline: int | None = None   # CLOCK_MONOTONIC ns; None when disarmed
    interval: int = 0
    overrun: int = 0              # expiries while the signal was pending
    last_overrun: int = 0         # what timer_getoverrun reports
    queued: bool = False


class Timers:
    def __init__(self, fire: Callable[[PosixTimer], None]):
        self._fire = fire
        self._cond = threading.Condition()
        self._timers: dict[int, PosixTimer] = {}
        self._thread: threading.Thread | None = None

    def create(self, clock: int, signo: int, value: int | None, thread: Any) -> PosixTimer:
        with self._cond:
            ident = next(i for i in range(len(self._timers) + 1) if i not in self._timers)
            timer = PosixTimer(ident, clock, signo, ident if value is None else value, thread)
            self._timers[ident] = timer
            return timer

    def get(self, ident: int) -> PosixTimer | None:
        return self._timers.get(ident)

    def delete(self, ident: int) -> None:
        with self._cond:
            del self._timers[ident]
            self._cond.notify()

    def remaining(self, timer: PosixTimer) -> tuple[int, int]:
        """(interval, time to the next expiry) in ns; (interval, 0) when disarmed."""
        if timer.deadline is None:
            return timer.interval, 0
        return timer.interval, max(1, timer.deadline - time.monotonic_ns())

    def arm(self, timer: PosixTimer, value: int, interval: int, absolute: bool
            ) -> tuple[int, int]:
        """Set the next expiry (``value`` ns from now, or at ``value`` on the timer's clock) and
        the period; a zero ``value`` disarms. Returns the previous (interval, remaining)."""
        with self._cond:
            previous = self.remaining(timer)
            timer.interval = interval
            if value == 0:
                timer.deadline = None
            else:
                now = time.monotonic_ns()
                if absolute:
                    value -= time.clock_gettime_ns(timer.clock)
                timer.deadline = now + max(value, 0)
                self._start()
            self._cond.notify()
            return previous

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pyemu-posix-timers",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic_ns()
                due = [t for t in self._timers.values()
                       if t.deadline is not None and t.deadline <= now]
                post = [t for t in due if self._expire(t, now)]
                armed = [t.deadline for t in self._timers.values() if t.deadline is not None]
                if not due:
                    self._cond.wait((min(armed) - now) / _NS if armed else None)
            for timer in post:
                self._fire(timer)

    def _expire(self, timer: PosixTimer, now: int) -> bool:
        """One expiry (and the periods missed since, as overruns) and the next deadline; True
        when a signal is to be sent (none is in flight)."""
        missed = 0
        if timer.interval:
            missed = (now - timer.deadline) // timer.interval
            timer.deadline += (missed + 1) * timer.interval
        else:
            timer.deadline = None
        send = bool(timer.signo) and not timer.queued
        if timer.queued:
            missed += 1
        timer.overrun = min(OVERRUN_MAX, timer.overrun + missed)
        timer.queued = timer.queued or send
        return send

    def signal_taken(self, timer: PosixTimer) -> int:
        """The timer's signal left the pending set: its overrun count, now reported."""
        with self._cond:
            timer.queued = False
            timer.last_overrun, timer.overrun = timer.overrun, 0
            return timer.last_overrun
