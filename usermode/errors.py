"""Error hierarchy: one root, specific subclasses, each a one-line message for the user."""
from __future__ import annotations


class PyemuError(Exception):
    """Root of every error pyemu reports to its user."""

    exit_status = 1


class UsageError(PyemuError):
    """Bad command line or environment option."""


class LoaderError(PyemuError):
    """The program file cannot be loaded (missing, not ELF, truncated, unsupported)."""


class UnsupportedBinary(LoaderError):
    """A valid ELF file this emulator (or this command) does not run."""


class MissingFile(LoaderError):
    """A file the program needs to start (its interpreter) is not there: like exec, status 127."""

    exit_status = 127


class MemoryError_(PyemuError):
    """A host-side memory operation on the guest address space failed."""


class GuestExit(Exception):
    """The guest finished: raised from a syscall handler, caught by the run loop.

    Not a PyemuError: it is the normal way a run ends.
    """

    def __init__(self, status: int, signal: int | None = None, core: bool = False):
        super().__init__(status, signal)
        self.status = status
        self.signal = signal
        self.core = core


class InterruptedSyscall(Exception):
    """A host signal the guest must see arrived while a syscall handler was blocked."""

    def __init__(self, signo: int):
        super().__init__(signo)
        self.signo = signo


class ThreadExit(Exception):
    """One guest thread called exit(2): its host thread ends, the process goes on."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status
