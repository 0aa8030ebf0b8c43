"""Guest threads (clone CLONE_THREAD, futex, per-thread TLS and signals) against qemu-user."""
from __future__ import annotations

import subprocess
import sys

import pytest
from harness import ARCHES, REPO_ROOT, assert_same, guest, run_pyemu

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


WAKE_STRESS = """
import signal, sys, time
from usermode.kernel.threads import WakeEvent
event = WakeEvent()
signal.signal(signal.SIGALRM, lambda *_: event.set())
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
end, loops = time.monotonic() + 2.5, 0
while time.monotonic() < end:
    event.clear()
    event.wait(0.0002)
    loops += 1
signal.setitimer(signal.ITIMER_REAL, 0)
print("done", loops > 1000)
"""


def test_wake_event_set_by_a_signal_handler_in_the_waiting_thread():
    """A host signal handler sets a thread's wake event in the main thread, maybe while that
    thread is inside clear()/wait(): threading.Event deadlocks there (within a second or two of
    this loop), WakeEvent must not."""
    proc = subprocess.run([sys.executable, "-c", WAKE_STRESS], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "done True\n"), proc.stderr[-2000:]


@pytest.mark.parametrize("arch", ARCHES)
def test_signals_to_a_thread_restore_its_own_registers(arch):
    out = assert_same(arch, [guest("thread_signals", arch, THREAD_FLAGS)])
    assert out.stdout.count(b"handled 2000") == 2, out.text()
