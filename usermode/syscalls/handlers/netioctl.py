"""Socket ioctls: interface queries through struct ifreq / struct ifconf, SIOCATMARK, SIOCOUTQ.

struct ifreq is a 16-byte name and a union that is 16 bytes on 32-bit ABIs and 24 on 64-bit
ones; what the union holds depends on the request (an int, a short of flags, a sockaddr, a
name). Requests that change an interface are the host administrator's business: refused with
EPERM like for an unprivileged user (a guest never reconfigures the host's network).
"""
from __future__ import annotations

import ctypes
import errno
import fcntl as host_fcntl
import struct
from typing import Any

from ..netabi import host_value, socket_abi
from .common import fail, read_word, write_word
from .io import register_ioctls

_HOST_IFREQ = 40
_NAME = 16


def _host_request(name: str) -> int:
    value = host_value(name)
    assert value is not None, name
    return value


def _union_to_guest(k: Any, kind: str, raw: bytes) -> bytes:
    """The union part of a host ifreq, as the guest lays it out."""
    net = socket_abi(k.abi)
    if kind == "int":
        return net.swap_ints(raw[:4])
    if kind == "short":
        return raw[:2] if k.abi.byteorder == "little" else raw[:2][::-1]
    if kind == "sockaddr":
        family = int.from_bytes(raw[:2], "little")
        return family.to_bytes(2, k.abi.byteorder) + raw[2:16]
    return raw


def _ifreq(kind: str, request: str, sets: bool = False):
    """A handler for one ifreq request: the name goes in, the union comes back."""
    def run(k: Any, fd: int, arg: int) -> int:
        size = k.abi.structs["ifreq"].size
        guest = k.space.read(arg, size)
        union = bytes(_HOST_IFREQ - _NAME)
        if kind == "name":              # SIOCGIFNAME: the index goes in, the name comes back
            index = int.from_bytes(guest[_NAME:_NAME + 4], k.abi.byteorder, signed=True)
            union = struct.pack("<i", index) + union[4:]
        raw = host_fcntl.ioctl(fd, _host_request(request), guest[:_NAME] + union)
        if kind == "name":
            k.space.write(arg, raw[:_NAME])
        else:
            out = _union_to_guest(k, kind, raw[_NAME:])
            k.space.write(arg + _NAME, out[:size - _NAME])
        return 0
    return run


def _refused(k: Any, fd: int, arg: int) -> int:
    k.space.read(arg, 1)
    raise fail(errno.EPERM)


def _ifconf(k: Any, fd: int, arg: int) -> int:
    """SIOCGIFCONF: struct ifconf { int ifc_len; char *ifc_buf; } and an array of ifreq."""
    word = k.abi.word_size
    length = k.abi.int32(read_word(k, arg, 4))
    buf = read_word(k, arg + word)
    size = k.abi.structs["ifreq"].size
    count = max(length, 0) // size if buf else 0
    host_buf = bytearray(count * _HOST_IFREQ)
    holder = (ctypes.c_char * max(len(host_buf), 1)).from_buffer(host_buf) if host_buf else None
    host_conf = struct.pack("<iiQ", len(host_buf), 0, ctypes.addressof(holder) if holder else 0)
    raw = host_fcntl.ioctl(fd, _host_request("SIOCGIFCONF"), host_conf)
    host_len = struct.unpack_from("<i", raw)[0]
    entries = host_len // _HOST_IFREQ
    out = bytearray()
    for i in range(entries if buf else 0):
        entry = bytes(host_buf[i * _HOST_IFREQ:(i + 1) * _HOST_IFREQ])
        out += entry[:_NAME] + _union_to_guest(k, "sockaddr", entry[_NAME:])[:size - _NAME]
    if buf and out:
        k.space.write(buf, bytes(out))
    write_word(k, arg, entries * size, 4)
    return 0


def _int_out(request: str):
    def run(k: Any, fd: int, arg: int) -> int:
        raw = host_fcntl.ioctl(fd, _host_request(request), bytes(4))
        write_word(k, arg, struct.unpack("<i", raw)[0], 4)
        return 0
    return run


register_ioctls({
    "SIOCGIFINDEX": _ifreq("int", "SIOCGIFINDEX"),
    "SIOCGIFNAME": _ifreq("name", "SIOCGIFNAME"),
    "SIOCGIFFLAGS": _ifreq("short", "SIOCGIFFLAGS"),
    "SIOCGIFMTU": _ifreq("int", "SIOCGIFMTU"),
    "SIOCGIFMETRIC": _ifreq("int", "SIOCGIFMETRIC"),
    "SIOCGIFTXQLEN": _ifreq("int", "SIOCGIFTXQLEN"),
    "SIOCGIFADDR": _ifreq("sockaddr", "SIOCGIFADDR"),
    "SIOCGIFNETMASK": _ifreq("sockaddr", "SIOCGIFNETMASK"),
    "SIOCGIFBRDADDR": _ifreq("sockaddr", "SIOCGIFBRDADDR"),
    "SIOCGIFDSTADDR": _ifreq("sockaddr", "SIOCGIFDSTADDR"),
    "SIOCGIFHWADDR": _ifreq("sockaddr", "SIOCGIFHWADDR"),
    "SIOCGIFCONF": _ifconf,
    "SIOCATMARK": _int_out("SIOCATMARK"),
    "SIOCOUTQ": _int_out("SIOCOUTQ"),
    **{name: _refused for name in (
        "SIOCSIFFLAGS", "SIOCSIFADDR", "SIOCSIFNETMASK", "SIOCSIFBRDADDR", "SIOCSIFDSTADDR",
        "SIOCSIFMTU", "SIOCSIFHWADDR", "SIOCSIFNAME", "SIOCSIFTXQLEN", "SIOCADDRT",
        "SIOCDELRT")},
})
