"""Memory management: brk, mmap/mmap2, munmap, mprotect, mremap, madvise and friends.

Mappings are host-backed (see ``translate.memory``). File mappings are filled from the file at
map time; MAP_SHARED file mappings are not yet written back to the file (a known limit).
"""
from __future__ import annotations

import errno
import os
from typing import Any

from ...translate.memory import PAGE_SIZE, PROT_ALL, page_ceil
from .. import hostlib
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
    if not flags & c["MAP_ANONYMOUS"]:
        st = os.fstat(fd)
        data = os.pread(fd, length, offset)
        name = _fd_name(fd)
        meta = {"offset": offset, "inode": st.st_ino, "device": st.st_dev}
    k.space.map(start, size, prot & PROT_ALL, name=name, **meta)
    if data:
        k.space.write(start, data, check=False)
    return start


def _fd_name(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


@syscall("mmap2", "ptr", "size", "int", "int", "fd", "ulong", ret="x")
def mmap2(k: Any, addr: int, length: int, prot: int, flags: int, fd: int, pgoff: int) -> int:
    """void *mmap2(void *addr, size_t length, int prot, int flags, int fd, off_t pgoffset);"""
    return _mmap(k, addr, length, prot, flags, fd, pgoff << k.abi.spec.mmap2_shift)


@syscall("mmap", "ptr", "size", "int", "int", "fd", "ulong", ret="x")
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


@syscall("mprotect", "ptr", "size", "int")
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


@syscall("mlock", "ptr", "size")
def mlock(k: Any, addr: int, length: int) -> int:
    """int mlock(const void *addr, size_t len);  (guest memory is never swapped by pyemu)"""
    if not k.space.is_mapped(addr & ~(PAGE_SIZE - 1), max(length, 1)):
        raise fail(errno.ENOMEM)
    return 0
