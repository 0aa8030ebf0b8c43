"""The project's structural rules, checked on the source:

* only ``usermode/translate/`` imports ``unicorn``;
* no syscall handler, kernel or gdb stub module tests which architecture or ABI it runs on:
  per-arch facts are data (``CpuSpec``, ``AbiSpec``, generated tables, the gdb stub's register
  tables), so adding an ABI means adding data, not editing handlers.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "usermode"
ARCH_WORDS = {"arm", "aarch64", "arm64", "armhf", "mips", "mipsel", "mips_o32", "arm_eabi",
              "ARM", "AArch64", "MIPS"}
NO_ARCH_CHECKS = sorted([*(ROOT / "syscalls/handlers").glob("*.py"),
                         *(ROOT / "kernel").glob("*.py"), *(ROOT / "binfmt").glob("*.py"),
                         *(ROOT / "gdbstub").glob("*.py"),
                         ROOT / "syscalls/dispatch.py", ROOT / "syscalls/delivery.py",
                         ROOT / "syscalls/netabi.py", ROOT / "syscalls/netlink.py"])


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_only_translate_imports_unicorn():
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if "translate" not in p.relative_to(ROOT).parts
                 and "unicorn" in _imports(ast.parse(p.read_text()))]
    assert not offenders, f"modules outside usermode/translate importing unicorn: {offenders}"


def _arch_comparisons(tree: ast.AST) -> list[int]:
    """Lines comparing something with an architecture's or ABI's name."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                consts = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                if any(isinstance(c, ast.Constant) and c.value in ARCH_WORDS for c in consts):
                    lines.append(node.lineno)
        elif isinstance(node, ast.Match):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", NO_ARCH_CHECKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_architecture_checks(path):
    found = _arch_comparisons(ast.parse(path.read_text()))
    assert not found, f"{path.relative_to(ROOT)}: compares with an arch/ABI name at lines {found}"


def test_the_check_finds_one():
    """The rule's own check is not blind."""
    assert _arch_comparisons(ast.parse("if k.abi.name == 'mips_o32':\n    pass\n")) == [1]
    assert _arch_comparisons(ast.parse("x = spec.name in ('arm', 'aarch64')\n")) == [1]
