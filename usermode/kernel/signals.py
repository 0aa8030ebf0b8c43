"""Signal semantics that do not depend on the ABI: default actions by signal name (signal(7))."""
from __future__ import annotations

import signal as host_signal

CORE = frozenset({"SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV",
                  "SIGXCPU", "SIGXFSZ", "SIGSYS", "SIGEMT"})
IGNORE = frozenset({"SIGCHLD", "SIGURG", "SIGWINCH", "SIGCONT", "SIGPWR"})
STOP = frozenset({"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU"})


def default_action(name: str) -> str:
    """'core', 'term', 'ignore' or 'stop'."""
    if name in CORE:
        return "core"
    if name in IGNORE:
        return "ignore"
    if name in STOP:
        return "stop"
    return "term"


def describe(name: str) -> str:
    """The host's description of a signal (strsignal), as qemu prints it."""
    number = getattr(host_signal, name, None)
    text = host_signal.strsignal(number) if number is not None else None
    return text or name
