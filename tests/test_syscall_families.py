"""Syscall families (file system, locks, memory, time, identity, notification fds, SysV IPC), one
guest program each from tests/guest/, run under pyemu and qemu-user (the oracle) on every arch.

Where qemu-user 7.2 lacks a call or does it differently from the kernel, the guest program keeps
that part behind an argument and it is checked against pyemu alone, with the expected output
written here; each such case names qemu's quirk.
"""

from __future__ import annotations

import pytest
from harness import ARCHES, assert_same, guest, run_pyemu

FAMILIES = ["fs_family", "locks", "memory", "time_family", "identity", "notify", "sysv_ipc",
            "mqueue", "termios"]


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("arch", ARCHES)
def test_same_as_qemu(arch, name):
    assert_same(arch, [guest(name, arch)])


@pytest.mark.parametrize("arch", ARCHES)
def test_preadv2_pwritev2_flags(arch):
    """qemu 7.2 has no preadv2/pwritev2 (glibc falls back to preadv/pwritev for flags 0, and
    reports EOPNOTSUPP for any flag), so the RWF_* cases are pyemu's alone."""
    out = run_pyemu(arch, [guest("fs_family", arch), "rwf"])
    eopnotsupp = 122 if arch.startswith("mips") else 95
    assert out.status == 0, out.text()
    assert out.stdout.decode() == (
        "-- preadv2/pwritev2 flags\n"
        "pwritev2(fd, iov, 1, 0, RWF_DSYNC): 6\n"
        "pwritev2(fd, iov, 1, 0, RWF_APPEND): 6\n"
        "pwritev2(fd, iov, 1, -1, RWF_SYNC): 6\n"
        "preadv2(fd, iov, 1, 0, RWF_NOWAIT): 12\n"
        "  file: syncedappend\n"
        f"preadv2(fd, iov, 1, 0, 0x10000): -1 Operation not supported (errno {eopnotsupp})\n"
        f"pwritev2(fd, iov, 1, 0, 0x10000): -1 Operation not supported (errno {eopnotsupp})\n"
    ), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_memory_unmapped_ranges_and_mlock2(arch):
    """Two qemu 7.2 quirks: a 32-bit guest's unmapped pages stay mapped in qemu's reserved host
    range (msync/mlock/munlock there succeed), and qemu has no mlock2. The kernel's answers."""
    out = run_pyemu(arch, [guest("memory", arch), "extra"])
    assert out.status == 0, out.text()
    enomem = "-1 Cannot allocate memory (errno 12)"
    assert out.stdout.decode() == (
        "-- unmapped ranges, mlock2 flags\n"
        f"msync(base + 5 * page, 2 * page, MS_SYNC): {enomem}\n"
        f"mlock(base + 5 * page, 2 * page): {enomem}\n"
        f"munlock(base + 5 * page, 2 * page): {enomem}\n"
        f"mlock2(base + 6 * page, page, 0): {enomem}\n"
        "mlock2(base + 5 * page, page, MLOCK_ONFAULT): 0\n"
        "mlock2 ONFAULT 5: 0 0 0 0 0 0\n"
        "touched 5: 0 0 0 0 0 1\n"
        "munlock(base, 6 * page): 0\n"
    ), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_timerfd_where_qemu_differs(arch):
    """qemu 7.2 drops unknown timerfd_create flags (the kernel: EINVAL) and swaps a big-endian
    guest's timerfd count on read() but not on readv()."""
    out = run_pyemu(arch, [guest("time_family", arch), "qemu-differs"])
    assert out.status == 0, out.text()
    assert out.stdout.decode() == (
        "-- timerfd where qemu differs\n"
        "timerfd_create(CLOCK_MONOTONIC, 0x4): -1 Invalid argument (errno 22)\n"
        "timerfd_settime(fd, 0, &its, NULL): 0\n"
        "readv(fd, &iov, 1): 8\n"
        "readv expirations in range: 1\n"
    ), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_identity_where_qemu_differs(arch):
    """qemu 7.2 hands ARM's 16-bit setfsuid its argument unconverted ((uid16_t)-1 becomes 65535)
    and its old value unclamped (70000, where the kernel says overflowuid 65534), and refuses
    PR_SET_CHILD_SUBREAPER."""
    out = run_pyemu(arch, [guest("identity", arch), "qemu-differs"])
    assert out.status == 0, out.text()
    fsuid16 = (
        "setfsuid16(4321): 0\n"
        "setfsuid16(0xffff): 4321\n"
        "setfsuid32(70000): 4321\n"
        "setfsuid16(0): 65534\n"
    ) if arch == "arm" else ""
    assert out.stdout.decode() == (
        "-- where qemu differs\n" + fsuid16 +
        "prctl(PR_SET_CHILD_SUBREAPER, 1): 0\n"
        "prctl(PR_GET_CHILD_SUBREAPER, &flag): 0\n"
        "  subreaper 1\n"
    ), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_inotify_where_qemu_differs(arch):
    """qemu 7.2 drops unknown inotify_init1 flags (the kernel: EINVAL), swaps a big-endian
    guest's inotify events on read() but not on readv(), and has no fanotify."""
    out = run_pyemu(arch, [guest("notify", arch), "qemu-differs"])
    assert out.status == 0, out.text()
    assert out.stdout.decode() == (
        "-- where qemu differs\n"
        "inotify_init1(0x10): -1 Invalid argument (errno 22)\n"
        "readv(fd, &iov, 1): 32\n"
        "  readv event IN_CREATE IN_ISDIR [sub] wd=ok len=16\n"
        "-- fanotify\n"
        "init: 1 cloexec=1\n"
        "fanotify_mark(fd, FAN_MARK_ADD, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, "
        "\"fan\"): 0\n"
        "fanotify_mark(fd, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, \"missing\"): "
        "-1 No such file or directory (errno 2)\n"
        "fanotify_mark(fd, 0x40000000, FAN_CLOSE_WRITE, AT_FDCWD, \"fan\"): "
        "-1 Invalid argument (errno 22)\n"
        "read(fd, buf, sizeof buf): -1 Resource temporarily unavailable (errno 11)\n"
        "read: 1\n"
        "event: len_ok=1 vers_ok=1 metadata_len=24 mask=0x8 fd=-1 pid_is_me=1\n"
        "  info: type=1 len_ok=1 handle_bytes_ok=1\n"
        "fanotify_mark(fd, FAN_MARK_REMOVE, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, "
        "\"fan\"): 0\n"
        "fanotify_init(0x80000000, O_RDONLY): -1 Invalid argument (errno 22)\n"
    ), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_sysv_ipc_where_qemu_differs(arch):
    """qemu 7.2 attaches shmat(NULL, SHM_REMAP) (the kernel: EINVAL), fails a fixed attach in a
    free range on 32-bit guests (its reserved guest range is mapped on the host), writes
    AArch64's msg_lspid/msg_lrpid as 8-byte words, and has none of the old structs a 32-bit
    ABI's *ctl commands mean without IPC_64."""
    out = run_pyemu(arch, [guest("sysv_ipc", arch), "qemu-differs"])
    assert out.status == 0, out.text()
    old = (
        "syscall(SYS_shmctl, shm, IPC_STAT, &os): 0\n"
        "  old shmid_ds: segsz=8192 mode=600 uid=0 nattch=1 cpid is me=1 key=0\n"
        "syscall(SYS_shmctl, shm, IPC_SET, &os): 0\n"
        "syscall(SYS_shmctl, shm, IPC_STAT, &os): 0\n"
        "  mode now 640\n"
        "syscall(SYS_shmctl, shm, IPC_INFO, &info) >= 0: 1\n"
        "  old shminfo: shmmin=1 shmmni>0=1\n"
        "syscall(SYS_semctl, sem, 0, IPC_STAT, &ss): 0\n"
        "  old semid_ds: nsems=2 mode=600 ctime=1\n"
        "syscall(SYS_msgctl, msq, IPC_STAT, &ms): 0\n"
        "  old msqid_ds: qnum=1 cbytes=6 qbytes>0=1 lspid is me=1 mode=600\n"
    ) if arch != "aarch64" else ""
    assert out.stdout.decode() == (
        "-- where qemu differs\n"
        "shmat(shm, NULL, SHM_REMAP) == (void *)-1: 1\n"
        "fixed attach in a free range: 1\n"
        "shmat(shm, target, 0) == (void *)-1: 1\n"
        "lrpid is the child: 1\n" + old
    ), out.text()


