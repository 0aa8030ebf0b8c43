"""The Python API for test harnesses: ``run()`` a foreign program and look at how it ended.

    from usermode import run
    result = run(["./hello-arm"], timeout=5)
    assert result.returncode == 0 and result.stdout == b"Hello\\n"

``run`` starts pyemu as a child process (``python -m usermode``'s code, in its own session):
the guest is a real process with its own fds, signals, children and exit, a crash or an
``exit_group`` cannot take the caller down, and ``timeout`` ends the guest and every process it
started. The price is one interpreter start-up per run (about 70 ms). For step-wise control
of a guest inside the caller's process (hooks, registers, memory), see ``usermode.Emulator``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from .errors import LoaderError
from .stracefmt import Call, End, parse
from .translate.arches import ARCHES

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_STATUS = 124
MAX_INSNS_STATUS = 123


@dataclass(frozen=True)
class Result:
    """How a guest run ended."""

    argv: tuple[str, ...]
    returncode: int           # the exit status; 128+N for a death by (host) signal N, as a shell
    signal: int | None        # that signal N (the host's numbering), or None
    stdout: bytes
    stderr: bytes
    timed_out: bool           # ended by ``timeout`` (returncode 124)
    instruction_limit: bool   # ended by ``max_instructions`` (returncode 123)
    wall_time: float          # seconds
    syscalls: list[Call] = field(default_factory=list)   # with strace=True, in order

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def command(arch: str | None = None) -> list[str]:
    """The command line that starts pyemu from this package (``pyemu-ARCH``, or ``pyemu``
    when ``arch`` is None), whatever the caller's PATH holds."""
    if arch is not None and arch not in ARCHES:
        raise ValueError(f"unknown arch {arch!r} (one of {', '.join(ARCHES)})")
    entry = "main" if arch is None else f"main_{arch}"
    boot = (f"import sys; sys.path.insert(0, sys.argv.pop(1)); "
            f"from usermode.cli import {entry}; {entry}()")
    return [sys.executable, "-E", "-c", boot, str(PACKAGE_ROOT)]


def run(argv: Sequence[str | os.PathLike[str]], *, arch: str | None = None,
        sysroot: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None, stdin: bytes | str | None = None,
        timeout: float | None = None, max_instructions: int | None = None,
        strace: bool = False, options: Sequence[str] = ()) -> Result:
    """Run a foreign program under pyemu and wait for it.

    ``argv[0]`` is the program (a path on the host); ``arch`` checks it is for that
    architecture (None: any pyemu supports). ``env`` is the guest's whole environment (default:
    this process's). ``stdin``: bytes fed to the guest (None: /dev/null). ``timeout`` (seconds
    of wall time) and ``max_instructions`` end the guest cleanly: ``timed_out`` /
    ``instruction_limit`` are then set, and no process of the run is left. ``strace`` collects
    the guest's syscalls into ``syscalls``. ``options`` are more pyemu command-line options.
    A program that is not a loadable ELF file raises ``LoaderError``.
    """
    args = [os.fspath(a) for a in argv]
    if not args:
        raise ValueError("argv is empty")
    _check_program(args[0])
    opts = list(options)
    if sysroot is not None:
        opts += ["-L", os.fspath(sysroot)]
    if timeout is not None:
        opts += ["-timeout", repr(float(timeout))]
    if max_instructions is not None:
        opts += ["-max-insns", str(int(max_instructions))]
    with tempfile.TemporaryDirectory(prefix="pyemu-run-") as scratch:
        log = Path(scratch) / "strace.log"
        if strace:
            opts += ["-strace", "-D", str(log)]
        cmd = command(arch) + opts + ["--", *args]
        data = stdin.encode() if isinstance(stdin, str) else stdin
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if data is not None else
                                subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(os.environ if env is None
                                                                 else env),
                                cwd=cwd, start_new_session=True)
        expired = False
        try:
            # pyemu ends the guest itself at ``timeout`` (counted from its start); this counts
            # from the call, and ends a pyemu whose start-up took the time
            out, err = proc.communicate(data, timeout=None if timeout is None else timeout + 0.3)
        except subprocess.TimeoutExpired:
            expired = True
            _kill_session(proc)
            out, err = proc.communicate()
            err += f"pyemu: timeout: the guest ran for {timeout:g} s\n".encode()
        except BaseException:
            _kill_session(proc)
            proc.communicate()
            raise
        finally:
            _kill_session(proc)       # whatever the guest left in its session
        wall = time.monotonic() - started
        calls = _syscalls(log) if strace else []
    code = TIMEOUT_STATUS if expired else proc.returncode
    died = -code if code < 0 else None
    status = 128 + died if died is not None else code
    return Result(tuple(args), status, died, out, err,
                  status == TIMEOUT_STATUS and b"pyemu: timeout:" in err,
                  status == MAX_INSNS_STATUS and b"pyemu: instruction limit" in err,
                  wall, calls)


def _check_program(path: str) -> None:
    """Bad input fails here, in the caller, as a LoaderError (one line)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as err:
        raise LoaderError(f"{path}: {err.strerror}") from None
    if head != b"\x7fELF":
        raise LoaderError(f"{path}: not an ELF file")


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _syscalls(log: Path) -> list[Call]:
    calls: list[Call] = []
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return calls
    for line in lines:
        try:
            parsed = parse(line)
        except ValueError:          # pyemu's own notes ("pyemu: unimplemented syscall ...")
            continue
        if not isinstance(parsed, End):
            calls.append(parsed)
    return calls
