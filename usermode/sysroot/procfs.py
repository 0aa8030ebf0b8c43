"""/proc as the guest must see it: its own maps, auxv, command line, name and CPU, not the host's.

``kind_of`` says whether a guest path is one of the emulated files; ``render`` produces its
contents from a ``ProcessView`` (plain data the kernel hands over). Everything else under /proc
is the host's, which is right for /proc/self/fd, /proc/self/cwd, /proc/meminfo and the like.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable, Protocol

_SELF = re.compile(rb"^/proc/(self|thread-self|\d+)/(maps|smaps|auxv|cmdline|environ|stat|status|"
                   rb"comm)$")


@dataclass(frozen=True)
class MapEntry:
    start: int
    end: int
    prot: int            # PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4
    offset: int
    device: int
    inode: int
    name: str
    shared: bool = False     # "s" in the permissions column

class ProcessView(Protocol):
    pid: int
    word_size: int
    byteorder: str
    name: str                       # comm: the program's base name
    argv: list[bytes]
    envp: list[bytes]
    auxv: tuple[tuple[int, int], ...]
    cpuinfo: str
    stack_start: int
    threads: int                    # guest threads (pyemu's own are not the guest's)
    nsig: int                       # signals in a sigset (64, MIPS 128)
    # signal sets of the calling thread and its process, bit n-1 for signal n
    sig_pending: int
    shared_pending: int
    blocked: int
    ignored: int
    caught: int

    def maps(self) -> Iterable[MapEntry]: ...


def kind_of(guest: bytes, pid: int) -> str | None:
    """'maps', 'auxv', ... for an emulated /proc file of this process, 'cpuinfo', or None."""
    if guest == b"/proc/cpuinfo":
        return "cpuinfo"
    match = _SELF.match(guest)
    if match is None:
        return None
    who = match.group(1)
    if who.isdigit() and int(who) != pid:
        return None
    return match.group(2).decode()


def render(kind: str, view: ProcessView) -> bytes:
    return _RENDERERS[kind](view)


def _maps(view: ProcessView) -> bytes:
    width = 25 + 6 * view.word_size - 1
    lines = []
    for m in _merged(view.maps()):
        perms = "".join(c if m.prot & bit else "-" for c, bit in (("r", 1), ("w", 2), ("x", 4)))
        dev = f"{os.major(m.device):02x}:{os.minor(m.device):02x}"
        share = "s" if m.shared else "p"
        line = f"{m.start:08x}-{m.end:08x} {perms}{share} {m.offset:08x} {dev} {m.inode}"
        if m.name:
            line = line.ljust(width) + " " + m.name
        lines.append(line + "\n")
    return "".join(lines).encode()


def _merged(entries: Iterable[MapEntry]) -> list[MapEntry]:
    """Adjacent mappings with the same rights and backing show as one, as Linux merges them."""
    out: list[MapEntry] = []
    for m in entries:
        prev = out[-1] if out else None
        if (prev and prev.end == m.start and prev.prot == m.prot and prev.name == m.name
                and prev.inode == m.inode and prev.shared == m.shared
                and (not m.inode or prev.offset + (prev.end - prev.start) == m.offset)):
            out[-1] = MapEntry(prev.start, m.end, prev.prot, prev.offset, prev.device,
                               prev.inode, prev.name, prev.shared)
        else:
            out.append(m)
    return out


def _auxv(view: ProcessView) -> bytes:
    return b"".join(v.to_bytes(view.word_size, view.byteorder)
                    for pair in view.auxv for v in pair)


def _nul_joined(items: list[bytes]) -> bytes:
    return b"".join(item + b"\0" for item in items)


def _status(view: ProcessView) -> bytes:
    """The host's status lines, with the guest's name, thread count and signal sets."""
    with open("/proc/self/status", "rb") as f:
        host = f.read().decode(errors="replace").splitlines()
    digits = view.nsig // 4
    ours = {"Name": view.name, "Threads": str(view.threads),
            "SigPnd": f"{view.sig_pending:0{digits}x}", "ShdPnd": f"{view.shared_pending:0{digits}x}",
            "SigBlk": f"{view.blocked:0{digits}x}", "SigIgn": f"{view.ignored:0{digits}x}",
            "SigCgt": f"{view.caught:0{digits}x}"}
    lines = []
    for line in host:
        key = line.split(":", 1)[0]
        lines.append(f"{key}:\t{ours[key]}" if key in ours else line)
    return ("\n".join(lines) + "\n").encode()


def _stat(view: ProcessView) -> bytes:
    with open("/proc/self/stat", "rb") as f:
        host = f.read().decode()
    rest = host[host.rindex(")") + 2:].split()
    rest[25] = str(view.stack_start)        # field 28, startstack
    return f"{view.pid} ({view.name}) {' '.join(rest)}\n".encode()


_RENDERERS = {
    "maps": _maps,
    "smaps": _maps,
    "auxv": _auxv,
    "cmdline": lambda v: _nul_joined(v.argv),
    "environ": lambda v: _nul_joined(v.envp),
    "status": _status,
    "stat": _stat,
    "comm": lambda v: v.name.encode() + b"\n",
    "cpuinfo": lambda v: v.cpuinfo.encode(),
}
