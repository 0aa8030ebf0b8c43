"""Shared fixtures for the pyemu test suite (helpers live in tests/harness.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Chooses the engine library (the bundled patched one, PYEMU_ENGINE, LIBUNICORN_PATH) before any
# test module imports unicorn itself: the binding loads one library per process.
import usermode.translate  # noqa: E402,F401

import harness  # noqa: E402


def pytest_report_header(config):
    lines = [f"pyemu test cache: {harness.cache_dir()}"]
    try:
        qemu = subprocess.run(
            ["qemu-arm", "--version"], check=False, capture_output=True, text=True
        )
        lines.append("qemu: " + (qemu.stdout.splitlines() or ["?"])[0])
    except OSError:
        lines.append("qemu: qemu-arm not found")
    return lines


@pytest.fixture(scope="session")
def busybox():
    """``busybox(debarch) -> Path`` of Debian's busybox-static ``bin/busybox``.

    debarch is one of harness.BUSYBOX_ARCHES (arm64, armhf, mipsel).  Each is
    downloaded with ``apt-get download`` and unpacked once, into the test cache.
    """
    return harness.fetch_busybox
