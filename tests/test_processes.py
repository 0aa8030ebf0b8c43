"""Processes and job control through Debian's busybox sh and small C programs, against qemu."""
from __future__ import annotations

import pytest
from harness import ARCHES, BUSYBOX_ARCHES, assert_same, fetch_busybox, guest, run_pyemu

SCRIPTS = {
    "pipeline": "seq 1 2000 | sort -rn | head -3",
    "background-wait": "sleep 0.2 & wait; echo done",
    "trap": 'trap "echo got" USR1; kill -USR1 $$; echo after',
    "statuses": "(exit 0); echo a=$?; (exit 7); echo b=$?; true | false; echo c=$?; "
                "sh -c 'kill -9 $$'; echo d=$?",
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
@pytest.mark.parametrize("debarch", sorted(BUSYBOX_ARCHES))
def test_busybox_sh(debarch, name):
    busybox = fetch_busybox(debarch)
    assert_same(BUSYBOX_ARCHES[debarch], [busybox, "sh", "-c", SCRIPTS[name]], timeout=60)


@pytest.mark.parametrize("arch", ARCHES)
def test_fork_pipe_wait_exec(arch):
    """qemu-user cannot execve a foreign binary without binfmt_misc (its child reports 99);
    pyemu re-executes itself, so this is checked against the expected output instead."""
    out = run_pyemu(arch, [guest("procs", arch)], timeout=60)
    assert out.stdout.decode().splitlines() == [
        "read 'from child'", "child exited 7", "child killed by 9", "exec'd: again",
        "exec child status 0"], out.text()
    assert out.status == 0


@pytest.mark.parametrize("arch", ARCHES)
def test_waitid_sigqueue_robust_list(arch):
    out = assert_same(arch, [guest("waitid_sigqueue", arch)], timeout=60)
    assert b"sigqueue: value=1234 code=SI_QUEUE\n" in out.stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_get_robust_list_reports_glibc_head(arch):
    out = run_pyemu(arch, [guest("waitid_sigqueue", arch), "robust"], timeout=60)
    size = 24 if arch == "aarch64" else 12          # sizeof(struct robust_list_head)
    assert f"robust: rc=0 head_set=1 len={size}\n".encode() in out.stdout, out.text()
