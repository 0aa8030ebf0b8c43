"""File-descriptor I/O: read/write families, seeking, duplication, pipes, fcntl, ioctl.

Guest descriptors are host descriptors (as in qemu-user), so fork and exec keep them naturally.
Data moves between files and guest memory through memoryviews over the guest's pages: no copies.
"""
from __future__ import annotations

import errno
import fcntl as host_fcntl
import functools
import os
import struct
import sys
import termios
from typing import Any

from ...kernel.fdspace import PRIVATE
from ...translate.memory import GuestFault
from .. import hostlib, state
from ..flags import FlagTable
from ..registry import syscall
from ..structs import Layout
from .common import (fail, host_wait, inheritable, read_struct, wait_readable, write_struct,
                     write_word)
from .signals import signal_self

_IOV_MAX = 1024
_SMALL_WRITE = 4096     # write() copies this much rather than building memoryviews


# -- descriptors whose data need translating (state.fd_codecs) -------------------------------
def _codec(k: Any, fd: int) -> Any:
    codecs = state.of(k).fd_codecs
    return codecs.get(fd) if codecs else None


def set_codec(k: Any, fd: int, codec: Any) -> None:
    """Translate what the guest reads from and writes to ``fd`` with ``codec``."""
    state.of(k).fd_codecs[fd] = codec


def _copy_codec(k: Any, old: int, new: int) -> int:
    codecs = state.of(k).fd_codecs
    if old in codecs:
        codecs[new] = codecs[old]
    else:
        codecs.pop(new, None)
    return new


def _read_translated(k: Any, fd: int, codec: Any, iov: list[tuple[int, int]]) -> int:
    """read/readv of a translated descriptor: one host read, then the guest's buffers. A codec
    with a ``read`` method serves reads itself (signalfd: the records are pyemu's)."""
    total = sum(n for _, n in iov)
    reader = getattr(codec, "read", None)
    data = reader(k, fd, total) if reader else codec(k, os.read(fd, total), True)
    done = 0
    for addr, n in iov:
        piece = data[done:done + n]
        if piece:
            k.space.write(addr, piece)
        done += len(piece)
    return len(data)


def _write_translated(k: Any, fd: int, codec: Any, iov: list[tuple[int, int]]) -> int:
    data = b"".join(k.space.read(addr, n) for addr, n in iov)
    return os.write(fd, codec(k, data, False))


@syscall("read", "fd", "ptr", "size")
def read(k: Any, fd: int, buf: int, count: int) -> int:
    """ssize_t read(int fd, void *buf, size_t count);"""
    if count == 0:
        return len(os.read(fd, 0))
    wait_readable(k, fd)
    codec = _codec(k, fd)
    if codec is not None:
        return _read_translated(k, fd, codec, [(buf, count)])
    return os.readv(fd, k.space.views(buf, count, write=True, partial=True))


def _pipe_safe(fn):
    """Writing to a pipe with no reader raises SIGPIPE in the guest (pyemu itself ignores it)."""
    @functools.wraps(fn)
    def wrapper(k: Any, *args: int) -> int:
        try:
            return fn(k, *args)
        except BrokenPipeError:
            signal_self(k, "SIGPIPE")
            raise
    return wrapper


@syscall("write", "fd", "buf", "size")
@_pipe_safe
def write(k: Any, fd: int, buf: int, count: int) -> int:
    """ssize_t write(int fd, const void *buf, size_t count);"""
    if count == 0:
        return os.write(fd, b"")
    codec = _codec(k, fd)
    if codec is not None:
        return _write_translated(k, fd, codec, [(buf, count)])
    if count <= _SMALL_WRITE:
        try:
            return os.write(fd, k.space.read(buf, count))
        except GuestFault:      # not all readable: the kernel writes the readable prefix
            pass
    return os.writev(fd, k.space.views(buf, count, write=False, partial=True))


@syscall("pread64", "fd", "ptr", "size", "loff")
def pread64(k: Any, fd: int, buf: int, count: int, offset: int) -> int:
    """ssize_t pread64(int fd, void *buf, size_t count, loff_t offset);"""
    if count == 0:
        return len(os.pread(fd, 0, offset))
    return os.preadv(fd, k.space.views(buf, count, write=True, partial=True), offset)


@syscall("pwrite64", "fd", "ptr", "size", "loff")
@_pipe_safe
def pwrite64(k: Any, fd: int, buf: int, count: int, offset: int) -> int:
    """ssize_t pwrite64(int fd, const void *buf, size_t count, loff_t offset);"""
    if count == 0:
        return os.pwrite(fd, b"", offset)
    return os.pwritev(fd, k.space.views(buf, count, write=False, partial=True), offset)


