"""CPython's own regression tests (Debian python3.11 for arm64) under pyemu and under qemu-user:
every test that passes under qemu passes under pyemu. The fast subset runs here, on every
push; tools/cpython_tests.py runs the full set (README: "CPython's tests")."""
from __future__ import annotations

import os
import sys

import pytest
from harness import REPO_ROOT, debian_sysroot

sys.path.insert(0, str(REPO_ROOT / "tools"))
import cpython_tests  # noqa: E402


@pytest.mark.parametrize("module", cpython_tests.FAST)
def test_cpython_module_passes_under_pyemu_as_under_qemu(module, tmp_path):
    root = debian_sysroot("arm64", cpython_tests.PACKAGES)
    engine = "stock" if os.environ.get("PYEMU_ENGINE") == "stock" else "patched"
    qemu = cpython_tests.run_module("arm64", root, module, "qemu", "", tmp_path, 900, False)
    pyemu = cpython_tests.run_module("arm64", root, module, "pyemu", engine, tmp_path, 900,
                                     False)
    assert len(qemu.passed()) > 5, f"qemu ran no tests of {module}: {qemu.tail[-2000:]}"
    row = cpython_tests.compare(qemu, pyemu)
    assert not row["regressions"], (f"{len(row['regressions'])} tests of {module} pass under "
                                    f"qemu, not under pyemu: {row['regressions'][:20]}\n"
                                    f"{pyemu.tail[-3000:]}")
    assert pyemu.status == "done" or qemu.status != "done", pyemu.tail[-3000:]
