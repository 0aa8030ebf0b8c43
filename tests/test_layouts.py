"""Every struct layout pyemu declares matches the kernel's C definition, per ABI.

For each ABI one C file is generated that includes the kernel's uapi headers (as installed for
that cross compiler) and holds one ``_Static_assert`` per fact taken from pyemu's layouts: the
struct's size, each named field's offset, and each field's width (``sizeof`` the member equals
element size x count, so array lengths are checked too). The file is compiled with
``-fsyntax-only``; each failed assertion is mapped back to the fact it states, and the value the
compiler sees is measured and shown next to pyemu's.

The cross compilers are a requirement: if one is missing the test fails (it is never skipped).
A struct pyemu declares but ``C_TYPES`` below does not map also fails the test, so that no new
declaration goes unchecked.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from usermode.syscalls.abi import ABI_FOR_ARCH, Abi

# (pyemu arch, cross compiler, byte order)
CASES = (
    ("arm", "arm-linux-gnueabihf-gcc", "little"),
    ("aarch64", "aarch64-linux-gnu-gcc", "little"),
    ("mips", "mips-linux-gnu-gcc", "big"),
    ("mipsel", "mipsel-linux-gnu-gcc", "little"),
)

HEADERS = ("linux/types.h", "linux/time_types.h", "linux/time.h", "linux/utsname.h",
           "linux/uio.h", "linux/resource.h", "linux/sysinfo.h", "linux/stat.h", "linux/futex.h",
           "linux/times.h", "asm/stat.h", "asm/statfs.h", "asm/termios.h", "asm/signal.h",
           "linux/utime.h", "asm/fcntl.h", "linux/timex.h", "linux/sched/types.h",
           "linux/capability.h", "linux/inotify.h", "linux/ipc.h", "linux/shm.h",
           "linux/sem.h", "linux/msg.h", "linux/mqueue.h", "asm/siginfo.h",
           "linux/openat2.h", "linux/fanotify.h", "linux/in.h", "linux/in6.h", "linux/un.h",
           "linux/netlink.h", "linux/eventpoll.h", "linux/signalfd.h", "linux/sched.h")

# Structs the kernel does not export in uapi (include/linux/socket.h: user_msghdr, mmsghdr,
# linger, ucred; uapi linux/if.h needs libc's struct sockaddr): checked as libc spells them, in
# a second file compiled on its own (libc's and uapi's netinet/linux headers clash).
LIBC_HEAD = "#define _GNU_SOURCE 1\n#include <sys/socket.h>\n#include <net/if.h>\n"

# getdents64(2)'s, getdents(2)'s and readdir(2)'s records are not in uapi (the kernel's are in
# include/linux/dirent.h and fs/readdir.c): declared here from the man pages, and only their head
# fields' offsets are checked.
PRELUDE = """
struct linux_dirent64 {
\t__u64 d_ino;
\t__s64 d_off;
\tunsigned short d_reclen;
\tunsigned char d_type;
\tchar d_name[];
};
struct linux_dirent {
\tunsigned long d_ino;
\tunsigned long d_off;
\tunsigned short d_reclen;
\tchar d_name[];
};
struct old_linux_dirent {
\tunsigned long d_ino;
\tunsigned long d_offset;
\tunsigned short d_namlen;
\tchar d_name[1];
};
"""

# ARM's uapi <asm/signal.h> has only the libc-compat struct sigaction (one-word sigset_t before
# sa_flags: the layout of the old sigaction syscall). rt_sigaction takes the kernel's generic
# struct sigaction (include/linux/signal_types.h, with sa_restorer, _NSIG 64), which uapi spells
# in <asm-generic/signal.h>: include that under other names next to ARM's own header.
ARM_PRELUDE = """
#undef sa_handler
#undef sa_sigaction
#define sigset_t generic_sigset_t
#define old_sigset_t generic_old_sigset_t
#define sigaction generic_sigaction
#define sigaltstack generic_sigaltstack
#define stack_t generic_stack_t
#include <asm-generic/signal.h>
#undef sigset_t
#undef old_sigset_t
#undef sigaction
#undef sigaltstack
#undef stack_t
"""


@dataclass(frozen=True)
class CType:
    """How one pyemu struct is spelled in C."""

    name: str                                            # the C type
    members: dict[str, str] = field(default_factory=dict)  # pyemu field -> C member designator
    check_size: bool = True
    libc: bool = False                                   # checked with LIBC_HEAD, not uapi


_STATX_TIMES = {f"stx_{when}_{ours}": f"stx_{when}.{theirs}"
                for when in ("atime", "btime", "ctime", "mtime")
                for ours, theirs in (("sec", "tv_sec"), ("nsec", "tv_nsec"), ("res", "__reserved"))}

_ITIMER = {f"it_{part}_{unit}": f"it_{part}.tv_{unit}" for part in ("interval", "value")
           for unit in ("sec", "nsec", "usec")}

_PERM_FIELDS = ("key", "uid", "gid", "cuid", "cgid", "mode", "seq", "__pad2", "__unused1",
                "__unused2")


def _perm_of(kind: str) -> dict[str, str]:
    """pyemu flattens the struct ipc(64)_perm inside shmid_ds & co. as perm_* fields."""
    return {f"perm_{f}": f"{kind}_perm.{f}" for f in _PERM_FIELDS}


_IPC = {
    "ipc64_perm": CType("struct ipc64_perm"),
    "shmid64_ds": CType("struct shmid64_ds", _perm_of("shm")),
    "semid64_ds": CType("struct semid64_ds", _perm_of("sem")),
    "msqid64_ds": CType("struct msqid64_ds", _perm_of("msg")),
    "sembuf": CType("struct sembuf"),
    "shminfo64": CType("struct shminfo64"),
    "shm_info": CType("struct shm_info"),
    "seminfo": CType("struct seminfo"),
    "msginfo": CType("struct msginfo"),
    "ipc_kludge": CType("struct ipc_kludge"),
    "mq_attr": CType("struct mq_attr"),
    "sigevent": CType("struct sigevent", {"sigev_tid": "_sigev_un._tid"}),
}
_OLD_IPC = {
    "ipc_perm": CType("struct ipc_perm"),
    "shmid_ds": CType("struct shmid_ds", _perm_of("shm")),
    "semid_ds": CType("struct semid_ds", _perm_of("sem")),
    "msqid_ds": CType("struct msqid_ds", _perm_of("msg")),
    "shminfo": CType("struct shminfo"),
}

_COMMON = {
    # linux/time_types.h: (__kernel_old_time_t, long), what the non-time64 calls take.
    "timespec": CType("struct __kernel_old_timespec"),
    "timespec64": CType("struct __kernel_timespec"),
    "timeval": CType("struct __kernel_old_timeval"),
    "timezone": CType("struct timezone"),
    "utsname": CType("struct new_utsname"),
    "iovec": CType("struct iovec"),
    "rlimit": CType("struct rlimit"),
    "rlimit64": CType("struct rlimit64"),
    "winsize": CType("struct winsize"),
    "sysinfo": CType("struct sysinfo"),
    "statx": CType("struct statx", _STATX_TIMES),
    "linux_dirent64": CType("struct linux_dirent64", check_size=False),  # see PRELUDE
    "linux_dirent": CType("struct linux_dirent", check_size=False),      # see PRELUDE
    "old_linux_dirent": CType("struct old_linux_dirent", check_size=False),
    "utimbuf": CType("struct utimbuf"),
    "flock": CType("struct flock"),
    "flock64": CType("struct flock64"),
    "f_owner_ex": CType("struct f_owner_ex"),
    "open_how": CType("struct open_how"),
    "sched_param": CType("struct sched_param"),
    "inotify_event": CType("struct inotify_event"),
    "fanotify_event_metadata": CType("struct fanotify_event_metadata"),
    "signalfd_siginfo": CType("struct signalfd_siginfo"),
    "clone_args": CType("struct clone_args"),
    "cap_user_header": CType("struct __user_cap_header_struct"),
    "cap_user_data": CType("struct __user_cap_data_struct"),
    "timex": CType("struct timex", {"time_sec": "time.tv_sec", "time_usec": "time.tv_usec"}),
    "timex64": CType("struct __kernel_timex", {"time_sec": "time.tv_sec",
                                               "time_usec": "time.tv_usec"}),
    "itimerspec": CType("struct itimerspec", _ITIMER),
    "itimerspec64": CType("struct __kernel_itimerspec", _ITIMER),
    "itimerval": CType("struct itimerval", _ITIMER),
    "tms": CType("struct tms"),
    "statfs": CType("struct statfs", {"f_fsid": "f_fsid.val"}),
    "statfs64": CType("struct statfs64", {"f_fsid": "f_fsid.val"}),
    **_IPC,
    "rusage": CType("struct rusage", {f"ru_{t}_{u}": f"ru_{t}.tv_{u}"
                                      for t in ("utime", "stime") for u in ("sec", "usec")}),
    "robust_list_head": CType("struct robust_list_head"),
    "stat": CType("struct stat"),
    "termios": CType("struct termios"),
    "stack_t": CType("stack_t"),
    "sockaddr_in": CType("struct sockaddr_in", {"sin_addr": "sin_addr.s_addr"}),
    "sockaddr_in6": CType("struct sockaddr_in6"),
    "sockaddr_un": CType("struct sockaddr_un"),
    "sockaddr_nl": CType("struct sockaddr_nl"),
    "ip_mreq": CType("struct ip_mreq"),
    "ip_mreqn": CType("struct ip_mreqn"),
    "ipv6_mreq": CType("struct ipv6_mreq"),
    "epoll_event": CType("struct epoll_event"),
    "msghdr": CType("struct msghdr", libc=True),
    "mmsghdr": CType("struct mmsghdr", libc=True),
    "cmsghdr": CType("struct cmsghdr", libc=True),
    "linger": CType("struct linger", libc=True),
    "ucred": CType("struct ucred", libc=True),
    "ifreq": CType("struct ifreq", libc=True),
}

C_TYPES: dict[str, dict[str, CType]] = {
    "arm_eabi": {**_COMMON, **_OLD_IPC, "stat64": CType("struct stat64"),
                 "sigaction": CType("struct generic_sigaction")},   # see ARM_PRELUDE
    "aarch64": {**_COMMON, "sigaction": CType("struct sigaction")},  # asm-generic/signal.h
    "mips_o32": {**_COMMON, **_OLD_IPC, "stat64": CType("struct stat64"),
                 "sigaction": CType("struct sigaction"),            # sa_flags first
                 "flock": CType("struct o32_flock")},               # see MIPS_PRELUDE
}

# MIPS o32's struct flock: l_sysid comes before l_pid in the ABI (arch/mips/include/uapi/asm/
# fcntl.h up to Linux 5.18, glibc's <bits/fcntl.h>, qemu's target_flock). The asm-generic
# rewrite in 5.19 (__ARCH_FLOCK_EXTRA_SYSID) installs it after l_pid, so the 6.1 uapi header
# disagrees with every program built for o32; pyemu keeps the ABI, checked here against the
# pre-5.19 definition.
MIPS_PRELUDE = """
struct o32_flock {
\tshort l_type;
\tshort l_whence;
\t__kernel_off_t l_start;
\t__kernel_off_t l_len;
\tlong l_sysid;
\t__kernel_pid_t l_pid;
\tlong pad[4];
};
"""

EXTRA_PRELUDE = {"arm_eabi": ARM_PRELUDE, "mips_o32": MIPS_PRELUDE}


@dataclass(frozen=True)
class Check:
    kind: str       # "size", "offset" or "width"
    label: str      # struct or struct.field, as pyemu names it
    expr: str       # C constant expression
    expected: int
    libc: bool = False


@dataclass
class Outcome:
    checks: list[Check]
    failures: dict[str, list[str]]   # kind -> messages
    setup_errors: list[str]          # compiler errors outside the assertions


def make_abi(arch: str, byteorder: str) -> Abi:
    return Abi(ABI_FOR_ARCH[arch], byteorder)


def checks_for(abi: Abi) -> list[Check]:
    """The facts pyemu's layouts state for this ABI, as C expressions."""
    out: list[Check] = []
    for name in sorted(set(abi.structs.names()) & set(C_TYPES[abi.name])):
        ctype, layout = C_TYPES[abi.name][name], abi.structs[name]
        if ctype.check_size:
            out.append(Check("size", name, f"sizeof({ctype.name})", layout.size, ctype.libc))
        for f in layout.fields:
            member = ctype.members.get(f.name, f.name)
            label = f"{name}.{f.name}"
            out.append(Check("offset", label, f"__builtin_offsetof({ctype.name}, {member})",
                             f.offset, ctype.libc))
            out.append(Check("width", label, f"sizeof((({ctype.name} *)0)->{member})",
                             f.size * f.count, ctype.libc))
    return out


