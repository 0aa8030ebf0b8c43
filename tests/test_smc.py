"""Self-modifying code stays correct under the block cache and the virtual TLB (every arch)."""
from __future__ import annotations

import pytest
from harness import ARCHES, assert_same, guest


@pytest.mark.parametrize("arch", ARCHES)
def test_rewritten_code_runs_new_code(arch):
    out = assert_same(arch, [guest("smc", arch)])
    lines = out.stdout.decode().splitlines()
    assert lines[:5] == [f"rwx {v} -> {v}" for v in range(1, 6)]
    assert lines[5:8] == [f"w^x {v} -> {v}" for v in range(10, 13)]
    assert lines[8] == "remap 42 -> 42"
