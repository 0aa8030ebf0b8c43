"""The GDB remote serial protocol's framing: ``$payload#cs`` packets, acks, escapes, Ctrl-C.

A packet is ``$``, the payload, ``#`` and two hex digits of the payload's byte sum modulo 256.
The receiver answers ``+`` (or ``-`` for a bad checksum: the sender sends it again) until
``QStartNoAckMode`` turns acknowledgments off. In a payload, ``}`` escapes the next byte
(XOR 0x20): binary data (``X``) escapes ``$``, ``#``, ``}`` and ``*``. A lone 0x03 byte outside a
packet is gdb's interrupt request (Ctrl-C). Reference: the gdb manual, "Remote Protocol".
"""
from __future__ import annotations

import re
import socket

INTERRUPT = 0x03
_ESCAPE = 0x7D
_MUST_ESCAPE = re.compile(rb"[$#}*]")


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    return _MUST_ESCAPE.sub(lambda m: bytes((_ESCAPE, m.group()[0] ^ 0x20)), data)


def unescape(data: bytes) -> bytes:
    if _ESCAPE not in data:
        return data
    out = bytearray()
    it = iter(data)
    for byte in it:
        out.append(next(it, 0x20) ^ 0x20 if byte == _ESCAPE else byte)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    body = escape(payload)
    return b"$" + body + b"#%02x" % checksum(body)


class Channel:
    """One connection to gdb: whole packets in, framed packets out.

    ``interrupted`` is set when a Ctrl-C byte arrives; the server looks at it while the guest
    runs. Reads return None at end of file (gdb went away)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.acks = True
        self.interrupted = False
        self.closed = False
        self._buf = bytearray()

    def fileno(self) -> int:
        return self.sock.fileno()

    def _fill(self) -> bool:
        """Read what the socket has (blocking for at least one byte); False at end of file."""
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self._buf += data
        return True

    def pump(self) -> bool:
        """Take in what arrived while the guest runs (only Ctrl-C matters then); False at
        end of file."""
        if not self._fill():
            return False
        self._take_interrupts()
        return True

    def _take_interrupts(self) -> None:
        """Ctrl-C bytes before any packet start; acks gdb sends for our stop replies."""
        while self._buf and self._buf[0] != ord("$"):
            if self._buf[0] == INTERRUPT:
                self.interrupted = True
            del self._buf[0]

    def read_packet(self) -> bytes | None:
        """The next packet's payload (unescaped), after acknowledging it; None at end of file.
        A packet with a bad checksum is refused with ``-`` and skipped (gdb sends it again)."""
        while True:
            self._take_interrupts()
            end = self._buf.find(b"#")
            if self._buf and end >= 0 and len(self._buf) >= end + 3:
                body = bytes(self._buf[1:end])
                sent = bytes(self._buf[end + 1:end + 3])
                del self._buf[:end + 3]
                good = sent.lower() == b"%02x" % checksum(body)
                if self.acks:
                    self._send_raw(b"+" if good else b"-")
                if good:
                    return unescape(body)
                continue
            if not self._fill():
                return None

    def send(self, payload: bytes) -> None:
        """Send one packet; with acks on, again until gdb acknowledges it (at most a few
        times: a peer that keeps refusing is not waited for forever)."""
        packet = frame(payload)
        for _ in range(4):
            self._send_raw(packet)
            if not self.acks or self._await_ack():
                return

    def _await_ack(self) -> bool:
        while True:
            while self._buf and self._buf[0] == INTERRUPT:
                self.interrupted = True
                del self._buf[0]
            if self._buf:
                first = self._buf[0]
                if first in b"+-":
                    del self._buf[0]
                    return first == ord("+")
                return True         # gdb went on with a packet: take the reply as received
            if not self._fill():
                return True

    def _send_raw(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
