"""`pyemu-ARCH -strace`: trace lines on stderr, one warning per unimplemented syscall."""

from __future__ import annotations

import re

import pytest
from harness import ARCHES, guest, run_pyemu


@pytest.mark.parametrize("arch", ARCHES)
def test_strace_enosys(arch):
    out = run_pyemu(arch, [guest("enosys", arch)], emu_args=["-strace"])
    assert out.status == 0, out.text()
    assert out.stdout == b"ENOSYS\nENOSYS\n", out.text()
    lines = out.stderr.decode("utf-8", errors="replace").splitlines()
    unimpl = [ln for ln in lines if "unimplemented syscall" in ln]
    named = [ln for ln in unimpl if re.search(r"\badd_key\b", ln)]
    assert len(named) == 1, (
        "expected exactly one 'unimplemented syscall' line naming add_key "
        f"(the program calls it twice)\n{out.text()}"
    )
    assert any(re.search(r"\bwrite\(", ln) for ln in lines), f"no write( line\n{out.text()}"
    assert any(re.search(r"\bexit_group\(", ln) for ln in lines), (
        f"no exit_group( line\n{out.text()}"
    )
    assert "Traceback" not in out.stderr.decode(errors="replace"), out.text()


def test_the_strace_parser_accepts_stracess_own_output(tmp_path):
    """The parser below is strace's format, not ours: the host's strace output passes it."""
    import shutil
    import subprocess

    from usermode import stracefmt as strace_format
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed (apt-get install strace; .ci/run does)",
                    pytrace=False)
    log = tmp_path / "host.strace"
    subprocess.run([strace, "-f", "-o", str(log), "/bin/echo", "hi"], check=True,
                   capture_output=True)
    lines = log.read_text().splitlines()
    assert len(lines) > 10
    for line in lines:
        strace_format.parse(line)
    with pytest.raises(ValueError):
        strace_format.parse('123 write(1,0x1000,5) = -1 errno=9 (Bad file descriptor)')


@pytest.mark.parametrize("arch", ARCHES)
def test_strace_lines_parse_as_strace_and_end_with_exit_group(arch):
    from usermode import stracefmt as strace_format
    from harness import EXAMPLES_DIR
    out = run_pyemu(arch, [EXAMPLES_DIR / f"hello-{arch}"], emu_args=["-strace"])
    greeting = f"Hello, world! (from a {arch} guest)\n".encode()
    assert (out.status, out.stdout) == (0, greeting), out.text()
    lines = [line for line in out.stderr.decode().splitlines()
             if not line.startswith("pyemu: unimplemented")]
    parsed = [strace_format.parse(line) for line in lines]
    calls = [p for p in parsed if isinstance(p, strace_format.Call)]
    assert calls[-1].name == "exit_group" and calls[-1].args == ("0",)
    assert calls[-1].result == "?"
    assert parsed[-1] == strace_format.End(calls[-1].pid, 0, None)
    write = next(c for c in calls if c.name == "write")
    shown = greeting[:32].decode()                       # strace's 32-byte cut
    assert write.args == ("1", f'"{shown}"...', str(len(greeting)))
    assert write.result == str(len(greeting))
    assert any(c.errno == "ENOSYS" for c in calls)       # rseq or set_robust_list, by name
