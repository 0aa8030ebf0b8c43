"""Signal dispositions, masks and sending.

Dispositions and masks are kept per process for the signals work to come. A signal a process sends
itself takes its default action now (terminate, with the qemu-style message for core signals) or
is ignored; running a guest handler is not implemented yet and is reported as such.
"""
from __future__ import annotations

import errno
import os
from typing import Any

from ...errors import GuestExit, PyemuError
from ...kernel.signals import default_action
from ..registry import syscall
from .common import fail, read_struct, write_struct

SIG_DFL, SIG_IGN = 0, 1


def _mask_from_words(words: list[int]) -> int:
    return sum(w << (32 * i) for i, w in enumerate(words))


def _mask_to_words(k: Any, mask: int) -> list[int]:
    return [(mask >> (32 * i)) & 0xFFFFFFFF for i in range(k.abi.spec.sigset_words)]


def _check_signal(k: Any, sig: int) -> None:
    if not 1 <= sig <= k.abi.nsig:
        raise fail(errno.EINVAL)


def _unblockable(k: Any) -> int:
    return (1 << (k.abi.signals["SIGKILL"] - 1)) | (1 << (k.abi.signals["SIGSTOP"] - 1))


@syscall("rt_sigaction", "sig", "ptr", "ptr", "size")
def rt_sigaction(k: Any, sig: int, act: int, oldact: int, sigsetsize: int) -> int:
    """int rt_sigaction(int sig, const struct sigaction *act, struct sigaction *oact,
    size_t sigsetsize);"""
    _check_signal(k, sig)
    if sigsetsize != 4 * k.abi.spec.sigset_words:
        raise fail(errno.EINVAL)
    actions = k.process.signals.actions
    if oldact:
        write_struct(k, oldact, "sigaction", actions.get(sig, {}))
    if act:
        if sig in (k.abi.signals["SIGKILL"], k.abi.signals["SIGSTOP"]):
            raise fail(errno.EINVAL)
        actions[sig] = read_struct(k, act, "sigaction")
    return 0


@syscall("rt_sigprocmask", "int", "ptr", "ptr", "size")
def rt_sigprocmask(k: Any, how: int, new: int, old: int, sigsetsize: int) -> int:
    """int rt_sigprocmask(int how, const sigset_t *set, sigset_t *oldset, size_t sigsetsize);"""
    words = k.abi.spec.sigset_words
    if sigsetsize != 4 * words:
        raise fail(errno.EINVAL)
    state = k.process.signals
    if old:
        k.space.write(old, b"".join(w.to_bytes(4, k.abi.byteorder)
                                    for w in _mask_to_words(k, state.blocked)))
    if new:
        raw = k.space.read(new, 4 * words)
        mask = _mask_from_words([int.from_bytes(raw[i:i + 4], k.abi.byteorder)
                                 for i in range(0, len(raw), 4)])
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


@syscall("sigaltstack", "ptr", "ptr")
def sigaltstack(k: Any, ss: int, old: int) -> int:
    """int sigaltstack(const stack_t *ss, stack_t *old_ss);"""
    state = k.process.signals
    if old:
        sp, flags, size = state.altstack
        write_struct(k, old, "stack_t", ss_sp=sp, ss_flags=flags, ss_size=size)
    if ss:
        new = read_struct(k, ss, "stack_t")
        state.altstack = (new["ss_sp"], new["ss_flags"], new["ss_size"])
    return 0


def _raise_in_self(k: Any, sig: int) -> int:
    """Take the action a signal sent to this process asks for."""
    name = k.abi.signal_names.get(sig, f"SIG{sig}")
    action = k.process.signals.actions.get(sig, {})
    handler = action.get("sa_handler", SIG_DFL)
    if handler == SIG_IGN or (handler == SIG_DFL and default_action(name) == "ignore"):
        return 0
    if handler != SIG_DFL:
        raise PyemuError(f"signal {sig} ({name}) has a guest handler; delivering signals to "
                         "guest handlers is not implemented yet")
    if default_action(name) == "stop":
        return 0
    raise GuestExit(128 + sig, signal=sig, core=default_action(name) == "core")


def signal_self(k: Any, name: str) -> None:
    """A signal the kernel raises in this process (SIGPIPE on a broken pipe, ...)."""
    _raise_in_self(k, k.abi.signals[name])


def _send(k: Any, pid: int, sig: int) -> int:
    if sig == 0:
        os.kill(pid, 0)
        return 0
    _check_signal(k, sig)
    if pid in (0, k.process.ids.pid):
        return _raise_in_self(k, sig)
    host = k.abi.signal_to_host(sig)
    if host is None:
        raise fail(errno.EINVAL)
    os.kill(pid, host)
    return 0


@syscall("kill", "int", "sig")
def kill(k: Any, pid: int, sig: int) -> int:
    """int kill(pid_t pid, int sig);"""
    return _send(k, pid, sig)


@syscall("tgkill", "int", "int", "sig")
def tgkill(k: Any, tgid: int, tid: int, sig: int) -> int:
    """int tgkill(pid_t tgid, pid_t tid, int sig);"""
    if tgid != k.process.ids.pid or tid != k.process.ids.tid:
        raise fail(errno.ESRCH)
    return _send(k, tgid, sig)


@syscall("tkill", "int", "sig")
def tkill(k: Any, tid: int, sig: int) -> int:
    """int tkill(pid_t tid, int sig);"""
    if tid != k.process.ids.tid:
        raise fail(errno.ESRCH)
    return _send(k, tid, sig)
