"""Bad command lines and bad programs: one `pyemu: ` line on stderr, status 1, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import guest, run_pyemu

HOST_ELF = Path("/bin/true")


def _case_argv(case: str, tmp_path: Path) -> list[str]:
    """The command-line arguments (after the pyemu command) for one bad-input case."""
    if case == "text-file":
        p = tmp_path / "notes.txt"
        p.write_text("this is not an ELF file\njust some text\n")
        return [str(p)]
    if case == "host-x86-64-elf":
        assert HOST_ELF.read_bytes()[:4] == b"\x7fELF", f"{HOST_ELF} is not an ELF file"
        return [str(HOST_ELF)]
    if case == "truncated-elf":
        p = tmp_path / "truncated"
        p.write_bytes(guest("exit42", "arm").read_bytes()[:20])
        os.chmod(p, 0o755)
        return [str(p)]
    if case == "empty-file":
        p = tmp_path / "empty"
        p.write_bytes(b"")
        os.chmod(p, 0o755)
        return [str(p)]
    if case == "missing-file":
        return [str(tmp_path / "does-not-exist")]
    if case == "directory":
        return [str(tmp_path)]
    if case == "unknown-option":
        return ["--frobnicate", "x"]
    raise AssertionError(case)


GENERIC_CASES = [
    "text-file",
    "host-x86-64-elf",
    "truncated-elf",
    "empty-file",
    "missing-file",
    "directory",
    "unknown-option",
]


def check_bad(out) -> None:
    assert out.status == 1, out.text()
    assert b"Traceback" not in out.stderr and b"Traceback" not in out.stdout, out.text()
    assert out.stdout == b"", out.text()
    lines = out.stderr.decode("utf-8", errors="replace").splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr\n{out.text()}"
    assert lines[0].startswith("pyemu: ") and lines[0][len("pyemu: ") :].strip(), out.text()


@pytest.mark.parametrize("case", GENERIC_CASES)
@pytest.mark.parametrize("command", ["pyemu-arm", "pyemu"])
def test_bad_input(command, case, tmp_path):
    argv = _case_argv(case, tmp_path)
    arch = "arm" if command == "pyemu-arm" else None
    check_bad(run_pyemu(arch, argv, timeout=30))


def test_arm_binary_given_to_aarch64():
    check_bad(run_pyemu("aarch64", [guest("exit42", "arm")], timeout=30))


def test_big_endian_mips_given_to_mipsel():
    check_bad(run_pyemu("mipsel", [guest("exit42", "mips")], timeout=30))
