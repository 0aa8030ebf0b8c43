"""Helpers shared by handler families: paths, dirfds, structs in guest memory, errors."""
from __future__ import annotations

import errno
import os
import select
import stat
import sys
import time as host_time
from typing import Any

from ...errors import InterruptedSyscall


def fail(code: int) -> OSError:
    """An OSError carrying a host errno, for handlers to raise."""
    return OSError(code, os.strerror(code))


def guest_path(k: Any, ptr: int, *, empty_ok: bool = False, follow: bool = True) -> bytes:
    """The guest path at ``ptr``, mapped to the host path to operate on.

    ``follow=False`` for calls that act on a symlink itself (lstat, readlink, unlink, ...).
    """
    if ptr == 0:
        raise fail(errno.EFAULT)
    raw = k.space.read_cstr(ptr)
    if not raw and not empty_ok:
        raise fail(errno.ENOENT)
    return k.paths.host(raw, follow) if raw else raw


def dir_fd(k: Any, fd: int) -> int | None:
    """A dirfd argument as Python's ``dir_fd=`` wants it (None for AT_FDCWD)."""
    return None if fd == k.abi.const["AT_FDCWD"] else fd


def at_flag(k: Any, flags: int, name: str) -> bool:
    return bool(flags & k.abi.const[name])


def write_struct(k: Any, addr: int, name: str, values: dict[str, Any] | None = None,
                 **kw: Any) -> None:
    k.space.write(addr, k.abi.structs[name].pack(values, **kw))


def read_struct(k: Any, addr: int, name: str) -> dict[str, Any]:
    layout = k.abi.structs[name]
    return layout.unpack(k.space.read(addr, layout.size))


def write_word(k: Any, addr: int, value: int, size: int | None = None) -> None:
    size = size or k.abi.word_size
    k.space.write(addr, (value & ((1 << (8 * size)) - 1)).to_bytes(size, k.abi.byteorder))


def read_word(k: Any, addr: int, size: int | None = None) -> int:
    size = size or k.abi.word_size
    return int.from_bytes(k.space.read(addr, size), k.abi.byteorder)


def inheritable(fd: int, cloexec: bool) -> int:
    """Python makes new fds close-on-exec; the guest decides instead."""
    os.set_inheritable(fd, not cloexec)
    return fd


def u64_codec(k: Any, data: bytes, to_guest: bool) -> bytes:
    """fd codec for files of host-order 64-bit counters (eventfd, timerfd): swap each one."""
    return b"".join(data[i:i + 8][::-1] for i in range(0, len(data) - len(data) % 8, 8)) + (
        data[len(data) - len(data) % 8:])


def foreign_byteorder(k: Any) -> bool:
    """The guest's byte order is not the host's: binary records from the host need swapping."""
    return k.abi.byteorder != sys.byteorder


def kernel_nsec(k: Any, value: int) -> int:
    """A tv_nsec as the kernel takes it: on 32-bit ABIs the low 32 bits only (the upper half of
    a __kernel_timespec's 64-bit tv_nsec is libc's padding there: get_timespec64)."""
    return k.abi.int32(value) if k.abi.word_size == 4 else value


_STEP_MS = 50


def wait_for(k: Any, attempt: Any, timeout: float | None = None, step_ms: float = _STEP_MS
             ) -> Any:
    """Wait the way every blocking syscall does: ``attempt(ms)`` (a host wait of at most ``ms``
    milliseconds) is tried once at once, then again in steps without the guest lock, so other
    guest threads run meanwhile, until it returns something true or ``timeout`` seconds (None:
    no limit) have passed; its last result is returned. A signal deliverable to this thread
    ends the wait with InterruptedSyscall (EINTR, or a restart under SA_RESTART)."""
    result = attempt(0)
    deadline = None if timeout is None else host_time.monotonic() + timeout
    thread = k.thread
    while not result:
        signo = k.delivery.deliverable()
        if signo is not None:
            raise InterruptedSyscall(signo)
        step = step_ms
        if deadline is not None:
            left = (deadline - host_time.monotonic()) * 1000
            if left <= 0:
                return result
            step = min(step, left)
        thread.wake.clear()
        result = k.threads.blocking(lambda: attempt(step))
    return result


def wait_poll(k: Any, wanted: dict[int, int], timeout: float | None,
              step_ms: float = _STEP_MS) -> dict[int, int]:
    """Host poll of ``wanted`` (fd -> host events) for up to ``timeout`` seconds (see
    ``wait_for``); the ready fds and their events. With nothing to poll it just waits."""
    poller = select.poll()
    for fd, events in wanted.items():
        poller.register(fd, events)
    thread = k.thread

    def attempt(ms: float) -> dict[int, int]:
        if wanted:
            return dict(poller.poll(ms))
        if ms:
            thread.wake.wait(ms / 1000)
        return {}

    return wait_for(k, attempt, timeout, step_ms)


def wait_readable(k: Any, fd: int) -> None:
    """Before a read that may block (pipe, socket, terminal): wait for data without the guest
    lock, so other guest threads can run (and write it), and so that a signal for this thread
    ends the wait (EINTR, or a restart with SA_RESTART) instead of a read that never returns."""
    try:
        if select.select([fd], [], [], 0)[0]:
            return
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):
        return                          # the read reports the error
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or not os.get_blocking(fd):
        return
    if stat.S_ISSOCK(mode):                 # honours SO_RCVTIMEO
        from .net import wait_socket
        return wait_socket(k, fd, write=False)
    wait_poll(k, {fd: select.POLLIN}, None)


def host_wait(k: Any, call: Any) -> Any:
    """Run a host call that may block (a semaphore, a message queue, a record lock, a pipe):
    without the guest lock while other guest threads exist (one of them may be the one to wake
    it); interrupted by a host signal, it ends with EINTR if a signal is now deliverable to this
    thread (InterruptedSyscall), and is made again otherwise."""
    while True:
        try:
            if len(k.threads.by_tid) < 2:
                return call()
            return k.threads.blocking(call)
        except InterruptedError:
            signo = k.delivery.deliverable()
            if signo is not None:
                raise InterruptedSyscall(signo) from None
