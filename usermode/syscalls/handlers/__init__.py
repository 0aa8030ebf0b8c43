"""Syscall handlers by family; importing this package registers all of them."""
from . import fs, fsinfo, futex, io, mm, proc, process, signals, time  # noqa: F401
