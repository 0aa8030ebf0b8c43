"""docs/syscalls.md is generated from the code and must be current."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_syscall_table_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_syscall_table.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_handler_names_a_real_syscall():
    """A handler registered under a name no ABI has would never run: catch typos."""
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_syscall_table as gen

    known = {n for _, abi in gen.ABIS for n in abi.syscalls.values()}
    from usermode.syscalls.registry import HANDLERS
    assert sorted(set(HANDLERS) - known) == []
