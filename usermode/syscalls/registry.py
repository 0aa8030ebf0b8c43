"""Syscall handlers registered by name, with their argument types.

A handler is a small function named after the syscall whose docstring is the C prototype. It takes
the emulated kernel and its decoded arguments and returns an int, or raises ``OSError`` with a
*host* errno (the ABI layer renumbers it for the guest). Registration is explicit::

    @syscall("close", "fd")
    def close(k, fd): ...

Argument types decide decoding (sign, width, 64-bit register pairs) and -strace formatting.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from typing import Callable

# type -> (decoding kind, strace format)
#   kinds: i32 (C int), u32, sword (signed long), word (unsigned long / pointer),
#          pair (a 64-bit value: one register on 64-bit ABIs, a register pair on 32-bit ones)
ARG_TYPES: dict[str, tuple[str, str]] = {
    "int": ("i32", "d"), "uint": ("u32", "d"), "fd": ("i32", "fd"), "dirfd": ("i32", "dirfd"),
    "long": ("sword", "d"), "ulong": ("word", "d"), "size": ("word", "d"),
    "ssize": ("sword", "d"), "ptr": ("word", "x"), "str": ("word", "str"),
    "mode": ("u32", "o"), "flags": ("u32", "x"), "oflags": ("u32", "oflags"),
    "off": ("sword", "d"), "loff": ("pair", "d"), "u64": ("pair", "d"), "sig": ("i32", "sig"),
    # shown by -strace as strace does: the bytes (the next argument is the length), PROT_* and
    # MAP_* names
    "buf": ("word", "buf"), "prot": ("i32", "prot"), "mapflags": ("i32", "mapflags"),
}


@dataclass(frozen=True)
class Handler:
    name: str
    fn: Callable[..., int]
    args: tuple[str, ...]
    ret: str = "d"          # strace format of the result: "d" decimal, "x" hex (addresses)
    # a deliberate refusal (EPERM as for an unprivileged user, or the like): the handler does
    # no work by design, and the support table says so
    refused: bool = False


HANDLERS: dict[str, Handler] = {}


class _KeepRegisters:
    """Returned by handlers that set the registers themselves (sigreturn)."""

    def __repr__(self) -> str:
        return "KEEP_REGISTERS"


KEEP_REGISTERS = _KeepRegisters()

InterruptedSyscall = errors.InterruptedSyscall


def syscall(name: str, *args: str, also: tuple[str, ...] = (), ret: str = "d",
            refused: bool = False) -> Callable:
    """Register the decorated function for syscall ``name`` (and the names in ``also``).

    ``refused=True`` marks a handler that refuses by design (see ``Handler.refused``).
    """
    for arg in args:
        if arg not in ARG_TYPES:
            raise TypeError(f"{name}: unknown argument type {arg!r}")

    def register(fn: Callable[..., int]) -> Callable[..., int]:
        for each in (name, *also):
            if each in HANDLERS:
                raise ValueError(f"syscall {each} registered twice")
            HANDLERS[each] = Handler(each, fn, args, ret, refused)
        return fn

    return register
