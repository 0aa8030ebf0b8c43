"""Clocks and sleeping. Clock ids and struct layouts per ABI; the values are the host's."""
from __future__ import annotations

import errno
import os
import time as host_time
from typing import Any

from ..registry import syscall
from .common import fail, read_struct, write_struct

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
        _sleep(ns)
        return 0

    syscall(names[0], "int", "ptr")(clock_gettime)
    syscall(names[1], "int", "ptr")(clock_getres)
    syscall(names[2], "int", "int", "ptr", "ptr")(clock_nanosleep)


def _read_timespec(k: Any, addr: int, layout: str) -> int:
    t = read_struct(k, addr, layout)
    if t["tv_nsec"] < 0 or t["tv_nsec"] >= _NS or t["tv_sec"] < 0:
        raise fail(errno.EINVAL)
    return t["tv_sec"] * _NS + t["tv_nsec"]


def _sleep(ns: int) -> None:
    if ns > 0:
        host_time.sleep(ns / _NS)


_clock_calls(("clock_gettime", "clock_getres", "clock_nanosleep"), "timespec")
_clock_calls(("clock_gettime64", "clock_getres_time64", "clock_nanosleep_time64"), "timespec64")


@syscall("nanosleep", "ptr", "ptr")
def nanosleep(k: Any, req: int, rem: int) -> int:
    """int nanosleep(const struct timespec *req, struct timespec *rem);"""
    _sleep(_read_timespec(k, req, "timespec"))
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
