"""File-system calls: open, the stat family, directories, links, names and permissions."""
from __future__ import annotations

import errno
import os
import re
import struct
from typing import Any

from ...kernel.fdspace import PRIVATE
from ...kernel.process import ProcView
from ...sysroot import procfs
from .. import hostlib
from ..registry import syscall
from .common import at_flag, dir_fd, fail, guest_path, inheritable, write_struct


# -- open ------------------------------------------------------------------------------------
def _open(k: Any, dirfd: int | None, path: int, flags: int, mode: int) -> int:
    host_flags = k.abi.open_flags.to_host(flags, passthrough=3)
    raw = k.space.read_cstr(path) if path else b""
    kind = k.paths.proc_kind(raw)
    if kind is not None:
        return _open_emulated(k, kind, host_flags)
    fd = os.open(guest_path(k, path), host_flags, mode, dir_fd=dirfd)
    return inheritable(fd, cloexec=bool(host_flags & os.O_CLOEXEC))


def _open_emulated(k: Any, kind: str, host_flags: int) -> int:
    """An emulated /proc file: its contents in a memfd (reads, seeks, fstat, mmap all work)."""
    if host_flags & os.O_ACCMODE != os.O_RDONLY:
        raise fail(errno.EACCES)
    fd = os.memfd_create(f"proc-{kind}", os.MFD_CLOEXEC if host_flags & os.O_CLOEXEC else 0)
    os.write(fd, procfs.render(kind, ProcView(k)))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@syscall("openat", "dirfd", "str", "oflags", "mode")
def openat(k: Any, dirfd: int, path: int, flags: int, mode: int) -> int:
    """int openat(int dirfd, const char *pathname, int flags, mode_t mode);"""
    return _open(k, dir_fd(k, dirfd), path, flags, mode)


@syscall("open", "str", "oflags", "mode")
def open_(k: Any, path: int, flags: int, mode: int) -> int:
    """int open(const char *pathname, int flags, mode_t mode);"""
    return _open(k, None, path, flags, mode)


_OPEN_HOW_SIZE_VER0 = 24      # linux/openat2.h


@syscall("openat2", "dirfd", "str", "ptr", "size")
def openat2(k: Any, dirfd: int, path: int, how: int, size: int) -> int:
    """int openat2(int dirfd, const char *pathname, struct open_how *how, size_t size);
    (a struct larger than pyemu knows must be zero past it; RESOLVE_* are the same everywhere)"""
    c = k.abi.const
    if size < _OPEN_HOW_SIZE_VER0:
        raise fail(errno.EINVAL)
    if size > 4096:
        raise fail(errno.E2BIG)
    raw = k.space.read(how, size)
    layout = k.abi.structs["open_how"]
    if any(raw[layout.size:]):
        raise fail(errno.E2BIG)
    h = layout.unpack(raw)
    flags, mode, resolve = h["flags"], h["mode"], h["resolve"]
    known = sum(row.guest_mask for row in k.abi.open_flags.rows) | c["O_ACCMODE"]
    if flags & ~known:
        raise fail(errno.EINVAL)
    if not flags & (c["O_CREAT"] | (c["O_TMPFILE"] & ~c["O_DIRECTORY"])):
        if mode:
            raise fail(errno.EINVAL)
    elif mode & ~0o7777:
        raise fail(errno.EINVAL)
    if not resolve:
        return _open(k, dir_fd(k, dirfd), path, flags, mode)
    host_flags = k.abi.open_flags.to_host(flags, passthrough=3)
    fd = hostlib.openat2(dir_fd(k, dirfd), guest_path(k, path), host_flags, mode, resolve)
    return inheritable(fd, cloexec=bool(host_flags & os.O_CLOEXEC))


@syscall("creat", "str", "mode")
def creat(k: Any, path: int, mode: int) -> int:
    """int creat(const char *pathname, mode_t mode);"""
    c = k.abi.const
    return _open(k, None, path, c["O_CREAT"] | c["O_WRONLY"] | c["O_TRUNC"], mode)


