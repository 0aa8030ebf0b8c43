"""Signals: dispositions, masks, sending, waiting and returning from handlers.

Delivery itself (frames, default actions) is ``syscalls.delivery``; host signals reach the guest
through ``kernel.hostsig``. A signal a process sends itself is delivered when the syscall returns.
"""
from __future__ import annotations

import errno
import os
import signal as host_signal
import struct
import time as host_time
from typing import Any

from ..registry import KEEP_REGISTERS, InterruptedSyscall, syscall
from ..sigframe import SigInfo, pack_siginfo
from .common import fail, kernel_nsec, read_struct, write_struct

SI_USER, SI_TKILL = 0, -6
_WAIT_STEP = 0.01


def _mask_from_words(words: list[int]) -> int:
    return sum(w << (32 * i) for i, w in enumerate(words))


def _read_mask(k: Any, addr: int) -> int:
    raw = k.space.read(addr, 4 * k.abi.spec.sigset_words)
    return _mask_from_words([int.from_bytes(raw[i:i + 4], k.abi.byteorder)
                             for i in range(0, len(raw), 4)])


def _write_mask(k: Any, addr: int, mask: int) -> None:
    k.space.write(addr, b"".join(((mask >> (32 * i)) & 0xFFFFFFFF).to_bytes(4, k.abi.byteorder)
                                 for i in range(k.abi.spec.sigset_words)))


def _check_signal(k: Any, sig: int) -> None:
    if not 1 <= sig <= k.abi.nsig:
        raise fail(errno.EINVAL)


def _check_setsize(k: Any, size: int) -> None:
    if size != 4 * k.abi.spec.sigset_words:
        raise fail(errno.EINVAL)


def _unblockable(k: Any) -> int:
    return (1 << (k.abi.signals["SIGKILL"] - 1)) | (1 << (k.abi.signals["SIGSTOP"] - 1))


@syscall("rt_sigaction", "sig", "ptr", "ptr", "size")
def rt_sigaction(k: Any, sig: int, act: int, oldact: int, sigsetsize: int) -> int:
    """int rt_sigaction(int sig, const struct sigaction *act, struct sigaction *oact,
    size_t sigsetsize);"""
    _check_signal(k, sig)
    _check_setsize(k, sigsetsize)
    actions = k.signals.actions
    new = read_struct(k, act, "sigaction") if act else None
    if new is not None and sig in (k.abi.signals["SIGKILL"], k.abi.signals["SIGSTOP"]):
        raise fail(errno.EINVAL)
    if oldact:
        write_struct(k, oldact, "sigaction", actions.get(sig, {}))
    if new is not None:
        actions[sig] = new
        k.host_signals.follow(sig, new["sa_handler"])
    return 0


@syscall("rt_sigprocmask", "int", "ptr", "ptr", "size")
def rt_sigprocmask(k: Any, how: int, new: int, old: int, sigsetsize: int) -> int:
    """int rt_sigprocmask(int how, const sigset_t *set, sigset_t *oldset, size_t sigsetsize);"""
    _check_setsize(k, sigsetsize)
    state = k.signals
    mask = _read_mask(k, new) if new else None
    if old:
        _write_mask(k, old, state.blocked)
    if mask is not None:
        c = k.abi.const
        if how == c["SIG_BLOCK"]:
            state.blocked |= mask
        elif how == c["SIG_UNBLOCK"]:
            state.blocked &= ~mask
        elif how == c["SIG_SETMASK"]:
            state.blocked = mask
        else:
            raise fail(errno.EINVAL)
        state.blocked &= ~_unblockable(k)
    return 0


@syscall("rt_sigpending", "ptr", "size")
def rt_sigpending(k: Any, out: int, sigsetsize: int) -> int:
    """int rt_sigpending(sigset_t *set, size_t sigsetsize);"""
    if sigsetsize > 4 * k.abi.spec.sigset_words:
        raise fail(errno.EINVAL)
    _write_mask(k, out, k.delivery.pending_mask() & k.signals.blocked)
    return 0


