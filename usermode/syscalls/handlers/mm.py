"""Memory management: brk, mmap/mmap2, munmap, mprotect, mremap, madvise and friends.

Mappings are host-backed (see ``translate.memory``). File mappings are filled from the file at
map time (MAP_PRIVATE); MAP_SHARED mappings are host MAP_SHARED memory: a file's pages shared with
the file (so writes reach it, and msync is the host's), anonymous ones shared with forked children.
"""
from __future__ import annotations

import errno
import fcntl
import os
from typing import Any

from ...translate.memory import PAGE_SIZE, PROT_ALL, PROT_READ, page_ceil, page_floor
from .. import hostlib, state
from ..registry import syscall
from .common import fail


@syscall("brk", "ptr", ret="x")
def brk(k: Any, addr: int) -> int:
    """int brk(void *addr);  (the syscall returns the new break, or the old one on failure)"""
    proc = k.process
    if addr < proc.brk_start:
        return proc.brk
    old_top, new_top = page_ceil(proc.brk), page_ceil(addr)
    if new_top > old_top:
        if not k.space.is_free(old_top, new_top - old_top):
            return proc.brk
        k.space.map(old_top, new_top - old_top, 3, name="[heap]")
    elif new_top < old_top:
        k.space.unmap(new_top, old_top - new_top)
    proc.brk = addr
    return addr


