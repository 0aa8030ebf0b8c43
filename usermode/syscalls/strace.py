"""-strace output (qemu-user's format: ``PID name(args) = result``) and the unimplemented report."""
from __future__ import annotations

import errno as host_errno
import os
from typing import Any, TextIO

from .abi import MAX_ERRNO
from .registry import ARG_TYPES

_STRING_LIMIT = 64


class Tracer:
    """Writes strace lines and reports each unimplemented syscall once."""

    def __init__(self, stream: TextIO, *, strace: bool, log_unimplemented: bool):
        self.stream = stream
        self.enabled = strace
        self.log_unimplemented = strace or log_unimplemented
        self._reported: set[str] = set()

    def call(self, k: Any, name: str, types: tuple[str, ...], values: list[int]) -> None:
        args = ",".join(_format_arg(k, t, v) for t, v in zip(types, values))
        self.stream.write(f"{k.thread.tid} {name}({args})")
        self.stream.flush()

    def result(self, k: Any, result: Any, fmt: str = "d") -> None:
        if not isinstance(result, (int, tuple)):      # the handler set the registers itself
            self.stream.write("\n")
            self.stream.flush()
            return
        if isinstance(result, tuple):
            result = result[0]
        if -MAX_ERRNO <= result < 0:
            err = -result
            name = _errno_name(k, err)
            self.stream.write(f" = -1 errno={err} ({name})\n")
        else:
            self.stream.write(f" = {hex(result) if fmt == 'x' else result}\n")
        self.stream.flush()

    def unimplemented(self, k: Any, name: str, nr: int) -> None:
        if self.enabled:
            self.stream.write(f"{k.thread.tid} {name}(...) = -1 errno="
                              f"{k.abi.errno['ENOSYS']} (Function not implemented)\n")
        if self.log_unimplemented and name not in self._reported:
            self._reported.add(name)
            self.stream.write(f"pyemu: unimplemented syscall {name} ({nr})\n")
        self.stream.flush()


def _errno_name(k: Any, guest_errno: int) -> str:
    for name, number in k.abi.errno.items():
        if number == guest_errno:
            host = getattr(host_errno, name, None)
            return os.strerror(host) if host is not None else name
    return "Unknown error"


def _format_arg(k: Any, arg_type: str, value: int) -> str:
    fmt = ARG_TYPES[arg_type][1]
    if fmt == "str":
        return _format_string(k, value)
    if fmt == "x":
        return hex(value)
    if fmt == "o":
        return oct(value).replace("0o", "0")
    if fmt == "dirfd" and value == k.abi.const.get("AT_FDCWD"):
        return "AT_FDCWD"
    if fmt == "oflags":
        names = k.abi.open_flags.names(value)
        access = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")[value & 3]
        return "|".join([access, *names])
    return str(value)


def _format_string(k: Any, addr: int) -> str:
    if addr == 0:
        return "NULL"
    try:
        raw = k.space.read_cstr(addr, 4096)
    except (OSError, ValueError):
        return hex(addr)
    text = raw[:_STRING_LIMIT].decode("utf-8", "backslashreplace")
    return f'"{text}"' + ("..." if len(raw) > _STRING_LIMIT else "")
