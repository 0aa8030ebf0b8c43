"""Signal delivery to guest handlers, against qemu-user, on every arch."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from harness import ARCHES, assert_same, guest, pyemu_command


@pytest.mark.parametrize("arch", ARCHES)
def test_handlers_siginfo_masks_altstack_faults_registers(arch):
    out = assert_same(arch, [guest("signals", arch)], timeout=60)
    text = out.stdout.decode()
    assert "pause: r=-1 errno=EINTR sig=SIGALRM" in text
    assert "segv: si_addr=0x1230" in text
    assert out.status == 128 + signal.SIGTERM


@pytest.mark.parametrize("arch", ARCHES)
def test_host_sigint_reaches_guest_handler(arch, tmp_path):
    """SIGINT sent to the emulator runs the guest's handler (the guest then exits 3)."""
    proc = subprocess.Popen([*pyemu_command(arch), guest("sigwait", arch)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout.readline() == b"ready\n"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (out, proc.returncode) == (b"handler: SIGINT\n", 3), err


@pytest.mark.parametrize("arch", ARCHES)
def test_host_sigterm_without_handler_is_143(arch, tmp_path):
    proc = subprocess.Popen([*pyemu_command(arch), guest("sigwait", arch), "nohandler"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout.readline() == b"ready\n"
    os.kill(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM   # as a shell sees it: 143
