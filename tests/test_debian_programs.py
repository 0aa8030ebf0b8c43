"""Real Debian programs from sysroots built by pyemu-sysroot, compared with qemu-user -L."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import assert_same, debian_sysroot, guest, run_pyemu

ARCH_OF = {"arm64": "aarch64", "armhf": "arm", "mipsel": "mipsel"}
INPUT = b"pear\napple\nfig\nbanana\ncherry\n"

COREUTILS = [
    ("ls", ["ls", "-la", "tree"]),
    ("sort", ["sort"]),
    ("sha256sum", ["sha256sum", "tree/a.txt"]),
    ("sha512sum", ["sha512sum", "tree/a.txt", "tree/b.bin"]),
    ("md5sum", ["md5sum", "tree/b.bin"]),
    ("b2sum", ["b2sum", "tree/a.txt"]),
    ("date", ["date", "-u", "-d", "@0"]),
    ("env", ["env", "-i", "A=1", "env"]),
    ("cat", ["cat"]),
    ("wc", ["wc"]),
    ("head", ["head", "-n", "3"]),
]


def make_tree(cwd: Path) -> None:
    """The same small directory tree (fixed times) for each side of a comparison."""
    (cwd / "tree/sub").mkdir(parents=True)
    (cwd / "tree/a.txt").write_bytes(b"alpha\n" * 100)
    (cwd / "tree/b.bin").write_bytes(bytes(range(256)) * 4)
    for p in (cwd / "tree/a.txt", cwd / "tree/b.bin", cwd / "tree/sub", cwd / "tree"):
        os.utime(p, (1_000_000_000, 1_000_000_000))


@pytest.fixture(params=sorted(ARCH_OF))
def coreutils_root(request):
    return request.param, debian_sysroot(request.param, ["coreutils"])


@pytest.mark.parametrize("debarch,name,argv", [
    pytest.param(a, n, argv, id=f"{a}-{n}") for a in sorted(ARCH_OF) for n, argv in COREUTILS])
def test_coreutils(debarch, name, argv, tmp_path):
    root = debian_sysroot(debarch, ["coreutils"])
    program = str(root / "usr/bin" / argv[0])
    for side in ("pyemu", "qemu"):
        (tmp_path / side).mkdir()
        make_tree(tmp_path / side)
    assert_same(ARCH_OF[debarch], [program, *argv[1:]], emu_args=["-L", str(root)],
                stdin=INPUT, cwd=str(tmp_path / "pyemu"), qemu_cwd=str(tmp_path / "qemu"))


def test_cp_mv_rm(coreutils_root, tmp_path):
    debarch, root = coreutils_root
    arch = ARCH_OF[debarch]
    for side in ("pyemu", "qemu"):
        (tmp_path / side).mkdir()
        make_tree(tmp_path / side)
    steps = [["cp", "tree/a.txt", "copy.txt"], ["mv", "copy.txt", "moved.txt"],
             ["cp", "-r", "tree", "tree2"], ["rm", "-r", "tree2/sub"], ["rm", "moved.txt"],
             ["ls", "-R", "."]]
    for step in steps:
        assert_same(arch, [str(root / "usr/bin" / step[0]), *step[1:]],
                    emu_args=["-L", str(root)], cwd=str(tmp_path / "pyemu"),
                    qemu_cwd=str(tmp_path / "qemu"))


PY_SCRIPT = r"""
import json, hashlib, re, os, sqlite3
print(2**100 + 7 * 3, 10 / 4, divmod(17, 5))
d = {"a": [1, 2, {"b": None}], "c": "\u00e9"}
print(json.loads(json.dumps(d)) == d, json.dumps(d, sort_keys=True))
print(hashlib.sha256(b"pyemu").hexdigest())
print(re.findall(r"\d+", "a1b22c333"), re.sub(r"(\w)(\d)", r"\2\1", "a1b2"))
print(sorted(os.listdir("tree")))
s = 0
for i in range(10**6):
    s += i
