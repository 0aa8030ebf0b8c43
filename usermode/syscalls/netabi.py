"""Socket facts per ABI: families, types, levels, options, message flags, and the byte-level
translation of socket addresses, option values and control messages.

Everything is looked up by constant name: the guest's values come from the generated tables
(MIPS numbers SOCK_STREAM 2, SOL_SOCKET 0xffff and most SO_* differently), the host's from
Python's ``socket`` module. The few host names that module lacks take the asm-generic value
(an x86_64 or arm64 host uses asm-generic/socket.h; those values are AArch64's generated ones).
Pure functions of bytes: unit-tested without an engine.
"""
from __future__ import annotations

import errno as host_errno
import functools
import socket as host_socket
import struct
from dataclasses import dataclass
from typing import Any, Callable

from .flags import FlagTable

# guest name -> host name where Python's socket module spells it differently
_HOST_ALIASES = {"SO_RCVTIMEO_OLD": "SO_RCVTIMEO", "SO_SNDTIMEO_OLD": "SO_SNDTIMEO",
                 "SO_TIMESTAMP_OLD": "SO_TIMESTAMP", "SO_TIMESTAMPNS_OLD": "SO_TIMESTAMPNS",
                 "SO_TIMESTAMPING_OLD": "SO_TIMESTAMPING", "SO_STYLE": "SO_TYPE",
                 "SO_DETACH_BPF": "SO_DETACH_FILTER"}


@functools.cache
def _host_generic() -> dict[str, int]:
    from .generated import aarch64 as generic
    # 64-bit host: the _OLD time options carry the 64-bit structs the _NEW ones do
    return dict(generic.CONSTANTS, SO_RCVTIMEO_OLD=20, SO_SNDTIMEO_OLD=21, SO_TIMESTAMP_OLD=29,
                SO_TIMESTAMPNS_OLD=35, SO_TIMESTAMPING_OLD=37)


def host_value(name: str) -> int | None:
    value = getattr(host_socket, _HOST_ALIASES.get(name, name), None)
    if isinstance(value, int):
        return value
    return _host_generic().get(name)


_MSG_NAMES = ("MSG_OOB", "MSG_PEEK", "MSG_DONTROUTE", "MSG_CTRUNC", "MSG_PROXY", "MSG_TRUNC",
              "MSG_DONTWAIT", "MSG_EOR", "MSG_WAITALL", "MSG_FIN", "MSG_SYN", "MSG_CONFIRM",
              "MSG_RST", "MSG_ERRQUEUE", "MSG_NOSIGNAL", "MSG_MORE", "MSG_WAITFORONE",
              "MSG_BATCH", "MSG_ZEROCOPY", "MSG_FASTOPEN", "MSG_CMSG_CLOEXEC")
# the protocol levels are IPPROTO_* numbers (the same everywhere); SOL_SOCKET is not
_LEVEL_NAMES = ("SOL_SOCKET", "IPPROTO_IP", "IPPROTO_IPV6", "IPPROTO_TCP", "IPPROTO_UDP",
                "IPPROTO_ICMPV6", "IPPROTO_RAW")
# the option prefixes of each level, by the level's name
_OPTION_PREFIXES = {"SOL_SOCKET": ("SO_",), "IPPROTO_IP": ("IP_", "MCAST_"),
                    "IPPROTO_IPV6": ("IPV6_", "MCAST_"), "IPPROTO_TCP": ("TCP_",)}
