"""The gdb stub (``pyemu-ARCH -g PORT``) driven by Debian's gdb-multiarch, and by a raw remote
protocol client where gdb cannot say what is checked (Ctrl-C, malformed packets).

Every session starts pyemu with ``-g`` on a free port, runs ``gdb-multiarch -batch -nx`` with
``-ex`` commands (gdb retries the connection until pyemu listens), and looks at gdb's output
and at how the guest ended.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import (ARCHES, find_command, guest, minimal_env, normalize_status,
                     pyemu_command)

from usermode.gdbstub import packets
from usermode.gdbstub.signals import from_gdb, to_gdb
from usermode.gdbstub.targets import TARGETS, target_xml
from usermode.syscalls.abi import ABI_FOR_ARCH, Abi
from usermode.translate.cpu import preemptible

DEBUG_FLAGS = ("-static", "-g", "-O0")
GDB_ARCH = {"arm": "arm", "aarch64": "aarch64", "mips": "mips:isa32", "mipsel": "mips:isa32"}
SESSION_TIMEOUT = 90


def gdb_command() -> str:
    return find_command("gdb-multiarch", "Install it with: apt-get install gdb-multiarch")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Ended:
    status: int
    stdout: str
    stderr: str


class Guest:
    """``pyemu-ARCH -g PORT [options] program args`` in the background."""

    def __init__(self, arch: str, program: Path, args: tuple[str, ...] = (),
                 options: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        command = [*pyemu_command(arch), "-g", str(self.port), *options, str(program), *args]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=minimal_env(),
                                     start_new_session=True)

    def wait(self, timeout: float = SESSION_TIMEOUT) -> Ended:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"pyemu did not end within {timeout}s\n{out.decode()}{err.decode()}")
        return Ended(normalize_status(self.proc.returncode), out.decode(), err.decode())

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass

    def gdb(self, program: Path, *commands: str, arch: str | None = None) -> str:
        """Run gdb's commands against this guest; its output (stdout and stderr)."""
        setup = [f"set architecture {GDB_ARCH[arch]}"] if arch else []
        argv = [gdb_command(), "-batch", "-nx", "-ex", "set confirm off"]
        for command in [*setup, f"target remote 127.0.0.1:{self.port}", *commands]:
            argv += ["-ex", command]
        try:
            proc = subprocess.run([*argv, str(program)], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=SESSION_TIMEOUT,
                                  env=minimal_env(), errors="replace")
        except subprocess.TimeoutExpired as exc:
            self.kill()
            pytest.fail(f"gdb did not finish within {SESSION_TIMEOUT}s: {exc.stdout}")
        return proc.stdout + proc.stderr

    def __enter__(self) -> "Guest":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()
        self.proc.communicate()


# -- gdb sessions on every architecture ---------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHES)
def test_break_print_next_continue(arch):
    program = guest("gdb_basic", arch, DEBUG_FLAGS)
    with Guest(arch, program) as g:
        out = g.gdb(program, "break main", "continue", "print $pc", "next", "print local",
                    "next", "print result", "continue", arch=arch)
        ended = g.wait()
    assert "Breakpoint 1, main (argc=1" in out, out
    assert re.search(r"\$1 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <main\+\d+>", out), out
    assert "$2 = 22" in out, out                    # local after `next`
    assert "$3 = 484" in out, out                   # square(22), stepped over
    assert "[Inferior 1 (Remote target) exited with code 026]" in out, out
    assert (ended.status, ended.stdout) == (22, "result=484\n"), ended


