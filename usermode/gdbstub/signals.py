"""Signal numbers in the remote protocol: gdb's own numbering (include/gdb/signals.def), which
is neither the host's nor any guest ABI's. Conversion goes through the signal's name, and
real-time signals through their offset from the kernel's SIGRTMIN (32 on every Linux ABI)."""
from __future__ import annotations

from typing import Any

GDB_SIGNALS: dict[str, int] = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
    "SIGEMT": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGBUS": 10, "SIGSEGV": 11, "SIGSYS": 12,
    "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGURG": 16, "SIGSTOP": 17, "SIGTSTP": 18,
    "SIGCONT": 19, "SIGCHLD": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGIO": 23, "SIGXCPU": 24,
    "SIGXFSZ": 25, "SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGLOST": 29,
    "SIGUSR1": 30, "SIGUSR2": 31, "SIGPWR": 32, "SIGPOLL": 33,
}
GDB_UNKNOWN = 143
# gdb's real-time signal numbers: 33..63 -> 45..75, 32 -> 77, 64..127 -> 78..141
_REALTIME = {32: 77, **{n: 45 + n - 33 for n in range(33, 64)},
             **{n: 78 + n - 64 for n in range(64, 128)}}
_REALTIME_BACK = {gdb: n for n, gdb in _REALTIME.items()}
_BY_NUMBER = {number: name for name, number in GDB_SIGNALS.items()}
# names gdb spells differently from some ABI's header
_ALIASES = {"SIGPOLL": "SIGIO", "SIGIOT": "SIGABRT", "SIGCLD": "SIGCHLD"}


def to_gdb(signo: int, abi: Any) -> int:
    """The gdb number of guest signal ``signo`` (0 stays 0: no signal)."""
    if signo == 0:
        return 0
    rtmin = abi.signals.get("SIGRTMIN", 32)
    if signo >= rtmin:
        return _REALTIME.get(signo - rtmin + 32, GDB_UNKNOWN)
    name = abi.signal_names.get(signo, "")
    return GDB_SIGNALS.get(_ALIASES.get(name, name), GDB_UNKNOWN)


def from_gdb(number: int, abi: Any) -> int:
    """The guest signal for gdb number ``number``; 0 for none, or one this ABI lacks."""
    if number in _REALTIME_BACK:
        return _REALTIME_BACK[number] - 32 + abi.signals.get("SIGRTMIN", 32)
    name = _BY_NUMBER.get(number)
    if name is None:
        return 0
    return abi.signals.get(name) or abi.signals.get(_ALIASES.get(name, ""), 0)
