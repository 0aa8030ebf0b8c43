"""Debian's real busybox-static (arm64, armhf, mipsel) under pyemu vs qemu-user."""

from __future__ import annotations

import pytest
from harness import BUSYBOX_ARCHES, assert_same

SHA_CONTENT = b"pyemu busybox sha256sum test\n" + bytes(range(256)) * 40

CASES = {
    "echo": {"args": ["echo", "hi"]},
    "sh-loop": {"args": ["sh", "-c", "i=0; while [ $i -lt 200 ]; do i=$((i+1)); done; echo $i"]},
    "sha256sum": {"args": ["sha256sum", "{file}"]},
    "ls-root": {"args": ["ls", "/"]},
    "wc-stdin": {"args": ["wc", "-l"], "stdin": b"one\ntwo\nthree\nfour\nfive\n"},
    "uname-m": {"args": ["uname", "-m"]},
    "date-epoch": {"args": ["date", "-u", "-d", "@0"]},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("debarch", list(BUSYBOX_ARCHES))
def test_busybox(debarch, case, busybox, tmp_path):
    arch = BUSYBOX_ARCHES[debarch]
    binary = busybox(debarch)
    data_file = tmp_path / "sha-input.bin"
    data_file.write_bytes(SHA_CONTENT)
    spec = CASES[case]
    args = [a.replace("{file}", str(data_file)) for a in spec["args"]]
    out = assert_same(arch, [binary, *args], stdin=spec.get("stdin"))
    assert out.status == 0