def _iov_entries(k: Any, iov: int, iovcnt: int) -> list[tuple[int, int]]:
    if iovcnt < 0 or iovcnt > _IOV_MAX:
        raise fail(errno.EINVAL)
    layout = k.abi.structs["iovec"]
    raw = k.space.read(iov, layout.size * iovcnt)
    out = []
    for i in range(iovcnt):
        entry = layout.unpack(raw[i * layout.size:(i + 1) * layout.size])
        if entry["iov_len"]:
            out.append((entry["iov_base"], entry["iov_len"]))
    return out


def _iovecs(k: Any, iov: int, iovcnt: int, write: bool) -> list[memoryview]:
    views: list[memoryview] = []
    for base, length in _iov_entries(k, iov, iovcnt):
        views += k.space.views(base, length, write=write)
    return views


@syscall("readv", "fd", "ptr", "int")
def readv(k: Any, fd: int, iov: int, iovcnt: int) -> int:
    """ssize_t readv(int fd, const struct iovec *iov, int iovcnt);"""
    wait_readable(k, fd)
    codec = _codec(k, fd)
    if codec is not None:
        return _read_translated(k, fd, codec, _iov_entries(k, iov, iovcnt))
    views = _iovecs(k, iov, iovcnt, write=True)
    return os.readv(fd, views) if views else len(os.read(fd, 0))


@syscall("writev", "fd", "ptr", "int")
@_pipe_safe
def writev(k: Any, fd: int, iov: int, iovcnt: int) -> int:
    """ssize_t writev(int fd, const struct iovec *iov, int iovcnt);"""
    codec = _codec(k, fd)
    if codec is not None:
        return _write_translated(k, fd, codec, _iov_entries(k, iov, iovcnt))
    views = _iovecs(k, iov, iovcnt, write=False)
    return os.writev(fd, views) if views else os.write(fd, b"")


@syscall("lseek", "fd", "off", "int")
def lseek(k: Any, fd: int, offset: int, whence: int) -> int:
    """off_t lseek(int fd, off_t offset, int whence);"""
    result = os.lseek(fd, offset, whence)
    if result > k.abi.word_mask >> 1:
        raise fail(errno.EOVERFLOW)
    return result


@syscall("_llseek", "fd", "ulong", "ulong", "ptr", "int")
def llseek(k: Any, fd: int, high: int, low: int, result: int, whence: int) -> int:
    """int _llseek(unsigned int fd, unsigned long offset_high, unsigned long offset_low,
    loff_t *result, unsigned int whence);"""
    offset = (high << 32) | low
    if offset >> 63:
        offset -= 1 << 64
    write_word(k, result, os.lseek(fd, offset, whence), 8)
    return 0


@syscall("close", "fd")
def close(k: Any, fd: int) -> int:
    """int close(int fd);"""
    os.close(fd)
    state.of(k).fd_codecs.pop(fd, None)
    return 0


@syscall("dup", "fd")
def dup(k: Any, fd: int) -> int:
    """int dup(int oldfd);"""
    return _copy_codec(k, fd, inheritable(os.dup(fd), cloexec=False))


def _new_fd(new: int) -> int:
    """dup2's and dup3's newfd: EBADF at or past the fd limit (where pyemu keeps its own)."""
    if not 0 <= new < PRIVATE.guest_limit:
        raise fail(errno.EBADF)
    return new


@syscall("dup2", "fd", "fd")
def dup2(k: Any, old: int, new: int) -> int:
    """int dup2(int oldfd, int newfd);"""
    _new_fd(new)
    if old == new:
        os.fstat(old)
        return new
    return _copy_codec(k, old, os.dup2(old, new, inheritable=True))


@syscall("dup3", "fd", "fd", "oflags")
def dup3(k: Any, old: int, new: int, flags: int) -> int:
    """int dup3(int oldfd, int newfd, int flags);"""
    cloexec = k.abi.const["O_CLOEXEC"]
    if old == new or flags & ~cloexec:
        raise fail(errno.EINVAL)
    _new_fd(new)
    return _copy_codec(k, old, os.dup2(old, new, inheritable=not flags & cloexec))


@syscall("pipe2", "ptr", "oflags")
def pipe2(k: Any, fds: int, flags: int) -> int:
    """int pipe2(int pipefd[2], int flags);"""
    r, w = os.pipe2(k.abi.open_flags.to_host(flags))
    k.space.write(fds, struct.pack(_int_pair(k), r, w))
    return 0


