"""pyemu's gdb stub: ``pyemu-ARCH -g PORT prog`` waits for gdb on 127.0.0.1:PORT before the
program's first instruction, as ``qemu-ARCH -g PORT`` does.

- ``packets``: the remote protocol's framing (checksums, acks, escapes, Ctrl-C);
- ``server``: the packets, served from a host thread of their own;
- ``control``: stops and resumes of guest threads (all-stop), breakpoints on every CPU;
- ``inferior``, ``documents``: registers, memory, and the qXfer documents (auxv, threads,
  exec-file, the svr4 library list);
- ``targets``: the per-architecture register tables and their target description XML;
- ``signals``: gdb's signal numbering.

The engine work (breakpoint and watchpoint hooks, single steps) is ``translate.debug`` and
``Cpu.step``: this package does not import the engine.
"""
from __future__ import annotations

import socket
import threading
from typing import Any

from ..errors import PyemuError
from ..kernel.fdspace import PRIVATE
from ..translate.cpu import debuggable
from .control import Debugger
from .inferior import Inferior
from .server import GdbServer
from .targets import TARGETS


class GdbStubError(PyemuError):
    """The gdb stub cannot start (its port, the engine)."""


def listen(port: int) -> socket.socket:
    """The listening socket on 127.0.0.1:``port`` (made before the guest is loaded, so that a
    port in use is reported at once)."""
    if not debuggable():
        raise GdbStubError("-g: this build of pyemu's patched engine predates its hook-stops-1 "
                           "patch (breakpoints would stop late): rebuild it (reinstall pyemu) "
                           "or run with PYEMU_ENGINE=stock")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
    except OSError as err:
        listener.close()
        raise GdbStubError(f"cannot listen for gdb on 127.0.0.1:{port}: "
                           f"{err.strerror or err}") from None
    return private_socket(listener)


def private_socket(sock: socket.socket) -> socket.socket:
    """``sock`` moved out of the guest's reach (``kernel.fdspace``)."""
    return socket.socket(fileno=PRIVATE.adopt(sock.detach()))


def start(listener: socket.socket, kernel: Any, spec: Any) -> Debugger:
    """The debugger of this process, its server thread waiting for gdb to connect."""
    debugger = Debugger(kernel)
    server = GdbServer(listener, debugger, Inferior(kernel, spec, TARGETS[spec.name]))
    threading.Thread(target=server.serve, name="pyemu-gdb", daemon=True).start()
    return debugger


__all__ = ["Debugger", "GdbStubError", "listen", "start"]
