"""The guest address space: mappings backed by host memory and mirrored into the engines.

Every guest mapping owns anonymous host memory from the host's ``mmap``; the engine maps it with
``mem_map_ptr``, so Python reads and writes guest memory through plain host pointers (no engine
call) and several engines (threads) can share one ``AddressSpace``. The list of ``Vma`` objects
here is authoritative; the engine's region list only mirrors it.

With a ``HostWindow`` (32-bit guests on the patched engine) the host memory of every mapping
sits at one host address plus its guest address, with host rights that follow the guest's:
the engine then compiles guest loads and stores to single host accesses (``uc_pyemu_direct``)
and learns of bad ones from the host fault.
"""
from __future__ import annotations

import bisect
import contextlib
import ctypes
import errno as _errno
import weakref
from dataclasses import dataclass, replace
from typing import Iterator, Protocol

PAGE_SIZE = 0x1000
PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC = 0, 1, 2, 4
PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.restype = ctypes.c_int
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mprotect.restype = ctypes.c_int
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.mremap.restype = ctypes.c_void_p
_libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int,
                         ctypes.c_void_p]
_HOST_MAP_PRIVATE, _HOST_MAP_ANONYMOUS, _HOST_MAP_NORESERVE = 0x02, 0x20, 0x4000
_HOST_MAP_FIXED, _HOST_MREMAP_MAYMOVE, _HOST_MREMAP_FIXED = 0x10, 1, 2
_HOST_PROT_NONE, _HOST_PROT_READ, _HOST_PROT_RW = 0, 1, 3
_MAP_FAILED = ctypes.c_void_p(-1).value


class GuestFault(Exception):
    """A host-side access to guest memory touched an unmapped or protected page (EFAULT)."""

    errno = _errno.EFAULT

    def __init__(self, address: int):
        super().__init__(f"bad guest address {address:#x}")
        self.address = address


class Engine(Protocol):
    """What the address space needs from an engine to mirror its mappings."""

    def map_host(self, start: int, size: int, prot: int, host: int) -> None: ...
    def unmap(self, start: int, size: int) -> None: ...
    def protect(self, start: int, size: int, prot: int) -> None: ...
    def invalidate_code(self, start: int, end: int) -> None: ...


@dataclass
class Vma:
    """One guest mapping [start, end) with its protection and the host memory behind start."""

    start: int
    end: int
    prot: int
    host: int
    name: str = ""
    offset: int = 0       # file offset of start, for /proc/self/maps
    inode: int = 0
    device: int = 0
    shared: bool = False  # host memory shared with other processes (MAP_SHARED, SysV shm)
    max_prot: int = PROT_ALL   # what mprotect may grant (a shared map of a read-only file: r-x)

    def __len__(self) -> int:
        return self.end - self.start

    def split_at(self, addr: int) -> tuple[Vma, Vma]:
        delta = addr - self.start
        low = replace(self, end=addr)
        high = replace(self, start=addr, host=self.host + delta, offset=self.offset + delta)
        return low, high


def page_floor(value: int) -> int:
    return value & ~(PAGE_SIZE - 1)