@syscall("pipe", "ptr")
def pipe(k: Any, fds: int) -> int | tuple[int, int]:
    """int pipe(int pipefd[2]);  (MIPS o32 returns the two fds in v0/v1 instead)"""
    r, w = os.pipe2(0)
    if k.abi.spec.ret2_reg:
        return (r, w)
    k.space.write(fds, struct.pack(_int_pair(k), r, w))
    return 0


def _int_pair(k: Any) -> str:
    return ("<" if k.abi.byteorder == "little" else ">") + "ii"


def _fcntl(k: Any, fd: int, cmd: int, arg: int, wide: bool) -> int:
    c = k.abi.const
    if fd < 0:
        raise fail(errno.EBADF)     # Python's fcntl module refuses negative fds itself
    if cmd in (c["F_DUPFD"], c["F_DUPFD_CLOEXEC"]):
        if not 0 <= arg < PRIVATE.guest_limit:
            raise fail(errno.EINVAL)
        new = host_fcntl.fcntl(fd, host_fcntl.F_DUPFD, arg)
        return _copy_codec(k, fd, inheritable(new, cloexec=cmd == c["F_DUPFD_CLOEXEC"]))
    if cmd == c["F_GETFD"]:
        return host_fcntl.fcntl(fd, host_fcntl.F_GETFD)
    if cmd == c["F_SETFD"]:
        return host_fcntl.fcntl(fd, host_fcntl.F_SETFD, arg & host_fcntl.FD_CLOEXEC)
    if cmd == c["F_GETFL"]:
        return k.abi.open_flags.to_guest(host_fcntl.fcntl(fd, host_fcntl.F_GETFL), 3)
    if cmd == c["F_SETFL"]:
        return host_fcntl.fcntl(fd, host_fcntl.F_SETFL, k.abi.open_flags.to_host(arg))
    lock = _lock_commands(k.abi).get(cmd)
    if lock is not None:
        host_cmd, narrow_layout, wide_layout = lock
        layout = wide_layout if wide else narrow_layout
        if layout is None:
            raise fail(errno.EINVAL)
        return _record_lock(k, fd, host_cmd, arg, layout)
    if cmd in (c["F_GETOWN_EX"], c["F_SETOWN_EX"]):
        return _owner_ex(k, fd, cmd == c["F_SETOWN_EX"], arg)
    simple = _simple_commands(k.abi).get(cmd)
    if simple is not None:
        host_cmd, to_host, to_guest = simple
        return to_guest(k, host_fcntl.fcntl(fd, host_cmd, to_host(k, arg)))
    os.fstat(fd)
    raise fail(errno.EINVAL)


@syscall("fcntl", "fd", "int", "ulong")
def fcntl(k: Any, fd: int, cmd: int, arg: int) -> int:
    """int fcntl(int fd, int cmd, ... /* arg */ );  (record locks: struct flock)"""
    return _fcntl(k, fd, cmd, arg, wide=False)


@syscall("fcntl64", "fd", "int", "ulong")
def fcntl64(k: Any, fd: int, cmd: int, arg: int) -> int:
    """int fcntl64(int fd, int cmd, ... /* arg */ );  (F_*LK64 and OFD locks: struct flock64)"""
    return _fcntl(k, fd, cmd, arg, wide=True)


# -- record locks ----------------------------------------------------------------------------
# The host's struct flock (64-bit host: the generic layout with 64-bit offsets).
_HOST_FLOCK = Layout("flock", [("l_type", "i16"), ("l_whence", "i16"), ("l_start", "i64"),
                               ("l_len", "i64"), ("l_pid", "i32")], 8, sys.byteorder)
_LOCK_TYPES = ("F_RDLCK", "F_WRLCK", "F_UNLCK")