# option values other than plain ints (a 4-byte guest-order int is the default)
OPTION_KINDS = {
    ("SOL_SOCKET", "SO_RCVTIMEO_OLD"): "timeval", ("SOL_SOCKET", "SO_SNDTIMEO_OLD"): "timeval",
    ("SOL_SOCKET", "SO_RCVTIMEO_NEW"): "ints64", ("SOL_SOCKET", "SO_SNDTIMEO_NEW"): "ints64",
    ("SOL_SOCKET", "SO_ERROR"): "errno", ("SOL_SOCKET", "SO_TYPE"): "socktype",
    ("SOL_SOCKET", "SO_STYLE"): "socktype",
    ("SOL_SOCKET", "SO_BINDTODEVICE"): "bytes", ("SOL_SOCKET", "SO_PEERSEC"): "bytes",
    ("SOL_SOCKET", "SO_PEERNAME"): "sockaddr",
    ("IPPROTO_IP", "IP_ADD_MEMBERSHIP"): "mreq", ("IPPROTO_IP", "IP_DROP_MEMBERSHIP"): "mreq",
    ("IPPROTO_IP", "IP_MULTICAST_IF"): "mreq", ("IPPROTO_IP", "IP_OPTIONS"): "bytes",
    ("IPPROTO_IP", "IP_ADD_SOURCE_MEMBERSHIP"): "bytes",
    ("IPPROTO_IP", "IP_DROP_SOURCE_MEMBERSHIP"): "bytes",
    ("IPPROTO_IPV6", "IPV6_ADD_MEMBERSHIP"): "mreq6",
    ("IPPROTO_IPV6", "IPV6_DROP_MEMBERSHIP"): "mreq6",
    ("IPPROTO_TCP", "TCP_CONGESTION"): "bytes", ("IPPROTO_TCP", "TCP_ULP"): "bytes",
    ("IPPROTO_TCP", "TCP_INFO"): "bytes",
}
# control message payloads by (level, type) name; anything else passes as bytes
CMSG_KINDS = {("SOL_SOCKET", "SCM_RIGHTS"): "ints", ("SOL_SOCKET", "SCM_CREDENTIALS"): "ints",
              ("SOL_SOCKET", "SO_TIMESTAMP_OLD"): "timeval",
              ("SOL_SOCKET", "SO_TIMESTAMPNS_OLD"): "timeval",
              ("IPPROTO_IP", "IP_PKTINFO"): "pktinfo", ("IPPROTO_IP", "IP_TTL"): "ints",
              ("IPPROTO_IP", "IP_TOS"): "bytes", ("IPPROTO_IPV6", "IPV6_PKTINFO"): "pktinfo6",
              ("IPPROTO_IPV6", "IPV6_HOPLIMIT"): "ints"}
# control message types by level (SOL_SOCKET's are SCM_* and the timestamp options: SO_* names
# at large would give host type 2, SCM_CREDENTIALS, the name SO_REUSEADDR)
_CMSG_TYPE_PREFIXES = {"SOL_SOCKET": ("SCM_", "SO_TIMESTAMP"), "IPPROTO_IP": ("IP_",),
                       "IPPROTO_IPV6": ("IPV6_",)}


@dataclass(frozen=True)
class Option:
    level: str
    name: str
    host_level: int
    host_name: int
    kind: str


