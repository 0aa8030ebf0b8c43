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


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_host_programs_and_scripts(arch):
    """execve of a host program runs it natively and a #! script runs its interpreter, as under
    qemu-user (whose execve is the host's); files the kernel refuses give its errno."""
    out = assert_same(arch, [guest("exec_host", arch)], pyemu_args=["-host-exec"], timeout=60)
    lines = out.stdout.decode().splitlines()
    assert "host echo: a b" in lines and "script: ./s1.sh x y z [hello from the guest]" in lines
    assert "not a program: errno=Exec format error status=99" in lines


@pytest.mark.parametrize("arch", ARCHES)
def test_host_programs_refused_without_host_exec(arch):
    """Without -host-exec, execve of a host program (or of a script whose interpreter is one)
    fails with ENOEXEC; the kernel's own errors stay what they are."""
    out = run_pyemu(arch, [guest("exec_host", arch)], timeout=60)
    lines = out.stdout.decode().splitlines()
    for what in ("host program (vfork)", "host program (fork)", "script", "nested script"):
        assert f"{what}: errno=Exec format error status=99" in lines, out.text()
    assert "not executable: errno=Permission denied status=99" in lines
    assert "missing: errno=No such file or directory status=99" in lines
    assert not any(line.startswith("host echo") for line in lines)


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_host_program_keeps_signal_mask(arch):
    """The mask survives execve (qemu-user 7.2 hands the host program its own, empty mask)."""
    out = run_pyemu(arch, [guest("exec_host", arch), "mask"], emu_args=["-host-exec"],
                    timeout=60)
    blocked = int(out.stdout.decode().split("SigBlk:")[1].split()[0], 16)
    assert blocked == 1 << (12 - 1), out.text()           # the host's SIGUSR2 only


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_script_with_guest_interpreter(arch):
    """A #! line naming a guest program runs it under pyemu with the kernel's argv (qemu without
    binfmt_misc cannot: the host kernel refuses the foreign interpreter)."""
    out = run_pyemu(arch, [guest("exec_host", arch), "guest"], timeout=60)
    assert out.stdout.decode().splitlines() == [
        "interp argv[1]=interp", "interp argv[2]=./guest.sh", "interp argv[3]=one",
        "interp argv[4]=two", "guest interpreter: errno=none status=3"], out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_ignored_signals_do_not_interrupt(arch):
    out = assert_same(arch, [guest("sig_ignored", arch)], timeout=60)
    assert out.stdout.startswith(b"nanosleep: rc=0 errno=none\nread: n=1 errno=none byte=x\n")


@pytest.mark.parametrize("arch", ARCHES)
def test_processes_synchronize_through_shared_memory(arch):
    out = assert_same(arch, [guest("shared_memory", arch)], timeout=60)
    assert out.stdout.decode().splitlines()[:2] == ["anonymous: slots 1007 2007 3007",
                                                    "sem_open: child status 0"]


CLONE3 = """\
fork-like: status 5
pidfd: valid=1 ready=1 parent_tid=1 child status 6
CLONE_CLEAR_SIGHAND: handler reset=1 ignored kept=1
size 32: Invalid argument
size past a page: Argument list too long
unknown field set: Argument list too long
signal in flags: Invalid argument
bad exit_signal: Invalid argument
stack without size: Invalid argument
thread without CLONE_VM: Invalid argument
CLEAR_SIGHAND with SIGHAND: Invalid argument
pthreads: sum of squares 30
legacy clone thread: created=1 ran=17 tid cleared=1
spawned child
posix_spawn: rc=0 child status 3
"""


@pytest.mark.parametrize("arch", ARCHES)
def test_clone3_and_legacy_clone(arch):
    """On pyemu alone: qemu-user 7.2 has no clone3 (ENOSYS; glibc then falls back to clone, so
    the thread tests compare pyemu's clone3 threads with qemu's clone ones), and it cannot run
    posix_spawn's exec of a foreign program. The expected text is what the program prints on
    the host kernel (built for x86_64), where it was checked when written."""
    out = run_pyemu(arch, [guest("clone3", arch, ("-static", "-O2", "-pthread"))], timeout=60)
    assert (out.status, out.stdout.decode()) == (0, CLONE3), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_execve_keeps_mask_pending_and_ignored_signals(arch):
    """The kernel's rules for exec (qemu-user cannot exec a foreign binary without binfmt_misc,
    so the expected output is written out)."""
    out = run_pyemu(arch, [guest("exec_signals", arch)])
    assert (out.status, out.stderr) == (0, b""), out.text()
    assert out.stdout.decode().splitlines() == [
        "blocked: USR1 1 USR2 1 TERM 0", "pending: USR1 1 TERM 0",
        "HUP ignored, PIPE ignored, INT default, QUIT default", "sigwait: SIGUSR1"]


@pytest.mark.parametrize("arch", ARCHES)
def test_programs_started_with_a_closed_stdio_fd(arch):
    """pyemu flushed a None sys.stdout at exit (status 1 and a traceback)."""
    out = run_pyemu(arch, [guest("closed_stdio", arch)])
    assert (out.status, out.stderr) == (0, b""), out.text()
    assert out.stdout.decode().splitlines() == [
        "closed 0: child wrote '12', status 0", "closed 1: child wrote '02', status 0",
        "closed 2: child wrote '01', status 0"]