@functools.cache
def _lock_commands(abi: Any) -> dict[int, tuple[int, str | None, str | None]]:
    """guest command -> (host command, layout through fcntl, layout through fcntl64).

    fcntl takes struct flock for F_GETLK/F_SETLK/F_SETLKW and the OFD locks; fcntl64 (32-bit
    ABIs) takes struct flock for the first three, flock64 for F_*LK64 and the OFD locks. Where
    fcntl64 exists, plain fcntl knows neither F_*LK64 nor F_OFD_SETLK(W) (fs/fcntl.c: "32-bit
    arches must use fcntl64()"), only F_OFD_GETLK.
    """
    has_fcntl64 = "fcntl64" in abi.syscalls.values()
    table: dict[int, tuple[int, str | None, str | None]] = {}
    for op in ("GETLK", "SETLK", "SETLKW"):
        host = getattr(host_fcntl, f"F_{op}")
        table[abi.const[f"F_{op}"]] = (host, "flock", "flock")
        if f"F_{op}64" in abi.const:
            table[abi.const[f"F_{op}64"]] = (host, None, "flock64")
        narrow = "flock" if op == "GETLK" or not has_fcntl64 else None
        table[abi.const[f"F_OFD_{op}"]] = (getattr(host_fcntl, f"F_OFD_{op}"), narrow,
                                           "flock64")
    return table


def _record_lock(k: Any, fd: int, host_cmd: int, arg: int, layout: str) -> int:
    guest = read_struct(k, arg, layout)
    types = {k.abi.const[n]: getattr(host_fcntl, n) for n in _LOCK_TYPES}
    host = _HOST_FLOCK.pack(l_type=types.get(guest["l_type"], guest["l_type"]),
                            l_whence=guest["l_whence"], l_start=guest["l_start"],
                            l_len=guest["l_len"], l_pid=guest["l_pid"])
    result = _HOST_FLOCK.unpack(host_wait(k, lambda: host_fcntl.fcntl(fd, host_cmd, host)))
    if host_cmd in (host_fcntl.F_GETLK, host_fcntl.F_OFD_GETLK):
        back = {v: g for g, v in types.items()}
        fields = {f.name: f for f in k.abi.structs[layout].fields}
        for name in ("l_start", "l_len"):
            if not _fits(result[name], fields[name].size):
                raise fail(errno.EOVERFLOW)
        write_struct(k, arg, layout, guest, l_type=back.get(result["l_type"], result["l_type"]),
                     l_whence=result["l_whence"], l_start=result["l_start"],
                     l_len=result["l_len"], l_pid=result["l_pid"])
    return 0


def _fits(value: int, size: int) -> bool:
    bits = 8 * size - 1
    return -(1 << bits) <= value < (1 << bits)


def _owner_ex(k: Any, fd: int, setting: bool, arg: int) -> int:
    """F_GETOWN_EX/F_SETOWN_EX: struct f_owner_ex (the F_OWNER_* types are the same
    everywhere)."""
    if setting:
        owner = read_struct(k, arg, "f_owner_ex")
        host_fcntl.fcntl(fd, hostlib.F_SETOWN_EX, struct.pack("ii", owner["type"], owner["pid"]))
        return 0
    kind, pid = struct.unpack("ii", host_fcntl.fcntl(fd, hostlib.F_GETOWN_EX, bytes(8)))
    write_struct(k, arg, "f_owner_ex", type=kind, pid=pid)
    return 0


# -- other commands with an integer argument -------------------------------------------------
def _same(k: Any, value: int) -> int:
    return value


def _signal_to_host(k: Any, sig: int) -> int:
    if sig == 0:
        return 0
    host = k.abi.signal_to_host(sig)
    if host is None:
        raise fail(errno.EINVAL)
    return host


def _signal_to_guest(k: Any, sig: int) -> int:
    return k.abi.signal_from_host(sig) or sig if sig else 0


def _lease_to_host(k: Any, value: int) -> int:
    types = {k.abi.const[n]: getattr(host_fcntl, n) for n in _LOCK_TYPES}
    return types.get(value & 0xFFFFFFFF, value)


def _lease_to_guest(k: Any, value: int) -> int:
    types = {getattr(host_fcntl, n): k.abi.const[n] for n in _LOCK_TYPES}
    return types.get(value, value)


def _int_arg(k: Any, value: int) -> int:
    return k.abi.int32(value)


@functools.cache
def _simple_commands(abi: Any) -> dict[int, tuple[int, Any, Any]]:
    """guest command -> (host command, argument to host, result to guest), by name."""
    rows = {"F_GETOWN": (_same, _same), "F_SETOWN": (_int_arg, _same),
            "F_GETSIG": (_same, _signal_to_guest), "F_SETSIG": (_signal_to_host, _same),
            "F_GETLEASE": (_same, _lease_to_guest), "F_SETLEASE": (_lease_to_host, _same),
            "F_NOTIFY": (_same, _same), "F_GETPIPE_SZ": (_same, _same),
            "F_SETPIPE_SZ": (_same, _same), "F_GET_SEALS": (_same, _same),
            "F_ADD_SEALS": (_same, _same)}
    return {abi.const[name]: (getattr(host_fcntl, name), *conv)
            for name, conv in rows.items() if name in abi.const}