@syscall("sigaltstack", "ptr", "ptr")
def sigaltstack(k: Any, ss: int, old: int) -> int:
    """int sigaltstack(const stack_t *ss, stack_t *old_ss);"""
    state = k.signals
    new = read_struct(k, ss, "stack_t") if ss else None
    if old:
        sp, flags, size = state.altstack
        on = size and sp <= k.cpu.read(k.cpu.spec.sp) < sp + size
        write_struct(k, old, "stack_t", ss_sp=sp, ss_size=size,
                     ss_flags=k.abi.const["SS_ONSTACK"] if on else flags)
    if new is not None:
        disable = k.abi.const["SS_DISABLE"]
        if new["ss_flags"] & disable:
            state.altstack = (0, disable, 0)
        elif new["ss_size"] < k.abi.const.get("MINSIGSTKSZ", 2048):
            raise fail(errno.ENOMEM)
        else:
            state.altstack = (new["ss_sp"], 0, new["ss_size"])
    return 0


@syscall("rt_sigreturn", also=("sigreturn",))
def rt_sigreturn(k: Any) -> Any:
    """long rt_sigreturn(void);  (restores the registers the signal frame saved)"""
    k.delivery.sigreturn(k.cpu)
    return KEEP_REGISTERS


# -- sending -----------------------------------------------------------------------------------
def signal_self(k: Any, name: str, code: int = 0) -> None:
    """A signal the kernel raises in this process (SIGPIPE on a broken pipe, ...)."""
    k.delivery.post(SigInfo(k.abi.signals[name], code=code))


def _send(k: Any, pid: int, sig: int, code: int) -> int:
    """kill semantics: to oneself it is posted here; to others (and groups, which may include
    us: our host handler posts it then) it goes through the host kernel."""
    if sig != 0:
        _check_signal(k, sig)
    ids = k.process.ids
    if pid == ids.pid:
        if sig:
            k.delivery.post(SigInfo(sig, code=code, pid=ids.pid, uid=ids.uid))
        return 0
    host = k.abi.signal_to_host(sig) if sig else 0
    if host is None:
        raise fail(errno.EINVAL)
    os.kill(pid, host)
    return 0


@syscall("kill", "int", "sig")
def kill(k: Any, pid: int, sig: int) -> int:
    """int kill(pid_t pid, int sig);"""
    return _send(k, pid, sig, SI_USER)


@syscall("tgkill", "int", "int", "sig")
def tgkill(k: Any, tgid: int, tid: int, sig: int) -> int:
    """int tgkill(pid_t tgid, pid_t tid, int sig);"""
    if tgid <= 0 or tid <= 0:
        raise fail(errno.EINVAL)
    if tgid != k.process.ids.pid:
        raise fail(errno.ESRCH)
    return _send_thread(k, tid, sig)


@syscall("tkill", "int", "sig")
def tkill(k: Any, tid: int, sig: int) -> int:
    """int tkill(pid_t tid, int sig);"""
    return _send_thread(k, tid, sig)


def _send_thread(k: Any, tid: int, sig: int) -> int:
    thread = k.threads.by_tid.get(tid)
    if thread is None or not thread.alive:
        raise fail(errno.ESRCH)
    if sig:
        _check_signal(k, sig)
        ids = k.process.ids
        k.delivery.post(SigInfo(sig, code=SI_TKILL, pid=ids.pid, uid=ids.uid), thread)
    return 0


# -- waiting -----------------------------------------------------------------------------------
def _wait_for_signal(k: Any, deadline: float | None = None) -> None:
    """Sleep (without the guest lock) until a signal is deliverable (InterruptedSyscall)."""
    thread = k.thread
    while deadline is None or host_time.monotonic() < deadline:
        if k.delivery.deliverable() is not None:
            raise InterruptedSyscall(k.delivery.deliverable())
        thread.wake.clear()
        k.threads.blocking(lambda: thread.wake.wait(
            _WAIT_STEP * 10 if deadline is None else max(0.0, deadline - host_time.monotonic())))


@syscall("pause")
def pause(k: Any) -> int:
    """int pause(void);  (returns -EINTR once a handler has run)"""
    _wait_for_signal(k)
    raise fail(errno.EINTR)


@syscall("rt_sigsuspend", "ptr", "size")
def rt_sigsuspend(k: Any, mask: int, sigsetsize: int) -> int:
    """int rt_sigsuspend(const sigset_t *mask, size_t sigsetsize);"""
    _check_setsize(k, sigsetsize)
    state = k.signals
    state.suspend_mask, state.blocked = state.blocked, _read_mask(k, mask) & ~_unblockable(k)
    try:
        _wait_for_signal(k)
    except InterruptedSyscall:
        pass
    raise fail(errno.EINTR)


