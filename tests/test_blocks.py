"""The block-level hook cache and the features on it: ``-d in_asm``, ``-d exec``, ``-coverage``
and the Python API's block hook. Code that changes (self-modifying, W^X rewrites) must show its
new instructions; the program's own behaviour must not change when features are on.
"""
from __future__ import annotations

import re

import pytest
from harness import ARCHES, build, guest, run_pyemu

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
    assert re.match(r"----------------\nIN: _?_start\n0x", text)   # the entry's symbol
    # every version of the rewritten function was disassembled when it ran: the RWX rewrites
    # (1..5, stores the cache only sees by comparing), the W^X ones (10..12, mprotect) and the
    # remapped one (42, munmap/mmap)
    for v in (1, 2, 3, 4, 5, 10, 11, 12, 42):
        shown = str(v) if v < 10 else hex(v)      # capstone's immediates
        assert re.search(SMC_INSN[arch].format(v=shown), text), f"no block with value {v}"


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_log_and_coverage(arch, tmp_path):
    cov = tmp_path / "cov.txt"
    out = run_pyemu(arch, [guest("exit42", arch)], emu_args=["-d", "exec", "-coverage", str(cov),
                                                              "-coverage-format", "plain"])
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


@pytest.mark.parametrize("arch", ARCHES)
def test_drcov_coverage_names_modules_and_matches_the_blocks_that_ran(arch, tmp_path):
    import drcov
    program = guest("exit42", arch)
    plain, binary = tmp_path / "cov.txt", tmp_path / "cov.drcov"
    out = run_pyemu(arch, [program], emu_args=["-coverage", str(plain), "-coverage-format",
                                                "plain"])
    assert out.status == 42, out.text()
    out = run_pyemu(arch, [program], emu_args=["-coverage", str(binary)])
    assert out.status == 42, out.text()
    cov = drcov.read(binary.read_bytes())
    assert cov.version == 2
    assert [m.path for m in cov.modules.values()] == [str(program)]
    ran = {(int(a, 16), int(s)) for a, s, _n in
           (line.split() for line in plain.read_text().splitlines()[1:])}
    module = cov.modules[0]
    in_program = {(a, s) for a, s in ran if module.base <= a < module.end}
    assert len(in_program) > 100
    assert cov.addresses() == in_program


def test_drcov_of_a_dynamic_program_lists_its_libraries(tmp_path):
    import drcov
    source = tmp_path / "dyn.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("dyn"); return 3; }\n')
    program = build(source, "aarch64", ("-O2",))
    cov_file = tmp_path / "cov.drcov"
    out = run_pyemu("aarch64", [program], emu_args=["-coverage", str(cov_file)])
    assert (out.status, out.stdout) == (3, b"dyn\n"), out.text()
    cov = drcov.read(cov_file.read_bytes())
    names = sorted(m.path.rsplit("/", 1)[-1] for m in cov.modules.values())
    assert names == sorted([program.name, "ld-linux-aarch64.so.1", "libc.so.6"]), names
    counts = {m: sum(1 for _o, _s, mod in cov.blocks if mod == m) for m in cov.modules}
    assert all(n > 0 for n in counts.values()), counts