@functools.cache
def _flock_ops(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, vars(host_fcntl), ("LOCK_SH", "LOCK_EX", "LOCK_NB",
                                                           "LOCK_UN"))


@syscall("flock", "fd", "int")
def flock(k: Any, fd: int, operation: int) -> int:
    """int flock(int fd, int operation);"""
    if fd < 0:
        raise fail(errno.EBADF)
    table = _flock_ops(k.abi)
    known = sum(row.guest_mask for row in table.rows)
    host_op = table.to_host(operation) | (operation & ~known)
    host_wait(k, lambda: host_fcntl.flock(fd, host_op))
    return 0


@syscall("ioctl", "fd", "uint", "ulong")
def ioctl(k: Any, fd: int, request: int, arg: int) -> int:
    """int ioctl(int fd, unsigned long request, ...);"""
    handler = _ioctl_table(k.abi).get(request)
    if handler is None:
        os.fstat(fd)
        raise fail(errno.ENOTTY)
    try:
        return handler(k, fd, arg)
    except termios.error as err:  # not an OSError subclass
        raise fail(err.args[0]) from None


def _tcgets(k: Any, fd: int, arg: int) -> int:
    iflag, oflag, cflag, lflag, _ispeed, _ospeed, cc = termios.tcgetattr(fd)
    guest_cc = [0] * k.abi.structs["termios"].fields[-1].count
    for name in _CC_NAMES:
        gi, hi = k.abi.const.get(name), getattr(termios, name, None)
        if gi is not None and hi is not None and gi < len(guest_cc):
            value = cc[hi]
            guest_cc[gi] = value[0] if isinstance(value, bytes) else value
    write_struct(k, arg, "termios", c_iflag=iflag, c_oflag=oflag, c_cflag=cflag,
                 c_lflag=_lflags(k).to_guest(lflag), c_line=0, c_cc=guest_cc)
    return 0


def _tcsets(k: Any, fd: int, arg: int, when: int) -> int:
    t = read_struct(k, arg, "termios")
    old = termios.tcgetattr(fd)
    cc = list(old[6])
    for name in _CC_NAMES:
        gi, hi = k.abi.const.get(name), getattr(termios, name, None)
        if gi is not None and hi is not None and gi < len(t["c_cc"]):
            cc[hi] = bytes([t["c_cc"][gi]]) if isinstance(cc[hi], bytes) else t["c_cc"][gi]
    new = [t["c_iflag"], t["c_oflag"], t["c_cflag"], _lflags(k).to_host(t["c_lflag"]),
           old[4], old[5], cc]
    termios.tcsetattr(fd, when, new)
    return 0


@functools.cache
def _lflag_table(abi: Any) -> FlagTable:
    return FlagTable.by_name(abi.const, vars(termios), _LFLAG_NAMES)


def _lflags(k: Any) -> FlagTable:
    return _lflag_table(k.abi)


def register_ioctls(table: dict[str, Any]) -> None:
    """Add ioctl handlers by request name (another family's: sockets); at import time."""
    _IOCTLS.update(table)


@functools.cache
def _ioctl_table(abi: Any) -> dict[int, Any]:
    return {abi.const[name]: fn for name, fn in _IOCTLS.items() if name in abi.const}


def _winsize(k: Any, fd: int, arg: int) -> int:
    raw = host_fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8))
    row, col, xp, yp = struct.unpack("HHHH", raw)
    write_struct(k, arg, "winsize", ws_row=row, ws_col=col, ws_xpixel=xp, ws_ypixel=yp)
    return 0


def _set_winsize(k: Any, fd: int, arg: int) -> int:
    w = read_struct(k, arg, "winsize")
    host_fcntl.ioctl(fd, termios.TIOCSWINSZ,
                     struct.pack("HHHH", w["ws_row"], w["ws_col"], w["ws_xpixel"], w["ws_ypixel"]))
    return 0


def _int_ioctl(host_request: int, out: bool):
    def run(k: Any, fd: int, arg: int) -> int:
        if out:
            raw = host_fcntl.ioctl(fd, host_request, bytes(4))
            write_word(k, arg, struct.unpack("i", raw)[0], 4)
            return 0
        value = int.from_bytes(k.space.read(arg, 4), k.abi.byteorder, signed=True)
        host_fcntl.ioctl(fd, host_request, struct.pack("i", value))
        return 0
    return run


