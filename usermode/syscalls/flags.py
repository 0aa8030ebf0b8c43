"""Bit-flag translation between guest and host values, table driven (as qemu's bitmask_transtbl).

A row says: when ``value & guest_mask == guest_bits`` the other side gets ``host_bits`` (and the
reverse). Rows are built by constant name from the generated guest tables and the host's modules,
so no flag value is typed by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping


@dataclass(frozen=True)
class FlagRow:
    name: str
    guest_mask: int
    guest_bits: int
    host_mask: int
    host_bits: int


class FlagTable:
    def __init__(self, rows: Iterable[FlagRow]):
        self.rows = tuple(rows)

    @classmethod
    def by_name(cls, guest: Mapping[str, int], host: Mapping[str, object],
                names: Iterable[str]) -> FlagTable:
        """Rows for every name both sides define; a flag the host lacks (value 0) is dropped."""
        rows = []
        for name in names:
            g, h = guest.get(name), host.get(name)
            if isinstance(g, int) and isinstance(h, int) and g:
                rows.append(FlagRow(name, g, g, h, h))
        return cls(rows)

    def to_host(self, value: int, passthrough: int = 0) -> int:
        out = value & passthrough
        for row in self.rows:
            if value & row.guest_mask == row.guest_bits:
                out |= row.host_bits
        return out

    def to_guest(self, value: int, passthrough: int = 0) -> int:
        out = value & passthrough
        for row in self.rows:
            if row.host_mask and value & row.host_mask == row.host_bits:
                out |= row.guest_bits
        return out

    def names(self, value: int) -> list[str]:
        """Guest flag names set in ``value`` (for -strace)."""
        return [row.name for row in self.rows if value & row.guest_mask == row.guest_bits]
