"""Socket data transfer: send/recv and their to/from/msg/mmsg forms, through one path each.

Data moves between the host socket and guest memory directly (iovecs of host pointers into the
guest's pages). Control messages are rebuilt for the other side: the header is one word plus
two ints on every ABI, aligned to the word, so 32-bit guests and the 64-bit host disagree on
every offset; payloads (fds, credentials, timestamps) are converted by kind.
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket as host_socket
import struct
import time as host_time
from typing import Any, Callable

from ...errors import InterruptedSyscall
from .. import hostnet
from ..hostlib import address_of
from ..netabi import SocketAbi
from ..registry import syscall
from .common import fail, read_struct, write_struct
from .io import _codec, _iov_entries
from .net import (_HOST_CTRUNC, _HOST_DONTWAIT, _HOST_NOSIGNAL, _blocking_call, _net,
                  _sigpipe, read_sockaddr, write_sockaddr)

_HOST_WAITALL = host_socket.MSG_WAITALL
_HOST_CMSG_HEADER = 16
_SCM_RIGHTS = (host_socket.SOL_SOCKET, host_socket.SCM_RIGHTS)


def _pieces(k: Any, entries: list[tuple[int, int]], write: bool) -> list[tuple[int, int]]:
    """Host (address, length) pieces over guest buffers (checked for the guest's rights)."""
    out = []
    for base, length in entries:
        for view in k.space.views(base, length, write=write, partial=True):
            out.append((address_of(view), len(view)))
    return out


def _skip(pieces: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The pieces left after the first ``n`` bytes."""
    out = []
    for addr, length in pieces:
        if n >= length:
            n -= length
            continue
        out.append((addr + n, length - n))
        n = 0
    return out


# -- control messages ------------------------------------------------------------------------
def _payload(net: SocketAbi, kind: str, data: bytes, to_host: bool) -> bytes:
    if kind == "ints":
        return net.swap_ints(data[:len(data) & ~3])
    if kind == "timeval":
        return net.timeval_to_host(data) if to_host else net.timeval_to_guest(data)
    if kind == "pktinfo":
        return net.swap_ints(data[:4]) + data[4:]
    if kind == "pktinfo6":
        return data[:16] + net.swap_ints(data[16:20]) + data[20:]
    return bytes(data)


def cmsgs_to_host(net: SocketAbi, raw: bytes) -> bytes:
    order = "<" if net.byteorder == "little" else ">"
    word, head = net.word, net.cmsg_header
    out, off = bytearray(), 0
    while off + head <= len(raw):
        length = int.from_bytes(raw[off:off + word], net.byteorder)
        level, kind = struct.unpack_from(order + "ii", raw, off + word)
        if length < head or off + length > len(raw):
            raise fail(errno.EINVAL)
        found = net.cmsg_to_host(level, kind)
        if found is None:
            raise fail(errno.EINVAL)
        pkind, hlevel, htype = found
        data = _payload(net, pkind, raw[off + head:off + length], True)
        out += struct.pack("<Qii", _HOST_CMSG_HEADER + len(data), hlevel, htype) + data
        out += bytes(-len(out) % 8)
        off += net.cmsg_align(length)
    return bytes(out)


def cmsgs_to_guest(net: SocketAbi, raw: bytes, room: int) -> tuple[bytes, bool]:
    """Guest control messages from the host's, cut to ``room`` bytes; True when cut.
    Descriptors that do not fit are closed (the kernel never installs them)."""
    order = "<" if net.byteorder == "little" else ">"
    head = net.cmsg_header
    out, off, cut = bytearray(), 0, False
    while off + _HOST_CMSG_HEADER <= len(raw):
        length, hlevel, htype = struct.unpack_from("<Qii", raw, off)
        if length < _HOST_CMSG_HEADER:
            break
        data = raw[off + _HOST_CMSG_HEADER:off + length]
        off += (length + 7) & ~7
        found = net.cmsg_to_guest(hlevel, htype)
        if found is None:
            continue
        pkind, level, kind = found
        payload = _payload(net, pkind, data, False)
        fit = room - len(out) - head
        if fit < len(payload):
            cut = True
            if (hlevel, htype) == _SCM_RIGHTS:
                keep = max(fit, 0) // 4
                for (fd,) in struct.iter_unpack("<i", data[4 * keep:len(data) & ~3]):
                    os.close(fd)
                payload = payload[:4 * keep]
                if not payload:
                    continue
            else:
                continue
        out += (head + len(payload)).to_bytes(net.word, net.byteorder)
        out += struct.pack(order + "ii", level, kind) + bytes(head - net.word - 8) + payload
        out += bytes(min(-len(out) % net.word, max(room - len(out), 0)))
    return bytes(out[:room]), cut


def _close_passed(raw: bytes) -> None:
    """Close the descriptors of SCM_RIGHTS messages the guest will never see."""
    off = 0
    while off + _HOST_CMSG_HEADER <= len(raw):
        length, hlevel, htype = struct.unpack_from("<Qii", raw, off)
        if length < _HOST_CMSG_HEADER:
            break
        if (hlevel, htype) == _SCM_RIGHTS:
            data = raw[off + _HOST_CMSG_HEADER:off + length]
            for (fd,) in struct.iter_unpack("<i", data[:len(data) & ~3]):
                os.close(fd)
        off += (length + 7) & ~7


# -- the two paths ---------------------------------------------------------------------------
def send_data(k: Any, fd: int, entries: list[tuple[int, int]], name: bytes, control: bytes,
              guest_flags: int) -> int:
    """Send the guest buffers ``entries`` (address, length)."""
    net = _net(k)
    flags = net.msg_flags.to_host(guest_flags)
    codec = _codec(k, fd)
    if codec is None:
        pieces = _pieces(k, entries, False)
    else:                           # records the host reads in its own byte order (netlink)
        data = codec(k, b"".join(k.space.read(a, n) for a, n in entries), False)
        bounce = ctypes.create_string_buffer(data, len(data))
        pieces = [(ctypes.addressof(bounce), len(data))]
    total = sum(n for _, n in pieces)
    sent = 0
    while True:
        rest = _skip(pieces, sent)
        try:
            n = _blocking_call(k, fd, True, flags, lambda f: hostnet.sendmsg(
                fd, name, rest, control if sent == 0 else b"", f | _HOST_NOSIGNAL))
        except BrokenPipeError:
            _sigpipe(k, flags)
            raise
        except (InterruptedSyscall, OSError):
            if sent:
                return sent
            raise
        sent += n
        # a blocking stream socket sends everything, as the kernel's send loop does
        if sent >= total or n == 0 or flags & _HOST_DONTWAIT or not os.get_blocking(fd):
            return sent


def recv_data(k: Any, fd: int, entries: list[tuple[int, int]], controllen: int,
              guest_flags: int) -> tuple[int, bytes, bytes, int]:
    """Receive into the guest buffers ``entries``: (length, source, control data, flags)."""
    codec = _codec(k, fd)
    if codec is None:
        return _recv_pieces(k, fd, _pieces(k, entries, True), controllen, guest_flags)
    total = sum(n for _, n in entries)
    bounce = ctypes.create_string_buffer(max(total, 1))
    n, name, control, mflags = _recv_pieces(k, fd, [(ctypes.addressof(bounce), total)],
                                            controllen, guest_flags)
    data, done = codec(k, bounce.raw[:min(n, total)], True), 0
    for addr, size in entries:
        piece = data[done:done + size]
        if piece:
            k.space.write(addr, piece)
        done += len(piece)
    return n, name, control, mflags


def _recv_pieces(k: Any, fd: int, pieces: list[tuple[int, int]], controllen: int,
                 guest_flags: int) -> tuple[int, bytes, bytes, int]:
    net = _net(k)
    flags = net.msg_flags.to_host(guest_flags)
    total = sum(n for _, n in pieces)
    n, name, control, mflags = _blocking_call(
        k, fd, False, flags & ~_HOST_WAITALL,
        lambda f: hostnet.recvmsg(fd, pieces, controllen, f))
    if flags & _HOST_WAITALL and not flags & _HOST_DONTWAIT and os.get_blocking(fd):
        while 0 < n < total:
            try:
                more = _blocking_call(k, fd, False, flags & ~_HOST_WAITALL,
                                      lambda f: hostnet.recvmsg(fd, _skip(pieces, n), 0, f))[0]
            except (InterruptedSyscall, OSError):
                break
            if more == 0:
                break
            n += more
    return n, name, control, mflags


# -- send, sendto, recv, recvfrom ------------------------------------------------------------
@syscall("sendto", "fd", "ptr", "size", "flags", "ptr", "int")
def sendto(k: Any, fd: int, buf: int, length: int, flags: int, addr: int, addrlen: int) -> int:
    """ssize_t sendto(int sockfd, const void *buf, size_t len, int flags,
    const struct sockaddr *dest_addr, socklen_t addrlen);"""
    name = read_sockaddr(k, addr, addrlen) if addr else b""
    return send_data(k, fd, [(buf, length)], name, b"", flags)


@syscall("send", "fd", "ptr", "size", "flags")
def send(k: Any, fd: int, buf: int, length: int, flags: int) -> int:
    """ssize_t send(int sockfd, const void *buf, size_t len, int flags);"""
    return send_data(k, fd, [(buf, length)], b"", b"", flags)


@syscall("recvfrom", "fd", "ptr", "size", "flags", "ptr", "ptr")
def recvfrom(k: Any, fd: int, buf: int, length: int, flags: int, addr: int, addrlen: int
             ) -> int:
    """ssize_t recvfrom(int sockfd, void *buf, size_t len, int flags,
    struct sockaddr *src_addr, socklen_t *addrlen);"""
    n, name, _, _ = recv_data(k, fd, [(buf, length)], 0, flags)
    if addr and name:
        write_sockaddr(k, addr, addrlen, name)
    elif addr and addrlen:
        k.space.write(addrlen, bytes(4))
    return n


@syscall("recv", "fd", "ptr", "size", "flags")
def recv(k: Any, fd: int, buf: int, length: int, flags: int) -> int:
    """ssize_t recv(int sockfd, void *buf, size_t len, int flags);"""
    return recv_data(k, fd, [(buf, length)], 0, flags)[0]


# -- sendmsg, recvmsg and the multiple forms -------------------------------------------------
def _sendmsg(k: Any, fd: int, hdr: dict[str, Any], prefix: str, flags: int) -> int:
    name = b""
    if hdr[prefix + "msg_name"] and hdr[prefix + "msg_namelen"]:
        name = read_sockaddr(k, hdr[prefix + "msg_name"], hdr[prefix + "msg_namelen"])
    entries = _iov_entries(k, hdr[prefix + "msg_iov"], k.abi.int32(hdr[prefix + "msg_iovlen"]))
    control = b""
    if hdr[prefix + "msg_control"] and hdr[prefix + "msg_controllen"]:
        raw = k.space.read(hdr[prefix + "msg_control"], hdr[prefix + "msg_controllen"])
        control = cmsgs_to_host(_net(k), raw)
    return send_data(k, fd, entries, name, control, flags)


def _recvmsg(k: Any, fd: int, hdr: dict[str, Any], prefix: str, flags: int) -> int:
    """Receive into the buffers ``hdr`` names; updates the name, control and flags fields."""
    net = _net(k)
    entries = _iov_entries(k, hdr[prefix + "msg_iov"], k.abi.int32(hdr[prefix + "msg_iovlen"]))
    room = hdr[prefix + "msg_controllen"] if hdr[prefix + "msg_control"] else 0
    host_room = 2 * room + 64 if room else 0
    n, name, control, mflags = recv_data(k, fd, entries, host_room, flags)
    guest_flags = net.msg_flags.to_guest(mflags & ~_HOST_CTRUNC)
    cut = bool(mflags & _HOST_CTRUNC)
    if room:
        data, more_cut = cmsgs_to_guest(net, control, room)
        k.space.write(hdr[prefix + "msg_control"], data)
        hdr[prefix + "msg_controllen"] = len(data)
        cut = cut or more_cut
    else:
        _close_passed(control)
        hdr[prefix + "msg_controllen"] = 0
        cut = cut or bool(control)
    if cut:
        guest_flags |= k.abi.const["MSG_CTRUNC"]
    if hdr[prefix + "msg_name"]:
        guest = net.sockaddr_to_guest(
            name, lambda p: os.fsencode(k.paths.guest_name(os.fsdecode(p)))) if name else b""
        room_name = hdr[prefix + "msg_namelen"]
        if guest and room_name:
            k.space.write(hdr[prefix + "msg_name"], guest[:room_name])
        hdr[prefix + "msg_namelen"] = len(guest)
    else:
        hdr[prefix + "msg_namelen"] = 0
    hdr[prefix + "msg_flags"] = guest_flags
    return n


@syscall("sendmsg", "fd", "ptr", "flags")
def sendmsg(k: Any, fd: int, msg: int, flags: int) -> int:
    """ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags);"""
    return _sendmsg(k, fd, read_struct(k, msg, "msghdr"), "", flags)


@syscall("recvmsg", "fd", "ptr", "flags")
def recvmsg(k: Any, fd: int, msg: int, flags: int) -> int:
    """ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags);"""
    hdr = read_struct(k, msg, "msghdr")
    n = _recvmsg(k, fd, hdr, "", flags)
    write_struct(k, msg, "msghdr", hdr)
    return n


_MMSG_MAX = 1024        # UIO_MAXIOV


def _each_mmsg(k: Any, vec: int, vlen: int, one: Callable[[dict, int], int],
               stop: Callable[[], bool] = lambda: False) -> int:
    """The *mmsg loop: ``one(header, done)`` gives each mmsghdr's msg_len. An error on the
    first message is the call's; after that it ends the batch, whose count is returned."""
    size = k.abi.structs["mmsghdr"].size
    done = 0
    for i in range(min(vlen, _MMSG_MAX)):
        hdr = read_struct(k, vec + i * size, "mmsghdr")
        try:
            hdr["msg_len"] = one(hdr, done)
        except (OSError, InterruptedSyscall):
            if done:
                break
            raise
        write_struct(k, vec + i * size, "mmsghdr", hdr)
        done += 1
        if stop():
            break
    return done