def prelude(abi_name: str) -> str:
    includes = "".join(f"#include <{h}>\n" for h in HEADERS)
    return includes + PRELUDE + EXTRA_PRELUDE.get(abi_name, "")


@dataclass
class Compiled:
    first: int                       # line number of the first entry
    diags: dict[int, list[str]]      # line -> "error: ..." / "warning: ..."
    returncode: int
    stderr: str


def compile_lines(cc: str, head: str, lines: list[str]) -> Compiled:
    """Compile head + one line per entry and collect the diagnostics by line."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "layouts.c"
        src.write_text(head + "\n".join(lines) + "\n")
        proc = subprocess.run([cc, "-fsyntax-only", str(src)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "LC_ALL": "C"})
    diags: dict[int, list[str]] = {}
    for m in re.finditer(r"^.*?layouts\.c:(\d+):\d+: ((?:fatal error|error|warning): .*)$",
                         proc.stderr, re.M):
        diags.setdefault(int(m.group(1)), []).append(m.group(2))
    return Compiled(head.count("\n") + 1, diags, proc.returncode, proc.stderr)


def measure(cc: str, head: str, exprs: list[str]) -> list[str]:
    """What the compiler computes for each expression ("?" if it cannot)."""
    lines = [f"char (*probe_{i})[{e}] = 1;" for i, e in enumerate(exprs)]
    out = compile_lines(cc, head, lines)
    values = []
    for i in range(len(exprs)):
        found = re.search(r"char \(\*\)\[(\d+)\]", " ".join(out.diags.get(out.first + i, [])))
        values.append(found.group(1) if found else "?")
    return values


@functools.cache
def run_checks(arch: str, cc: str, byteorder: str) -> Outcome:
    abi = make_abi(arch, byteorder)
    every = checks_for(abi)
    parts = [run_unit(cc, prelude(abi.name), [c for c in every if not c.libc]),
             run_unit(cc, LIBC_HEAD, [c for c in every if c.libc])]
    failures: dict[str, list[str]] = {}
    for part in parts:
        for kind, msgs in part.failures.items():
            failures.setdefault(kind, []).extend(msgs)
    return Outcome(every, failures, [e for part in parts for e in part.setup_errors])


def run_unit(cc: str, head: str, checks: list[Check]) -> Outcome:
    lines = [f'_Static_assert(({c.expr}) == {c.expected}, "{c.label} {c.kind}");' for c in checks]
    out = compile_lines(cc, head, lines)
    failed = [i for i in range(len(checks))
              if any("error" in msg for msg in out.diags.get(out.first + i, ()))]
    actual = measure(cc, head, [checks[i].expr for i in failed]) if failed else []
    failures: dict[str, list[str]] = {}
    for i, value in zip(failed, actual):
        c, why = checks[i], "; ".join(out.diags[out.first + i])
        failures.setdefault(c.kind, []).append(
            f"{c.label} {c.kind}: pyemu {c.expected}, C {value} ({why})")
    setup = [f"line {n}: {msg}" for n, msgs in sorted(out.diags.items()) if n < out.first
             for msg in msgs if "error" in msg]
    if out.returncode != 0 and not failed and not setup:
        setup = [out.stderr.strip() or f"{cc} exited with status {out.returncode}"]
    return Outcome(checks, failures, setup)


def require(cc: str) -> None:
    if shutil.which(cc) is None:
        pytest.fail(f"cross compiler {cc} not on PATH: it is required to verify pyemu's struct "
                    "layouts (install gcc-arm-linux-gnueabihf, gcc-aarch64-linux-gnu, "
                    "gcc-mips-linux-gnu, gcc-mipsel-linux-gnu)")


def assert_clean(outcome: Outcome, kinds: tuple[str, ...], cc: str) -> None:
    assert not outcome.setup_errors, (
        f"{cc}: the generated C file does not compile:\n" + "\n".join(outcome.setup_errors))
    wrong = [msg for kind in kinds for msg in outcome.failures.get(kind, [])]
    assert not wrong, (f"{cc}: {len(wrong)} of pyemu's layout facts disagree with the kernel "
                       "headers (fix usermode/syscalls/layouts.py):\n" + "\n".join(wrong))


IDS = [cc for _, cc, _ in CASES]


@pytest.mark.parametrize("arch,cc,byteorder", CASES, ids=IDS)
def test_every_declared_struct_is_mapped(arch: str, cc: str, byteorder: str) -> None:
    abi = make_abi(arch, byteorder)
    declared, mapped = set(abi.structs.names()), set(C_TYPES[abi.name])
    assert not declared - mapped, (
        f"{abi.name}: structs declared in layouts.py with no C type in tests/test_layouts.py "
        f"C_TYPES (add them so they are checked): {sorted(declared - mapped)}")
    assert not mapped - declared, (
        f"{abi.name}: C_TYPES maps structs pyemu does not declare: {sorted(mapped - declared)}")


@pytest.mark.parametrize("arch,cc,byteorder", CASES, ids=IDS)
def test_sizes_and_offsets(arch: str, cc: str, byteorder: str) -> None:
    require(cc)
    assert_clean(run_checks(arch, cc, byteorder), ("size", "offset"), cc)


@pytest.mark.parametrize("arch,cc,byteorder", CASES, ids=IDS)
def test_field_widths_and_array_lengths(arch: str, cc: str, byteorder: str) -> None:
    require(cc)
    assert_clean(run_checks(arch, cc, byteorder), ("width",), cc)


# -- the host's structs (layouts.host_decls), as handlers pass them to the host's libc --------
HOST_STRUCTS = ("flock", "timex", "statfs", "ipc64_perm", "shmid64_ds", "semid64_ds",
                "msqid64_ds", "sembuf", "shminfo64", "shm_info", "seminfo", "msginfo",
                "epoll_event")


def test_host_layouts() -> None:
    """The layouts pyemu assumes for the host it runs on, checked with the host's compiler."""
    import sys as host_sys
    from types import SimpleNamespace

    from usermode.syscalls import layouts
    from usermode.syscalls.structs import LayoutSet

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no host C compiler (cc/gcc) to check the host's struct layouts")
    decls = {n: d for n, d in layouts.host_decls(os.uname().machine).items() if n in HOST_STRUCTS}
    host = SimpleNamespace(name="host", structs=LayoutSet(decls, 8, host_sys.byteorder))
    C_TYPES["host"] = {n: t for n, t in {**_COMMON, **_IPC}.items() if n in HOST_STRUCTS}
    try:
        checks = checks_for(host)
    finally:
        del C_TYPES["host"]
    assert {c.label.split(".")[0] for c in checks} == set(HOST_STRUCTS)
    head = prelude("host")
    lines = [f'_Static_assert(({c.expr}) == {c.expected}, "{c.label} {c.kind}");' for c in checks]
    out = compile_lines(cc, head, lines)
    wrong = [f"{checks[i].label} {checks[i].kind}: pyemu {checks[i].expected}"
             for i in range(len(checks)) if out.first + i in out.diags]
    assert out.returncode == 0 and not wrong, (
        f"host struct layouts differ (fix layouts.host_decls):\n" + "\n".join(wrong)
        + out.stderr[-2000:])
