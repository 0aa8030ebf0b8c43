"""The block-level hook cache: per-block metadata kept by guest address, for the features that
want to see blocks (``-d in_asm``, ``-d exec``, coverage, API block hooks).

Nothing here exists until a feature asks: the normal path has no block hook at all. Once one
does, every CPU gets one engine block hook (through the C API, about half a microsecond per
executed block) and the cache keeps a ``Block`` per address, made the first time the block runs
(or runs again after its code changed) and handed to the watchers' ``new_block``; watchers with
an ``executed`` method see every execution.

The cache is attached to the AddressSpace like an engine, so it hears of every unmap, protection
change and host-side write to code (``invalidate_code``) and drops the blocks of those pages
precisely. Guest stores into a writable and executable page reach no hook; blocks in such pages
keep their bytes and are compared with memory when they run (the one per-run cost, on RWX pages
only), so self-modifying code and JITs are seen with their new code.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any, Protocol

import unicorn
from unicorn.unicorn_py3.unicorn import uclib as _uclib

from .memory import PAGE_SIZE, PROT_WRITE, AddressSpace

_BLOCK_CFUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32,
                                ctypes.c_void_p)


@dataclass(eq=False)
class Block:
    """One translated block of guest code as it was when it first ran."""

    address: int
    size: int
    thumb: bool                 # ARM: Thumb code
    code: bytes
    writable: bool              # in a page the guest may store to (compared before each run)
    executions: int = 0
    data: dict[str, Any] = field(default_factory=dict)   # per-feature annotations


class BlockWatcher(Protocol):
    def new_block(self, block: Block) -> None: ...


class BlockCache:
    """Blocks by address, shared by the CPUs of one address space."""

    def __init__(self, space: AddressSpace):
        self.space = space
        self.blocks: dict[int, Block] = {}
        self._pages: dict[int, set[int]] = {}
        self._watchers: list[Any] = []
        self._executed: list[Any] = []
        self._dropped: list[Any] = []
        self._hooks: list[Any] = []       # keep the C callbacks alive
        space.attach(self)

    # -- watchers and CPUs -------------------------------------------------------------------
    def watch(self, watcher: Any) -> None:
        """Add a watcher: ``new_block(block)``, and ``executed(block)`` / ``dropped(block)``
        if it has them."""
        self._watchers.append(watcher)
        if hasattr(watcher, "executed"):
            self._executed.append(watcher.executed)
        if hasattr(watcher, "dropped"):
            self._dropped.append(watcher.dropped)

    def attach(self, cpu: Any) -> None:
        """Hook ``cpu``'s engine: every block it runs goes through the cache."""
        uc = cpu.uc

        def callback(_handle: int, address: int, size: int, _data: int) -> None:
            try:
                self._ran(cpu, address, size)
            except BaseException as exc:      # re-raised by Cpu.run once the engine stops
                cpu.fail(exc)

        cfunc = _BLOCK_CFUNC(callback)
        handle = ctypes.c_size_t()
        status = _uclib.uc_hook_add(uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_BLOCK,
                                    ctypes.cast(cfunc, ctypes.c_void_p), None,
                                    ctypes.c_uint64(1), ctypes.c_uint64(0))
        if status != unicorn.UC_ERR_OK:
            raise unicorn.UcError(status)
        self._hooks.append(cfunc)

    def _ran(self, cpu: Any, address: int, size: int) -> None:
        block = self.blocks.get(address)
        if block is None or block.size != size or (
                block.writable and self.space.read(address, size, check=False) != block.code):
            block = self._new(cpu, address, size)
        block.executions += 1
        for executed in self._executed:
            executed(block)

    def _new(self, cpu: Any, address: int, size: int) -> Block:
        self._drop(address, address + max(size, 1))
        vma = self.space.find(address)
        block = Block(address, size, bool(cpu.pc & 1) if cpu.spec.mode_flag else False,
                      self.space.read(address, size, check=False),
                      bool(vma is not None and vma.prot & PROT_WRITE))
        self.blocks[address] = block
        for page in range(address // PAGE_SIZE, (address + max(size, 1) - 1) // PAGE_SIZE + 1):
            self._pages.setdefault(page, set()).add(address)
        for watcher in self._watchers:
            watcher.new_block(block)
        return block

    # -- invalidation (the AddressSpace's Engine protocol) --------------------------------------
    def _drop(self, start: int, end: int) -> None:
        for page in range(start // PAGE_SIZE, (end - 1) // PAGE_SIZE + 1):
            for address in self._pages.pop(page, ()):
                block = self.blocks.get(address)
                if block is not None and address < end and address + block.size > start:
                    del self.blocks[address]
                    for dropped in self._dropped:
                        dropped(block)
                elif block is not None:
                    self._pages.setdefault(page, set()).add(address)

    def map_host(self, start: int, size: int, prot: int, host: int) -> None:
        self._drop(start, start + size)

    def unmap(self, start: int, size: int) -> None:
        self._drop(start, start + size)

    def protect(self, start: int, size: int, prot: int) -> None:
        self._drop(start, start + size)

    def invalidate_code(self, start: int, end: int) -> None:
        self._drop(start, end)
