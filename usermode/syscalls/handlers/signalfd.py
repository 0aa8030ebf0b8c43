"""signalfd: a descriptor from which the guest reads its pending signals.

Guest signals are emulated (``kernel.threads``, ``syscalls.delivery``), so a signalfd is too. The
guest's descriptor is a host eventfd whose readability pyemu keeps equal to "a signal of the
descriptor's mask is pending" (``Delivery.watch``), so poll, select and epoll see it as the
kernel's; reads go through the descriptor's entry in the codec table (kept in step by dup and
close), which takes the signals off the pending sets and packs struct signalfd_siginfo records
in the guest's byte order. Like the kernel's, a signalfd only reads signals: the guest blocks
them so that no handler takes them first.
"""
from __future__ import annotations

import errno
import functools
import os
import select
import sys
from typing import Any

from .. import state
from ..flags import FlagTable
from ..registry import syscall
from ..sigframe import SigInfo
from .common import fail, inheritable
from .io import set_codec
from .signals import _check_setsize, _read_mask, _unblockable, wait_taking

RECORD = 128        # sizeof(struct signalfd_siginfo)


class SignalFd:
    """The codec-table entry of a signalfd: its mask; reads are served here."""

    def __init__(self, mask: int):
        self.mask = mask

    def __call__(self, k: Any, data: bytes, to_guest: bool) -> bytes:
        raise fail(errno.EINVAL)          # the kernel's signalfd has no write

    def read(self, k: Any, fd: int, count: int) -> bytes:
        """Whole records of pending signals in the mask; waits for one unless non-blocking."""
        if count < RECORD:
            raise fail(errno.EINVAL)
        infos = [wait_taking(k, self.mask, None, nonblocking=not os.get_blocking(fd))]
        while len(infos) < count // RECORD:
            info = k.delivery.take(self.mask)
            if info is None:
                break
            infos.append(info)
        return b"".join(_record(k, info) for info in infos)


def _record(k: Any, info: SigInfo) -> bytes:
    value = info.value & 0xFFFFFFFFFFFFFFFF
    low = value & 0xFFFFFFFF
    fields = {"ssi_signo": info.signo, "ssi_errno": info.errno, "ssi_code": info.code,
              "ssi_status": info.status, "ssi_ptr": value,
              "ssi_int": low - (1 << 32) if low >> 31 else low,
              "ssi_addr": (info.addr or 0) & 0xFFFFFFFFFFFFFFFF}
    if info.timer is not None:
        fields["ssi_tid"], fields["ssi_overrun"] = info.timer
    else:
        fields["ssi_pid"], fields["ssi_uid"] = info.pid & 0xFFFFFFFF, info.uid & 0xFFFFFFFF
    return k.abi.structs["signalfd_siginfo"].pack(fields)


def _sync(k: Any) -> None:
    """Make each signalfd's eventfd readable exactly when a signal of its mask is pending (in
    any thread of the process, or for the process)."""
    codecs = state.of(k).fd_codecs
    pending = k.delivery.pending_mask(k.threads.main) if k.threads.main else 0
    for thread in list(k.threads.by_tid.values()):
        pending |= sum(1 << (s - 1) for s in list(thread.signals.pending))
    seen: set[int] = set()
    for fd, codec in list(codecs.items()):
        if not isinstance(codec, SignalFd) or id(codec) in seen:
            continue
        seen.add(id(codec))
        try:
            ready = bool(select.select([fd], [], [], 0)[0])
            if codec.mask & pending and not ready:
                os.write(fd, (1).to_bytes(8, sys.byteorder))
            elif ready and not codec.mask & pending:
                os.read(fd, 8)
        except (OSError, ValueError):
            pass                             # closed meanwhile: close dropped its entry


@functools.cache
def _flags(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, {"SFD_CLOEXEC": os.EFD_CLOEXEC,
                                         "SFD_NONBLOCK": os.EFD_NONBLOCK},
                             ("SFD_CLOEXEC", "SFD_NONBLOCK"))


def _signalfd(k: Any, fd: int, maskp: int, sizemask: int, flags: int) -> int:
    table = _flags(k.abi)
    if flags & ~sum(row.guest_mask for row in table.rows):
        raise fail(errno.EINVAL)
    _check_setsize(k, sizemask)
    mask = _read_mask(k, maskp) & ~_unblockable(k)
    codecs = state.of(k).fd_codecs
    if fd != -1:
        codec = codecs.get(fd)
        if codec is None:
            os.fstat(fd)                         # EBADF for a descriptor that is not open
            raise fail(errno.EINVAL)
        if not isinstance(codec, SignalFd):
            raise fail(errno.EINVAL)
        codec.mask = mask
    else:
        host = table.to_host(flags)
        fd = inheritable(os.eventfd(0, host), cloexec=bool(host & os.EFD_CLOEXEC))
        set_codec(k, fd, SignalFd(mask))
        k.delivery.watch("signalfd", lambda: _sync(k))
    _sync(k)
    return fd


@syscall("signalfd4", "fd", "ptr", "size", "flags")
def signalfd4(k: Any, fd: int, mask: int, sizemask: int, flags: int) -> int:
    """int signalfd4(int ufd, const sigset_t *mask, size_t sizemask, int flags);"""
    return _signalfd(k, fd, mask, sizemask, flags)


@syscall("signalfd", "fd", "ptr", "size")
def signalfd(k: Any, fd: int, mask: int, sizemask: int) -> int:
    """int signalfd(int ufd, const sigset_t *mask, size_t sizemask);"""
    return _signalfd(k, fd, mask, sizemask, 0)
