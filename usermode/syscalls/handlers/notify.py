"""Descriptors the kernel makes for notification and anonymous memory: eventfd, inotify,
fanotify, memfd_create (timerfd lives with the clocks in ``time``).

They are host descriptors. What a guest reads from them is binary in the host's byte order, so
for a guest of the other byte order each gets a codec (``state.fd_codecs``) that swaps the
eventfd counter, the inotify_event header fields, or the fanotify event metadata and info
records. Flags are translated by name; inotify's (IN_*), fanotify's (FAN_*) and memfd's (MFD_*)
masks and flags have no per-arch part.
"""
from __future__ import annotations

import errno
import functools
import os
import struct
from typing import Any

from .. import hostlib
from ..flags import FlagTable
from ..registry import syscall
from .common import dir_fd, fail, foreign_byteorder, guest_path, inheritable, u64_codec
from .io import set_codec


def _flags(table: FlagTable, flags: int) -> int:
    """Host flags for guest ``flags``; a bit the table does not know is EINVAL."""
    if flags & ~sum(row.guest_mask for row in table.rows):
        raise fail(errno.EINVAL)
    return table.to_host(flags)


# -- eventfd ---------------------------------------------------------------------------------
@functools.cache
def _efd_flags(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, vars(os), ("EFD_CLOEXEC", "EFD_NONBLOCK",
                                                   "EFD_SEMAPHORE"))


def _eventfd(k: Any, initval: int, flags: int) -> int:
    fd = os.eventfd(initval, _flags(_efd_flags(k.abi), flags))
    if foreign_byteorder(k):
        set_codec(k, fd, u64_codec)       # the counter is read and written as a host u64
    return fd


@syscall("eventfd2", "uint", "flags")
def eventfd2(k: Any, initval: int, flags: int) -> int:
    """int eventfd2(unsigned int initval, int flags);"""
    return _eventfd(k, initval, flags)


@syscall("eventfd", "uint")
def eventfd(k: Any, initval: int) -> int:
    """int eventfd(unsigned int initval);"""
    return _eventfd(k, initval, 0)


# -- inotify ---------------------------------------------------------------------------------
_EVENT_HEAD = struct.Struct("=iIII")        # the host's wd, mask, cookie, len; the name follows


def inotify_codec(k: Any, data: bytes, to_guest: bool) -> bytes:
    """Each struct inotify_event's header in the guest's layout (reads return whole events)."""
    layout = k.abi.structs["inotify_event"]
    out = bytearray(data)
    pos = 0
    while pos + _EVENT_HEAD.size <= len(data):
        wd, mask, cookie, length = _EVENT_HEAD.unpack_from(data, pos)
        out[pos:pos + layout.size] = layout.pack(wd=wd, mask=mask, cookie=cookie, len=length)
        pos += _EVENT_HEAD.size + length
    return bytes(out)


@functools.cache
def _in_flags(abi: Any) -> FlagTable:
    # IN_CLOEXEC and IN_NONBLOCK are O_CLOEXEC and O_NONBLOCK by definition
    return FlagTable.by_name(abi.const, {"IN_CLOEXEC": os.O_CLOEXEC,
                                         "IN_NONBLOCK": os.O_NONBLOCK},
                             ("IN_CLOEXEC", "IN_NONBLOCK"))


def _inotify(k: Any, flags: int) -> int:
    host = _flags(_in_flags(k.abi), flags)
    fd = inheritable(hostlib.inotify_init1(host), cloexec=bool(host & os.O_CLOEXEC))
    if foreign_byteorder(k):
        set_codec(k, fd, inotify_codec)
    return fd


@syscall("inotify_init1", "flags")
def inotify_init1(k: Any, flags: int) -> int:
    """int inotify_init1(int flags);"""
    return _inotify(k, flags)


@syscall("inotify_init")
def inotify_init(k: Any) -> int:
    """int inotify_init(void);"""
    return _inotify(k, 0)


@syscall("inotify_add_watch", "fd", "str", "uint")
def inotify_add_watch(k: Any, fd: int, path: int, mask: int) -> int:
    """int inotify_add_watch(int fd, const char *pathname, uint32_t mask);"""
    follow = not mask & k.abi.const["IN_DONT_FOLLOW"]
    return hostlib.inotify_add_watch(fd, guest_path(k, path, follow=follow), mask)


@syscall("inotify_rm_watch", "fd", "int")
def inotify_rm_watch(k: Any, fd: int, wd: int) -> int:
    """int inotify_rm_watch(int fd, int wd);"""
    hostlib.inotify_rm_watch(fd, wd)
    return 0


# -- fanotify --------------------------------------------------------------------------------
_FAN_HEAD = struct.Struct("=IBBHQii")      # the host's struct fanotify_event_metadata
_FAN_INFO = struct.Struct("=BBH")          # struct fanotify_event_info_header