print(s)
db = sqlite3.connect(":memory:")
db.execute("create table t(x)")
db.executemany("insert into t values (?)", [(i,) for i in range(100)])
print(db.execute("select sum(x), count(*) from t").fetchone())
"""


@pytest.mark.parametrize("debarch", ["arm64", "armhf"])
def test_python3(debarch, tmp_path):
    root = debian_sysroot(debarch, ["python3.11-minimal", "libpython3.11-stdlib"])
    for side in ("pyemu", "qemu"):
        (tmp_path / side).mkdir()
        make_tree(tmp_path / side)
    out = assert_same(ARCH_OF[debarch], [str(root / "usr/bin/python3.11"), "-B", "-c", PY_SCRIPT],
                      emu_args=["-L", str(root)], cwd=str(tmp_path / "pyemu"),
                      qemu_cwd=str(tmp_path / "qemu"), timeout=300)
    assert b"499999500000\n" in out.stdout and b"(4950, 100)" in out.stdout


PY_PROCESSES = r"""
import multiprocessing, os, signal, sys, threading
from concurrent.futures import ThreadPoolExecutor

def square(x):
    return x * x

with ThreadPoolExecutor(8) as pool:
    print("executor:", list(pool.map(lambda n: sum(range(n)), range(100000, 100008))))
lock, total, names = threading.Lock(), [0], set()
def work():
    for _ in range(2000):
        with lock:
            total[0] += 1
    names.add(threading.current_thread().name)
workers = [threading.Thread(target=work, name=f"w{i}") for i in range(8)]
for t in workers:
    t.start()
for t in workers:
    t.join()
print("threads:", total[0], sorted(names))

got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
signal.signal(signal.SIGUSR2, lambda s, f: got.append(s))
signal.raise_signal(signal.SIGUSR2)
print("signals:", got == [signal.SIGUSR1, signal.SIGUSR2])

with multiprocessing.Pool(2) as pool:
    print("pool:", pool.map(square, range(20)))
    print("pool async:", pool.apply_async(square, (12,)).get(timeout=60))
print("after pool")
"""


@pytest.mark.parametrize("debarch", ["arm64", "armhf"])
def test_python3_threads_signals_pool(debarch):
    """ThreadPoolExecutor and 8 threads on a lock, signal.signal + os.kill, and
    multiprocessing.Pool(2).map: the pool's shared semaphores (sem_open: MAP_SHARED of a
    /dev/shm file) must be shared with the forked workers, and Pool.terminate's SIGTERMs to
    them must not reach the parent."""
    root = debian_sysroot(debarch, ["python3.11-minimal", "libpython3.11-stdlib"])
    out = assert_same(ARCH_OF[debarch], [str(root / "usr/bin/python3.11"), "-B", "-c",
                                         PY_PROCESSES], emu_args=["-L", str(root)], timeout=300)
    assert b"pool: [0, 1, 4, 9, 16" in out.stdout and out.stdout.endswith(b"after pool\n")
    assert b"threads: 16000 ['w0', 'w1'" in out.stdout


PY_SUBPROCESS = r"""
import subprocess, sys
r = subprocess.run([sys.executable, "-B", "-c", "import sys; print('child', sys.argv[1:]); "
                    "sys.exit(3)", "x"], capture_output=True)
print("python child:", r.returncode, r.stdout)
r = subprocess.run([sys.argv[1]])
print("other arch:", r.returncode)
"""


@pytest.mark.parametrize("debarch", ["arm64", "armhf"])
def test_python3_subprocess_of_guest_programs(debarch):
    """subprocess.run of the guest's own interpreter and of a program for another arch. qemu-user
    cannot run these without binfmt_misc (the child gets ENOEXEC), so this is pyemu alone."""
    root = debian_sysroot(debarch, ["python3.11-minimal", "libpython3.11-stdlib"])
    other = guest("exit42", "mipsel")
    out = run_pyemu(ARCH_OF[debarch], [str(root / "usr/bin/python3.11"), "-B", "-c",
                                       PY_SUBPROCESS, str(other)],
                    emu_args=["-L", str(root)], timeout=300)
    assert (out.status, out.stdout) == (0, b"python child: 3 b\"child ['x']\\n\"\n"
                                           b"other arch: 42\n"), out.text()
