"""Run limits: --timeout (wall time, status 124) and --max-insns (exactly N instructions,
status 123, the same stopping pc every run)."""
from __future__ import annotations

import os
import re
import time

import pytest
from harness import ARCHES, guest, run_pyemu

LIMIT_LINE = re.compile(rb"^pyemu: instruction limit reached \((\d+) instructions\) at pc "
                        rb"0x([0-9a-f]+)\n$")


@pytest.mark.parametrize("arch", ARCHES)
def test_timeout_ends_an_infinite_loop_and_its_children(arch):
    marker = f"pyemu-timeout-test-{os.getpid()}-{arch}"        # names this run's processes
    started = time.monotonic()
    out = run_pyemu(arch, [guest("spin_forever", arch), "fork", marker],
                    emu_args=["--timeout", "1"], timeout=30)
    took = time.monotonic() - started
    assert (out.status, out.stdout) == (124, b"looping\n"), out.text()
    assert out.stderr == b"pyemu: timeout: the guest ran for 1 s\n"
    assert took < 2.5, f"took {took:.2f} s"
    time.sleep(0.2)
    leftovers = [p for p in os.listdir("/proc") if p.isdigit() and _runs(p, marker)]
    assert not leftovers, f"processes left behind: {leftovers}"


def _runs(pid: str, name: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return name.encode() in f.read()
    except OSError:
        return False


@pytest.mark.parametrize("arch", ARCHES)
def test_max_insns_stops_at_the_same_instruction_every_run(arch):
    binary = guest("spin_forever", arch)
    lines = {run_pyemu(arch, [binary], emu_args=["--max-insns", "300017"]).stderr
             for _ in range(10)}
    assert len(lines) == 1, lines
    line = lines.pop()
    assert LIMIT_LINE.match(line), line


@pytest.mark.parametrize("arch", ["arm", "aarch64"])
def test_max_insns_counts_single_instructions(arch):
    """One instruction more moves the stopping pc by one instruction inside the loop."""
    binary = guest("spin_forever", arch)
    pcs = []
    for n in range(400000, 400006):
        out = run_pyemu(arch, [binary], emu_args=["--max-insns", str(n)])
        assert out.status == 123, out.text()
        found = LIMIT_LINE.match(out.stderr)
        assert found and int(found.group(1)) == n, out.text()
        pcs.append(int(found.group(2), 16))
    steps = {b - a for a, b in zip(pcs, pcs[1:]) if b > a}
    assert steps and steps <= {2, 4}, [hex(pc) for pc in pcs]     # Thumb's 2- and 4-byte ones


@pytest.mark.parametrize("option, value", [("--timeout", "0"), ("--timeout", "soon"),
                                           ("--max-insns", "-5"), ("--max-insns", "1.5")])
def test_bad_limits_are_usage_errors(option, value):
    out = run_pyemu("arm", ["/bin/true"], emu_args=[option, value])
    assert out.status == 1 and out.stderr.startswith(b"pyemu: bad " + option[1:].encode())
