"""epoll: host epoll instances; only struct epoll_event is rebuilt on the way.

The guest's epoll_event is {u32 events; u64 data} with the data 8-aligned (16 bytes on ARM,
AArch64 and MIPS); the x86_64 host's is packed (12 bytes). The 64-bit data word is opaque to
the kernel and passes through unchanged, so a guest gets back exactly what it registered.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import math
import select
from typing import Any

from ...errors import InterruptedSyscall
from ..flags import FlagTable
from ..hostlib import _check, _fn
from ..layouts import host_decls
from ..registry import syscall
from ..structs import Layout
from .common import fail, read_struct, wait_for, write_struct
from .poll import with_sigmask

_EVENT_NAMES = ("EPOLLIN", "EPOLLPRI", "EPOLLOUT", "EPOLLERR", "EPOLLHUP", "EPOLLNVAL",
                "EPOLLRDNORM", "EPOLLRDBAND", "EPOLLWRNORM", "EPOLLWRBAND", "EPOLLMSG",
                "EPOLLRDHUP", "EPOLLEXCLUSIVE", "EPOLLWAKEUP", "EPOLLONESHOT", "EPOLLET")
_HOST_EVENT = Layout("epoll_event", host_decls(__import__("os").uname().machine)["epoll_event"],
                     8, "little")
_MAX_EVENTS = (1 << 31) // 16

_epoll_create1 = _fn("epoll_create1", ctypes.c_int, ctypes.c_int)
_epoll_ctl = _fn("epoll_ctl", ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                 ctypes.c_void_p)
_epoll_wait = _fn("epoll_wait", ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                  ctypes.c_int)


@functools.cache
def _events(abi: Any) -> FlagTable:
    host = {name: getattr(select, name, None) for name in _EVENT_NAMES}
    host["EPOLLWAKEUP"] = host["EPOLLWAKEUP"] or 1 << 29      # not in Python's select module
    return FlagTable.by_name(abi.const, host, _EVENT_NAMES)


@functools.cache
def _ops(abi: Any) -> dict[int, int]:
    """Guest EPOLL_CTL_* -> the host's (1, 2, 3 on Linux; Python's select module lacks them)."""
    return {abi.const[f"EPOLL_CTL_{name}"]: code for name, code in (("ADD", 1), ("DEL", 2),
                                                                      ("MOD", 3))}


def _create(k: Any, flags: int) -> int:
    cloexec = k.abi.const["EPOLL_CLOEXEC"]
    if flags & ~cloexec:
        raise fail(errno.EINVAL)
    return _check(_epoll_create1(select.EPOLL_CLOEXEC if flags & cloexec else 0))


@syscall("epoll_create", "int")
def epoll_create(k: Any, size: int) -> int:
    """int epoll_create(int size);"""
    if size <= 0:
        raise fail(errno.EINVAL)
    return _create(k, 0)


@syscall("epoll_create1", "flags")
def epoll_create1(k: Any, flags: int) -> int:
    """int epoll_create1(int flags);"""
    return _create(k, flags)


@syscall("epoll_ctl", "fd", "int", "fd", "ptr")
def epoll_ctl(k: Any, epfd: int, op: int, fd: int, event: int) -> int:
    """int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);"""
    ops = _ops(k.abi)
    if op not in ops:
        raise fail(errno.EINVAL)
    buf = None
    if event and ops[op] != 2:
        guest = read_struct(k, event, "epoll_event")
        buf = ctypes.create_string_buffer(_HOST_EVENT.pack(
            events=_events(k.abi).to_host(guest["events"]), data=guest["data"]))
    elif ops[op] != 2:
        raise fail(errno.EFAULT)
    _check(_epoll_ctl(epfd, ops[op], fd, buf))
    return 0


def _wait(k: Any, epfd: int, events: int, maxevents: int, timeout: float | None) -> int:
    if not 0 < maxevents <= _MAX_EVENTS:
        raise fail(errno.EINVAL)
    size = k.abi.structs["epoll_event"].size
    k.space.views(events, maxevents * size, write=True)     # EFAULT before waiting
    buf = ctypes.create_string_buffer(_HOST_EVENT.size * maxevents)

    def attempt(ms: float) -> int:
        try:
            return _check(_epoll_wait(epfd, buf, maxevents, math.ceil(ms)))
        except InterruptedError:        # a host signal: wait_for looks for a guest one
            return 0

    n = wait_for(k, attempt, timeout)
    table = _events(k.abi)
    for i in range(n):
        got = _HOST_EVENT.unpack(buf.raw[i * _HOST_EVENT.size:(i + 1) * _HOST_EVENT.size])
        write_struct(k, events + i * size, "epoll_event",
                     events=table.to_guest(got["events"]), data=got["data"])
    return n


def _interruptible(call: Any) -> int:
    try:
        return call()
    except InterruptedSyscall:
        raise fail(errno.EINTR) from None     # epoll_wait is never restarted


@syscall("epoll_wait", "fd", "ptr", "int", "int")
def epoll_wait(k: Any, epfd: int, events: int, maxevents: int, timeout: int) -> int:
    """int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);"""
    return _interruptible(lambda: _wait(k, epfd, events, maxevents,
                                        None if timeout < 0 else timeout / 1000))


@syscall("epoll_pwait", "fd", "ptr", "int", "int", "ptr", "size")
def epoll_pwait(k: Any, epfd: int, events: int, maxevents: int, timeout: int, sigmask: int,
                size: int) -> int:
    """int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
    const sigset_t *sigmask, size_t sigsetsize);"""
    return with_sigmask(k, sigmask, lambda: _wait(k, epfd, events, maxevents,
                                                  None if timeout < 0 else timeout / 1000))


@syscall("epoll_pwait2", "fd", "ptr", "int", "ptr", "ptr", "size")
def epoll_pwait2(k: Any, epfd: int, events: int, maxevents: int, timeout: int, sigmask: int,
                 size: int) -> int:
    """int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
    const struct __kernel_timespec *timeout, const sigset_t *sigmask, size_t sigsetsize);"""
    limit = None
    if timeout:
        t = read_struct(k, timeout, "timespec64")
        if t["tv_sec"] < 0 or not 0 <= t["tv_nsec"] < 1_000_000_000:
            raise fail(errno.EINVAL)
        limit = t["tv_sec"] + t["tv_nsec"] / 1e9
    return with_sigmask(k, sigmask, lambda: _wait(k, epfd, events, maxevents, limit))
