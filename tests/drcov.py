"""A reader of DynamoRIO's drcov files (version 2, as Lighthouse reads them), written from the
format's documentation: text header lines, a module table, "BB Table: N bbs", then N binary
records of (uint32 offset from the module's base, uint16 size, uint16 module id)."""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Module:
    id: int
    base: int
    end: int
    path: str


@dataclass(frozen=True)
class Drcov:
    version: int
    modules: dict[int, Module]
    blocks: list[tuple[int, int, int]]      # (offset, size, module id)

    def addresses(self) -> set[tuple[int, int]]:
        """The blocks as (address, size)."""
        return {(self.modules[m].base + off, size) for off, size, m in self.blocks}


def read(data: bytes) -> Drcov:
    lines, pos = [], 0
    while True:
        end = data.index(b"\n", pos)
        line = data[pos:end].decode()
        pos = end + 1
        lines.append(line)
        if line.startswith("BB Table:"):
            break
    version = int(re.fullmatch(r"DRCOV VERSION: (\d+)", lines[0]).group(1))
    if not lines[1].startswith("DRCOV FLAVOR: "):
        raise ValueError("no flavor line")
    count = int(re.fullmatch(r"Module Table: (?:version \d+, )?count (\d+)", lines[2]).group(1))
    columns = [c.strip() for c in lines[3].removeprefix("Columns:").split(",")]
    modules = {}
    for row in lines[4:4 + count]:
        cells = dict(zip(columns, (c.strip() for c in row.split(",", len(columns) - 1))))
        module = Module(int(cells["id"]), int(cells["base"], 16), int(cells["end"], 16),
                        cells["path"])
        modules[module.id] = module
    bbs = int(re.fullmatch(r"BB Table: (\d+) bbs", lines[4 + count]).group(1))
    records = data[pos:]
    if len(records) != 8 * bbs:
        raise ValueError(f"{len(records)} bytes of records for {bbs} blocks")
    blocks = [struct.unpack_from("<IHH", records, 8 * i) for i in range(bbs)]
    for offset, _size, mod in blocks:
        if mod not in modules or modules[mod].base + offset >= modules[mod].end:
            raise ValueError(f"block at {offset:#x} outside module {mod}")
    return Drcov(version, modules, blocks)
