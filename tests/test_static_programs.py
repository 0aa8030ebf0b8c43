"""Static guest programs from tests/guest/, run under pyemu and qemu-user (the oracle)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from harness import ARCHES, DEFAULT_FLAGS, assert_same, guest, run_pyemu


@dataclass(frozen=True)
class Program:
    name: str
    args: tuple[str, ...] = ()
    stdin: bytes | None = None
    env: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = DEFAULT_FLAGS
    timeout: float = 60


PROGRAMS = [
    Program(
        "args_env",
        args=("one", "two words", "", "--dashed", "-strace", "\u00fcn\u00efcode"),
        env={"PYEMU_T_A": "1", "PYEMU_T_B": "x y", "PYEMU_T_EMPTY": "", "OTHER_VAR": "no"},
    ),
    Program("auxv"),
    Program("fileio"),  # every run has its own fresh temporary cwd
    Program("fpmath", flags=("-static", "-O2", "-ffp-contract=off", "-lm")),
    Program("fpflags", flags=("-static", "-O2", "-ffp-contract=off", "-lm")),
    Program("memaccess"),
    Program("bigmalloc", timeout=180),
    Program("exit42"),
    Program("abort"),
    Program("nullwrite"),
    Program(
        "stdio",
        stdin=b"hello world\nSecond Line 2\n\n   spaced out\t tab\nno newline at end",
    ),
    Program("enosys"),
]


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("arch", ARCHES)
def test_same_as_qemu(arch, prog):
    binary = guest(prog.name, arch, prog.flags)
    assert_same(
        arch,
        [binary, *prog.args],
        stdin=prog.stdin,
        env=prog.env,
        timeout=prog.timeout,
    )


@pytest.mark.parametrize("arch", ARCHES)
def test_emulator_env_and_argv0_options(arch):
    """-E, -U and -0 behave as in qemu-user."""
    binary = guest("args_env", arch)
    out = assert_same(
        arch,
        [binary, "x"],
        emu_args=["-E", "PYEMU_T_NEW=added", "-U", "PYEMU_T_GONE", "-0", "custom-argv0"],
        env={"PYEMU_T_A": "kept", "PYEMU_T_GONE": "should not be seen"},
    )
    assert b"argv[0]=[custom-argv0]\n" in out.stdout
    assert b"env[PYEMU_T_NEW=added]\n" in out.stdout
    assert b"PYEMU_T_GONE" not in out.stdout


# --- checks that do not need qemu -------------------------------------------------


@pytest.mark.parametrize("arch", ARCHES)
def test_exit_status(arch):
    out = run_pyemu(arch, [guest("exit42", arch)])
    assert (out.status, out.stdout, out.stderr) == (42, b"", b""), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_abort_reports_sigabrt(arch, tmp_path):
    out = run_pyemu(arch, [guest("abort", arch)], cwd=tmp_path)
    assert out.status == 134, out.text()
    assert out.stdout == b"about to abort\n", out.text()
    assert out.stderr == b"pyemu: uncaught target signal 6 (Aborted) - core dumped\n", out.text()
    assert list(tmp_path.iterdir()) == [], "a core file was left behind"


@pytest.mark.parametrize("arch", ARCHES)
def test_null_write_reports_sigsegv(arch, tmp_path):
    out = run_pyemu(arch, [guest("nullwrite", arch)], cwd=tmp_path)
    assert out.status == 139, out.text()
    assert out.stdout == b"about to write through NULL\n", out.text()
    assert out.stderr == b"pyemu: uncaught target signal 11 (Segmentation fault) - core dumped\n", (
        out.text()
    )
    assert list(tmp_path.iterdir()) == [], "a core file was left behind"


@pytest.mark.parametrize("arch", ARCHES)
def test_enosys_is_quiet_without_strace(arch):
    out = run_pyemu(arch, [guest("enosys", arch)])
    assert (out.status, out.stdout, out.stderr) == (0, b"ENOSYS\nENOSYS\n", b""), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_hint_instructions_do_nothing(arch):
    out = assert_same(arch, [guest("hints", arch)])
    assert out.stdout == b"hints done: 2000\n"