# How many checks tests/guest/refusals.c makes per arch (the old calls only some ABIs have).
REFUSAL_CHECKS = {"arm": 51, "aarch64": 46, "mips": 53, "mipsel": 53}


@pytest.mark.parametrize("arch", ARCHES)
def test_refusals_and_checks_qemu_lacks(arch):
    """Calls pyemu refuses with EPERM after the kernel's own checks (never run under qemu: as
    root it would really reboot, mount or set the clock), and ARM_cacheflush/cacheflush, MIPS
    readdir, adjtimex adjustments and openat2, where qemu 7.2 answers 0 or ENOSYS."""
    out = run_pyemu(arch, [guest("refusals", arch)])
    assert out.status == 0, out.text()
    lines = out.stdout.decode().splitlines()
    assert lines[-1] == f"checked {REFUSAL_CHECKS[arch]}", out.text()
    assert [line for line in lines[:-1] if not line.endswith(" ok")] == [], out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_mqueue_where_qemu_differs(arch):
    """qemu 7.2 has no mq_notify and hands a MIPS guest's O_NONBLOCK in mq_flags to the host
    untranslated (EINVAL there: the host's O_EXCL)."""
    out = run_pyemu(arch, [guest("mqueue", arch), "qemu-differs"])
    assert out.status == 0, out.text()
    assert out.stdout.decode() == (
        "-- where qemu differs\n"
        "mq_setattr(q, &set, &old): 0\n"
        "  old nonblock=0\n"
        "mq_getattr(q, &old): 0\n"
        "  nonblock=1\n"
        "mq_receive(q, buf, sizeof buf, NULL): -1 Resource temporarily unavailable (errno 11)\n"
        "mq_setattr(q, &set, NULL): -1 Invalid argument (errno 22)\n"
        "mq_notify(q, &ev): 0\n"
        "mq_notify(q, &ev): -1 Device or resource busy (errno 16)\n"
        "mq_notify(q, NULL): 0\n"
        "mq_notify(q, NULL): 0\n"
        "mq_notify(q, &ev): -1 Invalid argument (errno 22)\n"
        "mq_notify(q, &ev): -1 Invalid argument (errno 22)\n"
        "mq_notify(-1, NULL): -1 Bad file descriptor (errno 9)\n"
    ), out.text()


@pytest.mark.parametrize("arch", ARCHES)
def test_forkpty_child_on_its_own_terminal(arch):
    """CPython's pty.fork: TIOCGPTPEER kept its access mode, TIOCSCTTY made the pty the
    child's terminal (glibc's login_tty ended the child with status 1 when it failed)."""
    out = assert_same(arch, [guest("forkpty", arch)])
    assert b"child: leader 1, setsid again -1, tty foreground is mine 1" in out.stdout, out.text()
