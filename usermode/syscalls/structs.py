"""C struct layouts as data: declared once, laid out per ABI (word size, byte order).

A declaration is a list of (field, ctype) pairs in C order. Types: ``u8 i8 u16 i16 u32 i32 u64
i64``, ``long``/``ulong``/``ptr`` (the ABI's word), arrays ``T[n]`` (packed as a sequence, or as
bytes for ``char[n]``), and ``pad[n]`` (n unnamed bytes); a ``("__packed__", "N")`` entry caps every alignment at N
(``__attribute__((packed, aligned(N)))``). Alignment follows the C rules of the
three supported ABIs (every scalar aligned to its size, 64-bit included). A declaration may also
be a mapping from byte order ("big"/"little") to the list, for the rare struct whose field order
follows the byte order (MIPS's msqid64_ds). The conformance test
compiles the kernel's own definitions with each cross compiler and checks sizes and offsets.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

_SCALARS = {"u8": "B", "i8": "b", "u16": "H", "i16": "h", "u32": "I", "i32": "i",
            "u64": "Q", "i64": "q", "char": "s"}
_WORD = {"long": ("i", "q"), "ulong": ("I", "Q"), "ptr": ("I", "Q")}
_ARRAY = re.compile(r"^(\w+)\[(\d+)\]$")


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    size: int
    count: int      # array length, 1 for scalars (char arrays count as one bytes value)
    code: str


class Layout:
    """One struct laid out for one ABI: size, field offsets, pack and unpack."""

    def __init__(self, name: str, decl: Iterable[tuple[str, str]], word_size: int,
                 byteorder: str):
        self.name = name
        fields: list[Field] = []
        fmt, offset, align = "", 0, 1
        decl = list(decl)
        cap = dict(decl).get("__packed__")         # __attribute__((packed, aligned(N)))
        decl = [d for d in decl if d[0] != "__packed__"]
        for fname, ctype in decl:
            code, size, count = _ctype(ctype, word_size)
            falign = 1 if code in ("s", "x") else size
            if cap:
                falign = min(falign, int(cap))
            pad = -offset % falign
            fmt += f"{pad}x" if pad else ""
            offset += pad
            if code == "x":
                fmt += f"{count}x"
            else:
                fmt += f"{count}s" if code == "s" else code * count
                fields.append(Field(fname, offset, size, count, code))
            offset += size * count
            align = max(align, falign)
        tail = -offset % align
        fmt += f"{tail}x" if tail else ""
        self.fields = tuple(fields)
        self.offsets = {f.name: f.offset for f in fields}
        self._struct = struct.Struct(("<" if byteorder == "little" else ">") + fmt)
        self.size = self._struct.size
        assert self.size == offset + tail, name

    def pack(self, values: Mapping[str, Any] | None = None, **kw: Any) -> bytes:
        """Bytes of the struct; missing fields are zero."""
        merged = {**(values or {}), **kw}
        flat: list[Any] = []
        for f in self.fields:
            value = merged.get(f.name)
            if f.code == "s":
                flat.append(value or b"")
            elif f.count > 1:
                seq = list(value or ())
                flat.extend(_fit(v, f) for v in seq + [0] * (f.count - len(seq)))
            else:
                flat.append(_fit(value or 0, f))
        return self._struct.pack(*flat)

    def unpack(self, data: bytes) -> dict[str, Any]:
        raw = self._struct.unpack(bytes(data[:self.size]))
        out: dict[str, Any] = {}
        i = 0
        for f in self.fields:
            if f.code != "s" and f.count > 1:
                out[f.name] = list(raw[i:i + f.count])
                i += f.count
            else:
                out[f.name] = raw[i]
                i += 1
        return out


def _fit(value: int, f: Field) -> int:
    """Wrap an int to the field's width (C assignment semantics)."""
    bits = 8 * f.size
    value &= (1 << bits) - 1
    if f.code.islower() and value >> (bits - 1):
        value -= 1 << bits
    return value


def _ctype(ctype: str, word_size: int) -> tuple[str, int, int]:
    """(struct code, element size, count) of a declared type."""
    count = 1
    match = _ARRAY.match(ctype)
    if match:
        ctype, count = match.group(1), int(match.group(2))
    if ctype == "pad":
        return "x", 1, count
    if ctype in _WORD:
        code = _WORD[ctype][word_size == 8]
    else:
        code = _SCALARS[ctype]
    size = 1 if code == "s" else struct.calcsize(code)
    return code, size, count


class LayoutSet:
    """Every struct of one ABI, built lazily from declarations."""

    def __init__(self, decls: Mapping[str, Iterable[tuple[str, str]]], word_size: int,
                 byteorder: str):
        self._decls = decls
        self._word_size = word_size
        self._byteorder = byteorder
        self._built: dict[str, Layout] = {}

    def __getitem__(self, name: str) -> Layout:
        layout = self._built.get(name)
        if layout is None:
            decl = self._decls[name]
            if isinstance(decl, Mapping):           # field order by byte order
                decl = decl[self._byteorder]
            layout = Layout(name, decl, self._word_size, self._byteorder)
            self._built[name] = layout
        return layout

    def __contains__(self, name: str) -> bool:
        return name in self._decls

    def names(self) -> list[str]:
        return sorted(self._decls)
