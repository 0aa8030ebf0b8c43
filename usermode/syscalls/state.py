"""Per-process state of the syscall families beyond what ``kernel.process.Process`` declares.

It hangs off the process object (``process.syscall_state``), so a fork copies it with the rest of
the emulator and an exec starts afresh, as the kernel does for these things:

- ``comm``: the task name (``prctl(PR_SET_NAME)``); /proc/self/comm may read it from here.
- ``pdeathsig``: ``prctl(PR_SET_PDEATHSIG)``'s signal as the guest numbers it.
- ``fd_codecs``: descriptors whose data are binary records in the host's terms (inotify events,
  eventfd/timerfd counters in host byte order) that ``read``/``write`` translate for the guest;
  dup and close keep it in step with the descriptor table.
- ``shm``: SysV shared memory attached with ``shmat``: guest address -> mapped size.
- ``mlock_future``: ``mlockall(MCL_FUTURE)`` was asked for.
- ``posix_timers``: the process's timer_create timers (a fork child starts without).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

# codec(k, data, to_guest): the bytes a read returned, translated for the guest (to_guest=True),
# or the bytes the guest writes, translated for the host (to_guest=False). Reads hand it whole
# records (the kernel's files return whole records).
Codec = Callable[[Any, bytes, bool], bytes]


@dataclass
class SyscallState:
    comm: bytes
    pdeathsig: int = 0
    fd_codecs: dict[int, Codec] = field(default_factory=dict)
    shm: dict[int, int] = field(default_factory=dict)
    mlock_future: bool = False
    posix_timers: Any = None         # kernel.timers.Timers, made by the first timer_create


def of(k: Any) -> SyscallState:
    """The syscall state of ``k``'s process (created on first use)."""
    proc = k.process
    state = proc.__dict__.get("syscall_state")
    if state is None:
        state = SyscallState(comm=os.fsencode(os.path.basename(proc.exe))[:15])
        proc.syscall_state = state
    return state
