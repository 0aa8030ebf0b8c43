"""Networking: guest sockets on the host's network, compared with qemu-user on every arch.

Guest programs (tests/guest/net_*.c) talk to each other, to host-side Python peers started by
the test, and Debian's busybox ``nc`` and python3 ``http.server``/``urllib`` talk to the host.
Where the guest prints something that differs between two runs (a port), the transcript
replaces it before the two emulators' transcripts are compared.
"""

from __future__ import annotations

import os
import re
import select
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from harness import (ARCHES, assert_same, debian_sysroot, fetch_busybox, guest, minimal_env,
                     pyemu_command, qemu_command)

ARCH_OF = {"arm64": "aarch64", "armhf": "arm"}


@pytest.mark.parametrize("arch", ARCHES)
def test_sockets_within_the_guest(arch):
    """AF_UNIX pairs, SCM_RIGHTS/SCM_CREDENTIALS across a fork, TCP/UDP over 127.0.0.1 and ::1,
    mmsg calls, options with struct values, errors, SIGPIPE."""
    out = assert_same(arch, [guest("net_local", arch)])
    assert b"read through passed fd: through SCM_RIGHTS" in out.stdout
    assert b"SCM_CREDENTIALS len" in out.stdout and b"pid is child 1" in out.stdout
    assert b"got alpha beta gamma (5 4 5)" in out.stdout
    assert b"SIGPIPE handled 2 times" in out.stdout
    assert b"SIGIO seen: 1" in out.stdout


@pytest.mark.parametrize("mode", ["poll", "select", "epoll"])
@pytest.mark.parametrize("arch", ARCHES)
def test_multiplexing_three_clients(arch, mode):
    out = assert_same(arch, [guest("net_mux", arch), mode])
    assert out.stdout.count(b"server: connection") == 6
    assert b"client 0 got 'ROUND 1 FROM CLIENT 0'" in out.stdout
    assert b"after close of client 1: connection 1 readable, recv 0" in out.stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_interfaces_netlink_and_ioctls(arch):
    """getifaddrs reads route netlink (in the host's byte order: swapped for big-endian MIPS),
    if_nametoindex and the SIOCGIF* ioctls use struct ifreq (32 or 40 bytes)."""
    out = assert_same(arch, [guest("net_ifaces", arch)])
    assert b"lo fam 2 up 1 loop 1 127.0.0.1" in out.stdout
    assert b"SIOCGIFADDR 0 127.0.0.1" in out.stdout


def test_netlink_swap_is_its_own_inverse():
    from usermode.syscalls.netlink import swap_messages
    # RTM_NEWADDR: nlmsghdr, ifaddrmsg (AF_INET, /8, index 1), IFA_ADDRESS 127.0.0.1, IFA_FLAGS
    msg = (struct.pack("<IHHII", 40, 20, 2, 7, 0) + struct.pack("<BBBBI", 2, 8, 0, 254, 1)
           + struct.pack("<HH", 8, 1) + bytes([127, 0, 0, 1]) + struct.pack("<HHI", 8, 8, 0x80))
    swapped = swap_messages(msg, "<")
    assert swapped[:16] == struct.pack(">IHHII", 40, 20, 2, 7, 0)
    assert swapped[16:24] == struct.pack(">BBBBI", 2, 8, 0, 254, 1)
    assert swapped[24:32] == struct.pack(">HH", 8, 1) + bytes([127, 0, 0, 1])   # address: bytes
    assert swapped[32:] == struct.pack(">HHI", 8, 8, 0x80)
    assert swap_messages(swapped, ">") == msg


TOOLCHAIN_ROOT = {"arm": "/usr/arm-linux-gnueabihf", "aarch64": "/usr/aarch64-linux-gnu",
                  "mips": "/usr/mips-linux-gnu", "mipsel": "/usr/mipsel-linux-gnu"}


