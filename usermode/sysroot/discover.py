"""Finding a sysroot when the user gave none: the cross toolchain's, or the host's multiarch."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import PyemuError


class SysrootError(PyemuError):
    """The sysroot given cannot be used."""

# Debian's cross toolchains install their target libc under /usr/<triple> (gcc-<triple> packages).
TOOLCHAIN_TRIPLES = {
    "arm": "arm-linux-gnueabihf",
    "aarch64": "aarch64-linux-gnu",
    "mips": "mips-linux-gnu",
    "mipsel": "mipsel-linux-gnu",
}


@dataclass(frozen=True)
class SysrootChoice:
    prefix: str | None       # the -L prefix to use, None for "the host's own paths"
    reason: str


def candidates(arch: str) -> list[str]:
    triple = TOOLCHAIN_TRIPLES.get(arch)
    return [f"/usr/{triple}"] if triple else []


def choose(arch: str, interpreter: str | None, explicit: str | None,
           explicit_source: str = "-L") -> SysrootChoice:
    """The prefix for this run and why: explicit, else one that has the interpreter."""
    if explicit:
        if not os.path.isdir(explicit):
            raise SysrootError(f"sysroot {explicit}: not a directory")
        if not os.access(explicit, os.R_OK | os.X_OK):
            raise SysrootError(f"sysroot {explicit}: permission denied")
        return SysrootChoice(explicit, f"from {explicit_source}")
    if interpreter is None:
        return SysrootChoice(None, "none needed (static program)")
    for root in candidates(arch):
        if os.path.exists(root + interpreter):
            return SysrootChoice(root, "the cross toolchain's sysroot")
    if os.path.exists(interpreter):
        return SysrootChoice(None, "the host's multiarch libraries")
    return SysrootChoice(None, "none found")