def wait_taking(k: Any, wanted: int, deadline: float | None, nonblocking: bool = False
                ) -> SigInfo:
    """Take a pending signal of ``wanted``, waiting (without the guest lock) until one comes:
    sigtimedwait and signalfd reads. A signal outside ``wanted`` with a handler to run ends the
    wait (EINTR or a restart); so does the deadline (EAGAIN)."""
    thread = k.thread
    thread.signals.waiting = wanted
    try:
        while True:
            info = k.delivery.take(wanted)
            if info is not None:
                return info
            if nonblocking or deadline is not None and host_time.monotonic() >= deadline:
                raise fail(errno.EAGAIN)
            if k.delivery.deliverable() is not None:
                raise InterruptedSyscall(k.delivery.deliverable())
            thread.wake.clear()
            step = _WAIT_STEP * 10 if deadline is None else \
                max(0.0, min(_WAIT_STEP * 10, deadline - host_time.monotonic()))
            k.threads.blocking(lambda: thread.wake.wait(step))
    finally:
        thread.signals.waiting = 0


def _sigtimedwait(k: Any, setp: int, infop: int, timeout: int, layout: str) -> int:
    wanted = _read_mask(k, setp) & ~_unblockable(k)
    deadline = None
    if timeout:
        t = read_struct(k, timeout, layout)
        nsec = kernel_nsec(k, t["tv_nsec"])
        if not 0 <= nsec < 1_000_000_000 or t["tv_sec"] < 0:
            raise fail(errno.EINVAL)
        deadline = host_time.monotonic() + t["tv_sec"] + nsec / 1e9
    try:
        info = wait_taking(k, wanted, deadline)
    except InterruptedSyscall:
        raise fail(errno.EINTR) from None        # never restarted (signal(7))
    if infop:
        k.space.write(infop, pack_siginfo(k.abi.spec.sigframe.siginfo, info, k.abi.word_size,
                                          k.abi.byteorder))
    return info.signo


@syscall("rt_sigtimedwait", "ptr", "ptr", "ptr", "size")
def rt_sigtimedwait(k: Any, setp: int, infop: int, timeout: int, sigsetsize: int) -> int:
    """int rt_sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout,
    size_t sigsetsize);"""
    _check_setsize(k, sigsetsize)
    return _sigtimedwait(k, setp, infop, timeout, "timespec")


@syscall("rt_sigtimedwait_time64", "ptr", "ptr", "ptr", "size")
def rt_sigtimedwait_time64(k: Any, setp: int, infop: int, timeout: int, sigsetsize: int) -> int:
    """int rt_sigtimedwait_time64(const sigset_t *set, siginfo_t *info,
    const struct __kernel_timespec *timeout, size_t sigsetsize);"""
    _check_setsize(k, sigsetsize)
    return _sigtimedwait(k, setp, infop, timeout, "timespec64")


@syscall("alarm", "uint")
def alarm(k: Any, seconds: int) -> int:
    """unsigned int alarm(unsigned int seconds);  (the host's SIGALRM becomes the guest's)"""
    k.host_signals.follow(k.abi.signals["SIGALRM"], None)
    return host_signal.alarm(seconds)


def _itimer(k: Any, which: int) -> int:
    for name in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"):
        if k.abi.const.get(name) == which:
            k.host_signals and k.host_signals.follow(
                k.abi.signals[{"ITIMER_REAL": "SIGALRM", "ITIMER_VIRTUAL": "SIGVTALRM",
                               "ITIMER_PROF": "SIGPROF"}[name]], None)
            return getattr(host_signal, name)
    raise fail(errno.EINVAL)


def _put_itimerval(k: Any, addr: int, interval: float, value: float) -> None:
    size = k.abi.structs["timeval"].size
    for i, seconds in enumerate((interval, value)):
        usec = round(seconds * 1_000_000)
        write_struct(k, addr + i * size, "timeval", tv_sec=usec // 1_000_000,
                     tv_usec=usec % 1_000_000)


