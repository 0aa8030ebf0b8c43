"""Data between descriptors and files: vectored positional I/O, sendfile, splice, tee, vmsplice,
copy_file_range; file space and caching: fallocate, fadvise, readahead, the sync family;
close_range.

Offsets a call reads and updates through a pointer (``loff_t *``, or sendfile's ``off_t *``) are
read from guest memory, the host call is made with an explicit offset, and the advanced offset is
written back, as the kernel does. Flag words whose values are the same on every Linux ABI
(falloc.h, splice and sync_file_range flags, close_range's) pass through unchanged.
"""
from __future__ import annotations

import errno
import fcntl as host_fcntl
import functools
import os
from typing import Any

from ...kernel.fdspace import PRIVATE
from .. import hostlib, state
from ..flags import FlagTable
from ..registry import syscall
from .common import fail, host_wait, read_word, write_word
from .io import _iovecs, _pipe_safe


# -- vectored I/O at an offset ---------------------------------------------------------------
def _pos(k: Any, low: int, high: int) -> int:
    """The kernel's pos_from_hilo: high's bits land past the word (nowhere on 64-bit ABIs)."""
    half = 4 * k.abi.word_size
    value = (((high << half) << half) | low) & ((1 << 64) - 1)
    return value - (1 << 64) if value >> 63 else value


@functools.cache
def _rwf_table(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, vars(os), ("RWF_HIPRI", "RWF_DSYNC", "RWF_SYNC",
                                                   "RWF_NOWAIT", "RWF_APPEND"))


def _rwf(k: Any, flags: int) -> int:
    table = _rwf_table(k.abi)
    known = sum(row.guest_mask for row in table.rows)
    if flags & ~known:
        raise fail(errno.EOPNOTSUPP)
    return table.to_host(flags)


def _preadv(k: Any, fd: int, iov: int, iovcnt: int, offset: int, flags: int | None) -> int:
    views = _iovecs(k, iov, iovcnt, write=True)
    if flags is None and offset < 0:
        raise fail(errno.EINVAL)
    host_flags = _rwf(k, flags or 0)
    if offset == -1 and flags is not None:      # preadv2: -1 is the file position
        return os.readv(fd, views) if views else len(os.read(fd, 0))
    if not views:
        return len(os.pread(fd, 0, offset))
    return os.preadv(fd, views, offset, host_flags)


def _pwritev(k: Any, fd: int, iov: int, iovcnt: int, offset: int, flags: int | None) -> int:
    views = _iovecs(k, iov, iovcnt, write=False)
    if flags is None and offset < 0:
        raise fail(errno.EINVAL)
    host_flags = _rwf(k, flags or 0)
    if offset == -1 and flags is not None:
        return os.writev(fd, views) if views else os.write(fd, b"")
    if not views:
        return os.pwrite(fd, b"", offset)
    return os.pwritev(fd, views, offset, host_flags)


@syscall("preadv", "fd", "ptr", "int", "ulong", "ulong")
def preadv(k: Any, fd: int, iov: int, iovcnt: int, pos_l: int, pos_h: int) -> int:
    """ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, unsigned long pos_l,
    unsigned long pos_h);"""
    return _preadv(k, fd, iov, iovcnt, _pos(k, pos_l, pos_h), None)


@syscall("preadv2", "fd", "ptr", "int", "ulong", "ulong", "flags")
def preadv2(k: Any, fd: int, iov: int, iovcnt: int, pos_l: int, pos_h: int, flags: int) -> int:
    """ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, unsigned long pos_l,
    unsigned long pos_h, rwf_t flags);"""
    return _preadv(k, fd, iov, iovcnt, _pos(k, pos_l, pos_h), flags)


@syscall("pwritev", "fd", "ptr", "int", "ulong", "ulong")
@_pipe_safe
def pwritev(k: Any, fd: int, iov: int, iovcnt: int, pos_l: int, pos_h: int) -> int:
    """ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, unsigned long pos_l,
    unsigned long pos_h);"""
    return _pwritev(k, fd, iov, iovcnt, _pos(k, pos_l, pos_h), None)


