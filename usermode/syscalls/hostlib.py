"""The few host libc calls Python's os module does not offer, through ctypes."""
from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.getdents64.restype = ctypes.c_ssize_t
_libc.getdents64.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
_libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                            ctypes.c_uint]
_libc.faccessat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

AT_FDCWD = -100
MADV_DONTNEED = 4


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def getdents64(fd: int, size: int) -> bytes:
    """Raw host linux_dirent64 records (at most ``size`` bytes)."""
    buf = ctypes.create_string_buffer(size)
    n = _check(_libc.getdents64(fd, buf, size))
    return buf.raw[:n]


def renameat2(olddir: int | None, old: bytes, newdir: int | None, new: bytes, flags: int) -> None:
    _check(_libc.renameat2(AT_FDCWD if olddir is None else olddir, old,
                           AT_FDCWD if newdir is None else newdir, new, flags))


def faccessat(dirfd: int | None, path: bytes, mode: int, flags: int) -> None:
    _check(_libc.faccessat(AT_FDCWD if dirfd is None else dirfd, path, mode, flags))


def madvise_dontneed(host_ptr: int, size: int) -> None:
    _check(_libc.madvise(host_ptr, size, MADV_DONTNEED))


_libc.statfs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
_libc.fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]


def statfs(target: bytes | int) -> dict[str, int]:
    """The host's struct statfs for a path or an fd (64-bit host: the generic layout)."""
    from .layouts import GENERIC_STATFS
    from .structs import Layout

    layout = Layout("statfs", GENERIC_STATFS, 8, "little")
    buf = ctypes.create_string_buffer(layout.size)
    if isinstance(target, int):
        _check(_libc.fstatfs(target, buf))
    else:
        _check(_libc.statfs(target, buf))
    return layout.unpack(buf.raw)
