"""Processes: fork/vfork/clone as host forks, execve by re-executing pyemu, wait4.

A new guest process is a host fork of the emulator: the child continues the same guest (engine
state and host-backed memory are copied by the fork). ``execve`` replaces this emulator with a new
pyemu running the new program, keeping fds, cwd, the sysroot and the trace options.
"""
from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import sys
from typing import Any

from ...errors import InterruptedSyscall
from ...kernel.fdspace import PRIVATE
from ...translate.arches import spec_for_elf
from ...translate.memory import PAGE_SIZE
from .. import hostlib, state
from ..registry import syscall
from ..sigframe import SigInfo, pack_siginfo
from .common import fail, guest_path, inheritable, write_struct, write_word


def _fork(k: Any, flags: int, ptid: int, ctid: int, stack: int = 0, tls: int = 0) -> int:
    c = k.abi.const
    ready_r = ready_w = -1
    vfork = flags & c["CLONE_VFORK"]
    if vfork:  # the parent waits until the child has exec'd or exited: EOF on this pipe
        ready_r, ready_w = PRIVATE.pipe()
    k.log_flush()
    hostsig = k.host_signals
    with hostsig.forking() if hostsig is not None else contextlib.nullcontext():
        pid = os.fork()
        if pid == 0 and hostsig is not None:
            hostsig.after_fork()
    if pid == 0:
        ids = k.process.ids
        ids.pid, ids.ppid = os.getpid(), os.getppid()
        k.paths.pid = ids.pid
        k.signals.pending.clear()      # pending signals are not inherited, nor timers
        state.of(k).posix_timers = None
        if ready_r >= 0:
            PRIVATE.close(ready_r)
        thread = k.thread
        thread.tid = ids.pid                   # the child's only thread
        k.threads.after_fork(thread)
        if k.debugger is not None:             # gdb debugs the parent; the child runs free
            k.debugger.forked()
        if stack:                              # its own stack, in its own copy of the memory
            k.cpu.write(k.cpu.spec.sp, stack)
        if flags & c["CLONE_SETTLS"]:
            k.cpu.set_tls(tls)
        if flags & c["CLONE_CHILD_SETTID"] and ctid:
            write_word(k, ctid, thread.tid, 4)
        if flags & c["CLONE_CHILD_CLEARTID"]:
            thread.tid_address = ctid
        return 0
    if flags & c["CLONE_PARENT_SETTID"] and ptid:
        write_word(k, ptid, pid, 4)
    if vfork:
        PRIVATE.close(ready_w)
        os.read(ready_r, 1)
        PRIVATE.close(ready_r)
    return pid


def _clone(k: Any, flags: int, stack: int, ptid: int, tls: int, ctid: int,
           pidfd: int = 0) -> int:
    """clone and clone3: a thread (CLONE_THREAD) or a process (a host fork). ``pidfd``: where
    CLONE_PIDFD's descriptor goes (clone: ``ptid``)."""
    c = k.abi.const
    if flags & c["CLONE_THREAD"]:
        if not flags & c["CLONE_VM"] or not flags & c["CLONE_SIGHAND"]:
            raise fail(errno.EINVAL)
        if flags & c["CLONE_PIDFD"]:
            raise fail(errno.EINVAL)    # pidfds of threads: not before Linux 6.9
        return k.spawn_thread(flags, stack, ptid, tls, ctid)
    if flags & c["CLONE_VM"] and not flags & c["CLONE_VFORK"]:
        raise fail(errno.EINVAL)  # shared memory without being a thread: not supported
    if flags & c["CLONE_CLEAR_SIGHAND"] and flags & c["CLONE_SIGHAND"]:
        raise fail(errno.EINVAL)
    # A vfork child runs on a copy of the memory (as under qemu), so a new stack (AArch64's
    # vfork passes the current sp; posix_spawn a stack of its own) is just the child's sp.
    pid = _fork(k, flags, ptid, ctid, stack, tls)
    if pid == 0 and flags & c["CLONE_CLEAR_SIGHAND"]:
        actions = k.signals.actions           # handlers back to SIG_DFL, SIG_IGN stays
        for signo in [s for s, a in actions.items() if a.get("sa_handler", 0) != 1]:
            del actions[signo]
    if pid and flags & c["CLONE_PIDFD"]:
        write_word(k, pidfd, inheritable(os.pidfd_open(pid), cloexec=True), 4)
    return pid


