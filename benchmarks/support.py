"""The bridge to tests/harness.py (building, busybox, sysroots, emulator commands) and the
description of the machine the numbers come from."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PROGRAMS_DIR = BENCH_DIR / "programs"
EXAMPLES_DIR = REPO_ROOT / "examples"

if str(REPO_ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "tests"))

import harness  # noqa: E402  (tests/harness.py: build cache, busybox, sysroots, commands)
import pytest  # noqa: E402  (harness reports its failures with pytest.fail)

ARCHES: tuple[str, ...] = harness.ARCHES
T = TypeVar("T")


class SetupError(Exception):
    """Something a benchmark needs could not be made (compiler, download, sysroot...)."""


def guarded(fn: Callable[..., T], *args: object) -> T:
    """Call a harness helper; its pytest.fail becomes a SetupError with the same message."""
    try:
        return fn(*args)
    except pytest.fail.Exception as exc:
        raise SetupError(str(exc.msg if hasattr(exc, "msg") else exc).strip()) from None


def build(source: Path, arch: str, flags: tuple[str, ...]) -> Path:
    return guarded(harness.build, source, arch, flags)


def fetch_busybox(debarch: str) -> Path:
    return guarded(harness.fetch_busybox, debarch)


def debian_sysroot(debarch: str, packages: list[str]) -> Path:
    return guarded(harness.debian_sysroot, debarch, packages)


def pyemu_command(arch: str) -> list[str]:
    return guarded(harness.pyemu_command, arch)


def qemu_command(arch: str) -> list[str]:
    return guarded(harness.qemu_command, arch)


def debian_arch(arch: str) -> str | None:
    return harness.ARCH_INFO[arch].debian


def toolchain_root(arch: str) -> Path:
    """/usr/<triple>: the cross toolchain's sysroot (qemu's -L for dynamic programs)."""
    return Path("/usr") / harness.ARCH_INFO[arch].cc.removesuffix("-gcc")


def guest_env() -> dict[str, str]:
    """What every run gets (and so what the guest sees): the tests' minimal environment."""
    return harness.minimal_env()


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "?"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "?"


def _script_interpreter(script: str) -> str:
    """The Python a console script runs with (its #! line), else ours."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return sys.executable


def pyemu_runtime(arch: str) -> tuple[str, str]:
    """(python version, unicorn version and engine) of the interpreter pyemu runs on."""
    try:
        python = _script_interpreter(pyemu_command(arch)[0])
    except SetupError:
        python = sys.executable
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from usermode.translate.cpu import engine_description; "
            "print(sys.version.split()[0], engine_description())")
    try:
        out = subprocess.run([python, "-c", code, str(harness.REPO_ROOT)], capture_output=True,
                             text=True, timeout=60, check=True).stdout.strip()
        version, engine = out.split(" ", 1)
        return version, engine.removeprefix("unicorn ")
    except (OSError, subprocess.SubprocessError, ValueError):
        return platform.python_version(), "?"


def qemu_version(arch: str) -> str:
    try:
        out = subprocess.run([*qemu_command(arch), "--version"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError, SetupError):
        return "?"
    match = re.search(r"version (\S+)", out)
    return match.group(1) if match else "?"


def pyemu_revision() -> str:
    """``git describe --always --dirty`` of the tree pyemu runs from (it changes under us)."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=60).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_info(arch: str) -> dict[str, object]:
    python, unicorn = pyemu_runtime(arch)
    return {
        "pyemu": pyemu_revision(),
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "python": python,
        "unicorn": unicorn,
        "qemu": qemu_version(arch),
        "kernel": platform.release(),
    }


def machine_line(info: dict[str, object]) -> str:
    return (f"machine: {info['cpu']}, {info['cores']} cores; python {info['python']}, "
            f"unicorn {info['unicorn']}, qemu-user {info['qemu']}, Linux {info['kernel']}; "
            f"pyemu {info['pyemu']}")
