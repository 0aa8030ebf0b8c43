"""The RSP server: one gdb connection, served from a host thread of its own.

While the guest runs, the thread waits for a stop (``control.Debugger`` wakes it through a
pipe) or for gdb's Ctrl-C; while the guest is stopped it answers packets until one resumes
the guest. Malformed packets get an error reply (``E01``), unknown ones the empty reply that
means "not supported"; nothing a client sends ends the server except ``k``, ``D`` and closing
the connection. When gdb goes away (end of file) the stub detaches, as qemu's does: the guest
runs on without breakpoints, and nobody can connect again.
"""
from __future__ import annotations

import os
import select
import socket
import sys
from typing import Any, Callable

from ..kernel.fdspace import PRIVATE
from ..translate.debug import Watch
from ..translate.memory import GuestFault
from .control import Debugger, Stop
from .hostio import HostFiles
from .inferior import Inferior
from .packets import Channel
from .signals import from_gdb, to_gdb

SUPPORTED = (b"PacketSize=4000;QStartNoAckMode+;qXfer:features:read+;qXfer:auxv:read+;"
             b"qXfer:exec-file:read+;qXfer:libraries-svr4:read+;qXfer:threads:read+;"
             b"vContSupported+;swbreak+;hwbreak+")
ERROR = b"E01"
E_FAULT = b"E0e"
_BREAK_KINDS = {"0": "swbreak", "1": "hwbreak"}
_WATCH_KINDS = {"2": "watch", "3": "rwatch", "4": "awatch"}


class Detached(Exception):
    """The session is over (``D``, ``k`` or end of file): stop serving."""


