"""The engine pyemu runs on (the stock wheel or pyemu's patched build, tools/build_engine.py)
keeps translated code coherent with guest stores, with and without memory hooks.

The patched build takes stores to pages without translated code off the slow path; these
cases failed on a build that dropped the re-arming of that path when code is translated
while a memory hook exists (pyemu always has one with the engine's own TLB).

The engine under test is the one usermode.translate chose (tests/conftest.py imports it before
this module imports unicorn): the bundled patched library, or the stock wheel's.
"""
from __future__ import annotations

import struct

import pytest
from unicorn import (
    UC_ARCH_ARM64,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_INVALID,
    UC_MODE_ARM,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
)
from unicorn import UcError
from unicorn.arm64_const import (
    UC_ARM64_REG_PC,
    UC_ARM64_REG_SP,
    UC_ARM64_REG_X19,
    UC_ARM64_REG_X20,
    UC_ARM64_REG_X21,
    UC_ARM64_REG_X22,
)

CODE, FUNC, DATA = 0x10000, 0x20000, 0x30000


def words(*ws: int) -> bytes:
    return b"".join(struct.pack("<I", w) for w in ws)


def mov_w0(value: int) -> int:
    return 0x52800000 | value << 5


@pytest.mark.parametrize("hooked", [False, True], ids=["no-hooks", "memory-hook"])
@pytest.mark.parametrize("func_prot", [UC_PROT_READ | UC_PROT_WRITE, UC_PROT_ALL],
                         ids=["made-executable", "rwx"])
def test_rewritten_function_runs_new_code(func_prot, hooked):
    """Read FUNC's page (a TLB entry), svc (the host adds UC_PROT_EXEC), call FUNC (returns 1),
    overwrite its first instruction with a guest store, call it again (must return 2)."""
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.mem_map(CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC)
    uc.mem_map(FUNC, 0x1000, func_prot)
    uc.mem_map(DATA, 0x1000, UC_PROT_READ | UC_PROT_WRITE)
    uc.mem_write(FUNC, words(mov_w0(1), 0xD65F03C0))                  # mov w0, #1; ret
    uc.mem_write(DATA, words(mov_w0(2)))
    program = words(
        0xB94002A9,     # ldr w9, [x21]
        0xB9000AA9,     # str w9, [x21, #8]     a data store to the page
        0xD4000001,     # svc #0
        0xD63F02A0,     # blr x21
        0xAA0003F3,     # mov x19, x0
        0xB94002C1,     # ldr w1, [x22]
        0xB90002A1,     # str w1, [x21]         mov w0, #1 -> mov w0, #2
        0xD63F02A0,     # blr x21
        0xAA0003F4,     # mov x20, x0
    )
    uc.mem_write(CODE, program)
    uc.reg_write(UC_ARM64_REG_X21, FUNC)
    uc.reg_write(UC_ARM64_REG_X22, DATA)
    uc.reg_write(UC_ARM64_REG_SP, DATA + 0x800)
    uc.hook_add(UC_HOOK_INTR, lambda uc, intno, _: uc.mem_protect(FUNC, 0x1000, UC_PROT_ALL))
    if hooked:
        uc.hook_add(UC_HOOK_MEM_INVALID, lambda *args: False)
    uc.emu_start(CODE, CODE + len(program))
    assert (uc.reg_read(UC_ARM64_REG_X19), uc.reg_read(UC_ARM64_REG_X20)) == (1, 2)



@pytest.mark.parametrize("store", [True, False], ids=["store", "load"])
@pytest.mark.parametrize("hooked", [False, True], ids=["no-hooks", "memory-hook"])
def test_faulting_access_stops_at_its_instruction(store, hooked):
    """A load or store to unmapped memory ends emulation at that instruction: the pc points at
    it and nothing after it in the block has run (the patched engine leaves the block from the
    memory helper; stock Unicorn checks after every access)."""
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.mem_map(CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC)
    program = words(
        0xD2800053,                                 # mov x19, #2
        0xB90002A1 if store else 0xB94002A1,        # str w1, [x21] / ldr w1, [x21]
        0xD2800094,                                 # mov x20, #4
    )
    uc.mem_write(CODE, program)
    uc.reg_write(UC_ARM64_REG_X21, 0x500000)
    if hooked:
        uc.hook_add(UC_HOOK_MEM_INVALID, lambda *args: False)
    with pytest.raises(UcError) as err:
        uc.emu_start(CODE, CODE + len(program))
    assert err.value.errno == (UC_ERR_WRITE_UNMAPPED if store else UC_ERR_READ_UNMAPPED)
    assert uc.reg_read(UC_ARM64_REG_PC) == CODE + 4
    assert (uc.reg_read(UC_ARM64_REG_X19), uc.reg_read(UC_ARM64_REG_X20)) == (2, 0)


def _counting_program(uc: Uc) -> bytes:
    """mov x19, #1; mov x20, #2; add x19, x19, x20; b .-12 (a loop of one block)."""
    program = words(0xD2800033, 0xD2800054, 0x8B140273, 0x17FFFFFD)
    uc.mem_map(CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC)
    uc.mem_write(CODE, program)
    return program


def test_code_hook_stop_comes_before_its_instruction():
    """uc_emu_stop in a UC_HOOK_CODE callback stops before the hooked instruction runs, in the
    middle of a block (a debugger's breakpoint; pyemu's patch hook-stops-1 keeps the stock
    behaviour that exit-checks-1 had deferred to the next block start)."""
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    _counting_program(uc)
    hits = []

    def stop(uc, address, size, _data):
        hits.append(address)
        uc.emu_stop()

    uc.hook_add(UC_HOOK_CODE, stop, begin=CODE + 4, end=CODE + 4)
    uc.emu_start(CODE, 0xFFFFFFFFFFFF)
    assert hits == [CODE + 4]
    assert uc.reg_read(UC_ARM64_REG_PC) == CODE + 4
    assert (uc.reg_read(UC_ARM64_REG_X19), uc.reg_read(UC_ARM64_REG_X20)) == (1, 0)


def test_count_runs_exactly_that_many_instructions():
    """emu_start(count=1) executes one instruction (single-stepping), also inside a block
    and across its loop branch."""
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    _counting_program(uc)
    uc.emu_start(CODE, 0xFFFFFFFFFFFF, count=6)      # twice round the loop, translated
    seen = []
    for _ in range(5):
        uc.emu_start(uc.reg_read(UC_ARM64_REG_PC), 0xFFFFFFFFFFFF, count=1)
        seen.append(uc.reg_read(UC_ARM64_REG_PC) - CODE)
    assert seen == [12, 0, 4, 8, 12]
