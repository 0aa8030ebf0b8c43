"""The block-level hook cache and the features on it: ``-d in_asm``, ``-d exec``, ``-coverage``
and the Python API's block hook. Code that changes (self-modifying, W^X rewrites) must show its
new instructions; the program's own behaviour must not change when features are on.
"""
from __future__ import annotations

import re

import pytest
from harness import ARCHES, guest, run_pyemu

# the instruction smc.c writes for value v, as capstone prints it
SMC_INSN = {"arm": r"mov\s+r0, #{v}\b", "aarch64": r"mov\s+w0, #{v}\b",
            "mips": r"addiu\s+\$v0, \$zero, {v}\b", "mipsel": r"addiu\s+\$v0, \$zero, {v}\b"}


@pytest.mark.parametrize("arch", ARCHES)
def test_in_asm_shows_rewritten_code(arch, tmp_path):
    plain = run_pyemu(arch, [guest("smc", arch)])
    log = tmp_path / "in_asm.log"
    traced = run_pyemu(arch, [guest("smc", arch)], emu_args=["-d", "in_asm", "-D", str(log)])
    assert traced.stdout == plain.stdout and traced.status == plain.status == 0, traced.text()
    text = log.read_text()
    assert text.startswith("----------------\nIN: \n0x")
    # every version of the rewritten function was disassembled when it ran: the RWX rewrites
    # (1..5, stores the cache only sees by comparing), the W^X ones (10..12, mprotect) and the
    # remapped one (42, munmap/mmap)
    for v in (1, 2, 3, 4, 5, 10, 11, 12, 42):
        shown = str(v) if v < 10 else hex(v)      # capstone's immediates
        assert re.search(SMC_INSN[arch].format(v=shown), text), f"no block with value {v}"


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_log_and_coverage(arch, tmp_path):
    cov = tmp_path / "cov.txt"
    out = run_pyemu(arch, [guest("exit42", arch)], emu_args=["-d", "exec", "-coverage", str(cov)])
    assert out.status == 42, out.text()
    traces = re.findall(rb"^Trace: 0x([0-9a-f]+) \[(\d+)\]$", out.stderr, re.M)
    assert len(traces) > 100
    lines = cov.read_text().splitlines()
    assert lines[0] == "# pyemu coverage: address size executions"
    ran: dict[int, int] = {}
    for line in lines[1:]:
        address, size, count = line.split()
        ran[int(address, 16)] = ran.get(int(address, 16), 0) + int(count)
    # the coverage counts are the exec log's, block by block
    counted: dict[int, int] = {}
    for address, _size in traces:
        counted[int(address, 16)] = counted.get(int(address, 16), 0) + 1
    assert ran == counted


def test_unknown_log_item_is_one_line(tmp_path):
    out = run_pyemu("arm", [guest("exit42", "arm")], emu_args=["-d", "nonsense"])
    assert out.status == 1
    assert out.stderr == b"pyemu: unknown log item 'nonsense' (-d help lists them)\n"


def test_api_block_hook_sees_the_entry_block():
    """The Python API: Emulation.on_block(fn) is called with each block as it runs."""
    from usermode.emulator import Emulation, RunConfig

    program = str(guest("exit42", "aarch64"))
    em = Emulation(RunConfig(program=program, argv=[program.encode()], env=[]))
    seen: list[tuple[int, int]] = []
    em.on_block(lambda block: seen.append((block.address, block.executions)))
    assert em.run() == 42
    assert seen[0] == (em.entry, 1)
    assert {a for a, _ in seen} >= set(em.blocks.blocks)      # every cached block was seen


def test_no_block_hook_unless_asked():
    from usermode.emulator import Emulation, RunConfig

    program = str(guest("exit42", "arm"))
    em = Emulation(RunConfig(program=program, argv=[program.encode()], env=[]))
    assert em.blocks is None
    assert em.run() == 42
    assert em.blocks is None
