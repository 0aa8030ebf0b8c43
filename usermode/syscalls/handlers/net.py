"""Sockets: guest sockets are host sockets (user-mode networking, as in qemu-user).

Numbers (families, types, levels, options, flags) are translated by name per ABI
(``netabi.SocketAbi``); addresses, option values and control messages byte by byte. Calls
that may block wait for readiness without the guest lock, in short steps, so other guest
threads run and a signal ends the wait (EINTR, or a restart under SA_RESTART); the call
itself is then made without blocking. SO_RCVTIMEO/SO_SNDTIMEO bound those waits.
"""
from __future__ import annotations

import errno
import functools
import os
import select
import socket as host_socket
import struct
import sys
from typing import Any

from ...errors import InterruptedSyscall
from .. import hostnet, netlink
from ..netabi import SocketAbi, socket_abi
from ..registry import syscall
from .common import fail, foreign_byteorder, read_word, wait_for, write_word
from .io import set_codec
from .signals import signal_self

_HOST_DONTWAIT = host_socket.MSG_DONTWAIT
_HOST_NOSIGNAL = host_socket.MSG_NOSIGNAL
_HOST_CTRUNC = host_socket.MSG_CTRUNC


def _net(k: Any) -> SocketAbi:
    return socket_abi(k.abi)


# -- addresses -------------------------------------------------------------------------------
def read_sockaddr(k: Any, ptr: int, length: int) -> bytes:
    if length < 0 or length > 4096:
        raise fail(errno.EINVAL)
    if ptr == 0:
        raise fail(errno.EFAULT)
    raw = k.space.read(ptr, length)
    return _net(k).sockaddr_to_host(raw, lambda path: k.paths.host(path))


def write_sockaddr(k: Any, ptr: int, len_ptr: int, host_addr: bytes) -> None:
    """Store an address and its full length the kernel's way (truncated to the guest's room)."""
    if not ptr or not len_ptr:
        return
    room = read_word(k, len_ptr, 4)
    if room > 0x7FFFFFFF:
        raise fail(errno.EINVAL)
    guest = _net(k).sockaddr_to_guest(
        host_addr, lambda path: os.fsencode(k.paths.guest_name(os.fsdecode(path))))
    if room:
        k.space.write(ptr, guest[:room])
    write_word(k, len_ptr, len(guest), 4)


# -- waiting ---------------------------------------------------------------------------------
def _ready(fd: int, write: bool, timeout_ms: float) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLOUT if write else select.POLLIN)
    return bool(poller.poll(timeout_ms))


def _timeout(fd: int, write: bool) -> float | None:
    """The socket's SO_RCVTIMEO/SO_SNDTIMEO in seconds (None: wait forever)."""
    opt = host_socket.SO_SNDTIMEO if write else host_socket.SO_RCVTIMEO
    try:
        sec, usec = struct.unpack("qq", hostnet.getsockopt(fd, host_socket.SOL_SOCKET, opt, 16))
    except OSError:
        return None
    return None if sec == 0 and usec == 0 else sec + usec / 1e6


def wait_socket(k: Any, fd: int, write: bool, dontwait: bool = False) -> None:
    """Wait until ``fd`` is ready for a blocking socket call; EAGAIN when its timeout expires."""
    if dontwait or _ready(fd, write, 0) or not os.get_blocking(fd):
        return
    if not wait_for(k, lambda ms: _ready(fd, write, ms), _timeout(fd, write)):
        raise fail(errno.EAGAIN)


def _blocking_call(k: Any, fd: int, write: bool, flags: int, call: Any) -> Any:
    """Run a socket call the guest expects to block: wait, then call without blocking."""
    dontwait = bool(flags & _HOST_DONTWAIT) or not os.get_blocking(fd)
    while True:
        wait_socket(k, fd, write, dontwait)
        try:
            return call(flags | _HOST_DONTWAIT)
        except BlockingIOError:
            if dontwait:
                raise


def _sigpipe(k: Any, flags: int) -> None:
    if not flags & _HOST_NOSIGNAL:
        signal_self(k, "SIGPIPE")


# -- creation and naming ---------------------------------------------------------------------
def _type_to_host(k: Any, kind: int) -> int:
    net = _net(k)
    base = net.types.get(kind & 0xF)
    known = sum(row.guest_mask for row in net.type_flags.rows)
    if base is None or kind & ~(0xF | known):
        raise fail(errno.EINVAL)
    return base | net.type_flags.to_host(kind)