@pytest.mark.parametrize("arch", ARCHES)
def test_registers_written_by_return_and_read_by_finish(arch):
    """gdb's ``return 7`` writes the result register and the pc (P/G packets); ``finish``
    reads a double from the floating-point registers (gdb takes Debian's MIPS "any FPU"
    binaries for soft-float unless told ``set mipsfpu double``)."""
    basic, floating = guest("gdb_basic", arch, DEBUG_FLAGS), guest("gdb_float", arch, DEBUG_FLAGS)
    with Guest(arch, basic) as g:
        out = g.gdb(basic, "break square", "continue", "return 7", "bt 1", "continue", arch=arch)
        ended = g.wait()
    assert "#0  0x" in out and "in main (argc=1" in out, out
    assert (ended.status, ended.stdout) == (22, "result=7\n"), ended
    with Guest(arch, floating) as g:
        out = g.gdb(floating, "set mipsfpu double" if "mips" in arch else "echo",
                    "break scale", "continue", "print x", "finish", "continue", arch=arch)
        ended = g.wait()
    assert "$1 = 1.25" in out and "Value returned is $2 = 3.75" in out, out
    assert (ended.status, ended.stdout) == (3, "3.75\n"), ended


@pytest.mark.parametrize("arch", ARCHES)
def test_shared_library_breakpoint_through_target_files(arch):
    """A dynamic program: gdb reads the loader and libc through the stub (vFile, its default
    sysroot ``target:``), finds them with qXfer:libraries-svr4, and stops in libc's puts."""
    program = guest("gdb_puts", arch, ("-g", "-O0"))
    with Guest(arch, program) as g:
        out = g.gdb(program, "break puts", "continue", "bt 2", "continue")
        ended = g.wait()
    assert re.search(r"Breakpoint 1, 0x[0-9a-f]+ in puts \(\) from target:/\S*libc\.so\.6",
                     out), out
    assert re.search(r"#1 .* in main \(argc=1, argv=", out), out
    assert "exited with code 051" in out, out
    assert (ended.status, ended.stdout) == (41, "hello from a dynamic program\n"), ended


def test_shared_library_breakpoint_with_local_sysroot():
    """gdb's own sysroot (the cross toolchain's): the library list's names are found there.
    LD_LIBRARY_PATH=/lib makes the guest's loader take libc from the sysroot too (a host with
    libc6:arm64 installed would otherwise give it the host's multiarch copy, by the -L rule)."""
    program = guest("gdb_puts", "aarch64", ("-g", "-O0"))
    with Guest("aarch64", program, options=("-E", "LD_LIBRARY_PATH=/lib")) as g:
        out = g.gdb(program, "set sysroot /usr/aarch64-linux-gnu", "break puts", "continue",
                    "info sharedlibrary", "continue")
        ended = g.wait()
    assert re.search(r"Breakpoint 1, 0x[0-9a-f]+ in puts \(\) from "
                     r"/usr/aarch64-linux-gnu/lib/libc\.so\.6", out), out
    assert re.search(r"Yes.*/usr/aarch64-linux-gnu/lib/ld-linux-aarch64\.so\.1", out), out
    assert ended.status == 41, ended


@pytest.mark.parametrize("arch", ARCHES)
def test_threads_are_listed_and_stopped_together(arch):
    program = guest("gdb_threads", arch, (*DEBUG_FLAGS, "-pthread"))
    with Guest(arch, program) as g:
        out = g.gdb(program, "break all_started", "continue", "info threads", "thread 2",
                    "bt", "next", "info threads", "continue", arch=arch)
        ended = g.wait()
    listed = out.split("Single stepping")[0]                     # the first `info threads`
    threads = re.findall(r"^\*?\s+(\d+)\s+Thread (\d+) \"gdb_threads-", listed, re.MULTILINE)
    assert [n for n, _ in threads] == ["1", "2", "3"], out
    assert len({tid for _, tid in threads}) == 3, out
    assert re.search(r"^\* 1 .* all_started \(\) at ", listed, re.MULTILINE), out
    assert re.search(r"in worker \(arg=0x0\) at ", out), out    # thread 2's backtrace
    # `next` in thread 2, blocked in a futex wait: the step ends once main goes on and the
    # wait returns (in the syscall wrapper's caller or in worker, as gdb's stepping out of a
    # function without line information decides), with thread 2 the current one
    stepped = out.split("Single stepping")[1]
    assert re.search(r"^\* 2 +Thread \d+ .*\b(pthread_barrier_wait|worker) \(", stepped,
                     re.MULTILINE), out
    assert "exited with code 07" in out, out
    assert (ended.status, ended.stdout) == (7, "joined\n"), ended