def _value_ioctl(host_request: int):
    """A request whose argument is a value, not a pointer (TIOCSCTTY's steal flag, TCFLSH's
    queue selector, ...)."""
    def run(k: Any, fd: int, arg: int) -> int:
        return host_fcntl.ioctl(fd, host_request, k.abi.int32(arg))
    return run


def _pty_peer(k: Any, fd: int, flags: int) -> int:
    """TIOCGPTPEER: open the pty's other side (the argument is open(2) flags)."""
    host_flags = k.abi.open_flags.to_host(flags, passthrough=3)     # the access mode too
    return inheritable(host_fcntl.ioctl(fd, hostlib.TIOCGPTPEER, host_flags),
                       cloexec=bool(host_flags & os.O_CLOEXEC))


def _push_input(k: Any, fd: int, arg: int) -> int:
    """TIOCSTI: one byte into the terminal's input queue (the argument points at it)."""
    host_fcntl.ioctl(fd, termios.TIOCSTI, k.space.read(arg, 1))
    return 0


def _no_arg(host_request: int):
    def run(k: Any, fd: int, arg: int) -> int:
        host_fcntl.ioctl(fd, host_request)
        return 0
    return run


_CC_NAMES = ("VINTR", "VQUIT", "VERASE", "VKILL", "VEOF", "VTIME", "VMIN", "VSWTC", "VSTART",
             "VSTOP", "VSUSP", "VEOL", "VREPRINT", "VDISCARD", "VWERASE", "VLNEXT", "VEOL2")
_LFLAG_NAMES = ("ISIG", "ICANON", "XCASE", "ECHO", "ECHOE", "ECHOK", "ECHONL", "NOFLSH", "TOSTOP",
                "ECHOCTL", "ECHOPRT", "ECHOKE", "FLUSHO", "PENDIN", "IEXTEN", "EXTPROC")
_IOCTLS = {
    "TCGETS": _tcgets,
    "TCSETS": lambda k, fd, arg: _tcsets(k, fd, arg, termios.TCSANOW),
    "TCSETSW": lambda k, fd, arg: _tcsets(k, fd, arg, termios.TCSADRAIN),
    "TCSETSF": lambda k, fd, arg: _tcsets(k, fd, arg, termios.TCSAFLUSH),
    "TIOCGWINSZ": _winsize,
    "TIOCSWINSZ": _set_winsize,
    "FIONREAD": _int_ioctl(termios.FIONREAD, out=True),
    "TIOCGPGRP": _int_ioctl(termios.TIOCGPGRP, out=True),
    "TIOCSPGRP": _int_ioctl(termios.TIOCSPGRP, out=False),
    "FIONBIO": _int_ioctl(termios.FIONBIO, out=False),
    "FIOCLEX": _no_arg(termios.FIOCLEX),
    "TIOCGPTN": _int_ioctl(hostlib.TIOCGPTN, out=True),
    "TIOCSPTLCK": _int_ioctl(hostlib.TIOCSPTLCK, out=False),
    "FIONCLEX": _no_arg(termios.FIONCLEX),
    "TIOCSCTTY": _value_ioctl(termios.TIOCSCTTY),
    "TIOCNOTTY": _no_arg(termios.TIOCNOTTY),
    "TIOCGSID": _int_ioctl(hostlib.TIOCGSID, out=True),
    "TIOCOUTQ": _int_ioctl(termios.TIOCOUTQ, out=True),
    "TIOCEXCL": _no_arg(termios.TIOCEXCL),
    "TIOCNXCL": _no_arg(termios.TIOCNXCL),
    "TIOCGETD": _int_ioctl(termios.TIOCGETD, out=True),
    "TIOCSETD": _int_ioctl(termios.TIOCSETD, out=False),
    "TIOCPKT": _int_ioctl(termios.TIOCPKT, out=False),
    "TIOCSTI": _push_input,
    "TIOCGPTPEER": _pty_peer,
    "TCFLSH": _value_ioctl(termios.TCFLSH),
    "TCXONC": _value_ioctl(termios.TCXONC),
    "TCSBRK": _value_ioctl(termios.TCSBRK),
    "TCSBRKP": _value_ioctl(termios.TCSBRKP),
}


@syscall("fsync", "fd")
def fsync(k: Any, fd: int) -> int:
    """int fsync(int fd);"""
    os.fsync(fd)
    return 0


@syscall("fdatasync", "fd")
def fdatasync(k: Any, fd: int) -> int:
    """int fdatasync(int fd);"""
    os.fdatasync(fd)
    return 0