@syscall("socket", "int", "int", "int")
def socket(k: Any, domain: int, kind: int, protocol: int) -> int:
    """int socket(int domain, int type, int protocol);"""
    family = _net(k).families.get(domain)
    if family is None:
        raise fail(errno.EAFNOSUPPORT)
    fd = hostnet.socket(family, _type_to_host(k, kind), protocol)
    if family == host_socket.AF_NETLINK and foreign_byteorder(k):
        set_codec(k, fd, _netlink_codec)
    return fd


def _netlink_codec(k: Any, data: bytes, to_guest: bool) -> bytes:
    """Netlink messages are in the host's byte order (see netlink.py)."""
    host = "<" if sys.byteorder == "little" else ">"
    guest = "<" if k.abi.byteorder == "little" else ">"
    return netlink.swap_messages(data, host if to_guest else guest)


@syscall("socketpair", "int", "int", "int", "ptr")
def socketpair(k: Any, domain: int, kind: int, protocol: int, sv: int) -> int:
    """int socketpair(int domain, int type, int protocol, int sv[2]);"""
    family = _net(k).families.get(domain)
    if family is None:
        raise fail(errno.EAFNOSUPPORT)
    a, b = hostnet.socketpair(family, _type_to_host(k, kind), protocol)
    try:
        write_word(k, sv, a, 4)
        write_word(k, sv + 4, b, 4)
    except Exception:
        os.close(a)
        os.close(b)
        raise
    return 0


@syscall("bind", "fd", "ptr", "int")
def bind(k: Any, fd: int, addr: int, addrlen: int) -> int:
    """int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen);"""
    hostnet.bind(fd, read_sockaddr(k, addr, addrlen))
    return 0


@syscall("listen", "fd", "int")
def listen(k: Any, fd: int, backlog: int) -> int:
    """int listen(int sockfd, int backlog);"""
    hostnet.listen(fd, backlog)
    return 0


@syscall("connect", "fd", "ptr", "int")
def connect(k: Any, fd: int, addr: int, addrlen: int) -> int:
    """int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen);"""
    host_addr = read_sockaddr(k, addr, addrlen)
    if not os.get_blocking(fd):
        hostnet.connect(fd, host_addr)
        return 0
    # a blocking connect: made non-blocking, then waited for like the other calls
    os.set_blocking(fd, False)
    try:
        try:
            hostnet.connect(fd, host_addr)
            return 0
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(fd, True)
        wait_socket(k, fd, write=True)
    except InterruptedSyscall:
        raise fail(errno.EINTR) from None      # connect is never restarted
    err = struct.unpack("i", hostnet.getsockopt(fd, host_socket.SOL_SOCKET,
                                                host_socket.SO_ERROR, 4))[0]
    if err:
        raise fail(err)
    return 0


def _accept(k: Any, fd: int, addr: int, addrlen: int, flags: int) -> int:
    net = _net(k)
    known = sum(row.guest_mask for row in net.type_flags.rows)
    if flags & ~known:
        raise fail(errno.EINVAL)
    host_flags = net.type_flags.to_host(flags)
    wait_socket(k, fd, write=False)
    new, peer = hostnet.accept4(fd, host_flags)
    try:
        write_sockaddr(k, addr, addrlen, peer)
    except Exception:
        os.close(new)
        raise
    return new


@syscall("accept", "fd", "ptr", "ptr")
def accept(k: Any, fd: int, addr: int, addrlen: int) -> int:
    """int accept(int sockfd, struct sockaddr *addr, socklen_t *addrlen);"""
    return _accept(k, fd, addr, addrlen, 0)


@syscall("accept4", "fd", "ptr", "ptr", "int")
def accept4(k: Any, fd: int, addr: int, addrlen: int, flags: int) -> int:
    """int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);"""
    return _accept(k, fd, addr, addrlen, flags)


@syscall("getsockname", "fd", "ptr", "ptr")
def getsockname(k: Any, fd: int, addr: int, addrlen: int) -> int:
    """int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);"""
    write_sockaddr(k, addr, addrlen, hostnet.getsockname(fd))
    return 0


@syscall("getpeername", "fd", "ptr", "ptr")
def getpeername(k: Any, fd: int, addr: int, addrlen: int) -> int:
    """int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen);"""
    write_sockaddr(k, addr, addrlen, hostnet.getpeername(fd))
    return 0