@pytest.mark.parametrize("arch", ARCHES)
def test_watchpoint_then_signal(arch):
    """A write watchpoint stops after each store with the old and new value; a SIGSEGV is
    shown to gdb first, then delivered when gdb continues (the guest dies of it)."""
    program = guest("gdb_watch", arch, DEBUG_FLAGS)
    with Guest(arch, program) as g:
        out = g.gdb(program, "break bump", "continue", "watch counter", "continue",
                    "continue", "delete", "continue", "continue", arch=arch)
        ended = g.wait()
    changes = re.findall(r"Old value = (\d+)\nNew value = (\d+)", out)
    assert changes == [("0", "2"), ("2", "4")], out
    assert "Program received signal SIGSEGV, Segmentation fault." in out, out
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in out, out
    assert ended.status == 128 + 11 and ended.stdout == "counter=6\n", ended


@pytest.mark.parametrize("arch", ["arm", "mipsel"])
def test_signal_from_outside_stops_in_gdb_first(arch):
    """SIGUSR1 sent to pyemu (whose default action ends the guest) is shown to gdb when it is
    delivered, in gdb's numbering (MIPS's guest number differs), then kills the guest when gdb
    passes it on."""
    program = guest("gdb_spin", arch, DEBUG_FLAGS)
    with Guest(arch, program, ("syscalls",)) as g:
        sender = threading.Timer(1.5, os.kill, (g.proc.pid, signal.SIGUSR1))
        sender.start()
        out = g.gdb(program, "continue", "print spins > 0", "continue", arch=arch)
        sender.cancel()
        ended = g.wait()
    assert "Program received signal SIGUSR1, User defined signal 1." in out, out
    assert "$1 = 1" in out, out
    assert "Program terminated with signal SIGUSR1, User defined signal 1." in out, out
    assert ended.status == 128 + signal.SIGUSR1, ended


# How a session can end: (arch, gdb's commands, what gdb says, the guest's status and output).
# Detaching, or gdb going away (killed while the guest is stopped at a breakpoint), lets the
# guest run to its end without breakpoints, as qemu's stub does; gdb's kill kills it.
SESSION_ENDS = {
    "detach": ("arm", ("break square", "continue", "detach"), "Breakpoint 1, square (x=22)",
               (22, "result=484\n")),
    "kill": ("mipsel", ("break main", "continue", "kill"), "[Inferior 1 (Remote target) killed]",
             (128 + 9, "")),
    "gdb-killed": ("aarch64", ("break main", "break square", "continue", "shell kill -9 $PPID"),
                   "Breakpoint 1, main (argc=1", (22, "result=484\n")),
}


@pytest.mark.parametrize("how", SESSION_ENDS)
def test_session_end(how):
    arch, commands, said, outcome = SESSION_ENDS[how]
    program = guest("gdb_basic", arch, DEBUG_FLAGS)
    with Guest(arch, program) as g:
        out = g.gdb(program, *commands)
        ended = g.wait()
    assert said in out, out
    assert (ended.status, ended.stdout) == outcome, ended