class GdbServer:
    def __init__(self, listener: socket.socket, debugger: Debugger, inferior: Inferior) -> None:
        self.listener = listener
        self.debugger = debugger
        self.inferior = inferior
        self.abi = debugger.abi
        self.files = HostFiles(debugger.k.paths)
        self.channel: Channel | None = None
        self.selected: Any = None           # Hg: the thread registers are read from
        self.continue_thread = -1           # Hc: the thread legacy c/s apply to
        self.swbreak = False                # gdb said it understands swbreak/hwbreak stops
        self._wake_r, self._wake_w = PRIVATE.pipe()        # out of the guest's reach
        debugger.wake = lambda: os.write(self._wake_w, b"!")
        debugger.release = self.release
        self._commands: dict[str, Callable[[bytes], bytes | None]] = {
            "?": self._why, "g": self._read_registers, "G": self._write_registers,
            "p": self._read_register, "P": self._write_register, "m": self._read_memory,
            "M": self._write_memory, "X": self._write_binary, "Z": self._insert,
            "z": self._remove, "H": self._select_thread, "T": self._thread_alive,
            "c": self._legacy_resume, "s": self._legacy_resume, "C": self._legacy_resume,
            "S": self._legacy_resume, "v": self._v_packet, "q": self._query,
            "Q": self._set, "D": self._detach, "k": self._kill,
        }

    # -- the session -------------------------------------------------------------------------
    def serve(self) -> None:
        """Accept gdb, then serve until the process ends or gdb leaves (the thread's body)."""
        try:
            from . import private_socket
            sock, _ = self.listener.accept()
            self._close_listener()
            sock = private_socket(sock)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.channel = Channel(sock)
            while True:
                stop = self._await_stop()
                if stop.thread is None:
                    self._send(self._exit_reply(stop))
                    self.debugger.exit_reported()
                    break
                if not stop.initial:
                    self._send(self._stop_reply(stop))
                self._serve_stopped(stop)
        except Detached:
            pass
        except Exception as exc:     # a bug in the stub: say so, let the guest run on
            sys.stderr.write(f"pyemu: gdb stub: internal error: {type(exc).__name__}: {exc}\n")
        self.debugger.detach()
        self.release()

    def _close_listener(self) -> None:
        PRIVATE.numbers.discard(self.listener.fileno())
        self.listener.close()

    def release(self) -> None:
        """Close the stub's descriptors (at the end of the session; in a forked child, only
        its copies: the connection goes on in the parent)."""
        self.files.close_all()
        if self.listener.fileno() >= 0:
            self._close_listener()
        if self.channel is not None:
            PRIVATE.numbers.discard(self.channel.fileno())      # -1 once closed
            self.channel.close()
        for fd in (self._wake_r, self._wake_w):
            PRIVATE.close(fd)

    def _await_stop(self) -> Stop:
        """Wait, while the guest runs, for its next stop; Ctrl-C asks for one. (poll, not
        select: pyemu's own descriptors lie above FD_SETSIZE, see kernel.fdspace)"""
        channel = self.channel
        poller = select.poll()
        poller.register(channel.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            stop = self.debugger.stop
            if stop is not None:
                return stop
            if channel.interrupted:
                channel.interrupted = False
                self.debugger.interrupt()
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
            if channel.fileno() in ready and not channel.pump():
                raise Detached

    def _serve_stopped(self, stop: Stop) -> None:
        self.selected = stop.thread
        while True:
            packet = self.channel.read_packet()
            if packet is None:
                raise Detached
            reply = self.handle(packet)
            if reply is not None:
                self._send(reply)
            if self.debugger.stop is not stop:       # resumed
                return

    def handle(self, packet: bytes) -> bytes | None:
        """The reply to one packet (None: none is due, the guest was resumed)."""
        command = self._commands.get(chr(packet[0])) if packet else None
        if command is None:
            return b""
        try:
            return command(packet)
        except GuestFault:
            return E_FAULT
        except Detached:
            raise
        except Exception:       # malformed (bad hex, missing fields, unknown thread): E01
            if os.environ.get("PYEMU_DEBUG"):
                raise
            return ERROR

    def _send(self, payload: bytes) -> None:
        self.channel.send(payload)
        if self.channel.closed:
            raise Detached

    # -- stop replies ------------------------------------------------------------------------
    def _stop_reply(self, stop: Stop) -> bytes:
        reply = b"T%02xthread:%x;" % (to_gdb(stop.signal, self.abi), stop.thread.tid)
        if stop.reason in ("swbreak", "hwbreak") and self.swbreak:
            reply += stop.reason.encode() + b":;"
        elif stop.reason in _WATCH_KINDS.values():
            reply += b"%s:%x;" % (stop.reason.encode(), stop.address)
        return reply

    def _exit_reply(self, stop: Stop) -> bytes:
        if stop.death_signal:
            return b"X%02x" % to_gdb(stop.death_signal, self.abi)
        return b"W%02x" % (stop.exit_status & 0xFF)

    def _why(self, packet: bytes) -> bytes:
        return self._stop_reply(self.debugger.stop)

    # -- registers and memory ----------------------------------------------------------------
    def _cpu(self) -> Any:
        return (self.selected or self.debugger.stop.thread).cpu

    def _read_registers(self, packet: bytes) -> bytes:
        return self.inferior.read_all(self._cpu()).hex().encode()

    def _write_registers(self, packet: bytes) -> bytes:
        self.inferior.write_all(self._cpu(), bytes.fromhex(packet[1:].decode()))
        return b"OK"

    def _read_register(self, packet: bytes) -> bytes:
        number = int(packet[1:], 16)
        if number >= len(self.inferior.registers):
            return ERROR
        return self.inferior.read_register(self._cpu(), number).hex().encode()

    def _write_register(self, packet: bytes) -> bytes:
        number, value = packet[1:].split(b"=", 1)
        self.inferior.write_register(self._cpu(), int(number, 16), bytes.fromhex(value.decode()))
        return b"OK"

    @staticmethod
    def _address_length(text: bytes) -> tuple[int, int]:
        address, length = text.split(b",", 1)
        return int(address, 16), int(length, 16)

    def _read_memory(self, packet: bytes) -> bytes:
        address, length = self._address_length(packet[1:])
        return self.inferior.read_memory(address, min(length, 0x1FF0)).hex().encode()

    def _write_memory(self, packet: bytes) -> bytes:
        where, data = packet[1:].split(b":", 1)
        address, length = self._address_length(where)
        payload = bytes.fromhex(data.decode())
        if len(payload) != length:
            return ERROR
        self.inferior.write_memory(address, payload)
        return b"OK"

    def _write_binary(self, packet: bytes) -> bytes:
        where, data = packet[1:].split(b":", 1)
        address, length = self._address_length(where)
        if len(data) != length:
            return ERROR
        self.inferior.write_memory(address, data)
        return b"OK"

    # -- breakpoints and watchpoints ---------------------------------------------------------
    def _insert(self, packet: bytes) -> bytes:
        return self._point(packet, True)

    def _remove(self, packet: bytes) -> bytes:
        return self._point(packet, False)

    def _point(self, packet: bytes, insert: bool) -> bytes:
        kind, address, size = packet[1:].split(b";", 1)[0].decode().split(",")
        where, length = int(address, 16), int(size, 16)
        if kind in _BREAK_KINDS:
            if length not in self.inferior.target.breakpoint_kinds:
                return ERROR
            self.debugger.set_breakpoint(where, _BREAK_KINDS[kind], insert)
        elif kind in _WATCH_KINDS:
            if length <= 0:
                return ERROR
            self.debugger.set_watchpoint(Watch(_WATCH_KINDS[kind], where, length), insert)
        else:
            return b""
        return b"OK"

    # -- threads -----------------------------------------------------------------------------
    def _thread(self, text: bytes) -> Any:
        """The live thread a thread-id names (0 and -1: the stopped one); KeyError if none."""
        tid = int(text, 16) if text not in (b"-1", b"0", b"") else 0
        if tid == 0:
            return self.debugger.stop.thread
        for thread in self.debugger.live_threads():
            if thread.tid == tid:
                return thread
        raise KeyError(tid)

    def _select_thread(self, packet: bytes) -> bytes:
        which, text = packet[1:2], packet[2:]
        if which == b"g":
            self.selected = self._thread(text)
        elif which == b"c":
            self.continue_thread = -1 if text in (b"-1", b"0", b"") else self._thread(text).tid
        else:
            return ERROR
        return b"OK"

    def _thread_alive(self, packet: bytes) -> bytes:
        self._thread(packet[1:])
        return b"OK"

    def thread_list(self) -> list[tuple[int, str]]:
        name = os.path.basename(self.debugger.k.process.exe)[:15]
        return [(t.tid, name) for t in self.debugger.live_threads()]

    # -- resuming ----------------------------------------------------------------------------
    def _resume(self, actions: list[tuple[str, int, int | None]]) -> None:
        """Apply vCont actions: (mode, gdb signal, thread id or None for all). Actions apply
        left to right, the first that matches a thread being its own; threads no action
        matches stay stopped."""
        policy: dict[int, str] = {}
        signals: dict[int, int] = {}
        default: str | None = None
        for mode, gdb_signal, tid in actions:
            if default is not None:
                break
            if tid is None:
                default = mode
            elif tid not in policy:
                self._thread(b"%x" % tid)                      # a live thread, or KeyError
                policy[tid] = mode
                signals[tid] = from_gdb(gdb_signal, self.abi)
        stopped = self.debugger.stop.thread
        signal = signals.pop(stopped.tid, 0)
        for thread in self.debugger.live_threads():
            self.debugger.inject(thread, signals.get(thread.tid, 0))
        self.debugger.resume(policy, default, signal)

    def _legacy_resume(self, packet: bytes) -> None:
        """c/s [addr] and C/S sig[;addr]: the Hc thread (or all) runs; a step steps the
        stopped thread alone."""
        command, rest = chr(packet[0]), packet[1:].decode()
        gdb_signal = 0
        if command in "CS":
            gdb_signal, _, rest = rest.partition(";")
            gdb_signal = int(gdb_signal, 16)
        stopped = self.debugger.stop.thread
        if rest:                                    # resume at that address
            stopped.cpu.write_wide(stopped.cpu.spec.pc, int(rest, 16))
        mode = command.lower()
        if mode == "s":
            self._resume([("s", gdb_signal, stopped.tid)])
        elif self.continue_thread == -1:
            self._resume([("c", gdb_signal, stopped.tid), ("c", 0, None)])
        else:
            self._resume([("c", gdb_signal, self.continue_thread)])
        return None

    def _v_packet(self, packet: bytes) -> bytes | None:
        if packet == b"vCont?":
            return b"vCont;c;C;s;S"
        if packet.startswith(b"vCont;"):
            self._resume([self._vcont_action(a) for a in packet[6:].split(b";")])
            return None
        if packet.startswith(b"vKill"):
            self._send(b"OK")
            return self._kill(packet)
        if packet.startswith(b"vFile:"):
            operation, _, args = packet[6:].partition(b":")
            return self.files.handle(operation.decode(), args)
        return b""

    @staticmethod
    def _vcont_action(text: bytes) -> tuple[str, int, int | None]:
        action, _, thread = text.decode().partition(":")
        mode = action[:1]
        if not mode or mode not in "cCsS":
            raise ValueError(f"vCont action {action!r}")
        gdb_signal = int(action[1:], 16) if mode in "CS" else 0
        tid = None if thread in ("", "-1") else int(thread, 16)
        return mode.lower(), gdb_signal, tid

    # -- queries -----------------------------------------------------------------------------
    def _query(self, packet: bytes) -> bytes:
        name, _, args = packet.decode().partition(":")
        if name == "qSupported":
            self.swbreak = "swbreak+" in args.split(";")
            return SUPPORTED
        if name == "qXfer":
            return self._transfer(args)
        answers = {
            "qAttached": b"0", "qSymbol": b"OK",
            "qC": b"QC%x" % self.debugger.stop.thread.tid,
            "qfThreadInfo": b"m" + b",".join(b"%x" % tid for tid, _ in self.thread_list()),
            "qsThreadInfo": b"l",
        }
        return answers.get(name, b"")

    def _transfer(self, args: str) -> bytes:
        """qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH -> m/l + the piece."""
        obj, operation, annex, span = args.split(":", 3)
        if operation != "read":
            return b""
        offset, length = (int(x, 16) for x in span.split(","))
        data = self.inferior.document(obj, annex, self.thread_list())
        if data is None:
            return b""
        piece = data[offset:offset + length]
        return (b"l" if offset + length >= len(data) else b"m") + piece

    def _set(self, packet: bytes) -> bytes:
        if packet == b"QStartNoAckMode":
            self._send(b"OK")            # acknowledged, the last packet to be
            self.channel.acks = False
            return None
        return b""

    def _detach(self, packet: bytes) -> bytes:
        self._send(b"OK")
        raise Detached

    def _kill(self, packet: bytes) -> None:
        self.channel.close()
        self.debugger.kill()
