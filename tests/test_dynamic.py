"""Dynamically linked programs: PT_INTERP through the sysroot, default sysroot discovery, /proc."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from harness import ARCHES, assert_same, guest, run_pyemu

DYNAMIC = ("-O2",)
TOOLCHAIN_ROOT = {"arm": "/usr/arm-linux-gnueabihf", "aarch64": "/usr/aarch64-linux-gnu",
                  "mips": "/usr/mips-linux-gnu", "mipsel": "/usr/mipsel-linux-gnu"}
PROGRAMS = [("args_env", ("a", "b c"), None), ("fileio", (), None),
            ("fpmath", (), ("-O2", "-ffp-contract=off", "-lm")),
            ("stdio", (), None), ("exit42", (), None), ("abort", (), None)]


@pytest.mark.parametrize("name,args,flags", PROGRAMS, ids=[p[0] for p in PROGRAMS])
@pytest.mark.parametrize("arch", ARCHES)
def test_dynamic_without_L_matches_qemu_with_toolchain_root(arch, name, args, flags):
    """No -L: pyemu finds the cross toolchain's sysroot by itself."""
    binary = guest(name, arch, flags or DYNAMIC)
    assert_same(arch, [binary, *args], qemu_args=["-L", TOOLCHAIN_ROOT[arch]],
                stdin=b"some input\nline two\n")


@pytest.mark.parametrize("arch", ARCHES)
def test_verbose_names_the_sysroot(arch):
    out = run_pyemu(arch, [guest("exit42", arch, DYNAMIC)], emu_args=["-v"])
    assert out.status == 42
    assert TOOLCHAIN_ROOT[arch].encode() in out.stderr
    assert re.search(rb"pyemu: engine unicorn 2\.1\.4\S* (\(stock\)|with pyemu patches .*), "
                     rb"(virtual|engine) TLB(, direct memory access)?\n", out.stderr), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_proc_describes_the_guest(arch):
    binary = guest("procself", arch, DYNAMIC)
    out = run_pyemu(arch, [binary, "x"])
    text = out.stdout.decode()
    assert out.status == 0, out.text()
    assert f"exe: {os.path.abspath(binary)}\n" in text
    assert f"/proc/self/maps: " in text and f" {os.path.abspath(binary)}\n" in text
    assert "[stack]" in text
    assert f"/proc/self/status: Name:\t{Path(binary).name[:15]}\n" in text
    marker = {"arm": "ARMv7 Processor", "aarch64": "CPU architecture: 8",
              "mips": "cpu model\t\t: MIPS", "mipsel": "cpu model\t\t: MIPS"}[arch]
    assert marker in text
    assert f"cmdline: {binary} x \n" in text


@pytest.mark.parametrize("arch", ARCHES)
def test_missing_interpreter_is_one_line_127(arch, tmp_path):
    out = run_pyemu(arch, [guest("exit42", arch, DYNAMIC)], emu_args=["-L", str(tmp_path)],
                    env={"PYEMU_LD_PREFIX": ""})
    # the empty sysroot has no interpreter, and the host has none for this arch either
    lines = out.stderr.decode().splitlines()
    assert out.status == 127 and len(lines) == 1 and "interpreter" in lines[0], out.text()
    assert b"Traceback" not in out.stderr


@pytest.mark.parametrize("arch", ARCHES)
def test_missing_library_is_ld_so_127(arch, tmp_path):
    """A sysroot with the loader but without libc: ld.so itself reports it and exits 127."""
    root = Path(TOOLCHAIN_ROOT[arch])
    interp = next(p for p in (root / "lib").iterdir() if p.name.startswith("ld"))
    (tmp_path / "lib").mkdir()
    shutil.copy(interp.resolve(), tmp_path / "lib" / interp.name)
    out = run_pyemu(arch, [guest("exit42", arch, DYNAMIC)], emu_args=["-L", str(tmp_path)])
    assert out.status == 127, out.text()
    assert b"libc.so.6" in out.stderr and b"Traceback" not in out.stderr