def page_ceil(value: int) -> int:
    return (value + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def _host_mmap(where: int | None, size: int, prot: int, flags: int) -> int:
    flags |= _HOST_MAP_PRIVATE | _HOST_MAP_ANONYMOUS | _HOST_MAP_NORESERVE
    ptr = _libc.mmap(where, size, prot, flags, -1, 0)
    if ptr is None or ptr == _MAP_FAILED:
        raise MemoryError(f"host mmap of {size:#x} bytes failed (errno {ctypes.get_errno()})")
    return ptr


def _host_alloc(size: int) -> int:
    return _host_mmap(None, size, _HOST_PROT_RW, 0)


class HostWindow:
    """A host reservation holding the guest's whole address space at ``base + address``.

    The host rights follow the guest's so that a direct load or store the guest may not do
    faults on the host: writable pages are read-write, other accessible pages read-only,
    ``PROT_NONE`` pages and unmapped addresses inaccessible (the engine checks execution
    itself, and keeps a writable page that holds translated code read-only while it does).
    A guard of inaccessible pages follows the window (accesses crossing its top)."""

    GUARD = 0x10000

    def __init__(self, size: int):
        self.size = size
        self.base = _host_mmap(None, size + self.GUARD, _HOST_PROT_NONE, 0)
        self._finalizer = weakref.finalize(self, _libc.munmap, self.base, size + self.GUARD)
        self._finalizer.atexit = False  # at exit, threads blocked in syscalls may still use it

    @staticmethod
    def host_prot(prot: int) -> int:
        if prot & PROT_WRITE:
            return _HOST_PROT_RW
        return _HOST_PROT_READ if prot else _HOST_PROT_NONE

    def alloc(self, start: int, size: int, prot: int) -> int:
        """Fresh zeroed host memory for [start, start+size), accessible as ``prot`` needs."""
        return _host_mmap(self.base + start, size, self.host_prot(prot), _HOST_MAP_FIXED)

    def release(self, start: int, size: int) -> None:
        """Drop the host memory of [start, start+size) (detaching whatever was mapped), keeping
        the range reserved and inaccessible."""
        _host_mmap(self.base + start, size, _HOST_PROT_NONE, _HOST_MAP_FIXED)

    def protect(self, start: int, size: int, prot: int) -> None:
        if _libc.mprotect(self.base + start, size, self.host_prot(prot)) != 0:
            raise MemoryError(f"host mprotect failed (errno {ctypes.get_errno()})")

    def adopt(self, start: int, size: int, host: int, prot: int) -> int:
        """Move the caller's host mapping (shared memory) to [start, start+size)."""
        where = self.base + start
        moved = _libc.mremap(host, size, size, _HOST_MREMAP_MAYMOVE | _HOST_MREMAP_FIXED, where)
        if moved is None or moved == _MAP_FAILED:
            raise MemoryError(f"host mremap failed (errno {ctypes.get_errno()})")
        if not prot & PROT_WRITE:
            self.protect(start, size, prot)
        return where

    @contextlib.contextmanager
    def opened(self, vmas: list[Vma], write: bool) -> Iterator[None]:
        """Make mappings the host would refuse this access readable and writable for a moment
        (the emulator's own unchecked copies: the loader filling a read-only segment, mremap
        moving a PROT_NONE mapping)."""
        closed = [v for v in vmas if not (v.prot & PROT_WRITE if write else v.prot)]
        for vma in closed:
            self.protect(vma.start, len(vma), PROT_WRITE)
        try:
            yield
        finally:
            for vma in closed:
                self.protect(vma.start, len(vma), vma.prot)

    def close(self) -> None:
        self._finalizer()


class AddressSpace:
    """Guest mappings, page-granular, host-backed, mirrored into attached engines."""

    def __init__(self, limit: int, mmap_base: int, mmap_floor: int = 0x10000,
                 window: HostWindow | None = None):
        self.limit = limit              # first address past the user address space
        self.mmap_base = mmap_base      # top of the top-down mmap area
        self.mmap_floor = mmap_floor    # lowest address mmap may choose
        self.window = window            # host memory at window.base + guest address
        self._vmas: list[Vma] = []
        self._starts: list[int] = []
        self._engines: list[Engine] = []

    # -- engines -----------------------------------------------------------------------------
    def attach(self, engine: Engine) -> None:
        """Mirror every current and future mapping into ``engine``."""
        self._engines.append(engine)
        for vma in self._vmas:
            engine.map_host(vma.start, len(vma), vma.prot, vma.host)

    def detach(self, engine: Engine) -> None:
        self._engines.remove(engine)

    # -- queries -----------------------------------------------------------------------------
    def vmas(self) -> Iterator[Vma]:
        return iter(list(self._vmas))

    def find(self, addr: int) -> Vma | None:
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self._vmas[i].end:
            return self._vmas[i]
        return None

    def is_free(self, start: int, size: int) -> bool:
        end = start + size
        if start < self.mmap_floor or end > self.limit:
            return False
        i = bisect.bisect_left(self._starts, end)
        return i == 0 or self._vmas[i - 1].end <= start

    def find_free(self, size: int, hint: int = 0) -> int | None:
        """A free page-aligned range of ``size`` bytes: at ``hint`` if free, else top-down."""
        size = page_ceil(size)
        if hint and self.is_free(page_floor(hint), size):
            return page_floor(hint)
        top = self.mmap_base
        for vma in reversed(self._vmas):
            if vma.start >= top:
                continue
            if vma.end <= top - size:
                break
            top = vma.start
        if top - size >= self.mmap_floor:
            return top - size
        return None

    # -- mapping -----------------------------------------------------------------------------
    def map(self, start: int, size: int, prot: int, name: str = "", **meta: int) -> Vma:
        """Map fresh zeroed memory at [start, start+size), replacing what was there."""
        if start % PAGE_SIZE or size <= 0:
            raise ValueError(f"unaligned mapping {start:#x}+{size:#x}")
        size = page_ceil(size)
        if start + size > self.limit:
            raise GuestFault(start)
        self.unmap(start, size)
        host = self.window.alloc(start, size, prot) if self.window else _host_alloc(size)
        vma = Vma(start, start + size, prot, host, name, **meta)
        i = bisect.bisect_left(self._starts, start)
        self._vmas.insert(i, vma)
        self._starts.insert(i, start)
        for engine in self._engines:
            engine.map_host(start, size, prot, vma.host)
        return vma

    def host_slot(self, start: int) -> int | None:
        """Where host memory for a new mapping at ``start`` must go (for callers that map it
        themselves, with MAP_FIXED or SHM_REMAP), or None for anywhere."""
        return self.window.base + start if self.window else None

    def map_existing(self, start: int, size: int, prot: int, host: int, name: str = "",
                     **meta: int) -> Vma:
        """Map host memory the caller already has (a SysV shared memory segment attached on the
        host, a MAP_SHARED host mapping) at [start, start+size), replacing what was there. The
        mapping then belongs to the address space like any other: unmapping it munmaps the host
        memory (which detaches a shared segment). With a window the memory should already be
        at ``host_slot(start)`` (having replaced the old host pages there); memory elsewhere
        is moved there."""
        if start % PAGE_SIZE or size <= 0 or host % PAGE_SIZE:
            raise ValueError(f"unaligned mapping {start:#x}+{size:#x} of {host:#x}")
        size = page_ceil(size)
        if start + size > self.limit:
            raise GuestFault(start)
        placed = host == self.host_slot(start)
        self._drop(start, size, release=not placed)
        if self.window:
            if not placed:
                host = self.window.adopt(start, size, host, prot)
            elif not prot & PROT_WRITE:
                self.window.protect(start, size, prot)
        vma = Vma(start, start + size, prot, host, name, **meta)
        self._insert(vma)
        for engine in self._engines:
            engine.map_host(start, size, prot, vma.host)
        return vma

    def unmap(self, start: int, size: int) -> None:
        """Remove every mapping inside [start, start+size); unmapped holes are fine."""
        self._drop(start, size, release=True)

    def _drop(self, start: int, size: int, release: bool) -> None:
        """Unmap [start, start+size), freeing the host memory unless it was already replaced."""
        end = start + page_ceil(size)
        for vma in self._carve(start, end):
            if release and self.window:
                self.window.release(vma.start, len(vma))
            elif release:
                _libc.munmap(vma.host, len(vma))
            for engine in self._engines:
                engine.unmap(vma.start, len(vma))
                if vma.prot & PROT_EXEC:
                    engine.invalidate_code(vma.start, vma.end)

    def protect(self, start: int, size: int, prot: int) -> None:
        """Change protections; the whole range must be mapped (else ENOMEM like mprotect)."""
        end = start + page_ceil(size)
        if not self.is_mapped(start, end - start):
            raise OSError(_errno.ENOMEM, "range not mapped")
        cur = start
        while cur < end:
            vma = self.find(cur)
            if prot & ~vma.max_prot:
                raise OSError(_errno.EACCES, "mapping may not get these rights")
            cur = vma.end
        pieces = self._carve(start, end)
        for vma in pieces:
            changed = vma.prot != prot
            exec_change = (vma.prot | prot) & PROT_EXEC
            if self.window and self.window.host_prot(vma.prot) != self.window.host_prot(prot):
                self.window.protect(vma.start, len(vma), prot)
            vma.prot = prot
            self._insert(vma)
            if changed:
                for engine in self._engines:
                    engine.protect(vma.start, len(vma), prot)
                    if exec_change:
                        engine.invalidate_code(vma.start, vma.end)

    def rename(self, start: int, size: int, name: str) -> None:
        for vma in self._vmas:
            if vma.start >= start and vma.end <= start + size:
                vma.name = name

    def is_mapped(self, start: int, size: int) -> bool:
        addr, end = start, start + size
        while addr < end:
            vma = self.find(addr)
            if vma is None:
                return False
            addr = vma.end
        return True

    def _carve(self, start: int, end: int) -> list[Vma]:
        """Detach and return the parts of mappings inside [start, end), splitting at the edges."""
        lo = max(bisect.bisect_right(self._starts, start) - 1, 0)
        hi = bisect.bisect_left(self._starts, end)
        removed: list[Vma] = []
        keep: list[Vma] = []
        for vma in self._vmas[lo:hi]:
            if vma.end <= start or vma.start >= end:
                keep.append(vma)
                continue
            if vma.start < start:
                low, vma = vma.split_at(start)
                keep.append(low)
            if vma.end > end:
                vma, high = vma.split_at(end)
                keep.append(high)
            removed.append(vma)
        self._vmas[lo:hi] = keep
        self._starts[lo:hi] = [v.start for v in keep]
        return removed

    def _insert(self, vma: Vma) -> None:
        i = bisect.bisect_left(self._starts, vma.start)
        self._vmas.insert(i, vma)
        self._starts.insert(i, vma.start)

    # -- access ------------------------------------------------------------------------------
    def _pieces(self, addr: int, size: int, need: int) -> Iterator[tuple[int, int, Vma]]:
        """(host pointer, length, vma) pieces covering [addr, addr+size), checking rights."""
        end = addr + size
        while addr < end:
            vma = self.find(addr)
            if vma is None or (vma.prot & need) != need:
                raise GuestFault(addr)
            n = min(end, vma.end) - addr
            yield vma.host + (addr - vma.start), n, vma
            addr += n

    def read(self, addr: int, size: int, *, check: bool = True) -> bytes:
        need = PROT_READ if check else 0
        if size <= 0:
            return b""
        vma = self.find(addr)
        if vma is not None and addr + size <= vma.end and vma.prot & need == need and vma.prot:
            return ctypes.string_at(vma.host + (addr - vma.start), size)    # one mapping
        if not check and self.window:
            pieces = list(self._pieces(addr, size, 0))
            with self.window.opened([vma for _, _, vma in pieces], False):
                return b"".join([ctypes.string_at(ptr, n) for ptr, n, _ in pieces])
        parts = [ctypes.string_at(ptr, n) for ptr, n, _ in self._pieces(addr, size, need)]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def write(self, addr: int, data: bytes, *, check: bool = True) -> None:
        if not check and self.window:
            with self.window.opened([v for _, _, v in self._pieces(addr, len(data), 0)], True):
                self._write(addr, data, 0)
        else:
            self._write(addr, data, PROT_WRITE if check else 0)

    def _write(self, addr: int, data: bytes, need: int) -> None:
        done = 0
        for ptr, n, vma in self._pieces(addr, len(data), need):
            # first, and whole pages: with direct memory access a page with code is read-only
            # on the host until none is left
            if vma.prot & PROT_EXEC:
                for engine in self._engines:
                    engine.invalidate_code(page_floor(addr + done), page_ceil(addr + done + n))
            ctypes.memmove(ptr, bytes(data[done:done + n]), n)
            done += n

    def accessible(self, addr: int, size: int, need: int) -> int:
        """How many bytes from ``addr`` (at most ``size``) the guest may access with ``need``."""
        end, cur = addr + size, addr
        while cur < end:
            vma = self.find(cur)
            if vma is None or (vma.prot & need) != need:
                break
            cur = vma.end
        return min(cur, end) - addr

    def views(self, addr: int, size: int, *, write: bool,
              partial: bool = False) -> list[memoryview]:
        """Writable memoryviews over guest memory (zero-copy I/O); checks guest rights.

        With ``write`` the caller will store into the views (the guest needs PROT_WRITE);
        code caches over such ranges (whole pages: a page with code may be read-only on the
        host until none is left) are invalidated up front. With ``partial`` the views cover
        the accessible prefix (as the kernel's copy loops stop at the first bad page); a fault
        on the first byte is still a GuestFault.
        """
        need = PROT_WRITE if write else PROT_READ
        vma = self.find(addr)
        if vma is not None and addr + size <= vma.end and vma.prot & need == need:
            if write and vma.prot & PROT_EXEC:     # the common case, one mapping: fast path
                for engine in self._engines:
                    engine.invalidate_code(page_floor(addr), page_ceil(addr + size))
            ptr = vma.host + (addr - vma.start)
            return [memoryview((ctypes.c_char * size).from_address(ptr)).cast("B")]
        if partial and size:
            size = self.accessible(addr, size, need) or size
        views = []
        for ptr, n, vma in self._pieces(addr, size, need):
            views.append(memoryview((ctypes.c_char * n).from_address(ptr)).cast("B"))
            if write and vma.prot & PROT_EXEC:
                guest = vma.start + (ptr - vma.host)
                for engine in self._engines:
                    engine.invalidate_code(page_floor(guest), page_ceil(guest + n))
        return views

    def read_cstr(self, addr: int, limit: int = 4096) -> bytes:
        """A NUL-terminated string starting at ``addr`` (without the NUL)."""
        out = bytearray()
        while len(out) < limit:
            vma = self.find(addr)
            if vma is None or not vma.prot & PROT_READ:
                raise GuestFault(addr)
            n = min(vma.end - addr, limit - len(out), 256)
            chunk = ctypes.string_at(vma.host + (addr - vma.start), n)
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
            addr += n
        raise OSError(_errno.ENAMETOOLONG, "string too long")
