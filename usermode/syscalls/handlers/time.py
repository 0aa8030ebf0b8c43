"""Clocks, sleeping, timer descriptors, the clock's discipline (adjtimex, read-only), and the
refused calls that would set the host's time. Clock ids and struct layouts per ABI; the values
are the host's."""
from __future__ import annotations

import errno
import functools
import os
import sys
import time as host_time
from typing import Any

from .. import hostlib, layouts
from ..flags import FlagTable
from ...errors import InterruptedSyscall
from ..registry import syscall
from ..structs import Layout
from .common import (fail, foreign_byteorder, kernel_nsec, read_struct, read_word, u64_codec,
                     write_struct)
from .io import set_codec

_NS = 1_000_000_000


def _clock_ns(k: Any, clock: int) -> int:
    try:
        return host_time.clock_gettime_ns(clock)
    except OSError:
        raise fail(errno.EINVAL) from None


def _put_timespec(k: Any, addr: int, layout: str, ns: int) -> None:
    sec, nsec = divmod(ns, _NS)
    write_struct(k, addr, layout, tv_sec=sec, tv_nsec=nsec)


def _clock_calls(names: tuple[str, str, str], layout: str) -> None:
    """clock_gettime, clock_getres and clock_nanosleep under the given names."""
    def clock_gettime(k: Any, clock: int, tp: int) -> int:
        """int clock_gettime(clockid_t clockid, struct timespec *tp);"""
        _put_timespec(k, tp, layout, _clock_ns(k, clock))
        return 0

    def clock_getres(k: Any, clock: int, res: int) -> int:
        """int clock_getres(clockid_t clockid, struct timespec *res);"""
        try:
            value = host_time.clock_getres(clock)
        except OSError:
            raise fail(errno.EINVAL) from None
        if res:
            _put_timespec(k, res, layout, round(value * _NS))
        return 0

    def clock_nanosleep(k: Any, clock: int, flags: int, req: int, rem: int) -> int:
        """int clock_nanosleep(clockid_t clockid, int flags, const struct timespec *request,
        struct timespec *remain);"""
        ns = _read_timespec(k, req, layout)
        if flags & k.abi.const["TIMER_ABSTIME"]:
            ns -= _clock_ns(k, clock)
        _sleep(k, ns)
        return 0

    syscall(names[0], "int", "ptr")(clock_gettime)
    syscall(names[1], "int", "ptr")(clock_getres)
    syscall(names[2], "int", "int", "ptr", "ptr")(clock_nanosleep)


def _read_timespec(k: Any, addr: int, layout: str) -> int:
    t = read_struct(k, addr, layout)
    t["tv_nsec"] = kernel_nsec(k, t["tv_nsec"])
    if t["tv_nsec"] < 0 or t["tv_nsec"] >= _NS or t["tv_sec"] < 0:
        raise fail(errno.EINVAL)
    return t["tv_sec"] * _NS + t["tv_nsec"]


def _sleep(k: Any, ns: int) -> None:
    """Sleep without the guest lock; a signal for this thread ends it early (EINTR)."""
    if ns <= 0:
        return
    thread = k.thread
    thread.wake.clear()
    if k.delivery.deliverable() is None:
        k.threads.blocking(lambda: thread.wake.wait(ns / _NS))
    if k.delivery.deliverable() is not None:
        raise InterruptedSyscall(k.delivery.deliverable())


_clock_calls(("clock_gettime", "clock_getres", "clock_nanosleep"), "timespec")
_clock_calls(("clock_gettime64", "clock_getres_time64", "clock_nanosleep_time64"), "timespec64")


@syscall("nanosleep", "ptr", "ptr")
def nanosleep(k: Any, req: int, rem: int) -> int:
    """int nanosleep(const struct timespec *req, struct timespec *rem);"""
    _sleep(k, _read_timespec(k, req, "timespec"))
    return 0


