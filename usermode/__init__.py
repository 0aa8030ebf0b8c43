"""pyemu: user-mode cross-architecture Linux emulator.

The Python API: ``run`` (a foreign program in a child process, its ``Result``) and
``Emulator`` (a guest in this process, step by step). Both are imported on first use.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Emulator", "Result", "Stop", "SyscallEvent", "run"]

if TYPE_CHECKING:
    from .api import Result, run
    from .stepwise import Emulator, Stop, SyscallEvent


def __getattr__(name: str) -> Any:
    if name in ("run", "Result"):
        from . import api
        return getattr(api, name)
    if name in ("Emulator", "Stop", "SyscallEvent"):
        from . import stepwise
        return getattr(stepwise, name)
    raise AttributeError(f"module 'usermode' has no attribute {name!r}")