def fanotify_codec(k: Any, data: bytes, to_guest: bool) -> bytes:
    """Each event's metadata in the guest's layout, and its info records' integer fields
    (header, fsid, file handle size and type, pidfd, error) in the guest's byte order."""
    c = k.abi.const
    order = ">" if k.abi.byteorder == "big" else "<"
    layout = k.abi.structs["fanotify_event_metadata"]
    fid_types = {c["FAN_EVENT_INFO_TYPE_FID"], c["FAN_EVENT_INFO_TYPE_DFID_NAME"],
                 c["FAN_EVENT_INFO_TYPE_DFID"], c["FAN_EVENT_INFO_TYPE_OLD_DFID_NAME"],
                 c["FAN_EVENT_INFO_TYPE_NEW_DFID_NAME"]}
    int_types = {c["FAN_EVENT_INFO_TYPE_PIDFD"]: "i", c["FAN_EVENT_INFO_TYPE_ERROR"]: "iI"}
    out = bytearray(data)
    pos = 0
    while pos + _FAN_HEAD.size <= len(data):
        event_len, vers, reserved, meta_len, mask, fd, pid = _FAN_HEAD.unpack_from(data, pos)
        out[pos:pos + layout.size] = layout.pack(
            event_len=event_len, vers=vers, reserved=reserved, metadata_len=meta_len,
            mask=mask, fd=fd, pid=pid)
        info, end = pos + meta_len, pos + event_len
        while meta_len and info + _FAN_INFO.size <= end:
            kind, pad, length = _FAN_INFO.unpack_from(data, info)
            struct.pack_into(order + "BBH", out, info, kind, pad, length)
            body = info + _FAN_INFO.size
            if kind in fid_types:           # __kernel_fsid_t, then struct file_handle's head
                fields = struct.unpack_from("=iiIi", data, body)
                struct.pack_into(order + "iiIi", out, body, *fields)
            elif kind in int_types:
                fmt = int_types[kind]
                struct.pack_into(order + fmt, out, body, *struct.unpack_from("=" + fmt, data,
                                                                              body))
            if not length:
                break
            info += length
        if not event_len:
            break
        pos += event_len
    return bytes(out)


@syscall("fanotify_init", "flags", "oflags")
def fanotify_init(k: Any, flags: int, event_f_flags: int) -> int:
    """int fanotify_init(unsigned int flags, unsigned int event_f_flags);  (the event fds' open
    flags are translated; FAN_CLOEXEC/FAN_NONBLOCK are fanotify's own bits)"""
    host_event_flags = k.abi.open_flags.to_host(event_f_flags, passthrough=3)
    fd = hostlib.fanotify_init(flags, host_event_flags)
    fd = inheritable(fd, cloexec=bool(flags & k.abi.const["FAN_CLOEXEC"]))
    if foreign_byteorder(k):
        set_codec(k, fd, fanotify_codec)
    return fd


@syscall("fanotify_mark", "fd", "uint", "u64", "dirfd", "ptr")
def fanotify_mark(k: Any, fd: int, flags: int, mask: int, dirfd: int, path: int) -> int:
    """int fanotify_mark(int fanotify_fd, unsigned int flags, uint64_t mask, int dirfd,
    const char *pathname);  (a NULL pathname means dirfd itself)"""
    follow = not flags & k.abi.const["FAN_MARK_DONT_FOLLOW"]
    name = guest_path(k, path, follow=follow) if path else None
    hostlib.fanotify_mark(fd, flags, mask & 0xFFFFFFFFFFFFFFFF, dir_fd(k, dirfd), name)
    return 0


# -- memfd -----------------------------------------------------------------------------------
_MFD_NAME_MAX = 249     # NAME_MAX less the "memfd:" prefix


@functools.cache
def _mfd_flags(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, vars(os), ("MFD_CLOEXEC", "MFD_ALLOW_SEALING",
                                                   "MFD_HUGETLB"))


@syscall("memfd_create", "str", "flags")
def memfd_create(k: Any, name: int, flags: int) -> int:
    """int memfd_create(const char *name, unsigned int flags);  (a hugetlb size in the high
    bits passes through: MFD_HUGE_* are the same everywhere)"""
    c = k.abi.const
    table = _mfd_flags(k.abi)
    huge = flags & (c["MFD_HUGE_MASK"] << c["MFD_HUGE_SHIFT"])
    if huge and not flags & c["MFD_HUGETLB"]:
        raise fail(errno.EINVAL)
    if not name:
        raise fail(errno.EFAULT)
    try:
        text = k.space.read_cstr(name, _MFD_NAME_MAX + 1)
    except OSError as err:
        raise fail(errno.EINVAL if err.errno == errno.ENAMETOOLONG else err.errno) from None
    host = _flags(table, flags & ~huge) | huge
    fd = os.memfd_create(os.fsdecode(text), host)
    return inheritable(fd, cloexec=bool(host & os.MFD_CLOEXEC))
