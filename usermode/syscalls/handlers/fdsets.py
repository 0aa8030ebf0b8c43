"""select and pselect6: fd_set bitmaps of guest words, waited on with the host's poll.

An fd_set is an array of longs in the guest's byte order (bit n of the set is bit n % bits of
word n / bits), so a big-endian 32-bit guest's bitmap differs byte for byte from the host's.
The host's poll has no FD_SETSIZE limit; readiness is mapped back as the kernel's select does
(POLLIN_SET, POLLOUT_SET, POLLEX_SET of fs/select.c).
"""
from __future__ import annotations

import errno
import select
import time as host_time
from typing import Any, Callable

from ...errors import InterruptedSyscall
from ..registry import syscall
from .common import fail, read_struct, read_word, wait_poll, write_struct
from .poll import with_sigmask

_IN_SET = select.POLLIN | select.POLLRDNORM | select.POLLRDBAND | select.POLLHUP | select.POLLERR
_OUT_SET = select.POLLOUT | select.POLLWRNORM | select.POLLWRBAND | select.POLLERR
_EX_SET = select.POLLPRI
_STEP_MS = 50
_MAX_FDS = 1 << 20


def read_fdset(k: Any, ptr: int, nfds: int) -> set[int]:
    if not ptr or not nfds:
        return set()
    bits = 8 * k.abi.word_size
    raw = k.space.read(ptr, (nfds + bits - 1) // bits * k.abi.word_size)
    out = set()
    for w in range(0, len(raw), k.abi.word_size):
        word = int.from_bytes(raw[w:w + k.abi.word_size], k.abi.byteorder)
        base = w // k.abi.word_size * bits
        while word:
            low = word & -word
            fd = base + low.bit_length() - 1
            if fd < nfds:
                out.add(fd)
            word ^= low
    return out


def write_fdset(k: Any, ptr: int, nfds: int, fds: set[int]) -> None:
    if not ptr or not nfds:
        return
    size = k.abi.word_size
    bits = 8 * size
    words = [0] * ((nfds + bits - 1) // bits)
    for fd in fds:
        words[fd // bits] |= 1 << (fd % bits)
    k.space.write(ptr, b"".join(w.to_bytes(size, k.abi.byteorder) for w in words))


def _select(k: Any, nfds: int, sets: tuple[int, int, int], timeout: float | None) -> int:
    if nfds < 0 or nfds > _MAX_FDS:
        raise fail(errno.EINVAL)
    rd, wr, ex = (read_fdset(k, p, nfds) for p in sets)
    wanted: dict[int, int] = {}
    for fds, events in ((rd, select.POLLIN), (wr, select.POLLOUT), (ex, select.POLLPRI)):
        for fd in fds:
            wanted[fd] = wanted.get(fd, 0) | events
    ready = wait_poll(k, wanted, timeout)
    if any(revents & select.POLLNVAL for revents in ready.values()):
        raise fail(errno.EBADF)
    out = ({fd for fd in rd if ready.get(fd, 0) & _IN_SET},
           {fd for fd in wr if ready.get(fd, 0) & _OUT_SET},
           {fd for fd in ex if ready.get(fd, 0) & _EX_SET})
    for ptr, fds in zip(sets, out):
        write_fdset(k, ptr, nfds, fds)
    return sum(len(fds) for fds in out)


def _timed(k: Any, ptr: int, layout: str, frac: str, scale: float,
           run: Callable[[float | None], int]) -> int:
    """Run with the timeout at ``ptr`` and store the time left there, as Linux does."""
    if not ptr:
        return run(None)
    t = read_struct(k, ptr, layout)
    if t["tv_sec"] < 0 or not 0 <= t[frac] < 1e9 * scale:
        raise fail(errno.EINVAL)
    limit = t["tv_sec"] + t[frac] / (1e9 * scale)
    start = host_time.monotonic()
    try:
        return run(limit)
    finally:
        left = max(0.0, limit - (host_time.monotonic() - start))
        sec = int(left)
        write_struct(k, ptr, layout, {"tv_sec": sec, frac: int((left - sec) * 1e9 * scale)})


def _interruptible(call: Callable[[], int]) -> int:
    try:
        return call()
    except InterruptedSyscall:
        raise fail(errno.EINTR) from None     # select is not restarted once it has waited


@syscall("_newselect", "int", "ptr", "ptr", "ptr", "ptr")
def newselect(k: Any, nfds: int, rd: int, wr: int, ex: int, timeout: int) -> int:
    """int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
    struct timeval *timeout);"""
    return _timed(k, timeout, "timeval", "tv_usec", 1e-3,
                  lambda t: _interruptible(lambda: _select(k, nfds, (rd, wr, ex), t)))


def _pselect(k: Any, nfds: int, sets: tuple[int, int, int], timeout: int, sig: int,
             layout: str) -> int:
    mask = read_word(k, sig) if sig else 0       # the sigset_t pointer (ss_len follows)
    return _timed(k, timeout, layout, "tv_nsec", 1.0, lambda t: with_sigmask(
        k, mask, lambda: _select(k, nfds, sets, t)))


@syscall("pselect6", "int", "ptr", "ptr", "ptr", "ptr", "ptr")
def pselect6(k: Any, nfds: int, rd: int, wr: int, ex: int, timeout: int, sig: int) -> int:
    """int pselect6(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
    struct timespec *timeout, const struct { const sigset_t *ss; size_t ss_len; } *sig);"""
    return _pselect(k, nfds, (rd, wr, ex), timeout, sig, "timespec")


@syscall("pselect6_time64", "int", "ptr", "ptr", "ptr", "ptr", "ptr")
def pselect6_time64(k: Any, nfds: int, rd: int, wr: int, ex: int, timeout: int, sig: int
                    ) -> int:
    """int pselect6_time64(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
    struct __kernel_timespec *timeout, const struct { const sigset_t *ss; size_t ss_len; }
    *sig);"""
    return _pselect(k, nfds, (rd, wr, ex), timeout, sig, "timespec64")
