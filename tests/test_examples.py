"""The committed example binaries examples/hello-ARCH (built by examples/build.sh)."""

from __future__ import annotations

import pytest
from harness import ARCHES, REPO_ROOT, assert_same


def _example(arch: str) -> str:
    rel = f"examples/hello-{arch}"
    assert (REPO_ROOT / rel).is_file(), f"{rel} is missing: run examples/build.sh"
    return rel


@pytest.mark.parametrize("arch", ARCHES)
def test_hello(arch):
    out = assert_same(arch, [_example(arch)], cwd=REPO_ROOT)
    assert out.status == 0
    assert out.stdout == f"Hello, world! (from a {arch} guest)\n".encode()


@pytest.mark.parametrize("arch", ARCHES)
def test_hello_autodetect(arch):
    """`pyemu examples/hello-ARCH` picks the architecture from the ELF header."""
    out = assert_same(arch, [_example(arch)], pyemu_arch=None, cwd=REPO_ROOT)
    assert out.status == 0
    assert out.stdout == f"Hello, world! (from a {arch} guest)\n".encode()