@syscall("sendmmsg", "fd", "ptr", "uint", "flags")
def sendmmsg(k: Any, fd: int, vec: int, vlen: int, flags: int) -> int:
    """int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags);"""
    return _each_mmsg(k, vec, vlen, lambda hdr, _done: _sendmsg(k, fd, hdr, "msg_hdr.", flags))


def _recvmmsg(k: Any, fd: int, vec: int, vlen: int, flags: int, deadline: float | None
              ) -> int:
    waitforone = k.abi.const["MSG_WAITFORONE"]
    dontwait = k.abi.const["MSG_DONTWAIT"]

    def one(hdr: dict, done: int) -> int:
        each = flags | (dontwait if done and flags & waitforone else 0)
        return _recvmsg(k, fd, hdr, "msg_hdr.", each & ~waitforone)

    def past_deadline() -> bool:
        return deadline is not None and host_time.monotonic() >= deadline

    return _each_mmsg(k, vec, vlen, one, past_deadline)


def _deadline(k: Any, timeout: int, layout: str) -> float | None:
    if not timeout:
        return None
    t = read_struct(k, timeout, layout)
    if t["tv_sec"] < 0 or not 0 <= t["tv_nsec"] < 1_000_000_000:
        raise fail(errno.EINVAL)
    return host_time.monotonic() + t["tv_sec"] + t["tv_nsec"] / 1e9


@syscall("recvmmsg", "fd", "ptr", "uint", "flags", "ptr")
def recvmmsg(k: Any, fd: int, vec: int, vlen: int, flags: int, timeout: int) -> int:
    """int recvmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags,
    struct timespec *timeout);"""
    return _recvmmsg(k, fd, vec, vlen, flags, _deadline(k, timeout, "timespec"))


@syscall("recvmmsg_time64", "fd", "ptr", "uint", "flags", "ptr")
def recvmmsg_time64(k: Any, fd: int, vec: int, vlen: int, flags: int, timeout: int) -> int:
    """int recvmmsg_time64(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags,
    struct __kernel_timespec *timeout);"""
    return _recvmmsg(k, fd, vec, vlen, flags, _deadline(k, timeout, "timespec64"))
