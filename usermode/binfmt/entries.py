"""The kernel's binfmt_misc file system: entries read, registered, switched and removed.

Interface (Documentation/admin-guide/binfmt-misc.rst): writing ``:name:type:offset:magic:mask:
interpreter:flags`` to ``register`` adds an entry; each entry is a file ``name`` that reads back
as ``enabled``/``disabled``, ``interpreter PATH``, ``flags: ...``, ``offset N``, ``magic HEX``,
``mask HEX``; writing ``1``/``0``/``-1`` to it enables, disables or removes it. When a program
is exec'd, the enabled entries are tried from the most recently registered to the oldest and
the first that matches runs.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import PyemuError
from .magic import escape, matches

DEFAULT_DIR = Path("/proc/sys/fs/binfmt_misc")
_FLAG_NAMES = "POCF"          # the order the flags are written in


class BinfmtError(PyemuError):
    """binfmt_misc cannot be used (not mounted, not writable) or refused an entry."""


@dataclass(frozen=True)
class Entry:
    """One registered interpreter, as its file under binfmt_misc shows it."""

    name: str
    enabled: bool
    interpreter: str
    flags: str
    offset: int = 0
    magic: bytes = b""
    mask: bytes = b""
    extension: str | None = None     # an extension ("E") entry matches names, not magic

    def claims(self, header: bytes) -> bool:
        """Whether this entry would run a file starting with ``header``."""
        if self.extension is not None:
            return False
        mask = self.mask or b"\xff" * len(self.magic)
        return matches(self.magic, mask, header, self.offset)

    def register_line(self) -> str:
        """The string that registers this entry again (to restore one a failed run replaced)."""
        if self.extension is not None:
            return f":{self.name}:E::{self.extension}::{self.interpreter}:{self.flags}"
        return (f":{self.name}:M:{self.offset}:{escape(self.magic)}:{escape(self.mask)}:"
                f"{self.interpreter}:{self.flags}")


def parse_entry(name: str, text: str) -> Entry:
    """An entry from the text of its binfmt_misc file."""
    fields: dict[str, str] = {}
    lines = text.splitlines()
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        fields[key.rstrip(":")] = value.strip()
    flags = "".join(f for f in _FLAG_NAMES if f in fields.get("flags", ""))
    return Entry(name=name, enabled=bool(lines) and lines[0].strip() == "enabled",
                 interpreter=fields.get("interpreter", ""), flags=flags,
                 offset=int(fields.get("offset", "0") or 0),
                 magic=bytes.fromhex(fields.get("magic", "")),
                 mask=bytes.fromhex(fields.get("mask", "")),
                 extension=fields.get("extension"))


def normalize_flags(flags: str) -> str:
    """Flags in the kernel's order; C implies O, as the kernel itself does."""
    if "C" in flags:
        flags += "O"
    return "".join(f for f in _FLAG_NAMES if f in flags)


class BinfmtMisc:
    """A mounted binfmt_misc instance (each user namespace may have its own since Linux 6.7)."""

    def __init__(self, path: Path | str = DEFAULT_DIR):
        self.path = Path(path)

    @property
    def register_file(self) -> Path:
        return self.path / "register"

    def mounted(self) -> bool:
        return self.register_file.exists()

    def ensure_mounted(self) -> None:
        """Mount binfmt_misc on the directory when it is not (loading the module if needed),
        as qemu-binfmt-conf.sh does; a one-line BinfmtError when that is impossible."""
        if self.mounted():
            return
        if not self.path.is_dir() and shutil.which("modprobe"):
            subprocess.run(["modprobe", "binfmt_misc"], check=False, capture_output=True)
        if not self.path.is_dir():
            raise BinfmtError(f"{self.path} does not exist (no binfmt_misc in this kernel?)")
        libc = ctypes.CDLL(None, use_errno=True)
        target = os.fsencode(self.path)
        if libc.mount(b"binfmt_misc", target, b"binfmt_misc", 0, None) != 0:
            err = ctypes.get_errno()
            hint = " (are you root?)" if err in (errno.EPERM, errno.EACCES) else ""
            raise BinfmtError(f"cannot mount binfmt_misc on {self.path}: "
                              f"{os.strerror(err)}{hint}")

    def check_writable(self) -> None:
        """Fail before anything is written when entries cannot be registered here."""
        if not os.access(self.register_file, os.W_OK):
            raise BinfmtError(f"{self.register_file} is not writable (are you root?)")

    def names(self) -> list[str]:
        if not self.mounted():
            return []
        return sorted(p.name for p in self.path.iterdir()
                      if p.name not in ("register", "status"))

    def entry(self, name: str) -> Entry | None:
        try:
            text = (self.path / name).read_text()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return parse_entry(name, text)

    def entries(self) -> list[Entry]:
        found = (self.entry(n) for n in self.names())
        return [e for e in found if e is not None]

    def register(self, line: str) -> None:
        self._write(self.register_file, line)

    def remove(self, name: str) -> None:
        self._write(self.path / name, "-1")

    def enable(self, name: str, on: bool = True) -> None:
        self._write(self.path / name, "1" if on else "0")

    def _write(self, path: Path, text: str) -> None:
        """One write(2) per command, as the kernel parses each write on its own."""
        try:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
        except OSError as err:
            raise BinfmtError(f"writing to {path} failed: {err.strerror}") from None