class SocketAbi:
    """The socket numbering of one guest ABI against the host's."""

    def __init__(self, abi: Any):
        const = abi.const
        self.abi = abi
        self.byteorder = abi.byteorder
        self.word = abi.word_size
        self.families = _pairs(const, ("AF_",), exclude=("AF_MAX",))
        self.families_back = {h: g for g, h in self.families.items()}
        self.types = _pairs(const, ("SOCK_",), only=("SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW",
                                                     "SOCK_RDM", "SOCK_SEQPACKET",
                                                     "SOCK_DCCP", "SOCK_PACKET"))
        self.types_back = {h: g for g, h in self.types.items()}
        self.type_flags = FlagTable.by_name(const, {n: host_value(n) for n in (
            "SOCK_NONBLOCK", "SOCK_CLOEXEC")}, ("SOCK_NONBLOCK", "SOCK_CLOEXEC"))
        self.msg_flags = FlagTable.by_name(const, {n: host_value(n) for n in _MSG_NAMES},
                                           _MSG_NAMES)
        self.levels: dict[int, tuple[str, int]] = {}
        for name in _LEVEL_NAMES:
            g, h = const.get(name), host_value(name)
            if g is not None and h is not None:
                self.levels[g] = (name, h)
        self.levels_back = {h: (name, g) for g, (name, h) in self.levels.items()}
        self._options: dict[tuple[int, int], Option] = {}
        for level, prefixes in _OPTION_PREFIXES.items():
            g_level = const[level]
            for name, value in const.items():
                if name.startswith(prefixes) and (g_level, value) not in self._options:
                    h = host_value(name)
                    if h is not None:
                        self._options[g_level, value] = Option(
                            level, name, self.levels[g_level][1], h,
                            OPTION_KINDS.get((level, name), "ints"))
        self._cmsg: dict[tuple[int, int], tuple[str, str, int, int]] = {}
        for level, prefixes in _CMSG_TYPE_PREFIXES.items():
            g_level = const[level]
            for name, value in const.items():
                h = host_value(name)
                if name.startswith(prefixes) and h is not None and (g_level, value) not in \
                        self._cmsg:
                    self._cmsg[g_level, value] = (level, name, self.levels[g_level][1], h)
        self._cmsg_back = {(hl, ht): (name, g) for (g_l, g), (level, name, hl, ht)
                           in self._cmsg.items()}

    # -- numbers -------------------------------------------------------------------------
    def option(self, level: int, name: int) -> Option | None:
        found = self._options.get((level, name))
        if found is None and level in self.levels and self.levels[level][0] != "SOL_SOCKET":
            # protocol options not in the tables: the numbers are the same on every ABI
            lname, hlevel = self.levels[level]
            return Option(lname, str(name), hlevel, name, "ints")
        return found

    def cmsg_to_host(self, level: int, kind: int) -> tuple[str, int, int] | None:
        found = self._cmsg.get((level, kind))
        if found is None:
            return None
        lname, name, hl, ht = found
        return CMSG_KINDS.get((lname, name), "bytes"), hl, ht

    def cmsg_to_guest(self, level: int, kind: int) -> tuple[str, int, int] | None:
        """(payload kind, guest level, guest type) of a host control message."""
        found = self._cmsg_back.get((level, kind))
        if found is None:
            return None
        name, g_type = found
        lname, g_level = self.levels_back[level]
        return CMSG_KINDS.get((lname, name), "bytes"), g_level, g_type

    # -- byte-level values -------------------------------------------------------------
    def swap_ints(self, data: bytes, size: int = 4) -> bytes:
        """Each ``size``-byte integer of ``data`` from guest to host order (or back)."""
        if self.byteorder == "little" or len(data) % size:
            return bytes(data)
        return b"".join(data[i:i + size][::-1] for i in range(0, len(data), size))

    def sockaddr_to_host(self, raw: bytes, unix_path: Callable[[bytes], bytes]) -> bytes:
        """A guest sockaddr as the host takes it; ``unix_path`` maps an AF_UNIX file name."""
        if len(raw) < 2:
            return bytes(raw)
        family = self.families.get(int.from_bytes(raw[:2], self.byteorder))
        if family is None:
            raise OSError(host_errno.EAFNOSUPPORT, "address family not supported")
        body = bytes(raw[2:])
        if family == host_socket.AF_UNIX and body and body[0]:
            path = body.split(b"\0", 1)[0]
            body = unix_path(path) + b"\0"
        elif family == getattr(host_socket, "AF_NETLINK", -1):
            body = body[:2] + self.swap_ints(body[2:10]) + body[10:]
        elif family == host_socket.AF_INET6 and len(body) >= 26:
            body = body[:22] + self.swap_ints(body[22:26]) + body[26:]
        return family.to_bytes(2, "little") + body

    def sockaddr_to_guest(self, raw: bytes, guest_path: Callable[[bytes], bytes]) -> bytes:
        if len(raw) < 2:
            return bytes(raw)
        host_family = int.from_bytes(raw[:2], "little")
        family = self.families_back.get(host_family, host_family)
        body = bytes(raw[2:])
        if host_family == host_socket.AF_UNIX and body and body[0]:
            body = guest_path(body.split(b"\0", 1)[0]) + b"\0"
        elif host_family == getattr(host_socket, "AF_NETLINK", -1):
            body = body[:2] + self.swap_ints(body[2:10]) + body[10:]
        elif host_family == host_socket.AF_INET6 and len(body) >= 26:
            body = body[:22] + self.swap_ints(body[22:26]) + body[26:]
        return family.to_bytes(2, self.byteorder) + body

    def timeval_to_host(self, raw: bytes) -> bytes:
        if len(raw) < 2 * self.word:
            raise OSError(host_errno.EINVAL, "short timeval")
        fmt = ("<" if self.byteorder == "little" else ">") + ("ll" if self.word == 4 else "qq")
        return struct.pack("<qq", *struct.unpack_from(fmt, raw))

    def timeval_to_guest(self, raw: bytes) -> bytes:
        fmt = ("<" if self.byteorder == "little" else ">") + ("ll" if self.word == 4 else "qq")
        sec, frac = struct.unpack_from("<qq", raw)
        if self.word == 4:
            sec = max(-(1 << 31), min(sec, (1 << 31) - 1))
        return struct.pack(fmt, sec, frac)

    def cmsg_align(self, n: int) -> int:
        return (n + self.word - 1) & -self.word

    @property
    def cmsg_header(self) -> int:
        return self.cmsg_align(self.word + 8)


@functools.cache
def socket_abi(abi: Any) -> SocketAbi:
    return SocketAbi(abi)


def _pairs(const: dict[str, int], prefixes: tuple[str, ...], only: tuple[str, ...] = (),
           exclude: tuple[str, ...] = ()) -> dict[int, int]:
    """guest value -> host value for the names with ``prefixes`` both sides know."""
    out: dict[int, int] = {}
    for name, value in const.items():
        if not name.startswith(prefixes) or name in exclude or (only and name not in only):
            continue
        h = host_value(name)
        if h is not None:
            out.setdefault(value, h)
    return out
