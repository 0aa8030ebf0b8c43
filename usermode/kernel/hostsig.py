"""Host signals sent to the emulator become guest signals.

Python runs signal handlers only between bytecodes, and the engine runs guest code inside one C
call, so the Python-level handlers do nothing: Python's C-level handler writes the signal's
number to a wakeup fd, and one thread (the waker) reads it and hands the signal over once:
a signal the guest's disposition makes fatal ends the process at once, any other becomes
pending for the guest (a blocked syscall is woken for it, and ends with EINTR, or restarts
with SA_RESTART, when the guest has a handler to run; otherwise the guest takes it at its next
syscall or time-slice stop). One consumer: when the main thread's Python handler also posted
the signal, the waker could act on it again after the guest had handled it and reset its
disposition, and killed pyemu (SIGALRM in CPython's interrupted-socket tests, status 142).
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

# Left ignored on the host (as Python sets them): the host raises them for pyemu's own writes
# (a broken pipe, a file over RLIMIT_FSIZE), and pyemu raises the guest's from the error
# itself; forwarding the host's too, from the waker, delivered a second one after the guest had
# handled the first. A SIGPIPE sent to pyemu from outside is therefore not seen by the guest.
RAISED_FOR_OWN_WRITES = ("SIGPIPE", "SIGXFSZ")
_OWN_WRITES = frozenset(getattr(signal, name) for name in RAISED_FOR_OWN_WRITES)


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
    def __init__(self, abi: Any, arrived: Callable[[int], None]):
        """``arrived(guest_signo)`` is called from the waker thread for every signal that
        arrives: it ends the process when the signal is fatal, else makes it pending."""
        self.abi = abi
        self._arrived = arrived
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
        if (host is None or host in (signal.SIGKILL, signal.SIGSTOP) or host in _SYNCHRONOUS
                or host in _OWN_WRITES):
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
        """Nothing: the waker hands the signal over (see the module docstring). Never raises:
        an exception here could land after a host call completed (a child reaped by wait4) and
        lose its result."""

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
            for host in numbers:
                guest = self.abi.signal_from_host(host)
                if guest is not None:
                    self._arrived(guest)