def _mmap(k: Any, addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    c = k.abi.const
    if length == 0 or offset % PAGE_SIZE or offset < 0:
        raise fail(errno.EINVAL)
    size = page_ceil(length)
    if size > k.space.limit:
        raise fail(errno.ENOMEM)
    fixed = flags & c["MAP_FIXED"]
    noreplace = flags & c.get("MAP_FIXED_NOREPLACE", 0)
    if (fixed or noreplace) and addr % PAGE_SIZE:
        raise fail(errno.EINVAL)
    if noreplace and not k.space.is_free(addr, size):
        raise fail(errno.EEXIST)
    if fixed or noreplace:
        start = addr
    else:
        start = k.space.find_free(size, addr)
        if start is None:
            raise fail(errno.ENOMEM)
    data, name, meta = b"", "", {}
    anonymous = flags & c["MAP_ANONYMOUS"]
    if not anonymous:
        st = os.fstat(fd)
        name = _fd_name(fd)
        meta = {"offset": offset, "inode": st.st_ino, "device": st.st_dev}
    if flags & c["MAP_TYPE"] in (c["MAP_SHARED"], c["MAP_SHARED_VALIDATE"]):
        # shared with the file (written back) and with forked children: host MAP_SHARED memory
        writable = False
        if not anonymous:
            access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
            if access == os.O_WRONLY or (prot & 2 and access != os.O_RDWR):
                raise fail(errno.EACCES)
            writable = access == os.O_RDWR
        host = hostlib.mmap_shared(size, None if anonymous else fd, offset,
                                   0 if anonymous else st.st_size, writable,
                                   at=k.space.host_slot(start))
        k.space.map_existing(start, size, prot & PROT_ALL, host, name=name, shared=True,
                             max_prot=PROT_ALL if writable or anonymous else PROT_ALL & ~2,
                             **meta)
        return start
    if not anonymous:
        data = os.pread(fd, length, offset)
    k.space.map(start, size, prot & PROT_ALL, name=name, **meta)
    if data:
        k.space.write(start, data, check=False)
    return start


def _fd_name(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


@syscall("mmap2", "ptr", "size", "prot", "mapflags", "fd", "ulong", ret="x")
def mmap2(k: Any, addr: int, length: int, prot: int, flags: int, fd: int, pgoff: int) -> int:
    """void *mmap2(void *addr, size_t length, int prot, int flags, int fd, off_t pgoffset);"""
    return _mmap(k, addr, length, prot, flags, fd, pgoff << k.abi.spec.mmap2_shift)


@syscall("mmap", "ptr", "size", "prot", "mapflags", "fd", "ulong", ret="x")
def mmap(k: Any, addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    """void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);"""
    return _mmap(k, addr, length, prot, flags, fd, offset)


@syscall("munmap", "ptr", "size")
def munmap(k: Any, addr: int, length: int) -> int:
    """int munmap(void *addr, size_t length);"""
    if addr % PAGE_SIZE or length == 0:
        raise fail(errno.EINVAL)
    k.space.unmap(addr, length)
    return 0


@syscall("mprotect", "ptr", "size", "prot")
def mprotect(k: Any, addr: int, length: int, prot: int) -> int:
    """int mprotect(void *addr, size_t len, int prot);"""
    if addr % PAGE_SIZE:
        raise fail(errno.EINVAL)
    if length:
        k.space.protect(addr, length, prot & PROT_ALL)
    return 0


@syscall("mremap", "ptr", "size", "size", "int", "ptr", ret="x")
def mremap(k: Any, old: int, old_size: int, new_size: int, flags: int, new_addr: int) -> int:
    """void *mremap(void *old_address, size_t old_size, size_t new_size, int flags, ...);"""
    c = k.abi.const
    old_size, new_size = page_ceil(old_size), page_ceil(new_size)
    if old % PAGE_SIZE or new_size == 0:
        raise fail(errno.EINVAL)
    vma = k.space.find(old)
    if vma is None or not k.space.is_mapped(old, old_size):
        raise fail(errno.EFAULT)
    fixed = flags & c["MREMAP_FIXED"]
    if not fixed:
        if new_size <= old_size:
            k.space.unmap(old + new_size, old_size - new_size)
            return old
        if k.space.is_free(old + old_size, new_size - old_size):
            k.space.map(old + old_size, new_size - old_size, vma.prot, name=vma.name)
            return old
    if not flags & c["MREMAP_MAYMOVE"]:
        raise fail(errno.ENOMEM)
    target = new_addr if fixed else k.space.find_free(new_size)
    if target is None:
        raise fail(errno.ENOMEM)
    data = k.space.read(old, min(old_size, new_size), check=False)
    k.space.map(target, new_size, vma.prot, name=vma.name)
    k.space.write(target, data, check=False)
    k.space.unmap(old, old_size)
    return target


@syscall("madvise", "ptr", "size", "int")
def madvise(k: Any, addr: int, length: int, advice: int) -> int:
    """int madvise(void *addr, size_t length, int advice);"""
    if addr % PAGE_SIZE:
        raise fail(errno.EINVAL)
    if advice == k.abi.const["MADV_DONTNEED"] and length:
        end = addr + page_ceil(length)
        if not k.space.is_mapped(addr, end - addr):
            raise fail(errno.ENOMEM)
        cur = addr
        while cur < end:
            vma = k.space.find(cur)
            n = min(end, vma.end) - cur
            hostlib.madvise_dontneed(vma.host + (cur - vma.start), n)
            cur += n
    return 0


# -- residency and locking -------------------------------------------------------------------
def _host_ranges(k: Any, addr: int, length: int) -> list[tuple[int, int]]:
    """(host pointer, length) pieces behind the pages of [addr, addr+length); ENOMEM if a page
    is not mapped (the kernel's answer for these calls)."""
    start, end = page_floor(addr), page_ceil(addr + length)
    pieces, cur = [], start
    while cur < end:
        vma = k.space.find(cur)
        if vma is None:
            raise fail(errno.ENOMEM)
        n = min(end, vma.end) - cur
        pieces.append((vma.host + (cur - vma.start), n))
        cur += n
    return pieces


@syscall("msync", "ptr", "size", "int")
def msync(k: Any, addr: int, length: int, flags: int) -> int:
    """int msync(void *addr, size_t length, int flags);"""
    c = k.abi.const
    if addr % PAGE_SIZE or flags & ~(c["MS_ASYNC"] | c["MS_INVALIDATE"] | c["MS_SYNC"]):
        raise fail(errno.EINVAL)
    if flags & c["MS_ASYNC"] and flags & c["MS_SYNC"]:
        raise fail(errno.EINVAL)
    host_flags = sum(h for g, h in ((c["MS_ASYNC"], hostlib.MS_ASYNC),
                                    (c["MS_INVALIDATE"], hostlib.MS_INVALIDATE),
                                    (c["MS_SYNC"], hostlib.MS_SYNC)) if flags & g)
    if length:
        for ptr, n in _host_ranges(k, addr, length):
            hostlib.msync(ptr, n, host_flags)
    return 0


@syscall("mincore", "ptr", "size", "ptr")
def mincore(k: Any, addr: int, length: int, vec: int) -> int:
    """int mincore(void *addr, size_t length, unsigned char *vec);  (the host's residency of the
    guest's pages)"""
    if addr % PAGE_SIZE:
        raise fail(errno.EINVAL)
    if length == 0:
        return 0
    pieces = _host_ranges(k, addr, length)
    k.space.write(vec, b"".join(hostlib.mincore(ptr, n) for ptr, n in pieces))
    return 0


def _lock(k: Any, addr: int, length: int, onfault: bool) -> int:
    if length:
        for ptr, n in _host_ranges(k, addr, length):
            hostlib.mlock2(ptr, n, onfault)
    return 0


@syscall("mlock", "ptr", "size")
def mlock(k: Any, addr: int, length: int) -> int:
    """int mlock(const void *addr, size_t len);  (locks the host memory behind the pages)"""
    return _lock(k, addr, length, False)


@syscall("mlock2", "ptr", "size", "flags")
def mlock2(k: Any, addr: int, length: int, flags: int) -> int:
    """int mlock2(const void *addr, size_t len, unsigned int flags);"""
    onfault = k.abi.const["MLOCK_ONFAULT"]
    if flags & ~onfault:
        raise fail(errno.EINVAL)
    return _lock(k, addr, length, bool(flags & onfault))


@syscall("munlock", "ptr", "size")
def munlock(k: Any, addr: int, length: int) -> int:
    """int munlock(const void *addr, size_t len);"""
    if length:
        for ptr, n in _host_ranges(k, addr, length):
            hostlib.munlock(ptr, n)
    return 0


@syscall("mlockall", "int")
def mlockall(k: Any, flags: int) -> int:
    """int mlockall(int flags);  (MCL_CURRENT locks the host memory of every guest mapping;
    MCL_FUTURE is recorded, new mappings are not locked)"""
    c = k.abi.const
    current, future, onfault = c["MCL_CURRENT"], c["MCL_FUTURE"], c["MCL_ONFAULT"]
    if not flags or flags & ~(current | future | onfault) or flags == onfault:
        raise fail(errno.EINVAL)
    if flags & current:
        for vma in k.space.vmas():
            hostlib.mlock2(vma.host, len(vma), bool(flags & onfault))
    state.of(k).mlock_future = bool(flags & future)
    return 0


@syscall("munlockall")
def munlockall(k: Any) -> int:
    """int munlockall(void);"""
    for vma in k.space.vmas():
        hostlib.munlock(vma.host, len(vma))
    state.of(k).mlock_future = False
    return 0


# -- instruction caches ----------------------------------------------------------------------
# Nothing is left to flush when a guest asks: the engine notices guest stores to translated code
# and the address space invalidates it on host-side writes (tests/test_smc.py). What remains are
# the kernel's checks.
@syscall("ARM_cacheflush", "ptr", "ptr", "int")
def arm_cacheflush(k: Any, start: int, end: int, flags: int) -> int:
    """int cacheflush(unsigned long start, unsigned long end, int flags);  (ARM's private
    syscall: EINVAL for a reversed range or flags, EFAULT where a page is not readable)"""
    if end < start or flags:
        raise fail(errno.EINVAL)
    if end > start and k.space.accessible(start, end - start, PROT_READ) != end - start:
        raise fail(errno.EFAULT)
    return 0


@syscall("cacheflush", "ptr", "ulong", "int")
def cacheflush(k: Any, addr: int, nbytes: int, cache: int) -> int:
    """int cacheflush(void *addr, unsigned long nbytes, int cache);  (MIPS: EFAULT only past
    the user address space)"""
    if nbytes and addr + nbytes > k.space.limit:
        raise fail(errno.EFAULT)
    return 0