@syscall("setitimer", "int", "ptr", "ptr")
def setitimer(k: Any, which: int, new: int, old: int) -> int:
    """int setitimer(int which, const struct itimerval *new_value, struct itimerval *old_value);
    (the host's timer: its signal becomes the guest's)"""
    host_which = _itimer(k, which)
    size = k.abi.structs["timeval"].size
    interval, value = (read_struct(k, new + i * size, "timeval") for i in range(2))
    previous = host_signal.setitimer(host_which, value["tv_sec"] + value["tv_usec"] / 1e6,
                                     interval["tv_sec"] + interval["tv_usec"] / 1e6)
    if old:
        _put_itimerval(k, old, previous[1], previous[0])
    return 0


@syscall("getitimer", "int", "ptr")
def getitimer(k: Any, which: int, cur: int) -> int:
    """int getitimer(int which, struct itimerval *curr_value);"""
    value, interval = host_signal.getitimer(_itimer(k, which))
    _put_itimerval(k, cur, interval, value)
    return 0


def _queue(k: Any, tgid: int, tid: int | None, sig: int, info: int) -> int:
    _check_signal(k, sig)
    end = "<" if k.abi.byteorder == "little" else ">"
    raw = k.space.read(info, 128)
    head = dict(zip(k.abi.spec.sigframe.siginfo.head, struct.unpack_from(end + "iii", raw)))
    union = k.abi.spec.sigframe.siginfo.union
    pid, uid = struct.unpack_from(end + "iI", raw, union)
    value = int.from_bytes(raw[union + 8: union + 8 + k.abi.word_size], k.abi.byteorder)
    if head["code"] >= 0 and tgid != k.process.ids.pid:
        raise fail(errno.EPERM)          # only the kernel may send SI_USER-like codes to others
    if tgid == k.process.ids.pid:
        thread = k.threads.by_tid.get(tid) if tid is not None else None
        if tid is not None and thread is None:
            raise fail(errno.ESRCH)
        k.delivery.post(SigInfo(sig, code=head["code"], pid=pid, uid=uid, value=value), thread)
        return 0
    os.kill(tgid, k.abi.signal_to_host(sig))  # another process: the signal, not the value
    return 0


def pidfd_target(fd: int) -> int:
    """The pid a pidfd refers to (its fdinfo's Pid line; -1 once the process is gone)."""
    with open(f"/proc/self/fdinfo/{fd}", "rb") as f:
        for line in f:
            if line.startswith(b"Pid:"):
                return int(line.split()[1])
    raise fail(errno.EBADF)               # not a pidfd


# Linux 6.9's scopes: PIDFD_SIGNAL_THREAD, _THREAD_GROUP, _PROCESS_GROUP (one at most)
_PIDFD_THREAD, _PIDFD_GROUP = 1, 4


@syscall("pidfd_send_signal", "fd", "sig", "ptr", "uint")
def pidfd_send_signal(k: Any, pidfd: int, sig: int, info: int, flags: int) -> int:
    """int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags);"""
    if flags & ~7 or bin(flags).count("1") > 1:
        raise fail(errno.EINVAL)
    pid = pidfd_target(pidfd)
    if pid <= 0:
        raise fail(errno.ESRCH)
    if pid != k.process.ids.pid:
        if sig:
            _check_signal(k, sig)
        host_signal.pidfd_send_signal(pidfd, k.abi.signal_to_host(sig) if sig else 0, None,
                                      flags)
        return 0
    if info:
        return _queue(k, pid, pid if flags & _PIDFD_THREAD else None, sig, info)
    if flags & _PIDFD_GROUP:
        return _send(k, -os.getpgrp(), sig, SI_USER)
    if flags & _PIDFD_THREAD:
        return _send_thread(k, pid, sig)
    return _send(k, pid, sig, SI_USER)


@syscall("rt_sigqueueinfo", "int", "sig", "ptr")
def rt_sigqueueinfo(k: Any, tgid: int, sig: int, info: int) -> int:
    """int rt_sigqueueinfo(pid_t tgid, int sig, siginfo_t *info);"""
    return _queue(k, tgid, None, sig, info)


@syscall("rt_tgsigqueueinfo", "int", "int", "sig", "ptr")
def rt_tgsigqueueinfo(k: Any, tgid: int, tid: int, sig: int, info: int) -> int:
    """int rt_tgsigqueueinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *info);"""
    return _queue(k, tgid, tid, sig, info)
