"""Host signals sent to the emulator become guest signals.

Python runs signal handlers only between bytecodes, and the engine runs guest code inside one C
call: the Python handler makes the guest signal pending, and it is delivered when the guest
next makes a syscall (a blocked syscall is woken for it). A wakeup fd (written by the C-level
handler) wakes a small thread that ends the process at once when the signal is fatal. A signal
that arrives while a syscall handler blocks (read on a pipe, sleep, wait) wakes it; the handler
then ends with EINTR (or a restart with SA_RESTART) when the guest has a handler to run.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .fdspace import PRIVATE


# Caught from the start: their guest default actions are emulated (terminate, ignore, core).
CAUGHT = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD",
          "SIGWINCH", "SIGVTALRM", "SIGPROF", "SIGIO", "SIGURG", "SIGXCPU")


# Never caught: on the host they report faults in the emulator itself (the patched engine's
# handler turns a fault in guest code into the guest's signal; a Python handler would only make
# the faulting instruction repeat forever).
SYNCHRONOUS = ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE")
_SYNCHRONOUS = frozenset(getattr(signal, name) for name in SYNCHRONOUS)


# Python ignores these itself when it starts: whether the process inherited them ignored is
# unknown, unless pyemu exec'd itself and said so (INHERITED_IGNORE, set by the re-exec's boot
# code: see syscalls.handlers.process.reexec_command).
PYTHON_IGNORES = ("SIGPIPE", "SIGXFSZ")
INHERITED_IGNORE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Inherited:
    """What a process gets from the one that exec'd it, in guest signal numbers."""

    blocked: int            # the signal mask (bit n-1 for signal n)
    ignored: tuple[int, ...]
    pending: tuple[int, ...]


def take_inherited(abi: Any) -> Inherited:
    """The host signal mask, ignored dispositions and pending signals this process started
    with, as guest signals (the kernel keeps all three across execve, and resets handled
    dispositions). The pending ones are taken off the host and the host mask is cleared:
    pyemu itself needs every host signal; the guest's mask is emulated."""
    blocked_host = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    pending_host = signal.sigpending() & blocked_host
    for sig in pending_host:
        signal.sigtimedwait([sig], 0)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    python_ignores = {getattr(signal, name) for name in PYTHON_IGNORES}
    ignored = [sig for sig in signal.valid_signals()
               if sig not in _SYNCHRONOUS and signal.getsignal(sig) == signal.SIG_IGN
               and (sig not in python_ignores or sig in INHERITED_IGNORE)]

    def guest(sigs: Any) -> list[int]:
        return sorted(g for g in map(abi.signal_from_host, sigs) if g is not None)

    mask = 0
    for signo in guest(blocked_host):
        mask |= 1 << (signo - 1)
    return Inherited(mask, tuple(guest(ignored)), tuple(guest(pending_host)))


class HostSignals:
    def __init__(self, abi: Any, post: Callable[[int], None], stop: Callable[[int], None]):
        """``post(guest_signo)`` makes it pending; ``stop(guest_signo)`` is called from the waker
        thread for every signal that arrives (it ends the process when the signal is fatal)."""
        self.abi = abi
        self._post = post
        self._stop = stop
        self._caught: set[int] = set()
        self._wake_r = self._wake_w = -1
        self._start_waker()
        for name in CAUGHT:
            self._catch(getattr(signal, name))

    def _catch(self, host: int) -> None:
        if host not in self._caught:
            signal.signal(host, self._on_signal)
            self._caught.add(host)

    def follow(self, guest: int, handler: int | None) -> None:
        """The guest changed a disposition: catch that signal on the host too."""
        host = self.abi.signal_to_host(guest)
        if host is None or host in (signal.SIGKILL, signal.SIGSTOP) or host in _SYNCHRONOUS:
            return
        if handler == 1:                     # SIG_IGN: the host may ignore it as well
            signal.signal(host, signal.SIG_IGN)
            self._caught.discard(host)
        else:
            self._catch(host)

    def _start_waker(self) -> None:
        r, w = PRIVATE.pipe()       # out of the guest's reach (see kernel.fdspace)
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        self._wake_r, self._wake_w = r, w
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        threading.Thread(target=self._waker, args=(r,), name="pyemu-signal-waker",
                         daemon=True).start()

    @contextlib.contextmanager
    def forking(self) -> Iterator[None]:
        """Around a host fork: host signals wait (blocked) until the child has its own wakeup
        pipe. A child sharing the parent's pipe made the parent's waker read the child's
        signals (multiprocessing's Pool.terminate sends its workers SIGTERM: the parent died)."""
        everything = signal.valid_signals()
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, everything)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def after_fork(self) -> None:
        """In the child (signals still blocked): threads do not survive fork, and the wakeup
        pipe must not be the parent's."""
        PRIVATE.close(self._wake_r)
        PRIVATE.close(self._wake_w)
        self._start_waker()

    def _on_signal(self, host: int, _frame: Any) -> None:
        """Make the guest signal pending. Never raises: an exception here could land after a
        host call completed (a child reaped by wait4) and lose its result. A blocked syscall
        notices the signal itself (its wait is woken, or polls)."""
        guest = self.abi.signal_from_host(host)
        if guest is not None:
            self._post(guest)

    def _waker(self, wake_r: int) -> None:
        import select
        poller = select.poll()      # not select(): the fd is above FD_SETSIZE
        poller.register(wake_r, select.POLLIN)
        while True:
            try:
                poller.poll()
                numbers = os.read(wake_r, 512)
            except BlockingIOError:
                continue
            except OSError:     # the pipe is gone (a fork's child replaced it): this waker too
                return
            for host in set(numbers):
                guest = self.abi.signal_from_host(host)
                if guest is not None:
                    self._stop(guest)