# -- stat ------------------------------------------------------------------------------------
def _stat_at(k: Any, dirfd: int, path: int, flags: int) -> os.stat_result:
    follow = not at_flag(k, flags, "AT_SYMLINK_NOFOLLOW")
    name = guest_path(k, path, empty_ok=at_flag(k, flags, "AT_EMPTY_PATH"), follow=follow)
    if not name:
        return os.stat(dirfd) if dirfd != k.abi.const["AT_FDCWD"] else os.stat(".")
    return os.stat(name, dir_fd=dir_fd(k, dirfd), follow_symlinks=follow)


def _pack_stat(k: Any, addr: int, layout: str, st: os.stat_result) -> int:
    values = {
        "st_dev": st.st_dev, "st_ino": st.st_ino, "__st_ino": st.st_ino, "st_mode": st.st_mode,
        "st_nlink": st.st_nlink, "st_uid": st.st_uid, "st_gid": st.st_gid,
        "st_rdev": st.st_rdev, "st_size": st.st_size, "st_blksize": st.st_blksize,
        "st_blocks": st.st_blocks,
    }
    for field, ns in (("st_atime", st.st_atime_ns), ("st_mtime", st.st_mtime_ns),
                      ("st_ctime", st.st_ctime_ns)):
        values[field], values[field + "_nsec"] = divmod(ns, 1_000_000_000)
    if st.st_size > k.abi.structs[layout].fields[0].size * 0 + _max_field(k, layout, "st_size"):
        raise fail(errno.EOVERFLOW)
    write_struct(k, addr, layout, values)
    return 0


def _max_field(k: Any, layout: str, field: str) -> int:
    f = next(f for f in k.abi.structs[layout].fields if f.name == field)
    return (1 << (8 * f.size - (1 if f.code.islower() else 0))) - 1


def _stat_family(name: str, layout: str, kind: str) -> None:
    """Register one stat-family syscall: kind is 'path', 'lpath', 'fd' or 'at'."""
    args = {"path": ("str", "ptr"), "lpath": ("str", "ptr"), "fd": ("fd", "ptr"),
            "at": ("dirfd", "str", "ptr", "flags")}[kind]

    def handler(k: Any, *a: int) -> int:
        if kind == "fd":
            st = os.stat(a[0])
        elif kind == "at":
            st = _stat_at(k, a[0], a[1], a[3])
        else:
            follow = kind == "path"
            st = os.stat(guest_path(k, a[0], follow=follow), follow_symlinks=follow)
        return _pack_stat(k, a[-1] if kind != "at" else a[2], layout, st)

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = f"{name}: struct {layout}"
    syscall(name, *args)(handler)


for _name, _layout, _kind in (
        ("stat", "stat", "path"), ("lstat", "stat", "lpath"), ("fstat", "stat", "fd"),
        ("newfstatat", "stat", "at"), ("stat64", "stat64", "path"),
        ("lstat64", "stat64", "lpath"), ("fstat64", "stat64", "fd"),
        ("fstatat64", "stat64", "at")):
    _stat_family(_name, _layout, _kind)


@syscall("statx", "dirfd", "str", "flags", "uint", "ptr")
def statx(k: Any, dirfd: int, path: int, flags: int, mask: int, buf: int) -> int:
    """int statx(int dirfd, const char *pathname, int flags, unsigned int mask,
    struct statx *statxbuf);"""
    st = _stat_at(k, dirfd, path, flags)
    values = {
        "stx_mask": 0x7FF, "stx_blksize": st.st_blksize, "stx_nlink": st.st_nlink,
        "stx_uid": st.st_uid, "stx_gid": st.st_gid, "stx_mode": st.st_mode,
        "stx_ino": st.st_ino, "stx_size": st.st_size, "stx_blocks": st.st_blocks,
        "stx_rdev_major": os.major(st.st_rdev), "stx_rdev_minor": os.minor(st.st_rdev),
        "stx_dev_major": os.major(st.st_dev), "stx_dev_minor": os.minor(st.st_dev),
    }
    for field, ns in (("stx_atime", st.st_atime_ns), ("stx_mtime", st.st_mtime_ns),
                      ("stx_ctime", st.st_ctime_ns)):
        values[field + "_sec"], values[field + "_nsec"] = divmod(ns, 1_000_000_000)
    write_struct(k, buf, "statx", values)
    return 0


