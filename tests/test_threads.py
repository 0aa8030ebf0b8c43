"""Guest threads (clone CLONE_THREAD, futex, per-thread TLS and signals) against qemu-user."""
from __future__ import annotations

import pytest
from harness import ARCHES, assert_same, guest, run_pyemu

THREAD_FLAGS = ("-static", "-O2", "-pthread")


@pytest.mark.parametrize("arch", ARCHES)
def test_mutex_condvar_blocked_read_cancel(arch):
    out = assert_same(arch, [guest("threads", arch, THREAD_FLAGS)], timeout=120)
    assert out.stdout.decode().splitlines() == [
        "counter=800000 tls=36 main_tls=0", "consumed sum=50005000",
        "reader got 5 bytes after x=9999950000.0", "cancelled=1"]


@pytest.mark.parametrize("arch", ARCHES)
def test_counter_fifty_runs(arch):
    binary = guest("thread_counter", arch, THREAD_FLAGS)
    for run in range(50):
        out = run_pyemu(arch, [binary], timeout=60)
        assert (out.status, out.stdout) == (0, b"counter=800000 tls_sum=36 main_tls=0\n"), \
            f"run {run}: {out.text()}"
