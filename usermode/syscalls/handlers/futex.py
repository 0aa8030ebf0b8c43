"""futex: wait queues per guest address, shared by the guest threads of a process.

Checks of the futex word happen under the guest lock, so "compare then sleep" is atomic with
respect to the other guest threads, as the kernel guarantees. A sleeping thread releases the
lock; a wake, a signal for the thread, or the timeout ends the sleep. Shared futexes in memory
shared with other processes use the host's futex (see ``_shared_futex``).
"""
from __future__ import annotations

import errno
import operator
import sys
import time as host_time
from typing import Any

from ...errors import InterruptedSyscall
from .. import hostlib
from ..registry import syscall
from .common import fail, read_struct

_CMD_MASK = 0x7F          # without FUTEX_PRIVATE_FLAG (128) and FUTEX_CLOCK_REALTIME (256)


def _word(k: Any, addr: int) -> int:
    if addr % 4:
        raise fail(errno.EINVAL)
    return int.from_bytes(k.space.read(addr, 4), k.abi.byteorder)


def _deadline(k: Any, op: int, cmd: int, timeout: int, layout: str) -> float | None:
    if not timeout:
        return None
    t = read_struct(k, timeout, layout)
    seconds = t["tv_sec"] + t["tv_nsec"] / 1e9
    c = k.abi.const
    if cmd == c["FUTEX_WAIT_BITSET"]:       # absolute, on the chosen clock
        clock = (host_time.CLOCK_REALTIME if op & c["FUTEX_CLOCK_REALTIME"]
                 else host_time.CLOCK_MONOTONIC)
        seconds -= host_time.clock_gettime(clock)
    return host_time.monotonic() + max(seconds, 0)


def _wait(k: Any, uaddr: int, val: int, deadline: float | None, bitset: int) -> int:
    if _word(k, uaddr) != val & 0xFFFFFFFF:
        raise fail(errno.EAGAIN)
    if bitset == 0:
        raise fail(errno.EINVAL)
    thread, threads = k.thread, k.threads
    thread.wake.clear()
    if k.delivery.deliverable() is not None:
        raise fail(errno.EINTR)
    threads.futexes.enqueue(uaddr, bitset, thread.wake)
    remaining = None if deadline is None else max(0.0, deadline - host_time.monotonic())
    try:
        threads.blocking(lambda: thread.wake.wait(remaining))
    except InterruptedSyscall:
        threads.futexes.forget(uaddr, thread.wake)
        raise fail(errno.EINTR) from None
    if not threads.futexes.forget(uaddr, thread.wake):
        return 0                             # woken: the waker took us off the queue
    if k.delivery.deliverable() is not None:
        raise fail(errno.EINTR)
    raise fail(errno.ETIMEDOUT)


def _wake_op(k: Any, uaddr: int, fop: int, val: int, val2: int, uaddr2: int, val3: int) -> int:
    """FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg); wake uaddr; if cmp(old, cmparg): uaddr2."""
    op, cmp = (val3 >> 28) & 7, (val3 >> 24) & 15
    oparg, cmparg = (val3 >> 12) & 0xFFF, val3 & 0xFFF
    if val3 >> 31:      # FUTEX_OP_OPARG_SHIFT
        oparg = 1 << (oparg & 31)
    old = _word(k, uaddr2)
    ops = (lambda a, b: b, operator.add, operator.or_, lambda a, b: a & ~b, operator.xor)
    if op >= len(ops):
        raise fail(errno.ENOSYS)
    new = ops[op](old, oparg) & 0xFFFFFFFF
    k.space.write(uaddr2, new.to_bytes(4, k.abi.byteorder))
    woken = _shared_wake(k, uaddr, fop, val)
    signed = old - (1 << 32) if old >> 31 else old
    cmps = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)
    if cmp < len(cmps) and cmps[cmp](signed, cmparg):
        woken += _shared_wake(k, uaddr2, fop, val2)
    return woken


# -- futexes in memory shared with other processes -------------------------------------------
# A futex without FUTEX_PRIVATE_FLAG in a MAP_SHARED (or SysV) mapping may have waiters and
# wakers in other processes (process-shared semaphores and mutexes, multiprocessing's locks):
# those use the host's futex on the host address, which the host kernel keys by the shared page.
_SHARED_STEP = 0.02       # a waiter looks for guest signals this often


def _shared_address(k: Any, uaddr: int, op: int) -> int | None:
    if op & k.abi.const["FUTEX_PRIVATE_FLAG"]:
        return None
    vma = k.space.find(uaddr)
    return vma.host + (uaddr - vma.start) if vma is not None and vma.shared else None


def _host_value(k: Any, value: int) -> int:
    """A guest-order word value as the host reads the same four bytes."""
    return int.from_bytes((value & 0xFFFFFFFF).to_bytes(4, k.abi.byteorder), sys.byteorder)