# -- directories -----------------------------------------------------------------------------
_DIRENT_HEAD = struct.Struct("<QqHB")


_OWN_FD_DIR = re.compile(rb"/proc/(\d+)(?:/task/\d+)?/fd(?:info)?")


def _read_entries(fd: int, count: int) -> bytes:
    """Host linux_dirent64 records; in a listing of this process's /proc/PID/fd (or fdinfo),
    without pyemu's own descriptors (kernel.fdspace)."""
    raw = hostlib.getdents64(fd, count)
    if not raw:
        return raw
    try:
        where = os.readlink(f"/proc/self/fd/{fd}".encode())
    except OSError:
        return raw
    found = _OWN_FD_DIR.fullmatch(where)
    if found is None or int(found.group(1)) != os.getpid():
        return raw
    kept, pos = bytearray(), 0
    while pos < len(raw):
        reclen = _DIRENT_HEAD.unpack_from(raw, pos)[2]
        name = raw[pos + _DIRENT_HEAD.size:pos + reclen].split(b"\0", 1)[0]
        if not (name.isdigit() and int(name) in PRIVATE.numbers):
            kept += raw[pos:pos + reclen]
        pos += reclen
    return bytes(kept) if kept else _read_entries(fd, count)


@syscall("getdents64", "fd", "ptr", "uint")
def getdents64(k: Any, fd: int, dirp: int, count: int) -> int:
    """ssize_t getdents64(int fd, void *dirp, size_t count);"""
    raw = _read_entries(fd, count)
    if k.abi.byteorder == "little":
        k.space.write(dirp, raw)
        return len(raw)
    layout = k.abi.structs["linux_dirent64"]
    out = bytearray(raw)
    pos = 0
    while pos < len(raw):
        ino, off, reclen, dtype = _DIRENT_HEAD.unpack_from(raw, pos)
        head = layout.pack(d_ino=ino, d_off=off, d_reclen=reclen, d_type=dtype)
        out[pos:pos + _DIRENT_HEAD.size] = head[:_DIRENT_HEAD.size]
        pos += reclen
    k.space.write(dirp, bytes(out))
    return len(out)


