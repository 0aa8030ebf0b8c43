"""futex for a single-threaded process: waits that cannot be woken by anyone else.

With one thread, FUTEX_WAIT either fails at once (the value changed: EAGAIN) or sleeps until its
timeout (ETIMEDOUT); a wait without timeout would never end, which Linux reports the same way
for a lone thread (it hangs), so pyemu reports EDEADLK-free behaviour by hanging only as long as
a timeout says. Wakes find no waiters. Threads will replace this with real wait queues.
"""
from __future__ import annotations

import errno
import time as host_time
from typing import Any

from ..registry import syscall
from .common import fail, read_struct

_CMD_MASK = 0x7F          # without FUTEX_PRIVATE_FLAG (128) and FUTEX_CLOCK_REALTIME (256)


def _futex(k: Any, uaddr: int, op: int, val: int, timeout: int, layout: str) -> int:
    c = k.abi.const
    cmd = op & _CMD_MASK
    if cmd in (c["FUTEX_WAIT"], c["FUTEX_WAIT_BITSET"]):
        current = int.from_bytes(k.space.read(uaddr, 4), k.abi.byteorder)
        if current != val & 0xFFFFFFFF:
            raise fail(errno.EAGAIN)
        if not timeout:
            raise fail(errno.EDEADLK)   # nobody could ever wake us
        t = read_struct(k, timeout, layout)
        delay = t["tv_sec"] + t["tv_nsec"] / 1e9
        if cmd == c["FUTEX_WAIT_BITSET"]:   # absolute timeout
            delay -= host_time.clock_gettime(
                host_time.CLOCK_REALTIME if op & c["FUTEX_CLOCK_REALTIME"]
                else host_time.CLOCK_MONOTONIC)
        host_time.sleep(max(delay, 0))
        raise fail(errno.ETIMEDOUT)
    if cmd in (c["FUTEX_WAKE"], c["FUTEX_WAKE_BITSET"], c["FUTEX_REQUEUE"],
               c["FUTEX_CMP_REQUEUE"], c["FUTEX_WAKE_OP"]):
        return 0
    raise fail(errno.ENOSYS)


@syscall("futex", "ptr", "int", "uint", "ptr", "ptr", "uint")
def futex(k: Any, uaddr: int, op: int, val: int, timeout: int, uaddr2: int, val3: int) -> int:
    """long futex(uint32_t *uaddr, int futex_op, uint32_t val, const struct timespec *timeout,
    uint32_t *uaddr2, uint32_t val3);"""
    return _futex(k, uaddr, op, val, timeout, "timespec")


@syscall("futex_time64", "ptr", "int", "uint", "ptr", "ptr", "uint")
def futex_time64(k: Any, uaddr: int, op: int, val: int, timeout: int, uaddr2: int,
                 val3: int) -> int:
    """long futex_time64(uint32_t *uaddr, int futex_op, uint32_t val,
    const struct __kernel_timespec *timeout, uint32_t *uaddr2, uint32_t val3);"""
    return _futex(k, uaddr, op, val, timeout, "timespec64")