def _shared_wait(k: Any, host: int, uaddr: int, val: int, deadline: float | None,
                 bitset: int) -> int:
    _word(k, uaddr)
    if bitset == 0:
        raise fail(errno.EINVAL)
    expected, first = _host_value(k, val), True
    while True:
        if k.delivery.deliverable() is not None:
            raise fail(errno.EINTR)
        now = host_time.monotonic()
        if deadline is not None and now >= deadline:
            raise fail(errno.ETIMEDOUT)
        step = _SHARED_STEP if deadline is None else min(_SHARED_STEP, deadline - now)
        try:
            k.threads.blocking(lambda: hostlib.futex(host, hostlib.FUTEX_WAIT_BITSET, expected,
                                                     step, val3=bitset))
            return 0
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                if first:
                    raise
                return 0            # changed while we looked for signals: a spurious wakeup
            if exc.errno not in (errno.ETIMEDOUT, errno.EINTR):
                raise
        first = False


def _shared_wake(k: Any, uaddr: int, op: int, count: int, bitset: int = 0xFFFFFFFF) -> int:
    """Wake ``count`` waiters on ``uaddr``, host waiters when it is a shared futex."""
    host = _shared_address(k, uaddr, op)
    if host is None:
        return k.threads.futexes.wake(uaddr, count, bitset)
    return hostlib.futex(host, hostlib.FUTEX_WAKE_BITSET, count, val3=bitset)


def _shared_futex(k: Any, host: int, cmd: int, uaddr: int, op: int, val: int, timeout: int,
                  uaddr2: int, val3: int, layout: str) -> int:
    c = k.abi.const
    if cmd in (c["FUTEX_WAIT"], c["FUTEX_WAIT_BITSET"]):
        bitset = 0xFFFFFFFF if cmd == c["FUTEX_WAIT"] else val3
        return _shared_wait(k, host, uaddr, val, _deadline(k, op, cmd, timeout, layout), bitset)
    if cmd in (c["FUTEX_WAKE"], c["FUTEX_WAKE_BITSET"]):
        return _shared_wake(k, uaddr, op, val, 0xFFFFFFFF if cmd == c["FUTEX_WAKE"] else val3)
    if cmd in (c["FUTEX_REQUEUE"], c["FUTEX_CMP_REQUEUE"]):
        target = _shared_address(k, uaddr2, op)
        if target is None:
            raise fail(errno.EINVAL)    # both words must be in shared memory
        if cmd == c["FUTEX_CMP_REQUEUE"]:
            return hostlib.futex(host, hostlib.FUTEX_CMP_REQUEUE, val, addr2=target,
                                 val3=_host_value(k, val3), val2=timeout & 0x7FFFFFFF)
        return hostlib.futex(host, hostlib.FUTEX_REQUEUE, val, addr2=target,
                             val2=timeout & 0x7FFFFFFF)
    if cmd == c["FUTEX_WAKE_OP"]:
        return _wake_op(k, uaddr, op, val, timeout & 0x7FFFFFFF, uaddr2, val3)
    raise fail(errno.ENOSYS)


def _futex(k: Any, uaddr: int, op: int, val: int, timeout: int, uaddr2: int, val3: int,
           layout: str) -> int:
    c = k.abi.const
    cmd = op & _CMD_MASK
    futexes = k.threads.futexes
    host = _shared_address(k, uaddr, op)
    if host is not None:
        return _shared_futex(k, host, cmd, uaddr, op, val, timeout, uaddr2, val3, layout)
    if cmd == c["FUTEX_WAIT"]:
        return _wait(k, uaddr, val, _deadline(k, op, cmd, timeout, layout), 0xFFFFFFFF)
    if cmd == c["FUTEX_WAIT_BITSET"]:
        return _wait(k, uaddr, val, _deadline(k, op, cmd, timeout, layout), val3)
    if cmd == c["FUTEX_WAKE"]:
        return futexes.wake(uaddr, val)
    if cmd == c["FUTEX_WAKE_BITSET"]:
        return futexes.wake(uaddr, val, val3)
    if cmd in (c["FUTEX_REQUEUE"], c["FUTEX_CMP_REQUEUE"]):
        if cmd == c["FUTEX_CMP_REQUEUE"] and _word(k, uaddr) != val3 & 0xFFFFFFFF:
            raise fail(errno.EAGAIN)
        return futexes.requeue(uaddr, val, uaddr2, timeout & 0x7FFFFFFF)
    if cmd == c["FUTEX_WAKE_OP"]:
        return _wake_op(k, uaddr, op, val, timeout & 0x7FFFFFFF, uaddr2, val3)
    raise fail(errno.ENOSYS)


@syscall("futex", "ptr", "int", "uint", "ptr", "ptr", "uint")
def futex(k: Any, uaddr: int, op: int, val: int, timeout: int, uaddr2: int, val3: int) -> int:
    """long futex(uint32_t *uaddr, int futex_op, uint32_t val, const struct timespec *timeout,
    uint32_t *uaddr2, uint32_t val3);"""
    return _futex(k, uaddr, op, val, timeout, uaddr2, val3, "timespec")


@syscall("futex_time64", "ptr", "int", "uint", "ptr", "ptr", "uint")
def futex_time64(k: Any, uaddr: int, op: int, val: int, timeout: int, uaddr2: int,
                 val3: int) -> int:
    """long futex_time64(uint32_t *uaddr, int futex_op, uint32_t val,
    const struct __kernel_timespec *timeout, uint32_t *uaddr2, uint32_t val3);"""
    return _futex(k, uaddr, op, val, timeout, uaddr2, val3, "timespec64")