@syscall("clone", "ulong", "ptr", "ptr", "ptr", "ptr")
def clone(k: Any, flags: int, stack: int, ptid: int, tls: int, ctid: int) -> int:
    """long clone(unsigned long flags, void *stack, int *parent_tid, unsigned long tls,
    int *child_tid);  (argument order of ARM, MIPS and AArch64: CLONE_BACKWARDS)"""
    c = k.abi.const
    flags &= 0xFFFFFFFF                    # clone's flags are an int (clone3 has the rest)
    if flags & c["CLONE_PIDFD"] and flags & c["CLONE_PARENT_SETTID"]:
        raise fail(errno.EINVAL)           # both would use parent_tid
    return _clone(k, flags, stack, ptid, tls, ctid, pidfd=ptid)


@syscall("clone3", "ptr", "size")
def clone3(k: Any, uargs: int, size: int) -> int:
    """long clone3(struct clone_args *cl_args, size_t size);"""
    c = k.abi.const
    layout = k.abi.structs["clone_args"]
    if size < c["CLONE_ARGS_SIZE_VER0"]:
        raise fail(errno.EINVAL)
    if size > PAGE_SIZE:
        raise fail(errno.E2BIG)
    raw = k.space.read(uargs, size)
    if any(raw[layout.size:]):
        raise fail(errno.E2BIG)               # a newer struct using fields this kernel lacks
    a = layout.unpack(raw[:layout.size].ljust(layout.size, b"\0"))
    flags, stack, stack_size = a["flags"], a["stack"], a["stack_size"]
    legacy = 0xFFFFFFFF & ~c["CSIGNAL"] & ~c["CLONE_DETACHED"]
    if flags & ~(legacy | c["CLONE_CLEAR_SIGHAND"] | c["CLONE_INTO_CGROUP"]):
        raise fail(errno.EINVAL)
    if a["exit_signal"] & ~c["CSIGNAL"] or a["exit_signal"] > k.abi.nsig:
        raise fail(errno.EINVAL)
    if flags & (c["CLONE_THREAD"] | c["CLONE_PARENT"]) and a["exit_signal"]:
        raise fail(errno.EINVAL)
    if bool(stack) != bool(stack_size) or (a["set_tid"] == 0) != (a["set_tid_size"] == 0):
        raise fail(errno.EINVAL)
    if a["set_tid_size"] or flags & c["CLONE_INTO_CGROUP"]:
        raise fail(errno.EPERM)   # choosing pids needs CAP_SYS_ADMIN; cgroups are the host's
    top = stack + stack_size if stack else 0          # the stack grows down from its end
    return _clone(k, flags, top, a["parent_tid"], a["tls"], a["child_tid"], pidfd=a["pidfd"])


@syscall("fork")
def fork(k: Any) -> int:
    """pid_t fork(void);"""
    return _fork(k, 0, 0, 0)


@syscall("vfork")
def vfork(k: Any) -> int:
    """pid_t vfork(void);"""
    return _fork(k, k.abi.const["CLONE_VFORK"], 0, 0)


@syscall("pidfd_open", "int", "uint")
def pidfd_open(k: Any, pid: int, flags: int) -> int:
    """int pidfd_open(pid_t pid, unsigned int flags);  (PIDFD_NONBLOCK is O_NONBLOCK)"""
    host_flags = k.abi.open_flags.to_host(flags)
    if host_flags & ~os.O_NONBLOCK or pid <= 0:
        raise fail(errno.EINVAL)
    return inheritable(os.pidfd_open(pid, host_flags), cloexec=True)


