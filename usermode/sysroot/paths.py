"""Guest path -> host path, by qemu-user's ``-L`` rule.

An absolute guest path is looked up under the prefix first and, when nothing exists there, on the
host. Relative paths are relative to the (shared) current directory and are left alone. Every
path-taking syscall goes through ``PathResolver.host``.
"""
from __future__ import annotations

import os

from . import procfs


class PathResolver:
    def __init__(self, prefix: str | None, exe: str, pid: int):
        self.prefix = os.fsencode(os.path.abspath(prefix)).rstrip(b"/") if prefix else None
        self.exe = os.fsencode(os.path.abspath(exe))
        self._pid = pid
        self._self_dirs = (b"/proc/self/", b"/proc/%d/" % pid, b"/proc/thread-self/")

    def host(self, guest: bytes) -> bytes:
        """The host path the guest means by ``guest``."""
        if self.prefix and guest.startswith(b"/"):
            candidate = self.prefix + guest
            if os.path.lexists(candidate):
                return candidate
        if guest in self._exe_links():
            return self.exe
        return guest

    def link_target(self, guest: bytes) -> bytes | None:
        """What readlink of an emulated /proc link returns (the guest's program for .../exe)."""
        if guest in self._exe_links():
            return self.exe
        return None

    def guest_name(self, host: str) -> str:
        """How the guest names a host path (the sysroot prefix taken off), for /proc output."""
        if self.prefix and host.startswith(os.fsdecode(self.prefix) + "/"):
            return host[len(self.prefix):]
        return host

    def proc_kind(self, guest: bytes) -> str | None:
        """Which emulated /proc file ``guest`` names, if any (see sysroot.procfs)."""
        return procfs.kind_of(guest, self._pid)

    def _exe_links(self) -> tuple[bytes, ...]:
        return tuple(d + b"exe" for d in self._self_dirs)