# -- a raw remote protocol client ----------------------------------------------------------------
class Rsp:
    """A minimal client: packets with checksums, acks read and checked."""

    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.buf = b""

    def raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def byte(self) -> bytes:
        while not self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the stub closed the connection")
            self.buf += chunk
        first, self.buf = self.buf[:1], self.buf[1:]
        return first

    def reply(self, ack: bool = True) -> bytes:
        """The next packet from the stub (acknowledged unless ``ack`` is false)."""
        while self.byte() != b"$":
            pass
        body = b""
        while (c := self.byte()) != b"#":
            body += c
        check = self.byte() + self.byte()
        assert int(check, 16) == packets.checksum(body), (body, check)
        if ack:
            self.raw(b"+")
        return packets.unescape(body)

    def ask(self, payload: bytes) -> bytes:
        self.raw(packets.frame(payload))
        assert self.byte() == b"+", "the stub did not acknowledge"
        return self.reply()


def test_malformed_packets_get_errors_and_the_stub_goes_on():
    program = guest("gdb_basic", "mips", DEBUG_FLAGS)
    with Guest("mips", program) as g:
        rsp = Rsp(g.port)
        rsp.raw(b"junk+-")                                  # noise between packets: ignored
        rsp.raw(b"$g#00")
        assert rsp.byte() == b"-"                           # bad checksum: refused
        stop = rsp.ask(b"?")
        assert re.fullmatch(rb"T05thread:[0-9a-f]+;", stop), stop
        for bad, expected in [(b"mzz,qq", b"E01"), (b"m0,4", b"E0e"), (b"pffff", b"E01"),
                              (b"Pzz=1", b"E01"), (b"Z0,400000,7", b"E01"), (b"Hgzz", b"E01"),
                              (b"Hg7fffffff", b"E01"), (b"X400000,4:ab", b"E01"),
                              (b"vCont;x", b"E01"), (b"qXfer:features:read:nothing", b"E01"),
                              (b"qFooBar", b""), (b"Z9,0,0", b""), (b"\x00\xff", b""),
                              (b"", b"")]:
            assert rsp.ask(bad) == expected, bad
        registers = rsp.ask(b"g")
        assert len(registers) == 2 * 4 * 72, len(registers)       # MIPS: 72 32-bit registers
        tid = stop[len(b"T05thread:"):-1]
        assert rsp.ask(b"qC") == b"QC" + tid
        assert rsp.ask(b"qXfer:exec-file:read::0,fff") == b"l" + str(program).encode()
        assert b'<thread id="%s"' % tid in rsp.ask(b"qXfer:threads:read::0,fff")
        auxv = rsp.ask(b"qXfer:auxv:read::0,fff")[1:]
        words = [int.from_bytes(auxv[i:i + 4], "big") for i in range(0, len(auxv), 4)]
        assert dict(zip(words[::2], words[1::2]))[6] == 4096     # AT_PAGESZ, big-endian words
        rsp.raw(packets.frame(b"qAttached"))
        assert rsp.byte() == b"+"
        first = rsp.reply(ack=False)
        rsp.raw(b"-")                                       # refuse it: the stub sends it again
        assert (first, rsp.reply()) == (b"0", b"0")
        rsp.raw(packets.frame(b"c"))
        assert rsp.byte() == b"+"
        assert rsp.reply() == b"W16"                        # exit status 22
        ended = g.wait()
    assert (ended.status, ended.stdout) == (22, "result=484\n"), ended


def _interrupt(arch: str, args: tuple[str, ...]) -> tuple[bytes, bytes, Ended]:
    """Continue a spinning guest, send Ctrl-C; (its stop reply, pc, how it ended after k)."""
    program = guest("gdb_spin", arch, DEBUG_FLAGS)
    with Guest(arch, program, args) as g:
        rsp = Rsp(g.port)
        assert rsp.ask(b"QStartNoAckMode") == b"OK"
        rsp.raw(packets.frame(b"vCont;c"))
        time.sleep(1.0)
        rsp.raw(b"\x03")
        stop = rsp.reply()
        pc_number = [r.name for r in TARGETS[arch].registers].index("pc")
        rsp.raw(packets.frame(b"p%x" % pc_number))          # no acks any more
        pc = rsp.reply()
        rsp.raw(packets.frame(b"k"))
        ended = g.wait()
    return stop, pc, ended


