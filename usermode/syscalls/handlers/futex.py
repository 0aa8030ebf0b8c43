"""futex: wait queues per guest address, shared by the guest threads of a process.

Checks of the futex word happen under the guest lock, so "compare then sleep" is atomic with
respect to the other guest threads, as the kernel guarantees. A sleeping thread releases the
lock; a wake, a signal for the thread, or the timeout ends the sleep.
"""
from __future__ import annotations

import errno
import operator
import time as host_time
from typing import Any

from ...errors import InterruptedSyscall
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


def _wake_op(k: Any, uaddr: int, val: int, val2: int, uaddr2: int, val3: int) -> int:
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
    woken = k.threads.futexes.wake(uaddr, val)
    signed = old - (1 << 32) if old >> 31 else old
    cmps = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)
    if cmp < len(cmps) and cmps[cmp](signed, cmparg):
        woken += k.threads.futexes.wake(uaddr2, val2)
    return woken


def _futex(k: Any, uaddr: int, op: int, val: int, timeout: int, uaddr2: int, val3: int,
           layout: str) -> int:
    c = k.abi.const
    cmd = op & _CMD_MASK
    futexes = k.threads.futexes
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
        return _wake_op(k, uaddr, val, timeout & 0x7FFFFFFF, uaddr2, val3)
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