@syscall("gettimeofday", "ptr", "ptr")
def gettimeofday(k: Any, tv: int, tz: int) -> int:
    """int gettimeofday(struct timeval *tv, struct timezone *tz);"""
    if tv:
        sec, ns = divmod(host_time.time_ns(), _NS)
        write_struct(k, tv, "timeval", tv_sec=sec, tv_usec=ns // 1000)
    if tz:
        write_struct(k, tz, "timezone", tz_minuteswest=0, tz_dsttime=0)
    return 0


@syscall("time", "ptr")
def time(k: Any, tloc: int) -> int:
    """time_t time(time_t *tloc);"""
    now = host_time.time_ns() // _NS
    if tloc:
        k.space.write(tloc, now.to_bytes(k.abi.word_size, k.abi.byteorder))
    return now


@syscall("times", "ptr")
def times(k: Any, buf: int) -> int:
    """clock_t times(struct tms *buf);"""
    t = os.times()
    hz = os.sysconf("SC_CLK_TCK")
    if buf:
        write_struct(k, buf, "tms", tms_utime=int(t.user * hz), tms_stime=int(t.system * hz),
                     tms_cutime=int(t.children_user * hz),
                     tms_cstime=int(t.children_system * hz))
    return int(t.elapsed * hz) & k.abi.word_mask


# -- setting the time: refused as for an unprivileged user ------------------------------------
def _settime(k: Any, clock: int, tp: int, layout: str) -> int:
    t = read_struct(k, tp, layout)
    t["tv_nsec"] = kernel_nsec(k, t["tv_nsec"])
    if clock != k.abi.const["CLOCK_REALTIME"] or not 0 <= t["tv_nsec"] < _NS or t["tv_sec"] < 0:
        raise fail(errno.EINVAL)   # only CLOCK_REALTIME is settable; then the time is checked
    raise fail(errno.EPERM)        # ... and then the caller's CAP_SYS_TIME


@syscall("clock_settime", "int", "ptr", refused=True)
def clock_settime(k: Any, clock: int, tp: int) -> int:
    """int clock_settime(clockid_t clockid, const struct timespec *tp);  (EPERM: pyemu never
    sets the host's clock)"""
    return _settime(k, clock, tp, "timespec")


@syscall("clock_settime64", "int", "ptr", refused=True)
def clock_settime64(k: Any, clock: int, tp: int) -> int:
    """int clock_settime64(clockid_t clockid, const struct __kernel_timespec *tp);  (EPERM)"""
    return _settime(k, clock, tp, "timespec64")


@syscall("settimeofday", "ptr", "ptr", refused=True)
def settimeofday(k: Any, tv: int, tz: int) -> int:
    """int settimeofday(const struct timeval *tv, const struct timezone *tz);  (EPERM)"""
    if tv:
        t = read_struct(k, tv, "timeval")
        if not 0 <= t["tv_usec"] < 1_000_000 or t["tv_sec"] < 0:
            raise fail(errno.EINVAL)
    if tz:
        z = read_struct(k, tz, "timezone")
        if not -15 * 60 <= z["tz_minuteswest"] <= 15 * 60:
            raise fail(errno.EINVAL)
    raise fail(errno.EPERM)


@syscall("stime", "ptr", refused=True)
def stime(k: Any, tptr: int) -> int:
    """int stime(const time_t *t);  (EPERM)"""
    read_word(k, tptr)
    raise fail(errno.EPERM)


# -- adjtimex: reading the kernel clock's discipline ------------------------------------------
# The host's struct timex (a 64-bit host: the ABI-word layout is __kernel_timex's).
_HOST_TIMEX = Layout("timex", layouts.common(8)["timex"], 8, sys.byteorder)


def _adjtimex(k: Any, clock: int | None, buf: int, layout: str) -> int:
    c = k.abi.const
    guest = read_struct(k, buf, layout)
    modes = guest["modes"]
    # the kernel's ADJ_ADJTIME and ADJ_OFFSET_READONLY bits, from the uapi names
    adjtime = c["ADJ_OFFSET_SINGLESHOT"] & ~c["ADJ_OFFSET"]
    readonly = c["ADJ_OFFSET_SS_READ"] & ~c["ADJ_OFFSET_SINGLESHOT"]
    if modes & adjtime:
        if not modes & readonly:
            raise fail(errno.EPERM)       # adjusting needs CAP_SYS_TIME: never granted
        modes = c["ADJ_OFFSET_SS_READ"]
    elif modes:
        raise fail(errno.EPERM)
    result, raw = hostlib.adjtimex(clock, _HOST_TIMEX.pack(modes=modes))
    host = _HOST_TIMEX.unpack(raw)
    host["modes"] = guest["modes"]
    write_struct(k, buf, layout, host)
    return result


@syscall("adjtimex", "ptr")
def adjtimex(k: Any, buf: int) -> int:
    """int adjtimex(struct timex *buf);  (read-only: any adjustment is EPERM)"""
    return _adjtimex(k, None, buf, "timex")


@syscall("clock_adjtime", "int", "ptr")
def clock_adjtime(k: Any, clock: int, buf: int) -> int:
    """int clock_adjtime(clockid_t clk_id, struct timex *buf);  (read-only)"""
    return _adjtimex(k, clock, buf, "timex")


@syscall("clock_adjtime64", "int", "ptr")
def clock_adjtime64(k: Any, clock: int, buf: int) -> int:
    """int clock_adjtime64(clockid_t clk_id, struct __kernel_timex *buf);  (read-only)"""
    return _adjtimex(k, clock, buf, "timex64")


# -- timerfd ---------------------------------------------------------------------------------
@functools.cache
def _tfd_flags(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, {"TFD_CLOEXEC": hostlib.TFD_CLOEXEC,
                                         "TFD_NONBLOCK": hostlib.TFD_NONBLOCK},
                             ("TFD_CLOEXEC", "TFD_NONBLOCK"))


@syscall("timerfd_create", "int", "flags")
def timerfd_create(k: Any, clock: int, flags: int) -> int:
    """int timerfd_create(int clockid, int flags);"""
    table = _tfd_flags(k.abi)
    if flags & ~sum(row.guest_mask for row in table.rows):
        raise fail(errno.EINVAL)
    fd = hostlib.timerfd_create(clock, table.to_host(flags))
    if foreign_byteorder(k):
        set_codec(k, fd, u64_codec)      # reads return a host-order 64-bit count
    return fd


def _read_itimerspec(k: Any, addr: int, layout: str) -> tuple[int, int, int, int]:
    t = read_struct(k, addr, layout)
    return (t["it_interval_sec"], kernel_nsec(k, t["it_interval_nsec"]), t["it_value_sec"],
            kernel_nsec(k, t["it_value_nsec"]))


def _write_itimerspec(k: Any, addr: int, layout: str, v: tuple[int, int, int, int]) -> None:
    write_struct(k, addr, layout, it_interval_sec=v[0], it_interval_nsec=v[1],
                 it_value_sec=v[2], it_value_nsec=v[3])


def _timerfd_calls(suffix: str, layout: str) -> None:
    def timerfd_settime(k: Any, fd: int, flags: int, new: int, old: int) -> int:
        """int timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
        struct itimerspec *old_value);"""
        previous = hostlib.timerfd_settime(fd, flags, _read_itimerspec(k, new, layout))
        if old:
            _write_itimerspec(k, old, layout, previous)
        return 0

    def timerfd_gettime(k: Any, fd: int, curr: int) -> int:
        """int timerfd_gettime(int fd, struct itimerspec *curr_value);"""
        _write_itimerspec(k, curr, layout, hostlib.timerfd_gettime(fd))
        return 0

    syscall("timerfd_settime" + suffix, "fd", "int", "ptr", "ptr")(timerfd_settime)
    syscall("timerfd_gettime" + suffix, "fd", "ptr")(timerfd_gettime)


_timerfd_calls("", "itimerspec")
_timerfd_calls("64", "itimerspec64")
