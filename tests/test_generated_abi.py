"""The generated per-ABI constant modules are current and hold known kernel values.

The cross compilers are a requirement of this test: if one is missing the test
fails (it is never skipped), because the committed tables could not be verified.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "gen_abi_constants.py"
GENERATED = ROOT / "usermode" / "syscalls" / "generated"
COMPILERS = (
    "arm-linux-gnueabihf-gcc",
    "aarch64-linux-gnu-gcc",
    "mips-linux-gnu-gcc",
    "mipsel-linux-gnu-gcc",
)


def load(name: str) -> ModuleType:
    """Load a generated module by path (independent of the package's __init__ files)."""
    spec = importlib.util.spec_from_file_location(f"_generated_{name}", GENERATED / f"{name}.py")
    assert spec and spec.loader, f"cannot load {name}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def arm() -> ModuleType:
    return load("arm_eabi")


@pytest.fixture(scope="module")
def aarch64() -> ModuleType:
    return load("aarch64")


@pytest.fixture(scope="module")
def mips() -> ModuleType:
    return load("mips_o32")


def test_cross_compilers_present() -> None:
    missing = [cc for cc in COMPILERS if shutil.which(cc) is None]
    if missing:
        pytest.fail(f"cross compiler(s) not on PATH: {', '.join(missing)}; they are required "
                    "to verify usermode/syscalls/generated (install gcc-arm-linux-gnueabihf, "
                    "gcc-aarch64-linux-gnu, gcc-mips-linux-gnu, gcc-mipsel-linux-gnu)")


def test_generated_modules_are_current() -> None:
    test_cross_compilers_present()
    proc = subprocess.run([sys.executable, str(GENERATOR), "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (
        "generated ABI modules are stale or the generator failed; "
        f"run: python tools/gen_abi_constants.py\n{proc.stdout}\n{proc.stderr}")


def test_arm_eabi(arm: ModuleType) -> None:
    assert arm.SYSCALLS[1] == "exit"
    assert arm.SYSCALLS[0xF0005] == "ARM_set_tls"
    assert {name: num for num, name in arm.SYSCALLS.items()}["ARM_cacheflush"] == 0xF0002
    assert arm.SYSCALL_ALIASES["sync_file_range2"] == "arm_sync_file_range"
    assert arm.CONSTANTS["O_DIRECTORY"] == 0x4000
    assert arm.CONSTANTS["RLIM_INFINITY"] == 0xFFFFFFFF
    assert arm.CONSTANTS["AT_FDCWD"] == -100
    assert arm.NSIG == 64


def test_aarch64(aarch64: ModuleType) -> None:
    names = set(aarch64.SYSCALLS.values())
    assert "open" not in names
    assert aarch64.SYSCALLS[56] == "openat"
    assert aarch64.AUXV["AT_RANDOM"] == 25
    assert aarch64.CONSTANTS["RLIM_INFINITY"] == 2**64 - 1
    assert aarch64.NSIG == 64


def test_mips_o32(mips: ModuleType) -> None:
    assert mips.SYSCALLS[4004] == "write"
    assert "Linux" not in mips.SYSCALLS.values()
    assert mips.ERRNO["ENOSYS"] == 89
    assert mips.ERRNO["ENOTEMPTY"] == 93
    assert mips.SIGNALS["SIGUSR1"] == 16
    assert mips.SIGNALS["SIGCHLD"] == 18
    assert mips.NSIG == 128
    assert mips.CONSTANTS["MAP_ANONYMOUS"] == 0x800
    assert mips.CONSTANTS["SOCK_STREAM"] == 2
    assert mips.CONSTANTS["SOL_SOCKET"] == 0xFFFF


def test_common_shape(arm: ModuleType, aarch64: ModuleType, mips: ModuleType) -> None:
    for module in (arm, aarch64, mips):
        assert module.ERRNO["EWOULDBLOCK"] == module.ERRNO["EAGAIN"]
        assert "SIG_BLOCK" in module.CONSTANTS and "SIG_BLOCK" not in module.SIGNALS
        assert "SIGSTKSZ" in module.CONSTANTS and "SIGSTKSZ" not in module.SIGNALS
        assert module.AUXV["AT_PAGESZ"] == 6 and module.CONSTANTS["AT_REMOVEDIR"] == 0x200
        assert module.SIGNALS["SIGRTMAX"] == module.NSIG
