"""Debian busybox-static file applets under pyemu vs qemu-user, with the file system compared.

Each case is a list of steps; a step is one busybox applet run as its own top-level command (qemu
cannot exec a foreign binary from inside busybox ``sh``), in the same directory tree built twice,
one per side.  After every step the outcomes (stdout, stderr, status) are compared, and so is the
file-system state of both trees (:func:`snapshot`): names, types, modes, sizes, link counts,
owners, symlink targets, contents, and the access/modification times.

Output that must differ between two trees is normalised per side, from that side's own tree, so a
wrong value from pyemu still shows: the tree's path becomes ``<ROOT>``, an inode number that is
the real inode of an entry of that tree becomes ``<ino:NAME>``, a timestamp equal to an entry's
real recent (made during the test) time becomes ``<recent>``, and dd's elapsed time and rate
become ``<secs>``/``<rate>``.  ``df``'s used/available figures change while the tests run, so each
side's are checked against the host's ``statvfs`` of the tree taken before and after the two runs
(within the change seen plus a small slack) and then replaced by ``<used>``/``<avail>``/``<use%>``;
everything else in df's output (the header, file system name, total, mount point) must be equal.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import io
import os
import re
import stat
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import BUSYBOX_ARCHES, Outcome, compare, run_pyemu, run_qemu

T0 = 1_000_000_000  # 2001-09-09 01:46:40 UTC: the fixed times of the tree
ENV = {"TZ": "UTC"}
SLACK = 2.0  # seconds: a time within the test's run (+-) counts as "recent"


def make_tree(root: Path) -> None:
    """The same tree, with fixed times and modes, on each side."""
    tree = root / "tree"
    (tree / "sub" / "deep").mkdir(parents=True)
    files = {
        "tree/a.txt": (b"alpha\n" * 100, 0o644, T0),
        "tree/b.bin": (bytes(range(256)) * 4, 0o600, T0 + 100),
        "tree/big.dat": (hashlib.sha256(b"x").digest() * 625, 0o640, T0 + 200),
        "tree/exec.sh": (b"#!/bin/sh\necho hi\n", 0o755, T0 + 300),
        "tree/sub/c.txt": (b"gamma\n", 0o664, T0 + 400),
        "ref": (b"reference\n", 0o644, T0 + 150),
    }
    for name, (data, mode, mtime) in files.items():
        p = root / name
        p.write_bytes(data)
        p.chmod(mode)
        os.utime(p, (mtime + 7, mtime))
    os.link(tree / "a.txt", tree / "hard")
    os.mkfifo(tree / "sub" / "pipe", 0o640)
    os.chmod(tree / "sub" / "pipe", 0o640)
    links = {"tree/link": "a.txt", "tree/dangling": "nowhere", "tree/sub/up": "../b.bin"}
    for name, target in links.items():
        os.symlink(target, root / name)
    for name, mtime in [("tree/sub/pipe", T0 + 450), *((n, T0 + 460) for n in links),
                        ("tree/sub/deep", T0 + 470), ("tree/sub", T0 + 480), ("tree", T0 + 500)]:
        os.utime(root / name, (mtime + 3, mtime), follow_symlinks=False)
    (tree / "sub").chmod(0o750)


# --------------------------------------------------------------------------- state of a tree


@dataclass
class Side:
    """One side's tree and what its outputs are normalised against."""

    name: str
    root: Path
    started: float

    def recent(self, t: float) -> bool:
        """Made during the test (by an applet or the tree's set-up), not one of the fixed times."""
        return self.started - SLACK <= t <= time.time() + SLACK


def _entries(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            yield p.relative_to(root).as_posix(), p


def snapshot(side: Side) -> list[str]:
    """One line per entry: what an applet may change and both sides must agree on."""
    lines = []
    for rel, p in _entries(side.root):
        st = p.lstat()
        kind = stat.S_IFMT(st.st_mode)
        times = " ".join("recent" if side.recent(ns / 1e9) else f"{ns}"
                         for ns in (st.st_atime_ns, st.st_mtime_ns))
        extra = ""
        if stat.S_ISLNK(st.st_mode):
            extra = "-> " + os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            extra = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        size = st.st_size if not stat.S_ISFIFO(st.st_mode) else 0
        lines.append(f"{rel} type={kind:o} mode={stat.S_IMODE(st.st_mode):04o} size={size} "
                     f"nlink={st.st_nlink} owner={st.st_uid}:{st.st_gid} times={times} {extra}")
    return lines


def _fmt_time(ns: int) -> list[str]:
    """How busybox prints a time: stat's default/%y form and seconds since the epoch."""
    secs, frac = divmod(ns, 1_000_000_000)
    date = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs))
    return [f"{date}.{frac:09d} +0000", str(secs)]


