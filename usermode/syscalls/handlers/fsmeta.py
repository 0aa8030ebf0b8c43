"""File-system metadata: symbolic and hard links, device nodes, modes, owners, timestamps.

Paths go through the sysroot resolver (``guest_path``), acting on a link itself where the call
does (``lchown``, ``symlink``'s new name, ``link`` without AT_SYMLINK_FOLLOW). A symlink's target
is stored as the guest wrote it. Owner ids are 32-bit, except the old 16-bit calls ARM keeps
next to their ``*32`` twins (``chown`` beside ``chown32``): there (uid16_t)-1 means "unchanged".
"""
from __future__ import annotations

import errno
import functools
import os
from typing import Any

from .. import hostlib
from ..registry import syscall
from .common import at_flag, dir_fd, fail, guest_path, kernel_nsec, read_struct

_NS = 1_000_000_000


# -- links -----------------------------------------------------------------------------------
def _symlink(k: Any, target: int, newdir: int | None, new: int) -> int:
    if target == 0:
        raise fail(errno.EFAULT)
    text = k.space.read_cstr(target)
    if not text:
        raise fail(errno.ENOENT)
    os.symlink(text, guest_path(k, new, follow=False), dir_fd=newdir)
    return 0


@syscall("symlinkat", "str", "dirfd", "str")
def symlinkat(k: Any, target: int, newdir: int, new: int) -> int:
    """int symlinkat(const char *target, int newdirfd, const char *linkpath);"""
    return _symlink(k, target, dir_fd(k, newdir), new)


@syscall("symlink", "str", "str")
def symlink(k: Any, target: int, new: int) -> int:
    """int symlink(const char *target, const char *linkpath);"""
    return _symlink(k, target, None, new)


def _link(k: Any, olddir: int | None, old: int, newdir: int | None, new: int, flags: int) -> int:
    c = k.abi.const
    if flags & ~(c["AT_SYMLINK_FOLLOW"] | c["AT_EMPTY_PATH"]):
        raise fail(errno.EINVAL)
    follow = at_flag(k, flags, "AT_SYMLINK_FOLLOW")
    empty = at_flag(k, flags, "AT_EMPTY_PATH")
    host_flags = (hostlib.AT_SYMLINK_FOLLOW if follow else 0) | (
        hostlib.AT_EMPTY_PATH if empty else 0)
    hostlib.linkat(olddir, guest_path(k, old, empty_ok=empty, follow=follow), newdir,
                   guest_path(k, new, follow=False), host_flags)
    return 0


@syscall("linkat", "dirfd", "str", "dirfd", "str", "flags")
def linkat(k: Any, olddir: int, old: int, newdir: int, new: int, flags: int) -> int:
    """int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
    int flags);"""
    return _link(k, dir_fd(k, olddir), old, dir_fd(k, newdir), new, flags)


@syscall("link", "str", "str")
def link(k: Any, old: int, new: int) -> int:
    """int link(const char *oldpath, const char *newpath);"""
    return _link(k, None, old, None, new, 0)


# -- device nodes ----------------------------------------------------------------------------
def _mknod(k: Any, dirfd: int | None, path: int, mode: int, dev: int) -> int:
    # the syscall's dev is the kernel's 32-bit "new" encoding (new_decode_dev)
    major, minor = (dev & 0xFFF00) >> 8, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    os.mknod(guest_path(k, path, follow=False), mode, os.makedev(major, minor), dir_fd=dirfd)
    return 0


@syscall("mknodat", "dirfd", "str", "mode", "uint")
def mknodat(k: Any, dirfd: int, path: int, mode: int, dev: int) -> int:
    """int mknodat(int dirfd, const char *pathname, mode_t mode, dev_t dev);"""
    return _mknod(k, dir_fd(k, dirfd), path, mode, dev)


@syscall("mknod", "str", "mode", "uint")
def mknod(k: Any, path: int, mode: int, dev: int) -> int:
    """int mknod(const char *pathname, mode_t mode, dev_t dev);"""
    return _mknod(k, None, path, mode, dev)


# -- modes -----------------------------------------------------------------------------------
@syscall("fchmod", "fd", "mode")
def fchmod(k: Any, fd: int, mode: int) -> int:
    """int fchmod(int fd, mode_t mode);"""
    os.fchmod(fd, mode & 0o7777)
    return 0


@syscall("fchmodat", "dirfd", "str", "mode")
def fchmodat(k: Any, dirfd: int, path: int, mode: int) -> int:
    """int fchmodat(int dirfd, const char *pathname, mode_t mode);  (the syscall has no flags)"""
    os.chmod(guest_path(k, path), mode & 0o7777, dir_fd=dir_fd(k, dirfd))
    return 0


@syscall("chmod", "str", "mode")
def chmod(k: Any, path: int, mode: int) -> int:
    """int chmod(const char *pathname, mode_t mode);"""
    os.chmod(guest_path(k, path), mode & 0o7777)
    return 0


# -- owners ----------------------------------------------------------------------------------
@functools.cache
def _names(abi: Any) -> frozenset[str]:
    return frozenset(abi.syscalls.values())


def host_id(k: Any, call: str, value: int) -> int:
    """A uid/gid argument of ``call`` for the host: -1 keeps; 16-bit where ARM has a *32 twin."""
    if call + "32" in _names(k.abi):
        value &= 0xFFFF
        return -1 if value == 0xFFFF else value
    value &= 0xFFFFFFFF
    return -1 if value == 0xFFFFFFFF else value


