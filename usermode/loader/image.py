"""Mapping an ELF image into a guest address space, as Linux's binfmt_elf does."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import LoaderError
from ..translate.memory import (PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace, GuestFault,
                                page_ceil, page_floor)
from .elf import ET_DYN, PF_R, PF_W, PF_X, PT_PHDR, ElfFile


@dataclass(frozen=True)
class LoadedImage:
    """Where an ELF file ended up: its load bias and the facts auxv reports about it."""

    elf: ElfFile
    bias: int           # added to every p_vaddr (0 for ET_EXEC)
    entry: int
    phdr: int           # guest address of the program headers (AT_PHDR)
    start: int          # lowest mapped address
    end: int            # page-aligned end of the image (the initial brk)


def segment_prot(flags: int) -> int:
    return ((PROT_READ if flags & PF_R else 0) | (PROT_WRITE if flags & PF_W else 0)
            | (PROT_EXEC if flags & PF_X else 0))


def image_span(elf: ElfFile) -> tuple[int, int]:
    """Page-aligned [low, high) of the PT_LOAD segments' virtual addresses."""
    loads = elf.loads
    low = page_floor(min(s.vaddr for s in loads))
    high = page_ceil(max(s.vaddr + s.memsz for s in loads))
    return low, high


def load_image(space: AddressSpace, elf: ElfFile, dyn_base: int) -> LoadedImage:
    """Map every PT_LOAD segment of ``elf``; ET_DYN images go at ``dyn_base`` or lower free space."""
    low, high = image_span(elf)
    bias = 0
    if elf.type == ET_DYN:
        where = space.find_free(high - low, dyn_base)
        if where is None:
            raise LoaderError(f"{elf.path}: no room for a {high - low:#x}-byte image")
        bias = where - low
    elif not space.is_free(low, high - low):
        raise LoaderError(f"{elf.path}: image at {low:#x}-{high:#x} does not fit the address space")
    try:
        st = os.stat(elf.path)
        meta = {"inode": st.st_ino, "device": st.st_dev}
    except OSError:
        meta = {}
    for seg in elf.loads:
        _map_segment(space, elf, seg, bias, meta)
    return LoadedImage(elf, bias, elf.entry + bias, _phdr_address(elf) + bias, low + bias,
                       high + bias)


def _map_segment(space: AddressSpace, elf: ElfFile, seg, bias: int, meta: dict) -> None:
    start = page_floor(seg.vaddr + bias)
    end = page_ceil(seg.vaddr + seg.memsz + bias)
    if end <= start:
        return
    lead = seg.vaddr + bias - start            # bytes of the file page before the segment
    contents = elf.data[seg.offset - lead: seg.offset + seg.filesz]
    try:
        space.map(start, end - start, segment_prot(seg.flags), name=os.path.abspath(elf.path),
                  offset=seg.offset - lead, **meta)
        space.write(start, contents, check=False)
    except GuestFault as fault:
        raise LoaderError(f"{elf.path}: segment at {fault.address:#x} is outside the address space") \
            from None


def _phdr_address(elf: ElfFile) -> int:
    for seg in elf.segments:
        if seg.type == PT_PHDR:
            return seg.vaddr
    for seg in elf.loads:
        if seg.offset <= elf.phoff < seg.offset + seg.filesz:
            return seg.vaddr + (elf.phoff - seg.offset)
    return 0
