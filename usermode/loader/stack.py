"""The initial process stack, laid out exactly as Linux's exec does (fs/exec.c, binfmt_elf.c).

From the top of the stack down: a NULL word, the executable's file name, the environment strings,
the argument strings, (16-byte alignment), the AT_PLATFORM string, the 16 AT_RANDOM bytes, then,
16-byte aligned at the final stack pointer: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL.
A pure function: no engine, no memory, just bytes and addresses.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Sequence

# Auxiliary vector types (include/uapi/linux/auxvec.h); the same numbers on every architecture.
AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN = 23, 25, 26, 31


class AuxRef(enum.Enum):
    """An auxv value that is the address of something placed on the stack by this builder."""

    RANDOM = "random"
    EXECFN = "execfn"
    PLATFORM = "platform"


@dataclass(frozen=True)
class InitialStack:
    sp: int                        # the guest's stack pointer at entry
    data: bytes                    # memory contents of [sp, top)
    argv: tuple[int, ...]          # addresses of the argument strings
    envp: tuple[int, ...]
    auxv: tuple[tuple[int, int], ...]  # resolved (type, value) pairs, AT_NULL included


def build_initial_stack(top: int, argv: Sequence[bytes], envp: Sequence[bytes],
                        auxv: Sequence[tuple[int, int | AuxRef]], *, execfn: bytes,
                        platform: bytes | None, random: bytes, word_size: int,
                        byteorder: str) -> InitialStack:
    if len(random) != 16:
        raise ValueError("AT_RANDOM needs 16 bytes")
    blob = bytearray()                      # grows downwards: blob[-1] is the byte at top-1

    def push(data: bytes) -> int:
        blob[0:0] = data
        return top - len(blob)

    push(bytes(word_size))                  # bprm->p starts one word below the top
    refs: dict[AuxRef, int] = {AuxRef.EXECFN: push(execfn + b"\0")}
    env_addrs = [push(s + b"\0") for s in reversed(envp)][::-1]
    arg_addrs = [push(s + b"\0") for s in reversed(argv)][::-1]
    push(bytes((top - len(blob)) & 0xF))    # arch_align_stack: 16-byte alignment
    if platform is not None:
        refs[AuxRef.PLATFORM] = push(platform + b"\0")
    refs[AuxRef.RANDOM] = push(random)

    resolved = [(t, refs[v] if isinstance(v, AuxRef) else v) for t, v in auxv]
    resolved = [(t, v) for t, v in resolved if t != AT_NULL] + [(AT_NULL, 0)]
    words = [len(argv), *arg_addrs, 0, *env_addrs, 0]
    for pair in resolved:
        words.extend(pair)
    table = b"".join((w & ((1 << (8 * word_size)) - 1)).to_bytes(word_size, byteorder)
                     for w in words)
    strings_bottom = top - len(blob)
    sp = (strings_bottom - len(table)) & ~0xF
    gap = strings_bottom - sp - len(table)
    data = table + bytes(gap) + bytes(blob)
    return InitialStack(sp, data, tuple(arg_addrs), tuple(env_addrs), tuple(resolved))