def _side_values(side: Side) -> tuple[dict[str, str], dict[str, str]]:
    """Inode number -> ``<ino:REL>``, recent time text -> ``<recent>`` for this side's tree."""
    inodes, times = {}, {}
    for rel, p in [(".", side.root), *_entries(side.root)]:
        st = p.lstat()
        inodes[str(st.st_ino)] = f"<ino:{rel}>"
        for ns in (st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns):
            if side.recent(ns / 1e9):
                for text in _fmt_time(ns):
                    times[text] = "<recent>"
    return inodes, times


def _replace_all(data: bytes, table: dict[str, str], pattern: str) -> bytes:
    def sub(m: re.Match) -> bytes:
        return table.get(m.group(0).decode(), m.group(0).decode()).encode()

    return re.sub(pattern.encode(), sub, data)


_DD_XFER = re.compile(rb"(bytes \([^)]*\) copied), [0-9.e+-]+ seconds, [0-9.]+ ?[A-Za-z]*/s")
_TIME_TEXT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} \+0000|\b\d{9,11}\b"


def normalise(out: bytes, side: Side, what: set[str]) -> bytes:
    """The per-side normalisations named in ``what`` (see the module docstring)."""
    for root in {str(side.root), os.path.realpath(side.root)}:
        out = out.replace(root.encode(), b"<ROOT>")
    inodes, times = _side_values(side)
    if "times" in what:
        out = _replace_all(out, times, _TIME_TEXT)
    if "ino" in what:
        out = _replace_all(out, inodes, r"\b\d+\b")
    if "dd" in what:
        out = _DD_XFER.sub(rb"\1, <secs> seconds, <rate>/s", out)
    return out


# --------------------------------------------------------------------------- df


