"""The generated constant tables, proven by the cross compilers one name at a time.

usermode/syscalls/generated/*.py are generated from the kernel's uapi headers (and
test_generated_abi.py checks they are current), but generation is one program reading another's
output. This test states every fact independently: for each ABI and compiler, one C file with a
``_Static_assert(NAME == value, ...)`` per errno, signal number, syscall number and O_*, MAP_*,
PROT_*, F_* constant, compiled against the same uapi headers. A name the headers do not define
there is checked in a second file with the generic asm header (ARM's SIGRTMAX is _NSIG, which
only asm-generic/signal.h defines); if it is still unknown, or any value differs, the test fails
and names it. The cross compilers are required (never skipped).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_abi_constants as gen  # noqa: E402

from usermode.syscalls.abi import ABI_FOR_ARCH, Abi  # noqa: E402

CASES = (
    ("arm", "arm-linux-gnueabihf-gcc", "little"),
    ("aarch64", "aarch64-linux-gnu-gcc", "little"),
    ("mips", "mips-linux-gnu-gcc", "big"),
    ("mipsel", "mipsel-linux-gnu-gcc", "little"),
)
PREFIXES = ("O_", "MAP_", "PROT_", "F_")
FALLBACK_HEADERS = ("asm-generic/signal.h",)


def facts(abi: Abi) -> list[tuple[str, str, int]]:
    """(what, C expression, value) for every fact the test states about this ABI."""
    out = [("errno", name, value) for name, value in abi.errno.items()]
    out += [("signal", name, value) for name, value in abi.signals.items()]
    out += [("constant", name, value) for name, value in abi.const.items()
            if name.startswith(PREFIXES)]
    for number, name in abi.syscalls.items():
        macro = f"__ARM_NR_{name[4:]}" if name.startswith("ARM_") else f"__NR_{name}"
        out.append(("syscall", macro, number))
    return out


def compile_asserts(cc: str, headers: tuple[str, ...], prelude: tuple[str, ...],
                    checks: list[tuple[str, str, int]]) -> dict[int, str]:
    """Compile one assertion per check; {index: diagnostic} for the ones that failed."""
    head = [f"#include <{h}>" for h in headers] + list(prelude)
    body = [f'_Static_assert(({expr}) == ({value}), "{what} {expr}");'
            for what, expr, value in checks]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "constants.c"
        src.write_text("\n".join(head + body) + "\n")
        proc = subprocess.run([cc, "-fsyntax-only", "-w", str(src)], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "LC_ALL": "C"})
    failed: dict[int, str] = {}
    for m in re.finditer(r"constants\.c:(\d+):\d+: error: (.*)$", proc.stderr, re.M):
        index = int(m.group(1)) - len(head) - 1
        if 0 <= index < len(checks):
            failed.setdefault(index, m.group(2))
        else:
            pytest.fail(f"{cc}: the headers do not compile:\n{proc.stderr[-3000:]}")
    if proc.returncode != 0 and not failed:
        pytest.fail(f"{cc} failed:\n{proc.stderr[-3000:]}")
    return failed


@pytest.mark.parametrize("arch,cc,byteorder", CASES, ids=[c for _, c, _ in CASES])
def test_constants_match_the_compiler(arch: str, cc: str, byteorder: str) -> None:
    if shutil.which(cc) is None:
        pytest.fail(f"cross compiler {cc} not on PATH: it is required to prove the constants")
    abi = Abi(ABI_FOR_ARCH[arch], byteorder)
    checks = facts(abi)
    counts = {kind: sum(1 for c in checks if c[0] == kind)
              for kind in ("errno", "signal", "constant", "syscall")}
    assert min(counts.values()) > 0, counts
    failed = compile_asserts(cc, gen.UAPI_INCLUDES, gen.UAPI_PRELUDE, checks)
    wrong = {i: why for i, why in failed.items() if "static assertion failed" in why}
    unknown = [checks[i] for i in failed if i not in wrong]
    if unknown:
        again = compile_asserts(cc, FALLBACK_HEADERS, (), unknown)
        still = [f"{unknown[i][0]} {unknown[i][1]}: {why}" for i, why in sorted(again.items())]
        assert not still, f"{cc}: names the headers do not define:\n" + "\n".join(still)
    assert not wrong, (f"{cc}: generated values that differ from the compiler's "
                       "(regenerate with tools/gen_abi_constants.py):\n"
                       + "\n".join(f"{checks[i][0]} {checks[i][1]} = {checks[i][2]}"
                                   for i in sorted(wrong)))