@syscall("pidfd_getfd", "fd", "int", "uint")
def pidfd_getfd(k: Any, pidfd: int, targetfd: int, flags: int) -> int:
    """int pidfd_getfd(int pidfd, int targetfd, unsigned int flags);  (the copy is O_CLOEXEC)"""
    if flags:
        raise fail(errno.EINVAL)
    if not 0 <= targetfd < PRIVATE.guest_limit:     # where every pyemu keeps its own fds
        raise fail(errno.EBADF)
    return inheritable(hostlib.pidfd_getfd(pidfd, targetfd), cloexec=True)


# -- execve ----------------------------------------------------------------------------------
def _string_array(k: Any, addr: int) -> list[bytes]:
    out: list[bytes] = []
    size = k.abi.word_size
    while addr:
        ptr = int.from_bytes(k.space.read(addr, size), k.abi.byteorder)
        if ptr == 0:
            break
        out.append(k.space.read_cstr(ptr, 1 << 17))
        addr += size
        if len(out) > 1 << 16:
            raise fail(errno.E2BIG)
    return out


def _check_executable(host: bytes) -> bytes:
    """The errors the kernel's exec gives before it looks at the format; the file's first
    bytes (a ``#!`` line is read up to the kernel's BINPRM_BUF_SIZE)."""
    st = os.stat(host)
    if not os.path.isfile(host) or not os.access(host, os.X_OK) or not st.st_mode & 0o111:
        raise fail(errno.EACCES)
    with open(host, "rb") as f:
        return f.read(256)


def _is_guest_program(head: bytes) -> bool:
    """An ELF file for one of the architectures pyemu emulates."""
    if head[:4] != b"\x7fELF" or len(head) < 20:
        return False
    byteorder = "little" if head[5] == 1 else "big"
    machine = int.from_bytes(head[18:20], byteorder)
    return spec_for_elf(machine, 32 if head[4] == 1 else 64, byteorder) is not None


def _shebang(head: bytes) -> tuple[bytes, list[bytes]]:
    """The interpreter and its optional single argument of a ``#!`` line (the kernel's rules:
    the interpreter ends at a blank, the rest of the line is one argument)."""
    line = head[2:].split(b"\n", 1)[0].strip(b" \t")
    cut = next((i for i, c in enumerate(line) if c in b" \t"), len(line))
    if cut == 0:
        raise fail(errno.ENOEXEC)
    arg = line[cut:].lstrip(b" \t")
    return line[:cut], [arg] if arg else []


def _program(k: Any, host: bytes, name: bytes,
             argv: list[bytes]) -> tuple[bool, bytes, list[bytes]]:
    """What exec runs for ``host`` (``name`` as the guest gave it): (a guest program?, the host
    path, argv). A ``#!`` script becomes its interpreter (looked up as a guest path) with
    ``[interpreter, arg, name, argv[1:]...]``, at most 5 scripts deep (the kernel's limit).
    Anything else that is not a guest program is for the host kernel to run or refuse."""
    for _depth in range(6):
        head = _check_executable(host)
        if not head.startswith(b"#!"):
            return _is_guest_program(head), host, argv
        interp, arg = _shebang(head)
        argv = [interp, *arg, name, *argv[1:]]
        host, name = k.paths.host(interp), interp
    raise fail(errno.ELOOP)