@pytest.mark.parametrize("arch", ARCHES)
def test_ctrl_c_stops_a_guest_spinning_in_syscalls(arch):
    stop, pc, ended = _interrupt(arch, ("syscalls",))
    assert re.fullmatch(rb"T02thread:[0-9a-f]+;", stop), stop
    assert ended.status == 128 + 9, ended


@pytest.mark.skipif(not preemptible(), reason="the stock engine cannot be stopped from another "
                    "thread safely: Ctrl-C takes effect at the guest's next syscall")
@pytest.mark.parametrize("arch", ARCHES)
def test_ctrl_c_stops_a_guest_spinning_without_syscalls(arch):
    stop, pc, ended = _interrupt(arch, ())
    assert re.fullmatch(rb"T02thread:[0-9a-f]+;", stop), stop
    assert int(pc, 16), pc
    assert ended.status == 128 + 9, ended


# -- bad command lines -------------------------------------------------------------------------
@pytest.mark.parametrize("given_by", ["flag", "environment"])
def test_port_in_use_is_one_line_and_status_1(given_by):
    """-g PORT or PYEMU_GDB=PORT on a port something else listens on."""
    program = guest("gdb_basic", "arm", DEBUG_FLAGS)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        flag = ["-g", port] if given_by == "flag" else []
        env = minimal_env({} if flag else {"PYEMU_GDB": port})
        proc = subprocess.run([*pyemu_command("arm"), *flag, str(program)], capture_output=True,
                              text=True, timeout=60, env=env)
    assert (proc.returncode, proc.stdout) == (1, ""), proc
    assert proc.stderr == (f"pyemu: cannot listen for gdb on 127.0.0.1:{port}: "
                           "Address already in use\n"), proc.stderr


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_bad_port_value(value):
    proc = subprocess.run([*pyemu_command("arm"), "-g", value, "/bin/true"], capture_output=True,
                          text=True, timeout=60, env=minimal_env())
    assert (proc.returncode, proc.stderr) == (
        1, f"pyemu: bad gdb port '{value}' (-g takes a TCP port, 1-65535)\n"), proc


# -- pure parts --------------------------------------------------------------------------------
def test_framing_round_trip():
    payload = b"X1000,4:\x00$#}*\xff"
    framed = packets.frame(payload)
    body = framed[1:framed.index(b"#", len(framed) - 3)]
    assert b"$" not in body[1:] and packets.unescape(body) == payload
    assert framed.endswith(b"#%02x" % packets.checksum(body))


@pytest.mark.parametrize("arch", ARCHES)
def test_target_description_is_generated_from_the_register_table(arch):
    target = TARGETS[arch]
    root = ET.fromstring(target_xml(target).split("?>", 1)[1].split(">", 1)[1])
    regs = [(r.get("name"), int(r.get("regnum")), int(r.get("bitsize")))
            for r in root.iter("reg")]
    assert sorted(n for _, n, _ in regs) == list(range(len(target.registers)))
    assert {name: (num, bits) for name, num, bits in regs} == \
        {r.name: (i, r.bits) for i, r in enumerate(target.registers)}
    assert root.findtext("architecture") == GDB_ARCH[arch]


@pytest.mark.parametrize("arch", ARCHES)
def test_signal_numbers_by_name(arch):
    abi = Abi(ABI_FOR_ARCH[arch], "little")
    for name, gdb in [("SIGSEGV", 11), ("SIGUSR1", 30), ("SIGCHLD", 20), ("SIGBUS", 10),
                      ("SIGINT", 2)]:
        assert to_gdb(abi.signals[name], abi) == gdb
        assert from_gdb(gdb, abi) == abi.signals[name]
    rtmin = abi.signals["SIGRTMIN"]
    assert to_gdb(rtmin, abi) == 77 and to_gdb(rtmin + 1, abi) == 45
    assert from_gdb(45, abi) == rtmin + 1
