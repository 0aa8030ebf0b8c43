"""What a binfmt launcher does when the kernel runs it: turn the kernel's arguments into a pyemu
run. Imported by the launcher scripts ``pyemu-binfmt register`` writes (launcher.py); kept
small, since it is on the start-up path of every program run through binfmt_misc.

The kernel's arguments (Documentation/admin-guide/binfmt-misc.rst), after the interpreter:

* flag P (preserve-argv0): ``PROGRAM ARGV0 ARGS...`` -- PROGRAM is the path that was exec'd,
  ARGV0 the argv[0] the caller gave;
* without P: ``PROGRAM ARGS...`` -- the caller's argv[0] is gone, the guest sees PROGRAM;
* with O or C the kernel also opens the program and passes the descriptor as AT_EXECFD, which
  only a native (ELF) interpreter receives: the native launcher puts it first (``-1``: none).

Which form applies is fixed when the launcher is written, from the flags it is registered
with, so no argument is ever guessed at.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NoReturn


@dataclass(frozen=True)
class LaunchSettings:
    """What a launcher was written for (the arguments of its ``launch`` call)."""

    arch: str
    preserve_argv0: bool = True
    execfd_first: bool = False        # the native launcher's AT_EXECFD comes first
    sysroot: str | None = None


def command_line(settings: LaunchSettings, args: list[str],
                 environ: dict[str, str]) -> list[str]:
    """The pyemu-ARCH command line (options, ``--``, program, arguments) for the kernel's
    ``args``. A sysroot given at run time (PYEMU_LD_PREFIX, QEMU_LD_PREFIX) wins over the one
    the launcher was written with."""
    if settings.execfd_first:
        fd, args = _int(args[0]) if args else -1, args[1:]
    else:
        fd = -1
    if not args:
        raise SystemExit("pyemu-binfmt launcher: no program given (the kernel passes one; "
                         "this file is meant to be run by binfmt_misc)")
    program, rest = args[0], args[1:]
    argv0 = program
    if settings.preserve_argv0 and rest:
        argv0, rest = rest[0], rest[1:]
    options = ["-0", argv0]
    runtime_prefix = environ.get("PYEMU_LD_PREFIX") or environ.get("QEMU_LD_PREFIX")
    if settings.sysroot and not runtime_prefix:
        options = ["-L", settings.sysroot, *options]
    return [*options, "--", _program_path(program, fd), *rest]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _program_path(program: str, fd: int) -> str:
    """The path pyemu loads the program from: the exec'd path when this process can read it,
    else the descriptor the kernel opened (flag O), e.g. for a path this mount namespace does
    not show. The descriptor is closed when it is not needed, so the guest never sees it."""
    if fd < 0:
        return program
    if os.access(program, os.R_OK):
        try:
            os.close(fd)
        except OSError:
            pass
        return program
    return f"/proc/self/fd/{fd}"


def launch(settings: LaunchSettings, args: list[str]) -> NoReturn:
    """Run the program the kernel handed over under pyemu; never returns."""
    from ..cli import run_and_exit

    run_and_exit(settings.arch, command_line(settings, args, dict(os.environ)))