@syscall("pwritev2", "fd", "ptr", "int", "ulong", "ulong", "flags")
@_pipe_safe
def pwritev2(k: Any, fd: int, iov: int, iovcnt: int, pos_l: int, pos_h: int, flags: int) -> int:
    """ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, unsigned long pos_l,
    unsigned long pos_h, rwf_t flags);"""
    return _pwritev(k, fd, iov, iovcnt, _pos(k, pos_l, pos_h), flags)


# -- descriptor to descriptor ----------------------------------------------------------------
def _get_off(k: Any, addr: int, size: int) -> int | None:
    if not addr:
        return None
    value = read_word(k, addr, size)
    return value - (1 << (8 * size)) if value >> (8 * size - 1) else value


def _sendfile(k: Any, out_fd: int, in_fd: int, offset: int, count: int, size: int) -> int:
    pos = _get_off(k, offset, size)
    if pos is not None:
        if pos < 0:
            raise fail(errno.EINVAL)
        limit = (1 << (8 * size - 1)) - 1      # what the offset type can hold
        if pos + count > limit:
            if pos >= limit:
                raise fail(errno.EOVERFLOW)
            count = limit - pos
    sent = host_wait(k, lambda: os.sendfile(out_fd, in_fd, pos, count))
    if pos is not None:
        write_word(k, offset, pos + sent, size)
    return sent


@syscall("sendfile", "fd", "fd", "ptr", "size")
@_pipe_safe
def sendfile(k: Any, out_fd: int, in_fd: int, offset: int, count: int) -> int:
    """ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count);"""
    return _sendfile(k, out_fd, in_fd, offset, count, k.abi.word_size)


@syscall("sendfile64", "fd", "fd", "ptr", "size")
@_pipe_safe
def sendfile64(k: Any, out_fd: int, in_fd: int, offset: int, count: int) -> int:
    """ssize_t sendfile64(int out_fd, int in_fd, loff_t *offset, size_t count);"""
    return _sendfile(k, out_fd, in_fd, offset, count, 8)


@syscall("splice", "fd", "ptr", "fd", "ptr", "size", "flags")
@_pipe_safe
def splice(k: Any, fd_in: int, off_in: int, fd_out: int, off_out: int, length: int,
           flags: int) -> int:
    """ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
    unsigned int flags);"""
    src, dst = _get_off(k, off_in, 8), _get_off(k, off_out, 8)
    moved = host_wait(k, lambda: os.splice(fd_in, fd_out, length, src, dst, flags))
    if src is not None:
        write_word(k, off_in, src + moved, 8)
    if dst is not None:
        write_word(k, off_out, dst + moved, 8)
    return moved


@syscall("tee", "fd", "fd", "size", "flags")
def tee(k: Any, fd_in: int, fd_out: int, length: int, flags: int) -> int:
    """ssize_t tee(int fd_in, int fd_out, size_t len, unsigned int flags);"""
    return host_wait(k, lambda: hostlib.tee(fd_in, fd_out, length, flags))


