"""The stopped process as gdb reads and writes it: registers by gdb number, memory, and the
``qXfer`` documents. Used only while every guest thread is stopped (see ``control``)."""
from __future__ import annotations

from typing import Any

from ..translate.memory import GuestFault
from . import documents
from .targets import UNMODELED, GdbReg, GdbTarget, target_xml


class Inferior:
    def __init__(self, kernel: Any, spec: Any, target: GdbTarget) -> None:
        self.k = kernel
        self.space = kernel.space
        self.target = target
        self.registers: tuple[GdbReg, ...] = target.registers
        self.byteorder = spec.byteorder
        self.word_size = spec.word_size
        self._xml = target_xml(target).encode()
        # the registers of at most 64 bits, read in one engine call per ``g`` packet
        self._narrow = [n for n, r in enumerate(self.registers)
                        if r.bits <= 64 and r.cpu_name != UNMODELED]
        self._batches: dict[Any, Any] = {}

    # -- registers ---------------------------------------------------------------------------
    def read_register(self, cpu: Any, number: int) -> bytes:
        reg = self.registers[number]
        value = 0 if reg.cpu_name == UNMODELED else cpu.read(reg.cpu_name)
        return (value & ((1 << reg.bits) - 1)).to_bytes(reg.size, self.byteorder)

    def write_register(self, cpu: Any, number: int, data: bytes) -> None:
        reg = self.registers[number]
        if len(data) != reg.size:
            raise ValueError(f"register {reg.name} has {reg.size} bytes, not {len(data)}")
        if reg.cpu_name != UNMODELED:
            cpu.write_wide(reg.cpu_name, int.from_bytes(data, self.byteorder))

    def read_all(self, cpu: Any) -> bytes:
        batch = self._batches.get(cpu)
        if batch is None:
            names = [self.registers[n].cpu_name for n in self._narrow]
            batch = self._batches[cpu] = cpu.registers(names)
        values = dict(zip(self._narrow, batch.read()))
        parts = []
        for number, reg in enumerate(self.registers):
            value = values.get(number)
            if value is None:
                parts.append(self.read_register(cpu, number))
            else:
                parts.append((value & ((1 << reg.bits) - 1)).to_bytes(reg.size, self.byteorder))
        return b"".join(parts)

    def write_all(self, cpu: Any, data: bytes) -> None:
        """``G``: the registers in number order, as many as ``data`` covers whole."""
        offset = 0
        for number, reg in enumerate(self.registers):
            if offset + reg.size > len(data):
                break
            self.write_register(cpu, number, data[offset:offset + reg.size])
            offset += reg.size

    # -- memory ------------------------------------------------------------------------------
    def read_memory(self, address: int, length: int) -> bytes:
        """What can be read from ``address`` on (as ptrace, ignoring the guest's own read
        rights): at most ``length`` bytes, fewer where the mapping ends; GuestFault when
        nothing is mapped there."""
        length = self.space.accessible(address, length, 0)
        if length <= 0:
            raise GuestFault(address)
        return self.space.read(address, length, check=False)

    def write_memory(self, address: int, data: bytes) -> None:
        """Write guest memory (read-only mappings too, as ptrace does; translated code of
        the range is dropped by the address space)."""
        if data:
            self.space.write(address, data, check=False)

    # -- qXfer documents ---------------------------------------------------------------------
    def document(self, name: str, annex: str, threads: list[tuple[int, str]]) -> bytes | None:
        """The contents of qXfer object ``name``; None for one pyemu does not provide."""
        make = {"features": lambda: self._xml if annex == "target.xml" else None,
                "auxv": self._auxv, "exec-file": lambda: self.k.process.exe.encode(),
                "threads": lambda: documents.threads_xml(threads).encode(),
                "libraries-svr4": self._libraries}.get(name)
        return make() if make is not None else None

    def _auxv(self) -> bytes:
        return documents.auxv_bytes(self.k.process.auxv, self.word_size, self.byteorder)

    def _libraries(self) -> bytes:
        words = documents.GuestWords(self.space, self.word_size, self.byteorder)
        auxv = dict(self.k.process.auxv)
        return documents.libraries_svr4_xml(words, auxv, self.target.r_debug_tags).encode()