class DfCheck:
    """df's used/available/use% checked against the host's statvfs of the tree, then replaced.

    ``figures`` is taken before and after the two runs; each side's numbers must lie within
    what was seen plus a slack (64 MiB, 1000 inodes, 1 percentage point), which still catches
    a wrong field, block size or 32-bit truncation.
    """

    def __init__(self, argv: list[str]):
        self.inodes = "-i" in argv
        self.unit = 1 if self.inodes else (1 << 20 if "-m" in argv else 1024)
        space = 1000 if self.inodes else max(2, (64 << 20) // self.unit)
        self.slack = (space, space, 1)

    def figures(self, path: Path) -> tuple[int, int, int]:
        """(used, available, use%) as busybox df computes them, in df's units."""
        sv = os.statvfs(path)
        if self.inodes:
            used, avail = sv.f_files - sv.f_ffree, sv.f_ffree
        else:
            used, avail = (sv.f_blocks - sv.f_bfree) * sv.f_frsize, sv.f_bavail * sv.f_frsize
        pct = (used * 100 + (used + avail) // 2) // (used + avail) if used + avail else 0
        return used // self.unit, avail // self.unit, pct

    def __call__(self, side: Side, out: bytes, before: tuple, after: tuple) -> bytes:
        lines = out.decode().splitlines(keepends=True)
        result = lines[:1]
        for line in lines[1:]:
            fields = line.split()
            # Filesystem [Type] Total Used Avail Use% Mounted-on: the three figures before Use%.
            pct_at = next(i for i, f in enumerate(fields) if f.endswith("%"))
            got = [int(fields[pct_at - 2]), int(fields[pct_at - 1]), int(fields[pct_at][:-1])]
            for name, value, lo, hi, s in zip(("used", "avail", "use%"), got, before, after,
                                               self.slack):
                low, high = min(lo, hi) - s, max(lo, hi) + s
                assert low <= value <= high, (
                    f"{side.name}: df {name} {value} outside the host's statvfs range "
                    f"[{low}, {high}]: {line!r}")
            fields[pct_at - 2:pct_at + 1] = ["<used>", "<avail>", "<use%>"]
            result.append(" ".join(fields) + "\n")
        return "".join(result).encode()


# --------------------------------------------------------------------------- steps and cases


@dataclass
class Step:
    argv: list[str]
    stdin: bytes | None = None
    norm: set[str] = field(default_factory=set)
    status: int = 0  # qemu's status, checked so that a case cannot silently stop testing


def S(*argv: str, stdin: bytes | None = None, norm: str = "", status: int = 0) -> Step:
    return Step(list(argv), stdin, set(norm.split()), status)


def _tar_stdin() -> bytes:
    """A tar made on the host: a directory, a file owned by 1234:4321 and a symlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, kind, mode, data, target in [
            ("in", tarfile.DIRTYPE, 0o751, b"", ""),
            ("in/f", tarfile.REGTYPE, 0o604, b"from stdin\n" * 50, ""),
            ("in/s", tarfile.SYMTYPE, 0o777, b"", "f"),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, T0 + 1234
            info.uid, info.gid, info.uname, info.gname = 1234, 4321, "", ""
            info.size, info.linkname = len(data), target
            tf.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


GZ_STDIN = gzip.compress(b"compressed on the host\n" * 40, mtime=T0)
STAT_FMT = "%n|%s|%a|%A|%f|%F|%h|%u|%g|%U|%G|%x|%X|%y|%Y|%N|%b|%B|%o|%t|%T"
ALL = ["tree", "tree/a.txt", "tree/b.bin", "tree/big.dat", "tree/exec.sh", "tree/hard",
       "tree/link", "tree/dangling", "tree/sub", "tree/sub/c.txt", "tree/sub/pipe",
       "tree/sub/up", "tree/sub/deep"]


def _tags(*tests: tuple[str, ...]) -> list[str]:
    """find arguments printing ``TAG PATH`` for every test an entry passes (each group is true
    either way, so every test is evaluated for every entry)."""
    out: list[str] = []
    for tag, *test in tests:
        out += ["(", "!", "(", *test, ")", "-o", "-exec", "echo", tag, "{}", ";", ")"]
    return out


FIND_TESTS = _tags(
    ("name", "-name", "*.txt"), ("iname", "-iname", "B.*"), ("path", "-path", "*/sub/*"),
    ("dir", "-type", "d"), ("file", "-type", "f"), ("link", "-type", "l"), ("fifo", "-type", "p"),
    ("big", "-size", "+1k"), ("small", "-size", "-2", "-type", "f"), ("newer", "-newer", "ref"),
    ("userx", "-perm", "-u+x", "-type", "f"), ("perm640", "-perm", "640"),
    ("links2", "-links", "2"), ("empty", "-empty"), ("old", "-mtime", "+1000"),
    ("recentc", "-cmin", "-60"), ("exe", "-executable"), ("root", "-user", "root"))

CASES: dict[str, list[Step]] = {
    "earlier": [
        S("ls", "-lan", "tree"), S("ls", "-lR", "tree"), S("ls", "-i", "tree", norm="ino"),
        S("cat", "tree/a.txt", "tree/sub/c.txt"), S("wc", "tree/a.txt", "tree/big.dat"),
        S("sha256sum", "tree/big.dat", "tree/b.bin"), S("mkdir", "-p", "x/y/z"),
        S("mv", "tree/a.txt", "x/y/"), S("rm", "-r", "tree/sub"), S("rmdir", "x/y/z"),
    ],
    "tar": [
        S("tar", "-cf", "t.tar", "tree"), S("tar", "-tvf", "t.tar"),
        S("tar", "-cf", "-", "tree/a.txt", "tree/link"), S("tar", "-xOf", "t.tar", "tree/b.bin"),
        S("mkdir", "out"), S("tar", "-xvf", "t.tar", "-C", "out"),
        S("tar", "-xvf", "-", stdin=_tar_stdin()), S("tar", "-xf", "missing.tar", status=1),
    ],
    "tar-gzip": [
        S("tar", "-czf", "t.tgz", "tree"), S("tar", "-tzvf", "t.tgz"), S("mkdir", "out"),
        S("tar", "-xzf", "t.tgz", "-C", "out"), S("tar", "-xzf", "t.tgz", "-C", "out", "-m"),
        S("tar", "-tzf", "tree/a.txt", status=1),
    ],
    "gzip": [
        S("gzip", "tree/b.bin"), S("gzip", "-c", "tree/sub/c.txt"),
        S("gzip", "-k", "tree/big.dat"), S("gzip", "-t", "tree/big.dat.gz"),
        S("gunzip", "tree/b.bin.gz"), S("zcat", "tree/big.dat.gz"),
        S("gzip", stdin=b"from stdin\n" * 100), S("gunzip", stdin=GZ_STDIN),
        S("gzip", "-d", "tree/a.txt", status=1), S("gzip", "tree/big.dat", status=1),
    ],
    "find": [
        S("find", "."), S("find", "tree", *FIND_TESTS), S("find", "-L", "tree", "-type", "f"),
        S("find", "tree", "-maxdepth", "1", "-print"), S("find", "tree", "-mindepth", "2",
                                                         "-depth"),
        S("find", "tree", "-print0"), S("find", "missing", status=1),
    ],
    "stat": [
        S("stat", "-c", STAT_FMT, *ALL, norm="times"),
        S("stat", "-L", "-c", STAT_FMT, "tree/link", "tree/sub/up", "tree", norm="times"),
        S("stat", "-c", "%n %i %h", *ALL, norm="ino"), S("stat", "-c", "%d %D", "tree", "ref"),
        S("stat", "tree/a.txt", "tree/link", "tree/sub/pipe", norm="ino times"),
        S("stat", "-t", "tree/b.bin", norm="ino times"),
        S("stat", "-f", "-c", "%n %i %l %t %T %s %S %b %c", "."),
        S("stat", "missing", status=1),
    ],
    "touch": [
        S("touch", "-d", "2002-03-04 05:06:07", "tree/a.txt"),
        S("touch", "-d", "@1234567890", "new1"),
        S("touch", "-m", "-d", "2010-01-01 10:11:12", "tree/b.bin"),
        S("touch", "-a", "-d", "2011-01-01 01:02:03", "tree/sub/c.txt"),
        S("touch", "-c", "nonexist"), S("touch", "-r", "ref", "tree/exec.sh"),
        S("touch", "-h", "-d", "2003-01-01 00:00:01", "tree/link"),
        S("touch", "-d", "2004-05-06 07:08:09", "tree/dangling"), S("touch", "new2"),
        S("stat", "-c", "%n %X %Y %x %y", *ALL, "new1", norm="times"),
    ],
    "dd": [
        S("dd", "if=tree/big.dat", "of=o1", "bs=512", "count=3", "skip=2", norm="dd"),
        S("dd", "if=tree/a.txt", "of=o1", "bs=100", "seek=20", "conv=notrunc",
          "status=noxfer"),
        S("dd", "if=tree/big.dat", "of=o2", "bs=1000", "count=2", "seek=3", norm="dd"),
        S("dd", "if=tree/big.dat", "bs=7000", "count=3", norm="dd"),
        S("dd", "if=/dev/zero", "of=z", "bs=1k", "count=4", "status=none"),
        S("dd", "ibs=10", "obs=25", "count=3", stdin=b"0123456789" * 10, norm="dd"),
        S("dd", "if=tree/b.bin", "of=o1", "bs=1", "skip=10", "seek=5", "count=20",
          "conv=notrunc", norm="dd"),
        S("dd", "if=tree/big.dat", "of=o4", "skip=100", "count=50", "seek=7",
          "iflag=skip_bytes,count_bytes", "oflag=seek_bytes", norm="dd"),
        S("dd", "if=tree/sub/c.txt", "of=o4", "oflag=append", "conv=notrunc", norm="dd"),
        S("dd", "if=missing", status=1),
    ],
    "df": [
        S("df", "."), S("df", "-P", "tree"), S("df", "-i", "."), S("df", "-T", "-m", "."),
        S("df", "missing", status=1),
    ],
    "du": [
        S("du", "-a", "tree"), S("du", "-c", "-s", "tree", "ref"), S("du", "-l", "-a", "tree"),
        S("du", "-d", "1", "."), S("du", "-L", "-s", "tree", status=1),
        S("du", "-b", "-a", "tree"), S("du", "missing", status=1),
    ],
    "cp": [
        S("cp", "-a", "tree", "copy"), S("cp", "-a", "tree/link", "link2"),
        S("cp", "-p", "tree/b.bin", "bp"), S("cp", "tree/exec.sh", "plain"),
        S("cp", "-L", "tree/link", "deref"), S("mkdir", "into"),
        S("cp", "-a", "tree/a.txt", "tree/sub", "into"), S("cp", "-a", "tree", "copy"),
        S("cp", "-a", "tree/sub/pipe", "pipe2"), S("cp", "tree/missing", "x", status=1),
    ],
    "ln": [
        S("ln", "-s", "tree/a.txt", "l1"), S("ln", "-s", "nowhere", "l2"),
        S("ln", "-sf", "tree/b.bin", "l1"), S("ln", "-s", "tree/a.txt", "l1", status=1),
        S("ln", "-sn", "tree/sub", "l3"), S("ln", "tree/b.bin", "hard2"),
        S("ln", "-s", "../a.txt", "tree/sub"), S("readlink", "l1"),
        S("readlink", "-f", "l3"),
    ],
    "chmod": [
        S("chmod", "640", "tree/a.txt"), S("chmod", "u+x,g-w,o=", "tree/b.bin"),
        S("chmod", "-R", "go-rwx", "tree/sub"), S("chmod", "a+X", "tree/b.bin", "tree/big.dat"),
        S("chmod", "1777", "tree"), S("chmod", "4755", "tree/exec.sh"),
        S("chmod", "777", "tree/link"), S("chmod", "600", "tree/dangling", status=1),
    ],
    "mkfifo": [
        S("mkfifo", "p1"), S("mkfifo", "-m", "600", "p2"), S("mkfifo", "-m", "u=rw,g=r", "p3"),
        S("mkfifo", "p1", status=1), S("mkfifo", "nodir/p", status=1), S("mknod", "p4", "p"),
        S("stat", "-c", "%n %F %a %s", "p1", "p2", "p3", "p4"),
    ],
}


def _run_step(arch: str, binary: Path, step: Step, sides: tuple[Side, Side]) -> None:
    mine_side, qemu_side = sides
    check_df = DfCheck(step.argv) if step.argv[0] == "df" and step.status == 0 else None
    before = check_df.figures(mine_side.root) if check_df else None
    argv = [binary, *step.argv]
    # -host-exec: busybox tar -z runs the gzip it finds on PATH, the host's (as under qemu)
    mine = run_pyemu(arch, argv, emu_args=["-host-exec"], stdin=step.stdin, env=ENV,
                     cwd=mine_side.root)
    oracle = run_qemu(arch, argv, stdin=step.stdin, env=ENV, cwd=qemu_side.root)
    after = check_df.figures(mine_side.root) if check_df else None
    outcomes = []
    for side, out in ((mine_side, mine), (qemu_side, oracle)):
        stdout, stderr = normalise(out.stdout, side, step.norm), normalise(
            out.stderr, side, step.norm)
        if check_df:
            stdout = check_df(side, stdout, before, after)
        outcomes.append(Outcome(stdout, stderr, out.status))
    what = "busybox " + " ".join(step.argv)
    compare(outcomes[1], outcomes[0], what)
    assert oracle.status == step.status, f"{what}: qemu's status {oracle.status}"
    mine_state, qemu_state = snapshot(mine_side), snapshot(qemu_side)
    assert mine_state == qemu_state, f"file system after {what}:\n" + "\n".join(
        difflib.unified_diff(qemu_state, mine_state, "qemu", "pyemu", lineterm=""))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("debarch", list(BUSYBOX_ARCHES))
def test_applet(debarch, case, busybox, tmp_path):
    binary = busybox(debarch)
    sides = tuple(Side(name, tmp_path / name, time.time()) for name in ("pyemu", "qemu"))
    for side in sides:
        side.root.mkdir()
        make_tree(side.root)
    assert snapshot(sides[0]) == snapshot(sides[1])
    for step in CASES[case]:
        _run_step(BUSYBOX_ARCHES[debarch], binary, step, sides)
