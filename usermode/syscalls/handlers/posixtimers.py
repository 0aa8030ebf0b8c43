"""POSIX timers: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete.

The timers are pyemu's (``kernel.timers``): an expiry queues the guest signal with si_code
SI_TIMER, si_timerid, si_overrun and the sigevent's value, for the process (SIGEV_SIGNAL) or one
thread (SIGEV_THREAD_ID, which glibc's SIGEV_THREAD timers use too); SIGEV_NONE timers only run.
Clocks: CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME (the CPU-time clocks are refused with
EINVAL; the *_ALARM clocks need CAP_WAKE_ALARM: EPERM).
"""
from __future__ import annotations

import errno
import time as host_time
from typing import Any

from ...kernel.timers import PosixTimer, Timers
from .. import state
from ..registry import syscall
from ..sigframe import SigInfo
from .common import fail, kernel_nsec, read_struct, write_struct, write_word

_NS = 1_000_000_000
_CLOCKS = ("CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_BOOTTIME")
_ALARM_CLOCKS = ("CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM")


def _timers(k: Any) -> Timers:
    st = state.of(k)
    if st.posix_timers is None:
        st.posix_timers = Timers(lambda timer: _fire(k, timer))
    return st.posix_timers


def _fire(k: Any, timer: PosixTimer) -> None:
    """From the timer thread: queue the timer's signal (one in flight; overruns are counted
    until it is taken)."""
    timers = _timers(k)

    def taken(info: SigInfo) -> None:
        info.timer = (timer.ident, timers.signal_taken(timer))

    info = SigInfo(timer.signo, code=k.abi.const["SI_TIMER"], value=timer.value,
                   timer=(timer.ident, 0), dequeued=taken)
    target = timer.thread if timer.thread is not None and timer.thread.alive else None
    if not k.delivery.post(info, target):
        timers.signal_taken(timer)         # ignored, or already pending: nothing in flight


def _host_clock(k: Any, clock: int) -> int:
    c = k.abi.const
    for name in _CLOCKS:
        if clock == c[name]:
            return getattr(host_time, name)
    if clock in (c[name] for name in _ALARM_CLOCKS):
        raise fail(errno.EPERM)
    raise fail(errno.EINVAL)


def _event(k: Any, sevp: int) -> tuple[int, int | None, Any]:
    """(signal, value, target thread) of a struct sigevent; NULL: SIGALRM with the timer id."""
    c = k.abi.const
    if not sevp:
        return k.abi.signals["SIGALRM"], None, None
    ev = read_struct(k, sevp, "sigevent")
    notify, signo = ev["sigev_notify"], ev["sigev_signo"]
    thread = None
    if notify == c["SIGEV_NONE"]:
        return 0, ev["sigev_value"], None
    if notify == c["SIGEV_SIGNAL"] | c["SIGEV_THREAD_ID"]:
        thread = k.threads.by_tid.get(ev["sigev_tid"])
        if thread is None or not thread.alive:
            raise fail(errno.EINVAL)
    elif notify not in (c["SIGEV_SIGNAL"], c["SIGEV_THREAD"]):
        raise fail(errno.EINVAL)
    if not 1 <= signo <= k.abi.nsig:
        raise fail(errno.EINVAL)
    return signo, ev["sigev_value"], thread


@syscall("timer_create", "int", "ptr", "ptr")
def timer_create(k: Any, clock: int, sevp: int, timerid: int) -> int:
    """int timer_create(clockid_t clockid, struct sigevent *sevp, timer_t *timerid);"""
    host_clock = _host_clock(k, clock)
    signo, value, thread = _event(k, sevp)
    timers = _timers(k)
    timer = timers.create(host_clock, signo, value, thread)
    try:
        write_word(k, timerid, timer.ident, 4)
    except BaseException:
        timers.delete(timer.ident)
        raise
    return 0


def _timer(k: Any, ident: int) -> PosixTimer:
    timers = state.of(k).posix_timers
    timer = timers.get(ident) if timers is not None else None
    if timer is None:
        raise fail(errno.EINVAL)
    return timer


def _put(k: Any, addr: int, layout: str, interval: int, value: int) -> None:
    write_struct(k, addr, layout, it_interval_sec=interval // _NS,
                 it_interval_nsec=interval % _NS, it_value_sec=value // _NS,
                 it_value_nsec=value % _NS)


def _timer_calls(suffix: str, layout: str) -> None:
    def timer_settime(k: Any, ident: int, flags: int, new: int, old: int) -> int:
        """int timer_settime(timer_t timerid, int flags, const struct itimerspec *new_value,
        struct itimerspec *old_value);"""
        timer = _timer(k, ident)
        if not new:
            raise fail(errno.EINVAL)
        t = read_struct(k, new, layout)
        parts = (t["it_interval_sec"], kernel_nsec(k, t["it_interval_nsec"]),
                 t["it_value_sec"], kernel_nsec(k, t["it_value_nsec"]))
        if any(p < 0 for p in parts) or parts[1] >= _NS or parts[3] >= _NS:
            raise fail(errno.EINVAL)
        interval, value = parts[0] * _NS + parts[1], parts[2] * _NS + parts[3]
        absolute = bool(flags & k.abi.const["TIMER_ABSTIME"])
        previous = _timers(k).arm(timer, value, interval, absolute)
        if old:
            _put(k, old, layout, *previous)
        return 0

    def timer_gettime(k: Any, ident: int, curr: int) -> int:
        """int timer_gettime(timer_t timerid, struct itimerspec *curr_value);"""
        _put(k, curr, layout, *_timers(k).remaining(_timer(k, ident)))
        return 0

    syscall("timer_settime" + suffix, "int", "int", "ptr", "ptr")(timer_settime)
    syscall("timer_gettime" + suffix, "int", "ptr")(timer_gettime)


_timer_calls("", "itimerspec")
_timer_calls("64", "itimerspec64")


@syscall("timer_getoverrun", "int")
def timer_getoverrun(k: Any, ident: int) -> int:
    """int timer_getoverrun(timer_t timerid);"""
    return _timer(k, ident).last_overrun


@syscall("timer_delete", "int")
def timer_delete(k: Any, ident: int) -> int:
    """int timer_delete(timer_t timerid);"""
    _timer(k, ident)
    _timers(k).delete(ident)
    return 0
