"""Every dependency pyproject.toml declares is imported by a feature that needs it, and only
when that feature is on (a plain run imports none but the engine binding)."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from harness import REPO_ROOT, build, run_pyemu

ROOT = REPO_ROOT / "usermode"
# distribution -> (module it provides, where the feature that imports it lives, what it is)
FEATURES = {
    "unicorn": ("unicorn", "usermode/translate/", "the engine"),
    "pyelftools": ("elftools", "usermode/symbols.py", "symbol names (-d in_asm)"),
    "capstone": ("capstone", "usermode/tracing.py", "disassembly (-d in_asm)"),
}


def _declared() -> list[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [re.split(r"[<>=!~ \[;]", dep, maxsplit=1)[0] for dep in project["dependencies"]]


def _importers(module: str) -> list[str]:
    found = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            if any(n.split(".")[0] == module for n in names):
                found.append(str(path.relative_to(REPO_ROOT)))
    return found


def test_every_declared_dependency_has_a_feature():
    declared = _declared()
    assert sorted(declared) == sorted(FEATURES), "pyproject.toml and this table disagree"
    for dist, (module, where, feature) in FEATURES.items():
        importers = _importers(module)
        assert any(i.startswith(where) for i in importers), \
            f"{dist}: {where} ({feature}) does not import {module}; importers: {importers}"


def test_a_plain_run_imports_only_the_engine():
    code = ("import sys; sys.argv = ['pyemu-arm', sys.argv[1]]; import usermode.cli as c\n"
            "import atexit, os\n"
            "def show():\n"
            "    print(sorted(m for m in ('elftools', 'capstone', 'unicorn', 'lief')"
            " if m in sys.modules), file=sys.stderr)\n"
            "c.end_process = lambda status: (show(), os._exit(status))\n"
            "c.main_arm()\n")
    proc = subprocess.run([sys.executable, "-c", code, str(REPO_ROOT / "examples/hello-arm")],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "['unicorn']", proc.stderr


def test_in_asm_names_the_symbols_pyelftools_reads(tmp_path):
    source = tmp_path / "named.c"
    source.write_text("int helper(int x) { return x * 3; }\n"
                      "int main(int argc, char **argv) { return helper(argc) + 39; }\n")
    program = build(source, "arm", ("-static", "-O0", "-marm"))
    out = run_pyemu("arm", [program], emu_args=["-d", "in_asm"])
    assert out.status == 42, out.text()
    headers = set(re.findall(rb"^IN: (.*)$", out.stderr, re.MULTILINE))
    assert {b"main", b"helper", b"_start"} <= headers, sorted(headers)[:40]
    assert any(h.startswith(b"main+0x") for h in headers), sorted(headers)[:40]
