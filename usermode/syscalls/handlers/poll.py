"""poll and ppoll: readiness of guest fds (host fds), events translated by name per ABI."""
from __future__ import annotations

import errno
import functools
import select
import struct
from typing import Any

from ...errors import InterruptedSyscall
from ..flags import FlagTable
from ..registry import syscall
from .common import fail, read_struct, wait_poll

_POLL_NAMES = ("POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDNORM",
               "POLLRDBAND", "POLLWRNORM", "POLLWRBAND", "POLLMSG", "POLLRDHUP")


@functools.cache
def _events(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, vars(select), _POLL_NAMES)


def _poll(k: Any, fds: int, nfds: int, timeout_ms: float | None) -> int:
    if nfds > 1 << 16:
        raise fail(errno.EINVAL)
    end = "<" if k.abi.byteorder == "little" else ">"
    raw = bytearray(k.space.read(fds, 8 * nfds)) if nfds else bytearray()
    table = _events(k.abi)
    wanted: dict[int, int] = {}
    for i in range(nfds):
        fd, events, _ = struct.unpack_from(end + "ihh", raw, 8 * i)
        if fd >= 0:
            wanted[fd] = table.to_host(events & 0xFFFF) | select.POLLERR | select.POLLHUP
    timeout = None if timeout_ms is None or timeout_ms < 0 else timeout_ms / 1000
    ready = wait_poll(k, wanted, timeout, step_ms=10)
    count = 0
    for i in range(nfds):
        fd, events, _ = struct.unpack_from(end + "ihh", raw, 8 * i)
        revents = table.to_guest(ready.get(fd, 0)) if fd >= 0 else 0
        count += revents != 0
        struct.pack_into(end + "ihh", raw, 8 * i, fd, events, revents & 0x7FFF)
    if nfds:
        k.space.write(fds, bytes(raw))
    return count


@syscall("poll", "ptr", "uint", "int")
def poll(k: Any, fds: int, nfds: int, timeout: int) -> int:
    """int poll(struct pollfd *fds, nfds_t nfds, int timeout);"""
    return _poll(k, fds, nfds, timeout)


def with_sigmask(k: Any, sigmask: int, call: Any) -> Any:
    """Run a wait with the guest sigset at ``sigmask`` (0: none) as the thread's mask, as
    ppoll, pselect6 and epoll_pwait do; a signal ends it with EINTR, delivered (by the
    dispatcher) under that mask, which is restored after the handler."""
    state = k.signals
    if sigmask:
        from .signals import _read_mask
        state.suspend_mask, state.blocked = state.blocked, _read_mask(k, sigmask)
    try:
        return call()
    except InterruptedSyscall:
        raise fail(errno.EINTR) from None
    finally:
        if sigmask and state.suspend_mask is not None and k.delivery.deliverable() is None:
            state.blocked, state.suspend_mask = state.suspend_mask, None


def _ppoll(k: Any, fds: int, nfds: int, tmo: int, sigmask: int, layout: str) -> int:
    timeout = None
    if tmo:
        t = read_struct(k, tmo, layout)
        timeout = t["tv_sec"] * 1000 + t["tv_nsec"] / 1e6
    return with_sigmask(k, sigmask, lambda: _poll(k, fds, nfds, timeout))


@syscall("ppoll", "ptr", "uint", "ptr", "ptr", "size")
def ppoll(k: Any, fds: int, nfds: int, tmo: int, sigmask: int, size: int) -> int:
    """int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo_p,
    const sigset_t *sigmask, size_t sigsetsize);"""
    return _ppoll(k, fds, nfds, tmo, sigmask, "timespec")


@syscall("ppoll_time64", "ptr", "uint", "ptr", "ptr", "size")
def ppoll_time64(k: Any, fds: int, nfds: int, tmo: int, sigmask: int, size: int) -> int:
    """int ppoll_time64(struct pollfd *fds, nfds_t nfds, const struct __kernel_timespec *tmo_p,
    const sigset_t *sigmask, size_t sigsetsize);"""
    return _ppoll(k, fds, nfds, tmo, sigmask, "timespec64")
