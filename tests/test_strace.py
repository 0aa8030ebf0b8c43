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