@syscall("vmsplice", "fd", "ptr", "ulong", "flags")
@_pipe_safe
def vmsplice(k: Any, fd: int, iov: int, nr_segs: int, flags: int) -> int:
    """ssize_t vmsplice(int fd, const struct iovec *iov, size_t nr_segs, unsigned int flags);
    (guest memory is host memory: the pipe refers to the guest's pages, as with the kernel)"""
    into_pipe = host_fcntl.fcntl(fd, host_fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
    views = _iovecs(k, iov, nr_segs, write=not into_pipe)
    pieces = [(hostlib.address_of(v), len(v)) for v in views]
    if not pieces:
        return 0
    return host_wait(k, lambda: hostlib.vmsplice(fd, pieces, flags))


@syscall("copy_file_range", "fd", "ptr", "fd", "ptr", "size", "uint")
def copy_file_range(k: Any, fd_in: int, off_in: int, fd_out: int, off_out: int, length: int,
                    flags: int) -> int:
    """ssize_t copy_file_range(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
    size_t len, unsigned int flags);"""
    if flags:
        raise fail(errno.EINVAL)
    src, dst = _get_off(k, off_in, 8), _get_off(k, off_out, 8)
    copied = os.copy_file_range(fd_in, fd_out, length, src, dst)
    if src is not None:
        write_word(k, off_in, src + copied, 8)
    if dst is not None:
        write_word(k, off_out, dst + copied, 8)
    return copied


# -- file space and caching ------------------------------------------------------------------
@syscall("fallocate", "fd", "int", "loff", "loff")
def fallocate(k: Any, fd: int, mode: int, offset: int, length: int) -> int:
    """int fallocate(int fd, int mode, off_t offset, off_t len);"""
    hostlib.fallocate(fd, mode, offset, length)
    return 0


_FADV = ("POSIX_FADV_NORMAL", "POSIX_FADV_RANDOM", "POSIX_FADV_SEQUENTIAL",
         "POSIX_FADV_WILLNEED", "POSIX_FADV_DONTNEED", "POSIX_FADV_NOREUSE")


def _fadvise(k: Any, fd: int, offset: int, length: int, advice: int) -> int:
    host = next((getattr(os, n) for n in _FADV if k.abi.const.get(n) == advice), None)
    if host is None:
        os.fstat(fd)
        raise fail(errno.EINVAL)
    os.posix_fadvise(fd, offset, length, host)
    return 0


# The argument order is a fact of the syscall's name: ARM EABI's arm_fadvise64_64 puts the
# advice second so that the two 64-bit arguments fall on register pairs.
@syscall("fadvise64", "fd", "loff", "loff", "int")
def fadvise64(k: Any, fd: int, offset: int, length: int, advice: int) -> int:
    """int fadvise64(int fd, loff_t offset, loff_t len, int advice);  (fadvise64_64)"""
    return _fadvise(k, fd, offset, length, advice)


@syscall("arm_fadvise64_64", "fd", "int", "loff", "loff")
def arm_fadvise64_64(k: Any, fd: int, advice: int, offset: int, length: int) -> int:
    """int arm_fadvise64_64(int fd, int advice, loff_t offset, loff_t len);"""
    return _fadvise(k, fd, offset, length, advice)


@syscall("readahead", "fd", "loff", "size")
def readahead(k: Any, fd: int, offset: int, count: int) -> int:
    """ssize_t readahead(int fd, off64_t offset, size_t count);"""
    hostlib.readahead(fd, offset, count)
    return 0


@syscall("sync")
def sync(k: Any) -> int:
    """void sync(void);"""
    os.sync()
    return 0


@syscall("syncfs", "fd")
def syncfs(k: Any, fd: int) -> int:
    """int syncfs(int fd);"""
    hostlib.syncfs(fd)
    return 0


@syscall("sync_file_range", "fd", "loff", "loff", "uint")
def sync_file_range(k: Any, fd: int, offset: int, nbytes: int, flags: int) -> int:
    """int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags);"""
    hostlib.sync_file_range(fd, offset, nbytes, flags)
    return 0


# Same order fact as for fadvise: ARM's sync_file_range2 puts the flags second.
@syscall("arm_sync_file_range", "fd", "uint", "loff", "loff")
def arm_sync_file_range(k: Any, fd: int, flags: int, offset: int, nbytes: int) -> int:
    """int sync_file_range2(int fd, unsigned int flags, off64_t offset, off64_t nbytes);"""
    hostlib.sync_file_range(fd, offset, nbytes, flags)
    return 0


# -- closing many ----------------------------------------------------------------------------
@syscall("close_range", "uint", "uint", "uint")
def close_range(k: Any, first: int, last: int, flags: int) -> int:
    """int close_range(unsigned int first, unsigned int last, int flags);"""
    if first > last:
        raise fail(errno.EINVAL)
    for low, high in PRIVATE.ranges_without(first, last):    # pyemu's own fds stay open
        hostlib.close_range(low, high, flags)
    if not flags & k.abi.const["CLOSE_RANGE_CLOEXEC"]:
        codecs = state.of(k).fd_codecs
        for fd in [fd for fd in codecs if first <= fd <= last]:
            del codecs[fd]
    return 0