@syscall("getdents", "fd", "ptr", "uint")
def getdents(k: Any, fd: int, dirp: int, count: int) -> int:
    """long getdents(unsigned int fd, struct linux_dirent *dirp, unsigned int count);

    The old record: word-sized d_ino and d_off, d_reclen, the name, and d_type in the record's
    last byte. A 32-bit guest's records are never longer than the host's linux_dirent64 ones, so
    one host read fills the guest buffer; an inode number that does not fit is EOVERFLOW, an
    offset is truncated to the word (as the kernel's filldir does).
    """
    raw = _read_entries(fd, count)
    layout = k.abi.structs["linux_dirent"]
    head = layout.offsets["d_reclen"] + 2          # offsetof(struct linux_dirent, d_name)
    word, limit = k.abi.word_size, k.abi.word_mask
    out = bytearray()
    pos = 0
    while pos < len(raw):
        ino, off, reclen, dtype = _DIRENT_HEAD.unpack_from(raw, pos)
        name = raw[pos + _DIRENT_HEAD.size:pos + reclen].split(b"\0", 1)[0]
        if ino > limit:
            if not out:
                raise fail(errno.EOVERFLOW)
            os.lseek(fd, prev_off, os.SEEK_SET)     # resume at the entry that did not fit
            break
        size = -(-(head + len(name) + 2) // word) * word
        record = bytearray(layout.pack(d_ino=ino, d_off=off & limit, d_reclen=size)[:head])
        record += name + bytes(size - head - len(name))
        record[-1] = dtype
        out += record
        prev_off = off
        pos += reclen
    k.space.write(dirp, bytes(out))
    return len(out)


@syscall("readdir", "fd", "ptr", "uint")
def readdir(k: Any, fd: int, dirent: int, count: int) -> int:
    """int readdir(unsigned int fd, struct old_linux_dirent *dirp, unsigned int count);
    (one entry: 1, or 0 at the end; d_offset is the entry's own position)"""
    here = os.lseek(fd, 0, os.SEEK_CUR)
    raw = hostlib.getdents64(fd, 1024)
    if not raw:
        return 0
    ino, off, reclen, _dtype = _DIRENT_HEAD.unpack_from(raw)
    name = raw[_DIRENT_HEAD.size:reclen].split(b"\0", 1)[0]
    os.lseek(fd, off, os.SEEK_SET)          # just past this entry
    if ino > k.abi.word_mask:
        raise fail(errno.EOVERFLOW)
    layout = k.abi.structs["old_linux_dirent"]
    head = layout.pack(d_ino=ino, d_offset=here & k.abi.word_mask, d_namlen=len(name))
    k.space.write(dirent, head[:layout.offsets["d_namlen"] + 2] + name + b"\0")
    return 1


@syscall("getcwd", "ptr", "size")
def getcwd(k: Any, buf: int, size: int) -> int:
    """int getcwd(char *buf, size_t size);  (the syscall returns the length)"""
    cwd = os.getcwdb() + b"\0"
    if len(cwd) > size:
        raise fail(errno.ERANGE)
    k.space.write(buf, cwd)
    return len(cwd)


@syscall("chdir", "str")
def chdir(k: Any, path: int) -> int:
    """int chdir(const char *path);"""
    os.chdir(guest_path(k, path))
    return 0


@syscall("fchdir", "fd")
def fchdir(k: Any, fd: int) -> int:
    """int fchdir(int fd);"""
    os.fchdir(fd)
    return 0


@syscall("mkdirat", "dirfd", "str", "mode")
def mkdirat(k: Any, dirfd: int, path: int, mode: int) -> int:
    """int mkdirat(int dirfd, const char *pathname, mode_t mode);"""
    os.mkdir(guest_path(k, path), mode, dir_fd=dir_fd(k, dirfd))
    return 0


@syscall("mkdir", "str", "mode")
def mkdir(k: Any, path: int, mode: int) -> int:
    """int mkdir(const char *pathname, mode_t mode);"""
    os.mkdir(guest_path(k, path), mode)
    return 0


@syscall("unlinkat", "dirfd", "str", "flags")
def unlinkat(k: Any, dirfd: int, path: int, flags: int) -> int:
    """int unlinkat(int dirfd, const char *pathname, int flags);"""
    name, where = guest_path(k, path, follow=False), dir_fd(k, dirfd)
    if at_flag(k, flags, "AT_REMOVEDIR"):
        os.rmdir(name, dir_fd=where)
    else:
        os.unlink(name, dir_fd=where)
    return 0


@syscall("unlink", "str")
def unlink(k: Any, path: int) -> int:
    """int unlink(const char *pathname);"""
    os.unlink(guest_path(k, path, follow=False))
    return 0


@syscall("rmdir", "str")
def rmdir(k: Any, path: int) -> int:
    """int rmdir(const char *pathname);"""
    os.rmdir(guest_path(k, path, follow=False))
    return 0


@syscall("renameat2", "dirfd", "str", "dirfd", "str", "uint")
def renameat2(k: Any, olddir: int, old: int, newdir: int, new: int, flags: int) -> int:
    """int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
    unsigned int flags);"""
    hostlib.renameat2(dir_fd(k, olddir), guest_path(k, old, follow=False), dir_fd(k, newdir),
                      guest_path(k, new, follow=False), flags)
    return 0


@syscall("renameat", "dirfd", "str", "dirfd", "str")
def renameat(k: Any, olddir: int, old: int, newdir: int, new: int) -> int:
    """int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);"""
    os.rename(guest_path(k, old, follow=False), guest_path(k, new, follow=False),
              src_dir_fd=dir_fd(k, olddir), dst_dir_fd=dir_fd(k, newdir))
    return 0


@syscall("rename", "str", "str")
def rename(k: Any, old: int, new: int) -> int:
    """int rename(const char *oldpath, const char *newpath);"""
    os.rename(guest_path(k, old, follow=False), guest_path(k, new, follow=False))
    return 0


# -- links and access ------------------------------------------------------------------------
def _readlink(k: Any, dirfd: int | None, path: int, buf: int, size: int) -> int:
    if size <= 0:
        raise fail(errno.EINVAL)
    raw = k.space.read_cstr(path)
    target = k.paths.link_target(raw)
    if target is None:
        target = os.readlink(k.paths.host(raw, follow=False) if raw else raw, dir_fd=dirfd)
    target = target[:size]
    k.space.write(buf, target)
    return len(target)


@syscall("readlinkat", "dirfd", "str", "ptr", "int")
def readlinkat(k: Any, dirfd: int, path: int, buf: int, size: int) -> int:
    """ssize_t readlinkat(int dirfd, const char *pathname, char *buf, size_t bufsiz);"""
    return _readlink(k, dir_fd(k, dirfd), path, buf, size)


@syscall("readlink", "str", "ptr", "int")
def readlink(k: Any, path: int, buf: int, size: int) -> int:
    """ssize_t readlink(const char *pathname, char *buf, size_t bufsiz);"""
    return _readlink(k, None, path, buf, size)


@syscall("faccessat2", "dirfd", "str", "int", "flags")
def faccessat2(k: Any, dirfd: int, path: int, mode: int, flags: int) -> int:
    """int faccessat2(int dirfd, const char *pathname, int mode, int flags);"""
    hostlib.faccessat(dir_fd(k, dirfd), guest_path(k, path), mode, flags)
    return 0


@syscall("faccessat", "dirfd", "str", "int")
def faccessat(k: Any, dirfd: int, path: int, mode: int) -> int:
    """int faccessat(int dirfd, const char *pathname, int mode);  (the syscall has no flags)"""
    hostlib.faccessat(dir_fd(k, dirfd), guest_path(k, path), mode, 0)
    return 0


@syscall("access", "str", "int")
def access(k: Any, path: int, mode: int) -> int:
    """int access(const char *pathname, int mode);"""
    hostlib.faccessat(None, guest_path(k, path), mode, 0)
    return 0


# -- sizes and modes -------------------------------------------------------------------------
@syscall("ftruncate", "fd", "off")
def ftruncate(k: Any, fd: int, length: int) -> int:
    """int ftruncate(int fd, off_t length);"""
    os.ftruncate(fd, length)
    return 0


@syscall("ftruncate64", "fd", "loff")
def ftruncate64(k: Any, fd: int, length: int) -> int:
    """int ftruncate64(int fd, loff_t length);"""
    os.ftruncate(fd, length)
    return 0


@syscall("truncate", "str", "off")
def truncate(k: Any, path: int, length: int) -> int:
    """int truncate(const char *path, off_t length);"""
    os.truncate(guest_path(k, path), length)
    return 0


@syscall("truncate64", "str", "loff")
def truncate64(k: Any, path: int, length: int) -> int:
    """int truncate64(const char *path, loff_t length);"""
    os.truncate(guest_path(k, path), length)
    return 0


@syscall("umask", "mode")
def umask(k: Any, mask: int) -> int:
    """mode_t umask(mode_t mask);"""
    return os.umask(mask & 0o777)