def _owner_calls(name: str, kind: str) -> None:
    """chown-family handlers under ``name`` and ``name``32: kind 'path', 'lpath' or 'fd'."""
    for call in (name, name + "32"):
        def handler(k: Any, where: int, uid: int, gid: int, call: str = call) -> int:
            uid, gid = host_id(k, call, uid), host_id(k, call, gid)
            if kind == "fd":
                os.fchown(where, uid, gid)
            else:
                follow = kind == "path"
                os.chown(guest_path(k, where, follow=follow), uid, gid, follow_symlinks=follow)
            return 0

        handler.__name__ = handler.__qualname__ = call
        handler.__doc__ = (f"int {call}({'int fd' if kind == 'fd' else 'const char *path'}, "
                           "uid_t owner, gid_t group);")
        syscall(call, "fd" if kind == "fd" else "str", "uint", "uint")(handler)


for _name, _kind in (("chown", "path"), ("lchown", "lpath"), ("fchown", "fd")):
    _owner_calls(_name, _kind)


@syscall("fchownat", "dirfd", "str", "uint", "uint", "flags")
def fchownat(k: Any, dirfd: int, path: int, uid: int, gid: int, flags: int) -> int:
    """int fchownat(int dirfd, const char *pathname, uid_t owner, gid_t group, int flags);"""
    c = k.abi.const
    if flags & ~(c["AT_SYMLINK_NOFOLLOW"] | c["AT_EMPTY_PATH"]):
        raise fail(errno.EINVAL)
    follow = not at_flag(k, flags, "AT_SYMLINK_NOFOLLOW")
    name = guest_path(k, path, empty_ok=at_flag(k, flags, "AT_EMPTY_PATH"), follow=follow)
    uid, gid = host_id(k, "fchownat", uid), host_id(k, "fchownat", gid)
    if not name:
        os.chown(dirfd if dirfd != c["AT_FDCWD"] else ".", uid, gid)
    else:
        os.chown(name, uid, gid, dir_fd=dir_fd(k, dirfd), follow_symlinks=follow)
    return 0


# -- timestamps ------------------------------------------------------------------------------
def _utimens(k: Any, dirfd: int, path: int, times: list[tuple[int, int]] | None,
             flags: int) -> int:
    """utimensat's rules: a NULL path means dirfd itself (then no flags)."""
    c = k.abi.const
    if flags & ~(c["AT_SYMLINK_NOFOLLOW"] | c["AT_EMPTY_PATH"]):
        raise fail(errno.EINVAL)
    if path == 0:
        if dirfd == c["AT_FDCWD"]:
            raise fail(errno.EFAULT)
        if flags:
            raise fail(errno.EINVAL)
        hostlib.futimens(dirfd, times)
        return 0
    follow = not at_flag(k, flags, "AT_SYMLINK_NOFOLLOW")
    name = guest_path(k, path, empty_ok=at_flag(k, flags, "AT_EMPTY_PATH"), follow=follow)
    if not name:
        hostlib.futimens(dirfd, times)   # AT_EMPTY_PATH: the file dirfd refers to
        return 0
    host_flags = 0 if follow else hostlib.AT_SYMLINK_NOFOLLOW
    hostlib.utimensat(dir_fd(k, dirfd), name, times, host_flags)
    return 0


def _read_times(k: Any, addr: int, layout: str, frac: str, scale: int) -> list[tuple[int, int]] | None:
    """Two guest time structs as (sec, nsec) pairs (nsec passes UTIME_NOW/UTIME_OMIT through)."""
    if addr == 0:
        return None
    size = k.abi.structs[layout].size
    out = []
    for i in range(2):
        t = read_struct(k, addr + i * size, layout)
        t[frac] = kernel_nsec(k, t[frac])
        if scale != 1 and not 0 <= t[frac] < _NS // scale:
            raise fail(errno.EINVAL)
        out.append((t["tv_sec"], t[frac] * scale))
    return out


def _utimensat_call(name: str, layout: str) -> None:
    def handler(k: Any, dirfd: int, path: int, times: int, flags: int) -> int:
        return _utimens(k, dirfd, path, _read_times(k, times, layout, "tv_nsec", 1), flags)

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = (f"int {name}(int dirfd, const char *pathname, "
                       f"const struct {layout} times[2], int flags);")
    syscall(name, "dirfd", "ptr", "ptr", "flags")(handler)


_utimensat_call("utimensat", "timespec")
_utimensat_call("utimensat_time64", "timespec64")


@syscall("futimesat", "dirfd", "str", "ptr")
def futimesat(k: Any, dirfd: int, path: int, times: int) -> int:
    """int futimesat(int dirfd, const char *pathname, const struct timeval times[2]);"""
    return _utimens(k, dirfd, path, _read_times(k, times, "timeval", "tv_usec", 1000), 0)


@syscall("utimes", "str", "ptr")
def utimes(k: Any, path: int, times: int) -> int:
    """int utimes(const char *filename, const struct timeval times[2]);"""
    return _utimens(k, k.abi.const["AT_FDCWD"], path,
                    _read_times(k, times, "timeval", "tv_usec", 1000), 0)


@syscall("utime", "str", "ptr")
def utime(k: Any, path: int, times: int) -> int:
    """int utime(const char *filename, const struct utimbuf *times);"""
    pairs = None
    if times:
        t = read_struct(k, times, "utimbuf")
        pairs = [(t["actime"], 0), (t["modtime"], 0)]
    return _utimens(k, k.abi.const["AT_FDCWD"], path, pairs, 0)
