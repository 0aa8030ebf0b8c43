"""Route netlink messages between byte orders (a big-endian guest on a little-endian host).

Netlink speaks the host's byte order: the headers (nlmsghdr, rtattr), the fixed part of each
message (ifinfomsg, ifaddrmsg, rtmsg) and the integer attributes must be swapped for a guest of
the other order; addresses, names and unknown or nested attributes are bytes and pass as they
are. This covers what glibc's getifaddrs, if_nameindex and the common route dumps read
(linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h).
"""
from __future__ import annotations

import struct

NLMSG_ERROR, NLMSG_DONE = 2, 3
_NESTED = 0x8000

# attribute type -> element size of its integer payload (4: u32s, 8: u64s)
_LINK_INTS = {4: 4, 5: 4, 7: 4, 10: 4, 13: 4, 23: 8, 27: 4, 30: 4, 31: 4, 32: 4, 35: 4, 40: 4,
              41: 4, 47: 4, 48: 4, 50: 4, 51: 4}       # MTU, LINK, STATS, MASTER, TXQLEN, ...
_ADDR_INTS = {6: 4, 8: 4, 9: 4}                        # CACHEINFO, FLAGS, RT_PRIORITY
_ROUTE_INTS = {3: 4, 4: 4, 6: 4, 15: 4, 16: 4}         # IIF, OIF, PRIORITY, TABLE, MARK

# message type ranges -> (fixed part: offsets of its u16/u32 fields, its size, attribute table)
_FAMILIES = (
    (range(16, 20), ((2, 2), (4, 4), (8, 4), (12, 4)), 16, _LINK_INTS),   # RTM_*LINK
    (range(20, 23), ((4, 4),), 8, _ADDR_INTS),                           # RTM_*ADDR
    (range(24, 27), ((8, 4),), 12, _ROUTE_INTS),                         # RTM_*ROUTE
)


def _swap_field(out: bytearray, data: bytes, off: int, size: int) -> None:
    out[off:off + size] = data[off:off + size][::-1]


def _swap_attrs(out: bytearray, data: bytes, off: int, end: int, ints: dict[int, int],
                order: str) -> None:
    while off + 4 <= end:
        length, kind = struct.unpack_from(order + "HH", data, off)
        _swap_field(out, data, off, 2)
        _swap_field(out, data, off + 2, 2)
        if length < 4:
            return
        size = ints.get(kind) if not kind & _NESTED else None
        if size:
            for p in range(off + 4, min(off + length, end) - size + 1, size):
                _swap_field(out, data, p, size)
        off += (length + 3) & ~3


def swap_messages(data: bytes, order: str) -> bytes:
    """``data`` (netlink messages in byte order ``order``: "<" or ">") in the other order."""
    out = bytearray(data)
    off = 0
    while off + 16 <= len(data):
        length, kind = struct.unpack_from(order + "IH", data, off)
        for field, size in ((0, 4), (4, 2), (6, 2), (8, 4), (12, 4)):
            _swap_field(out, data, off + field, size)
        end = min(off + length, len(data))
        body = off + 16
        if kind in (NLMSG_ERROR, NLMSG_DONE) and body + 4 <= end:
            _swap_field(out, data, body, 4)
            if kind == NLMSG_ERROR and body + 20 <= end:      # the request's header follows
                for field, size in ((0, 4), (4, 2), (6, 2), (8, 4), (12, 4)):
                    _swap_field(out, data, body + 4 + field, size)
        for kinds, fields, fixed, ints in _FAMILIES:
            if kind in kinds and body + fixed <= end:
                for field, size in fields:
                    _swap_field(out, data, body + field, size)
                _swap_attrs(out, data, body + fixed, end, ints, order)
        if length < 16:
            break
        off += (length + 3) & ~3
    return bytes(out)
