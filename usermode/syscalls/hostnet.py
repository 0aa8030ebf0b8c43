"""The host's socket calls through ctypes, on raw host sockaddr/msghdr bytes.

Python's socket module parses addresses into tuples and owns its descriptors; the guest's
sockets are plain host fds and its addresses are bytes, so the libc calls are made directly.
The host is a 64-bit Linux: struct msghdr and struct iovec have the generic 64-bit layout.
"""
from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

_int, _uint, _size, _ssize, _ptr = (ctypes.c_int, ctypes.c_uint, ctypes.c_size_t,
                                    ctypes.c_ssize_t, ctypes.c_void_p)
_socklen_p = ctypes.POINTER(ctypes.c_uint32)


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


def _fn(name: str, restype, *argtypes):
    f = getattr(_libc, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_socket = _fn("socket", _int, _int, _int, _int)
_socketpair = _fn("socketpair", _int, _int, _int, _int, ctypes.POINTER(ctypes.c_int * 2))
_bind = _fn("bind", _int, _int, ctypes.c_char_p, ctypes.c_uint32)
_connect = _fn("connect", _int, _int, ctypes.c_char_p, ctypes.c_uint32)
_listen = _fn("listen", _int, _int, _int)
_accept4 = _fn("accept4", _int, _int, _ptr, _socklen_p, _int)
_getsockname = _fn("getsockname", _int, _int, _ptr, _socklen_p)
_getpeername = _fn("getpeername", _int, _int, _ptr, _socklen_p)
_shutdown = _fn("shutdown", _int, _int, _int)
_setsockopt = _fn("setsockopt", _int, _int, _int, _int, ctypes.c_char_p, ctypes.c_uint32)
_getsockopt = _fn("getsockopt", _int, _int, _int, _int, _ptr, _socklen_p)
_sendmsg = _fn("sendmsg", _ssize, _int, ctypes.POINTER(MsgHdr), _int)
_recvmsg = _fn("recvmsg", _ssize, _int, ctypes.POINTER(MsgHdr), _int)

SOCKADDR_MAX = 128          # sizeof(struct sockaddr_storage)


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def socket(family: int, kind: int, proto: int) -> int:
    return _check(_socket(family, kind, proto))


def socketpair(family: int, kind: int, proto: int) -> tuple[int, int]:
    pair = (ctypes.c_int * 2)()
    _check(_socketpair(family, kind, proto, ctypes.byref(pair)))
    return pair[0], pair[1]


def bind(fd: int, addr: bytes) -> None:
    _check(_bind(fd, addr, len(addr)))


def connect(fd: int, addr: bytes) -> None:
    _check(_connect(fd, addr, len(addr)))


def listen(fd: int, backlog: int) -> None:
    _check(_listen(fd, backlog))


def shutdown(fd: int, how: int) -> None:
    _check(_shutdown(fd, how))


def _with_address(call, fd: int, *rest: int) -> tuple[int, bytes]:
    buf = ctypes.create_string_buffer(SOCKADDR_MAX)
    size = ctypes.c_uint32(SOCKADDR_MAX)
    result = _check(call(fd, buf, ctypes.byref(size), *rest))
    return result, buf.raw[:min(size.value, SOCKADDR_MAX)]


def accept4(fd: int, flags: int) -> tuple[int, bytes]:
    return _with_address(_accept4, fd, flags)


def getsockname(fd: int) -> bytes:
    return _with_address(_getsockname, fd)[1]


def getpeername(fd: int) -> bytes:
    return _with_address(_getpeername, fd)[1]


def setsockopt(fd: int, level: int, name: int, value: bytes) -> None:
    _check(_setsockopt(fd, level, name, value, len(value)))


def getsockopt(fd: int, level: int, name: int, size: int) -> bytes:
    buf = ctypes.create_string_buffer(max(size, 1))
    length = ctypes.c_uint32(size)
    _check(_getsockopt(fd, level, name, buf, ctypes.byref(length)))
    return buf.raw[:length.value]


def _msghdr(name: bytes | int, pieces: list[tuple[int, int]], control: bytes | int
            ) -> tuple[MsgHdr, list]:
    """A host msghdr; ``name``/``control`` are bytes to send or a buffer size to receive."""
    keep: list = []
    hdr = MsgHdr()
    if name:
        buf = ctypes.create_string_buffer(name if isinstance(name, bytes) else name)
        keep.append(buf)
        hdr.name, hdr.namelen = ctypes.addressof(buf), len(buf.raw) if isinstance(
            name, int) else len(name)
    iov = (IoVec * max(len(pieces), 1))(*[IoVec(p, n) for p, n in pieces])
    keep.append(iov)
    hdr.iov, hdr.iovlen = ctypes.addressof(iov), len(pieces)
    if control:
        cbuf = ctypes.create_string_buffer(control if isinstance(control, bytes) else control)
        keep.append(cbuf)
        hdr.control = ctypes.addressof(cbuf)
        hdr.controllen = len(control) if isinstance(control, bytes) else control
    return hdr, keep


def sendmsg(fd: int, name: bytes, pieces: list[tuple[int, int]], control: bytes,
            flags: int) -> int:
    """sendmsg(2) of the host memory ``pieces`` (address, length)."""
    hdr, _keep = _msghdr(name, pieces, control)
    return _check(_sendmsg(fd, ctypes.byref(hdr), flags))


def recvmsg(fd: int, pieces: list[tuple[int, int]], controllen: int, flags: int
            ) -> tuple[int, bytes, bytes, int]:
    """recvmsg(2) into host memory: (bytes received, source address, control data, msg_flags)."""
    hdr, keep = _msghdr(SOCKADDR_MAX, pieces, controllen)
    n = _check(_recvmsg(fd, ctypes.byref(hdr), flags))
    name = ctypes.string_at(hdr.name, min(hdr.namelen, SOCKADDR_MAX)) if hdr.name else b""
    control = ctypes.string_at(hdr.control, hdr.controllen) if hdr.control else b""
    return n, name, control, hdr.flags