@pytest.mark.parametrize("arch", ARCHES)
def test_name_resolution_uses_the_sysroot_files_first(arch, tmp_path):
    """The resolver's files come through the -L rule: the sysroot's /etc/hosts and
    /etc/nsswitch.conf when it has them, the host's otherwise."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hosts").write_text("10.1.2.3 pyemu-test-host\n127.0.0.1 localhost\n")
    (tmp_path / "etc/nsswitch.conf").write_text("hosts: files\n")
    static = guest("net_resolve", arch)
    out = assert_same(arch, [static, "localhost", "pyemu-test-host", "127.0.0.1"],
                      emu_args=["-L", str(tmp_path)])
    assert out.stdout == (b"localhost: 127.0.0.1 port 80\npyemu-test-host: 10.1.2.3 port 80\n"
                          b"127.0.0.1: 127.0.0.1 port 80\n")
    dynamic = guest("net_resolve", arch, ("-O2",))      # no -L: the toolchain's root, host /etc
    out = assert_same(arch, [dynamic, "localhost"], qemu_args=["-L", TOOLCHAIN_ROOT[arch]])
    assert out.stdout == b"localhost: 127.0.0.1 port 80\n"


# -- conversations with host-side peers ---------------------------------------------------------
class GuestProcess:
    """A guest run whose output lines the test reads as they come."""

    def __init__(self, cmd: list[str], cwd: Path | None = None):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=minimal_env(), cwd=cwd,
                                     start_new_session=True)
        self.lines: list[str] = []

    def readline(self, timeout: float = 60) -> str:
        buf = b""
        end = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill()
                pytest.fail(f"no line from the guest in {timeout}s (so far {buf!r}): "
                            f"{self.proc.stderr.read().decode(errors='replace')}")
            ch = os.read(self.proc.stdout.fileno(), 1)
            if not ch:
                break
            buf += ch
        line = buf.decode()
        self.lines.append(line)
        return line

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("the guest did not finish")
        self.lines.append(out.decode())
        return self.proc.returncode, err.decode()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass


def _loopback(v6: bool) -> str:
    return "::1" if v6 else "127.0.0.1"


def _converse(cmd: list[str], case: str, tmp: Path) -> tuple[str, str]:
    """Run one conversation; (the guest's transcript, what the host side saw)."""
    kind, family = case.split("-")[0] + "-" + case.split("-")[1], case.split("-")[-1]
    v6 = family == "6"
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    if kind in ("tcp-client", "udp-client"):
        kind_sock = socket.SOCK_STREAM if kind == "tcp-client" else socket.SOCK_DGRAM
        with socket.socket(fam, kind_sock) as srv:
            srv.bind((_loopback(v6), 0))
            srv.settimeout(60)
            if kind == "tcp-client":
                srv.listen(1)
            g = GuestProcess(cmd + [kind, family, str(srv.getsockname()[1])])
            if kind == "tcp-client":
                conn, _ = srv.accept()
                with conn:
                    conn.settimeout(30)
                    got = conn.recv(256)
                    conn.sendall(b"host says: " + got.upper())
            else:
                got, peer = srv.recvfrom(256)
                srv.sendto(b"host says: " + got.upper(), peer)
        status, err = g.finish()
        return "".join(g.lines) + f"status {status} {err}", got.decode()
    if kind == "unix-server":
        path = tmp / "guest.sock"
        g = GuestProcess(cmd + [kind, str(path)])
        g.readline()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(30)
            c.connect(str(path))
            c.sendall(b"hello over a unix socket\n")
            seen = _read_all(c)
        status, err = g.finish()
        os.unlink(path)
        return "".join(g.lines) + f"status {status} {err}", seen
    g = GuestProcess(cmd + [kind, family])
    port = int(re.fullmatch(r"port (\d+)\n", g.readline()).group(1))
    if kind == "tcp-server":
        with socket.create_connection((_loopback(v6), port), timeout=30) as c:
            c.sendall(b"hello from the host\n")
            seen = _read_all(c)
    else:
        with socket.socket(fam, socket.SOCK_DGRAM) as c:
            c.settimeout(30)
            c.sendto(b"datagram from the host", (_loopback(v6), port))
            seen = c.recv(256).decode()
    status, err = g.finish()
    g.lines[0] = "port PORT\n"
    return "".join(g.lines) + f"status {status} {err}", seen


def _read_all(c: socket.socket) -> str:
    data = b""
    while chunk := c.recv(256):
        data += chunk
    return data.decode()


_EXPECTED = {
    "tcp-server": ("received: hello from the host", "guest says: HELLO FROM THE HOST\n"),
    "udp-server": ("received: datagram from the host", "DATAGRAM FROM THE HOST"),
    "tcp-client": ("reply: host says: HELLO FROM THE GUEST", "hello from the guest\n"),
    "udp-client": ("reply: host says: DATAGRAM FROM THE GUEST", "datagram from the guest"),
    "unix-server": ("received: hello over a unix socket", "guest says: HELLO OVER A UNIX SOCKET\n"),
}


@pytest.mark.parametrize("case", ["tcp-server-4", "tcp-server-6", "tcp-client-4", "tcp-client-6",
                                  "udp-server-4", "udp-server-6", "udp-client-4", "udp-client-6",
                                  "unix-server-path"])
@pytest.mark.parametrize("arch", ARCHES)
def test_guest_and_host_peers(arch, case, tmp_path):
    program = str(guest("net_peer", arch))
    mine, seen = _converse(pyemu_command(arch) + [program], case, tmp_path)
    oracle, oracle_seen = _converse(qemu_command(arch) + [program], case, tmp_path)
    guest_line, host_saw = _EXPECTED[case.rsplit("-", 1)[0]]
    assert guest_line in mine and seen == host_saw, mine
    assert (mine, seen) == (oracle, oracle_seen)


# -- Debian programs ----------------------------------------------------------------------------
def _echo_server() -> tuple[socket.socket, threading.Thread]:
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(2):           # pyemu's run, then qemu's
            conn, _ = srv.accept()
            with conn:
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
                    if data.endswith(b"\n"):
                        break
                conn.sendall(b"echo: " + data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return srv, thread


@pytest.mark.parametrize("debarch", ["arm64", "armhf", "mipsel"])
def test_busybox_nc_round_trip(debarch):
    busybox = fetch_busybox(debarch)
    arch = {"arm64": "aarch64", "armhf": "arm", "mipsel": "mipsel"}[debarch]
    srv, thread = _echo_server()
    with srv:
        port = str(srv.getsockname()[1])
        out = assert_same(arch, [str(busybox), "nc", "127.0.0.1", port],
                          stdin=b"round trip through nc\n")
        thread.join(30)
    assert out.stdout == b"echo: round trip through nc\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("debarch", ["arm64", "armhf"])
def test_python3_http_server_and_urllib(debarch, tmp_path):
    """Debian python3 serves a file to the host with http.server, and fetches one from a
    host-side http.server with urllib (the fetch compared with qemu-user)."""
    root = debian_sysroot(debarch, ["python3.11-minimal", "libpython3.11-stdlib"])
    python = str(root / "usr/bin/python3.11")
    site = tmp_path / "site"
    site.mkdir()
    (site / "hello.txt").write_text("served by the guest\n")
    port = _free_port()
    server = GuestProcess(pyemu_command(ARCH_OF[debarch]) + [
        "-L", str(root), python, "-B", "-m", "http.server", "--bind", "127.0.0.1",
        "--directory", str(site), str(port)])
    try:
        body, deadline = None, time.monotonic() + 120
        while body is None and time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/hello.txt",
                                              timeout=30).read()
            except OSError:
                if server.proc.poll() is not None:
                    break
                time.sleep(0.3)
        assert body == b"served by the guest\n", server.proc.stderr.read1() if \
            server.proc.poll() is not None else "no answer"
    finally:
        server.kill()
        server.proc.communicate()

    (site / "from-host.txt").write_text("served by the host\n")

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(site), **kw)

        def log_message(self, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Quiet) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/from-host.txt"
        script = ("import urllib.request\n"
                  f"r = urllib.request.urlopen({url!r})\n"
                  "print(r.status, r.headers['Content-Length'], r.read())\n")
        out = assert_same(ARCH_OF[debarch], [python, "-B", "-c", script],
                          emu_args=["-L", str(root)], timeout=300)
        httpd.shutdown()
    assert out.stdout == b"200 19 b'served by the host\\n'\n"