@syscall("shutdown", "fd", "int")
def shutdown(k: Any, fd: int, how: int) -> int:
    """int shutdown(int sockfd, int how);"""
    hostnet.shutdown(fd, how)
    return 0


# -- options ---------------------------------------------------------------------------------
def _option_to_host(net: SocketAbi, kind: str, raw: bytes) -> bytes:
    if kind == "timeval":
        return net.timeval_to_host(raw)
    if kind == "ints64":
        return net.swap_ints(raw[:16], 8)
    if kind == "mreq":
        return raw[:8] + net.swap_ints(raw[8:12]) + raw[12:]
    if kind == "mreq6":
        return raw[:16] + net.swap_ints(raw[16:20]) + raw[20:]
    if kind in ("ints", "errno", "socktype"):
        return net.swap_ints(raw)
    return bytes(raw)


def _option_to_guest(k: Any, net: SocketAbi, kind: str, raw: bytes) -> bytes:
    if kind == "timeval":
        return net.timeval_to_guest(raw)
    if kind == "ints64":
        return net.swap_ints(raw, 8)
    if kind == "errno" and len(raw) == 4:
        value = struct.unpack("i", raw)[0]
        return net.swap_ints(struct.pack("i", k.abi.guest_errno(value) if value else 0))
    if kind == "socktype" and len(raw) == 4:
        value = struct.unpack("i", raw)[0]
        return net.swap_ints(struct.pack("i", net.types_back.get(value, value)))
    if kind == "sockaddr":
        return net.sockaddr_to_guest(raw, lambda p: p)
    return _option_to_host(net, kind, raw)       # the other conversions are symmetric


@syscall("setsockopt", "fd", "int", "int", "ptr", "int")
def setsockopt(k: Any, fd: int, level: int, name: int, value: int, length: int) -> int:
    """int setsockopt(int sockfd, int level, int optname, const void *optval,
    socklen_t optlen);"""
    net = _net(k)
    option = net.option(level, name)
    if option is None:
        os.fstat(fd)
        raise fail(errno.ENOPROTOOPT)
    if length < 0:
        raise fail(errno.EINVAL)
    raw = k.space.read(value, length) if length else b""
    hostnet.setsockopt(fd, option.host_level, option.host_name,
                       _option_to_host(net, option.kind, raw))
    return 0


@syscall("getsockopt", "fd", "int", "int", "ptr", "ptr")
def getsockopt(k: Any, fd: int, level: int, name: int, value: int, len_ptr: int) -> int:
    """int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen);"""
    net = _net(k)
    option = net.option(level, name)
    if option is None:
        os.fstat(fd)
        raise fail(errno.ENOPROTOOPT)
    room = k.abi.int32(read_word(k, len_ptr, 4))
    if room < 0:
        raise fail(errno.EINVAL)
    ask = max(room, 16) if option.kind == "timeval" else room
    raw = hostnet.getsockopt(fd, option.host_level, option.host_name, ask)
    guest = _option_to_guest(k, net, option.kind, raw)[:room]
    if guest:
        k.space.write(value, guest)
    write_word(k, len_ptr, len(guest), 4)
    return 0


# -- the old multiplexer ---------------------------------------------------------------------
# linux/net.h's SYS_<NAME> call numbers name the handler of the same name
_SOCKETCALLS = ("socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername",
                "socketpair", "send", "sendto", "recv", "recvfrom", "shutdown", "setsockopt",
                "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg")


@functools.cache
def _socketcalls(abi: Any) -> dict[int, Any]:
    from ..dispatch import make_decoder, make_fd_check
    from ..registry import HANDLERS
    out = {}
    for name in _SOCKETCALLS:
        handler = HANDLERS[name]
        out[abi.const[f"SYS_{name.upper()}"]] = (handler, *make_decoder(handler.args, abi),
                                                 make_fd_check(handler.args))
    return out


@syscall("socketcall", "int", "ptr")
def socketcall(k: Any, call: int, args: int) -> int:
    """int socketcall(int call, unsigned long *args);"""
    found = _socketcalls(k.abi).get(call)
    if found is None:
        raise fail(errno.EINVAL)
    handler, decode, slots, names_private_fd = found
    size = k.abi.word_size
    raw = k.space.read(args, size * slots)
    words = [int.from_bytes(raw[i:i + size], k.abi.byteorder) for i in range(0, len(raw), size)]
    values = decode(words)
    if names_private_fd is not None and names_private_fd(values):
        raise fail(errno.EBADF)
    return handler.fn(k, *values)
