"""Guest path -> host path, by qemu-user's ``-L`` rule.

An absolute guest path is looked up under the prefix first and, when nothing exists there, on the
host. Relative paths are relative to the (shared) current directory and are left alone. Every
path-taking syscall goes through ``PathResolver.host``.
"""
from __future__ import annotations

import os
import stat

from . import procfs

_MAX_HOPS = 40   # symlinks followed in one lookup (Linux's limit)


class PathResolver:
    def __init__(self, prefix: str | None, exe: str, pid: int):
        self.prefix = os.fsencode(os.path.abspath(prefix)).rstrip(b"/") if prefix else None
        self.exe = os.fsencode(os.path.abspath(exe))
        self.pid = pid      # the guest's pid (a forked child updates it)

    def host(self, guest: bytes, follow: bool = True) -> bytes:
        """The host path the guest means by ``guest``.

        Under a prefix, symlinks met on the way are resolved inside it (an absolute target
        starts again at the prefix), the last component only when ``follow``.
        """
        if self.prefix and guest.startswith(b"/"):
            inside = self._inside(guest, follow)
            if inside is not None:
                return inside
        if guest in self._exe_links():
            return self.exe
        return guest

    def _inside(self, guest: bytes, follow: bool) -> bytes | None:
        """The host path of ``guest`` within the prefix, or None when it does not exist there."""
        assert self.prefix is not None
        parts = [p for p in guest.split(b"/") if p and p != b"."]
        done, hops, i = self.prefix, 0, 0
        while i < len(parts):
            part = parts[i]
            if part == b"..":
                done = done.rsplit(b"/", 1)[0] if len(done) > len(self.prefix) else done
                i += 1
                continue
            candidate = done + b"/" + part
            try:
                mode = os.lstat(candidate).st_mode
            except OSError:
                return None
            if stat.S_ISLNK(mode) and (follow or i < len(parts) - 1) and hops < _MAX_HOPS:
                target = os.readlink(candidate)
                hops += 1
                if target.startswith(b"/"):
                    done = self.prefix
                parts = [p for p in target.split(b"/") if p and p != b"."] + parts[i + 1:]
                i = 0
                continue
            done, i = candidate, i + 1
        return done

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
        return procfs.kind_of(guest, self.pid)

    def _exe_links(self) -> tuple[bytes, ...]:
        return (b"/proc/self/exe", b"/proc/%d/exe" % self.pid, b"/proc/thread-self/exe")