# -- MIPS numbering, checked against the MIPS cross compiler --------------------------------------


@pytest.mark.parametrize("arch", ["mips", "mipsel"])
def test_mips_socket_numbering(arch):
    """MIPS numbers socket types and SOL_SOCKET options its own way: pyemu's tables and struct
    layouts against what the MIPS cross compiler says, and the run of the probe under pyemu."""
    from usermode.syscalls.abi import ABI_FOR_ARCH, Abi
    from usermode.syscalls.netabi import socket_abi

    result = subprocess.run(pyemu_command(arch) + [str(guest("net_constants", arch))],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    facts = dict(line.split(" ", 1) for line in result.stdout.decode().splitlines())
    abi = Abi(ABI_FOR_ARCH[arch], "big" if arch == "mips" else "little")
    assert int(facts["SOCK_STREAM"]) == abi.const["SOCK_STREAM"] == 2
    assert int(facts["SOCK_DGRAM"]) == abi.const["SOCK_DGRAM"] == 1
    assert int(facts["SOL_SOCKET"]) == abi.const["SOL_SOCKET"] == 0xFFFF
    for name in ("SO_REUSEADDR", "SO_TYPE", "SO_ERROR", "SO_LINGER", "SO_KEEPALIVE"):
        assert int(facts[name]) == abi.const[name], name
    assert int(facts["SO_RCVTIMEO"]) == abi.const["SO_RCVTIMEO_OLD"] == 0x1006
    assert int(facts["SO_SNDTIMEO"]) == abi.const["SO_SNDTIMEO_OLD"] == 0x1005
    linger, timeval = abi.structs["linger"], abi.structs["timeval"]
    assert facts["linger"] == f"{linger.size} {linger.fields[0].offset} {linger.fields[1].offset}"
    assert facts["timeval"] == (f"{timeval.size} {timeval.fields[0].offset} "
                                f"{timeval.fields[1].offset}")
    # and the translation to the host's numbering goes through the names
    net = socket_abi(abi)
    assert net.types[2] == socket.SOCK_STREAM and net.types[1] == socket.SOCK_DGRAM
    option = net.option(0xFFFF, abi.const["SO_REUSEADDR"])
    assert (option.host_level, option.host_name) == (socket.SOL_SOCKET, socket.SO_REUSEADDR)
    option = net.option(0xFFFF, abi.const["SO_RCVTIMEO_OLD"])
    assert (option.host_name, option.kind) == (socket.SO_RCVTIMEO, "timeval")



@pytest.mark.parametrize("arch", ARCHES)
def test_zero_length_buffers(arch):
    """CPython's recvfrom_into of an empty buffer killed pyemu (a zero-length buffer has no
    first byte to point a host iovec at)."""
    out = assert_same(arch, [guest("zero_length", arch)])
    assert b"recvfrom(s[1], buf, 0, 0, (struct sockaddr *)&from, &len): 0\n" in out.stdout
