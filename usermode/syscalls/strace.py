"""-strace output in strace's own format, and the report of unimplemented syscalls.

    1234 openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
    1234 read(3, 0x7ffe1000, 4096) = -1 EBADF (Bad file descriptor)
    1234 write(1, "Hello, world!\\n", 14) = 14
    1234 exit_group(0) = ?
    1234 +++ exited with 0 +++

as ``strace -f -o FILE`` writes it (the process or thread id first): arguments separated by
", ", strings quoted with C escapes and cut after 32 bytes with ``...``, flags by name, NULL
for a null pointer, errors as ``-1 ENAME (message)``. The guest's own numbering is shown
(flag and errno names are the guest's). Each line is written whole when the call returns (so
the guest's own output never lands inside one); execve's is written when it is made, since a
successful one does not come back.
"""
from __future__ import annotations

import errno as host_errno
import os
from typing import Any, TextIO

from .abi import MAX_ERRNO
from .registry import ARG_TYPES

STRING_LIMIT = 32          # strace's default -s
_ESCAPES = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x0B: "\\v", 0x0C: "\\f", 0x22: '\\"',
            0x5C: "\\\\"}


class Tracer:
    """Writes strace lines and reports each unimplemented syscall once."""

    def __init__(self, stream: TextIO, *, strace: bool, log_unimplemented: bool):
        self.stream = stream
        self.enabled = strace
        self.log_unimplemented = strace or log_unimplemented
        self._reported: set[str] = set()
        self._calls: dict[int, str] = {}      # thread id -> its call's text, until it returns

    def call(self, k: Any, name: str, types: tuple[str, ...], values: list[int]) -> None:
        args = ", ".join(format_arg(k, t, v, values, i) for i, (t, v) in
                         enumerate(zip(types, values)))
        # ARM's private calls (__ARM_NR_set_tls ...) under strace's names
        text = f"{k.thread.tid} {name.removeprefix('ARM_')}({args})"
        if name in ("execve", "execveat"):
            self.stream.write(text)
            self.stream.flush()
            text = ""
        self._calls[k.thread.tid] = text

    def result(self, k: Any, result: Any, fmt: str = "d") -> None:
        if not isinstance(result, (int, tuple)):      # the handler set the registers itself
            self._end(k.thread.tid, "?")
            return
        if isinstance(result, tuple):
            result = result[0]
        if -MAX_ERRNO <= result < 0:
            self._end(k.thread.tid, f"-1 {error_text(k, -result)}")
        else:
            self._end(k.thread.tid, hex(result) if fmt == "x" else str(result))

    def no_return(self, k: Any) -> None:
        """The call did not return (exit, exit_group)."""
        self._end(k.thread.tid, "?")

    def _end(self, tid: int, result: str) -> None:
        self.stream.write(f"{self._calls.pop(tid, '')} = {result}\n")
        self.stream.flush()

    def exited(self, tid: int, status: int, signal_name: str | None) -> None:
        """strace's last line for a process."""
        if signal_name is not None:
            self.stream.write(f"{tid} +++ killed by {signal_name} +++\n")
        else:
            self.stream.write(f"{tid} +++ exited with {status} +++\n")
        self.stream.flush()

    def unimplemented(self, k: Any, name: str, nr: int) -> None:
        if self.enabled:
            self.stream.write(f"{k.thread.tid} {name.removeprefix('ARM_')}() = -1 "
                              f"{error_text(k, k.abi.errno['ENOSYS'])}\n")
        if self.log_unimplemented and name not in self._reported:
            self._reported.add(name)
            self.stream.write(f"pyemu: unimplemented syscall {name} ({nr})\n")
        self.stream.flush()


def error_text(k: Any, guest_errno: int) -> str:
    """``ENOENT (No such file or directory)`` for a guest errno number."""
    for name, number in k.abi.errno.items():
        if number == guest_errno:
            host = getattr(host_errno, name, None)
            return f"{name} ({os.strerror(host) if host is not None else name})"
    return f"E{guest_errno} (Unknown error {guest_errno})"


def format_arg(k: Any, arg_type: str, value: int, values: Any = (), index: int = 0) -> str:
    """One argument as strace shows it."""
    fmt = ARG_TYPES[arg_type][1]
    if fmt == "str":
        return _string_at(k, value)
    if fmt == "buf":            # a buffer whose length is the next argument (write)
        size = values[index + 1] if index + 1 < len(values) else STRING_LIMIT
        return _buffer_at(k, value, size)
    if fmt == "x":
        return "NULL" if value == 0 else hex(value)
    if fmt == "o":
        return "0" + format(value, "o") if value else "000"
    if fmt in ("fd", "dirfd") and value == k.abi.const.get("AT_FDCWD"):
        return "AT_FDCWD"
    if fmt == "oflags":
        names = k.abi.open_flags.names(value)
        access = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")[value & 3]
        return "|".join([access, *names])
    if fmt == "sig":
        return k.abi.signal_names.get(value, str(value)) if value else "0"
    if fmt in ("prot", "mapflags"):
        return _flag_names(k, value, "PROT_" if fmt == "prot" else "MAP_")
    return str(value)


def _flag_names(k: Any, value: int, prefix: str) -> str:
    """``A|B|0x40`` from the guest's constants with ``prefix`` (PROT_NONE for 0)."""
    names, left = [], value
    candidates = sorted(((v, n) for n, v in k.abi.const.items()
                         if n.startswith(prefix) and v and not n.endswith(("_MASK", "_SHIFT"))
                         and bin(v).count("1") == 1), reverse=True)
    for bit, name in candidates:
        if left & bit:
            names.append(name)
            left &= ~bit
    if prefix == "MAP_" and value & k.abi.const.get("MAP_TYPE", 0) == k.abi.const.get(
            "MAP_SHARED_VALIDATE", -1):
        names = ["MAP_SHARED_VALIDATE"] + [n for n in names if n not in ("MAP_SHARED",
                                                                          "MAP_PRIVATE")]
    if left:
        names.append(hex(left))
    if not names:
        return f"{prefix}NONE" if prefix == "PROT_" else "0"
    return "|".join(names)


def quote(data: bytes, truncated: bool) -> str:
    """A C string literal as strace writes one (``"..."...`` when cut)."""
    out = []
    for i, byte in enumerate(data):
        if byte in _ESCAPES:
            out.append(_ESCAPES[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            following = data[i + 1:i + 2]
            octal = f"{byte:03o}" if following and following[0] in b"01234567" else f"{byte:o}"
            out.append("\\" + octal)
    return '"' + "".join(out) + '"' + ("..." if truncated else "")


def _string_at(k: Any, addr: int) -> str:
    if addr == 0:
        return "NULL"
    try:
        raw = k.space.read_cstr(addr, 4096)
    except (OSError, ValueError):
        return hex(addr)
    return quote(raw[:STRING_LIMIT], len(raw) > STRING_LIMIT)


def _buffer_at(k: Any, addr: int, size: int) -> str:
    if addr == 0:
        return "NULL"
    try:
        raw = k.space.read(addr, min(size, STRING_LIMIT), check=False)
    except (OSError, ValueError):
        return hex(addr)
    return quote(raw, size > STRING_LIMIT)
