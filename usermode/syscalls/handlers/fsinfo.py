"""File-system information and extended attributes: statfs family, xattr calls."""
from __future__ import annotations

import errno
import os
from typing import Any

from .. import hostlib
from ..registry import syscall
from .common import fail, guest_path, write_struct


def _put_statfs(k: Any, buf: int, layout: str, host: dict[str, int]) -> int:
    limit = (1 << (8 * k.abi.structs[layout].fields[2].size)) - 1
    if any(host[f] > limit for f in ("f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")):
        raise fail(errno.EOVERFLOW)
    write_struct(k, buf, layout, host)
    return 0


def _check_size(k: Any, size: int) -> None:
    if size != k.abi.structs["statfs64"].size and size not in k.abi.spec.statfs64_sizes:
        raise fail(errno.EINVAL)


@syscall("statfs", "str", "ptr")
def statfs(k: Any, path: int, buf: int) -> int:
    """int statfs(const char *path, struct statfs *buf);"""
    return _put_statfs(k, buf, "statfs", hostlib.statfs(guest_path(k, path)))


@syscall("fstatfs", "fd", "ptr")
def fstatfs(k: Any, fd: int, buf: int) -> int:
    """int fstatfs(int fd, struct statfs *buf);"""
    return _put_statfs(k, buf, "statfs", hostlib.statfs(fd))


@syscall("statfs64", "str", "size", "ptr")
def statfs64(k: Any, path: int, size: int, buf: int) -> int:
    """int statfs64(const char *path, size_t sz, struct statfs64 *buf);"""
    _check_size(k, size)
    return _put_statfs(k, buf, "statfs64", hostlib.statfs(guest_path(k, path)))


@syscall("fstatfs64", "fd", "size", "ptr")
def fstatfs64(k: Any, fd: int, size: int, buf: int) -> int:
    """int fstatfs64(int fd, size_t sz, struct statfs64 *buf);"""
    _check_size(k, size)
    return _put_statfs(k, buf, "statfs64", hostlib.statfs(fd))


# -- extended attributes ---------------------------------------------------------------------
def _target(k: Any, where: int, kind: str) -> tuple[bytes | int, bool]:
    """(path or fd, follow symlinks) for the x, lx and fx variants."""
    if kind == "f":
        return where, True
    return guest_path(k, where, follow=kind == ""), kind == ""


def _put_value(k: Any, buf: int, size: int, value: bytes) -> int:
    if size == 0:
        return len(value)
    if len(value) > size:
        raise fail(errno.ERANGE)
    k.space.write(buf, value)
    return len(value)


def _xattr_family(kind: str) -> None:
    first = "fd" if kind == "f" else "str"

    def getxattr(k: Any, where: int, name: int, buf: int, size: int) -> int:
        """ssize_t getxattr(const char *path, const char *name, void *value, size_t size);"""
        target, follow = _target(k, where, kind)
        value = os.getxattr(target, k.space.read_cstr(name), follow_symlinks=follow)
        return _put_value(k, buf, size, value)

    def listxattr(k: Any, where: int, buf: int, size: int) -> int:
        """ssize_t listxattr(const char *path, char *list, size_t size);"""
        target, follow = _target(k, where, kind)
        names = os.listxattr(target, follow_symlinks=follow)
        return _put_value(k, buf, size, b"".join(os.fsencode(n) + b"\0" for n in names))

    def setxattr(k: Any, where: int, name: int, value: int, size: int, flags: int) -> int:
        """int setxattr(const char *path, const char *name, const void *value, size_t size,
        int flags);"""
        target, follow = _target(k, where, kind)
        os.setxattr(target, k.space.read_cstr(name), k.space.read(value, size), flags,
                    follow_symlinks=follow)
        return 0

    def removexattr(k: Any, where: int, name: int) -> int:
        """int removexattr(const char *path, const char *name);"""
        target, follow = _target(k, where, kind)
        os.removexattr(target, k.space.read_cstr(name), follow_symlinks=follow)
        return 0

    syscall(f"{kind}getxattr", first, "str", "ptr", "size")(getxattr)
    syscall(f"{kind}listxattr", first, "ptr", "size")(listxattr)
    syscall(f"{kind}setxattr", first, "str", "ptr", "size", "int")(setxattr)
    syscall(f"{kind}removexattr", first, "str")(removexattr)


for _kind in ("", "l", "f"):
    _xattr_family(_kind)
