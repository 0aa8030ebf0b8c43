"""gdb's Host I/O packets (``vFile:``), read-only: gdb reads the program and its shared
libraries through the stub when its sysroot is ``target:`` (its default), and gets exactly
the files the guest opened: guest paths are resolved by the process's ``PathResolver``, the
``-L`` rule the guest's own opens follow. Replies are ``F result[,errno][;data]`` with gdb's
File-I/O errno numbers and its ``struct fio_stat`` (big-endian); see the gdb manual, "Host
I/O Packets" and "File-I/O Remote Protocol Extension"."""
from __future__ import annotations

import errno
import os
import struct
from typing import Any

from ..kernel.fdspace import PRIVATE

# gdb's File-I/O errno values (gdbsupport/fileio.h)
_FILEIO_ERRNO = {errno.EPERM: 1, errno.ENOENT: 2, errno.EINTR: 4, errno.EBADF: 9,
                 errno.EACCES: 13, errno.EFAULT: 14, errno.EBUSY: 16, errno.EEXIST: 17,
                 errno.ENODEV: 19, errno.ENOTDIR: 20, errno.EISDIR: 21, errno.EINVAL: 22,
                 errno.ENFILE: 23, errno.EMFILE: 24, errno.EFBIG: 27, errno.ENOSPC: 28,
                 errno.ESPIPE: 29, errno.EROFS: 30, errno.ENAMETOOLONG: 91}
_FILEIO_UNKNOWN = 9999
_FILEIO_ACCESS_MODE = 3            # O_RDONLY 0, O_WRONLY 1, O_RDWR 2
_FIO_STAT = struct.Struct(">7IQQQ3I")
_MAX_OPEN = 4               # pyemu's own descriptors are few (kernel.fdspace); gdb opens one
_MAX_PREAD = 0x1FF0          # escaped, it still fits the packet size (0x4000)


def _failed(err: OSError) -> bytes:
    return b"F-1,%x" % _FILEIO_ERRNO.get(err.errno or 0, _FILEIO_UNKNOWN)


class HostFiles:
    """The files gdb has open through the stub (host descriptors, closed on detach)."""

    def __init__(self, paths: Any) -> None:
        self.paths = paths
        self._open: dict[int, int] = {}       # gdb's descriptor -> host descriptor
        self._next = 1

    def handle(self, operation: str, args: bytes) -> bytes:
        """The reply to ``vFile:operation:args``; empty for an unsupported operation."""
        method = {"open": self._open_file, "pread": self._pread, "close": self._close,
                  "fstat": self._fstat, "setfs": self._setfs}.get(operation)
        if method is None:
            return b""
        try:
            return method(args.split(b",", 2) if operation != "pread" else args.split(b","))
        except OSError as err:
            return _failed(err)

    def _open_file(self, args: list[bytes]) -> bytes:
        guest, flags = bytes.fromhex(args[0].decode()), int(args[1], 16)
        if flags & _FILEIO_ACCESS_MODE:
            raise OSError(errno.EROFS, "read-only")
        if len(self._open) >= _MAX_OPEN:
            raise OSError(errno.EMFILE, "too many open files")
        host = PRIVATE.adopt(os.open(self.paths.host(guest), os.O_RDONLY | os.O_CLOEXEC))
        fd, self._next = self._next, self._next + 1
        self._open[fd] = host
        return b"F%x" % fd

    def _host_fd(self, text: bytes) -> int:
        host = self._open.get(int(text, 16))
        if host is None:
            raise OSError(errno.EBADF, "not open")
        return host

    def _pread(self, args: list[bytes]) -> bytes:
        fd, count, offset = args
        data = os.pread(self._host_fd(fd), min(int(count, 16), _MAX_PREAD), int(offset, 16))
        return b"F%x;" % len(data) + data

    def _close(self, args: list[bytes]) -> bytes:
        PRIVATE.close(self._host_fd(args[0]))
        del self._open[int(args[0], 16)]
        return b"F0"

    def _fstat(self, args: list[bytes]) -> bytes:
        st = os.fstat(self._host_fd(args[0]))
        data = _FIO_STAT.pack(st.st_dev & 0xFFFFFFFF, st.st_ino & 0xFFFFFFFF, st.st_mode,
                              st.st_nlink, st.st_uid, st.st_gid, st.st_rdev & 0xFFFFFFFF,
                              st.st_size, st.st_blksize, st.st_blocks,
                              int(st.st_atime), int(st.st_mtime), int(st.st_ctime))
        return b"F%x;" % len(data) + data

    @staticmethod
    def _setfs(args: list[bytes]) -> bytes:
        return b"F0"           # one file system: the process's view

    def close_all(self) -> None:
        for host in self._open.values():
            PRIVATE.close(host)
        self._open.clear()