def _exec(k: Any, host: bytes, name: bytes, argv: list[bytes], envp: list[bytes]) -> int:
    guest, host, argv = _program(k, host, name, argv)
    if not guest and not k.host_exec:   # a host program (or anything else): if the user allows
        raise fail(errno.ENOEXEC)
    k.log_flush()
    with _signals_for_exec(k) as pending:
        if guest:
            cmd = reexec_command(k, host, argv)
            _raise_pending(pending)
            os.execve(cmd[0], cmd, dict(_split_env(envp)))
        hostlib.execve(host, argv, envp)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _signals_for_exec(k: Any):
    """The host's signal state as the guest's, for the program exec runs: the guest's mask,
    and the signals Python ignores itself (SIGPIPE, SIGXFSZ) at their defaults unless the
    guest ignores them too (what the guest ignores, the host already does: HostSignals.follow).
    Gives the guest's pending signals (host numbers), which a new pyemu takes over from the
    host (kernel.hostsig.take_inherited). When exec fails, pyemu's own signal state comes back."""
    python_ignored = [sig for sig in signal.valid_signals()
                      if sig not in (signal.SIGKILL, signal.SIGSTOP)
                      and signal.getsignal(sig) == signal.SIG_IGN and not _guest_ignores(k, sig)]
    blocked = _host_signals(k, lambda signo: k.signals.blocked >> (signo - 1) & 1)
    queued = set(k.signals.pending) | set(k.threads.shared_pending)
    pending = _host_signals(k, lambda signo: signo in queued)
    old_mask = signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    for sig in python_ignored:
        hostlib.set_disposition(sig, ignore=False)
    try:
        yield [sig for sig in pending if sig in blocked]
    finally:
        for sig in python_ignored:
            hostlib.set_disposition(sig, ignore=True)
        for sig in signal.sigpending() & set(pending):     # raised for an exec that failed
            signal.sigtimedwait([sig], 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _host_signals(k: Any, chosen: Any) -> list[int]:
    return [host_sig for guest_sig in range(1, k.abi.nsig) if chosen(guest_sig)
            and (host_sig := k.abi.signal_to_host(guest_sig)) is not None]


def _raise_pending(pending: list[int]) -> None:
    """Make the guest's pending (blocked) signals pending on the host, where exec keeps them."""
    import threading
    for sig in pending:
        signal.pthread_kill(threading.get_ident(), sig)


def _guest_ignores(k: Any, host_sig: int) -> bool:
    guest = k.abi.signal_from_host(host_sig)
    return guest is not None and k.signals.actions.get(guest, {}).get("sa_handler") == 1


def reexec_command(k: Any, program: bytes, argv: list[bytes]) -> list[bytes]:
    """The host command that runs ``program`` under a fresh pyemu with this run's options.
    Its boot code tells the new pyemu which of the signals Python ignores the guest ignores
    (Python's start-up hides that)."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    ignored = sorted(int(sig) for sig in (signal.SIGPIPE, signal.SIGXFSZ) if _guest_ignores(k, sig))
    boot = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
            f"import usermode.kernel.hostsig as h; h.INHERITED_IGNORE = frozenset({ignored}); "
            "import usermode.emulator as e; e.LOG_APPEND = True; "
            "from usermode.cli import main; main()")
    cmd = [os.fsencode(sys.executable), b"-E", b"-c", boot.encode(), os.fsencode(package_root)]
    options = k.exec_options
    argv0 = argv[0] if argv else program
    return cmd + options + [b"-0", argv0, b"--", program] + argv[1:]


def _execve(k: Any, path: int, argv_addr: int, envp_addr: int) -> int:
    host = guest_path(k, path)
    return _exec(k, host, k.space.read_cstr(path), _string_array(k, argv_addr),
                 _string_array(k, envp_addr))


def _split_env(envp: list[bytes]):
    for entry in envp:
        name, sep, value = entry.partition(b"=")
        if sep and name:
            yield name, value


@syscall("execve", "str", "ptr", "ptr")
def execve(k: Any, path: int, argv: int, envp: int) -> int:
    """int execve(const char *pathname, char *const argv[], char *const envp[]);"""
    return _execve(k, path, argv, envp)


# -- wait ------------------------------------------------------------------------------------
def guest_wait_status(k: Any, status: int) -> int:
    """A host wait status with the signal numbers renumbered for the guest."""
    if os.WIFSIGNALED(status):
        sig = k.abi.signal_from_host(os.WTERMSIG(status)) or os.WTERMSIG(status)
        return (status & ~0x7F) | sig
    if os.WIFSTOPPED(status):
        sig = k.abi.signal_from_host(os.WSTOPSIG(status)) or os.WSTOPSIG(status)
        return (sig << 8) | 0x7F
    return status


@syscall("wait4", "int", "ptr", "int", "ptr")
def wait4(k: Any, pid: int, wstatus: int, options: int, rusage: int) -> int:
    """pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *rusage);"""
    known = os.WNOHANG | os.WUNTRACED | os.WCONTINUED | 0x40000000 | 0x80000000
    got, status, usage = _wait4(k, pid, options & known)
    if got == 0:
        return 0
    if wstatus:
        write_word(k, wstatus, guest_wait_status(k, status), 4)
    if rusage:
        write_struct(k, rusage, "rusage", _rusage(usage))
    return got


def _wait4(k: Any, pid: int, options: int) -> tuple[int, int, Any]:
    """os.wait4, waiting without the guest lock and ending (EINTR) when a signal comes."""
    thread = k.thread
    while True:
        got = os.wait4(pid, options | os.WNOHANG)
        if got[0] or options & os.WNOHANG:
            return got
        if k.delivery.deliverable() is not None:
            raise InterruptedSyscall(k.delivery.deliverable())
        thread.wake.clear()
        k.threads.blocking(lambda: thread.wake.wait(0.01))


def _rusage(u: Any) -> dict[str, int]:
    out = {f"ru_{n}": getattr(u, f"ru_{n}") for n in (
        "maxrss", "ixrss", "idrss", "isrss", "minflt", "majflt", "nswap", "inblock", "oublock",
        "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw")}
    for name in ("utime", "stime"):
        sec = getattr(u, f"ru_{name}")
        out[f"ru_{name}_sec"], out[f"ru_{name}_usec"] = int(sec), int(sec % 1 * 1_000_000)
    return out


@syscall("execveat", "dirfd", "str", "ptr", "ptr", "flags")
def execveat(k: Any, dirfd: int, path: int, argv: int, envp: int, flags: int) -> int:
    """int execveat(int dirfd, const char *pathname, char *const argv[], char *const envp[],
    int flags);"""
    raw = k.space.read_cstr(path)
    if raw.startswith(b"/") or dirfd == k.abi.const["AT_FDCWD"]:
        return _execve(k, path, argv, envp)
    base = os.fsencode(os.readlink(f"/proc/self/fd/{dirfd}"))
    if not raw and not flags & k.abi.const["AT_EMPTY_PATH"]:
        raise fail(errno.ENOENT)
    host = os.path.join(base, raw) if raw else base
    return _exec(k, host, host, _string_array(k, argv), _string_array(k, envp))


@syscall("waitid", "int", "int", "ptr", "int", "ptr")
def waitid(k: Any, idtype: int, ident: int, infop: int, options: int, rusage: int) -> int:
    """int waitid(idtype_t idtype, id_t id, siginfo_t *infop, int options, struct rusage *ru);"""
    thread = k.thread
    while True:
        result = os.waitid(idtype, ident, options | os.WNOHANG)
        if result is not None or options & os.WNOHANG:
            break
        if k.delivery.deliverable() is not None:
            raise InterruptedSyscall(k.delivery.deliverable())
        thread.wake.clear()
        k.threads.blocking(lambda: thread.wake.wait(0.01))
    if infop:
        info = SigInfo(k.abi.signals["SIGCHLD"])
        if result is not None:
            status = result.si_status
            if result.si_code != os.CLD_EXITED:     # a signal number: the guest's numbering
                status = k.abi.signal_from_host(status) or status
            info = SigInfo(k.abi.signals["SIGCHLD"], code=result.si_code, pid=result.si_pid,
                           uid=result.si_uid, status=status)
        elif options & os.WNOHANG:
            info = SigInfo(0)                         # nothing ready: a zeroed siginfo
        k.space.write(infop, pack_siginfo(k.abi.spec.sigframe.siginfo, info, k.abi.word_size,
                                          k.abi.byteorder))
    if rusage:
        write_struct(k, rusage, "rusage", _rusage(resource.getrusage(resource.RUSAGE_CHILDREN)))
    return 0


@syscall("get_robust_list", "int", "ptr", "ptr")
def get_robust_list(k: Any, pid: int, head: int, length: int) -> int:
    """long get_robust_list(int pid, struct robust_list_head **head_ptr, size_t *len_ptr);"""
    thread = k.thread if pid == 0 else k.threads.by_tid.get(pid)
    if thread is None:
        raise fail(errno.ESRCH)
    write_word(k, head, thread.robust_list[0])
    write_word(k, length, thread.robust_list[1] or k.abi.structs["robust_list_head"].size)
    return 0
