#!/usr/bin/env python3
"""CPython's own regression tests on Debian's python3.11, under qemu-user and under pyemu,
compared test by test.

    python3 tools/cpython_tests.py                           # the full set, arm64 and armhf
    python3 tools/cpython_tests.py --arch arm64 test_json    # some modules
    python3 tools/cpython_tests.py --subset fast             # what CI runs on every push
    python3 tools/cpython_tests.py --engine stock ...        # pyemu on the stock engine

Each architecture gets a sysroot made by ``pyemu-sysroot create`` with python3.11 and
``libpython3.11-testsuite`` (cached). Every module runs as ``python3.11 -B -m test -v MODULE``
once under ``qemu-ARCH`` and once under ``pyemu-ARCH`` (per engine); each test's outcome is
read from the verbose output. When a test kills the interpreter (or the emulator), it counts
as a crash and the module runs on without it. Both run inside a private user and mount namespace (``unshare --user --map-root-user
--mount``), so namespace effects (uid 0 there) count on both sides. qemu also gets a private
binfmt_misc with its own registration for the arch, so that ``subprocess`` of
``sys.executable`` (the sysroot's python, a foreign binary) works under it; pyemu gets none and
runs foreign programs itself. Both find the sysroot through ``QEMU_LD_PREFIX``.

A test that passes under qemu and not under pyemu is a regression; the exit status is 1 when
there is any (or a module crashed or timed out under pyemu and not under qemu). The summary
table goes to stdout (and, with --markdown, to a file for the docs), the details to --out.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Debian architecture -> (pyemu arch, qemu command, binfmt magic, binfmt mask)
ARCHES = {
    "arm64": ("aarch64", "qemu-aarch64",
              "7f454c460201010000000000000000000200b700",
              "ffffffffffffff00fffffffffffffffffeffffff"),
    "armhf": ("arm", "qemu-arm",
              "7f454c4601010100000000000000000002002800",
              "ffffffffffffff00fffffffffffffffffeffffff"),
}
PACKAGES = ("python3.11", "libpython3.11-testsuite", "dash", "bash", "coreutils")
FULL = ("test_socket", "test_signal", "test_subprocess", "test_threading", "test_posix",
        "test_json", "test_asyncio.test_events", "test_tempfile", "test_pty", "test_shutil",
        "test_ctypes", "test_os")
FAST = ("test_json", "test_tempfile", "test_posix", "test_pty")


@dataclass
class ModuleRun:
    """One module under one emulator: each test's outcome, and how the run ended."""

    emulator: str
    module: str
    outcomes: dict[str, str] = field(default_factory=dict)   # test id -> pass/fail/skip
    status: str = "done"          # done, crashed (a test killed the process), timeout
    seconds: float = 0.0
    tail: str = ""                # the end of its output, for each crash
    crashes: list[str] = field(default_factory=list)   # "test id: how the process ended"

    def passed(self) -> set[str]:
        return {t for t, o in self.outcomes.items() if o == "pass"}


def sysroot(arch: str, base: Path) -> Path:
    """The arch's sysroot with python3.11 and its tests (made once)."""
    root = base / arch
    subprocess.run([sys.executable, "-m", "usermode.sysroot.cli", "create", str(root),
                    "--arch", arch, *PACKAGES], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return root


_TEST_LINE = re.compile(r"^(\w+) \(((?:\w+\.)+\w+)\)(.*)$")
_STATUS = re.compile(r"(?:^|\.\.\. )(ok|FAIL|ERROR|skipped\b.*|expected failure|"
                     r"unexpected success)$")
_KIND = {"ok": "pass", "FAIL": "fail", "ERROR": "fail", "expected failure": "pass",
         "unexpected success": "fail"}


def parse_verbose(output: str) -> tuple[dict[str, str], str | None]:
    """Each test's outcome from regrtest's -v output, and the test that was running when the
    output ends without its outcome (the one that crashed or hung), if any."""
    outcomes: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        found = _TEST_LINE.match(line)
        rest = line
        if found:
            current, rest = found.group(2), found.group(3)
        status = _STATUS.search(rest.strip()) if current else None
        if status and current:
            word = status.group(1)
            outcomes[current] = "skip" if word.startswith("skipped") else _KIND[word]
            current = None
    return outcomes, current
def namespace_script(emulator: list[str], qemu_binfmt: tuple[str, str, str] | None) -> str:
    """The shell run inside the private namespace: binfmt_misc (qemu only), then the tests."""
    lines = ["set -e", "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"]
    if qemu_binfmt is not None:
        name, magic, mask = qemu_binfmt
        lines.append(f"printf ':{name}:M::{_escape(magic)}:{_escape(mask)}:{emulator[0]}:' "
                     "> /proc/sys/fs/binfmt_misc/register")
    lines.append('exec "$@"')
    return "\n".join(lines)


def _escape(hexbytes: str) -> str:
    return "".join(f"\\\\x{hexbytes[i:i + 2]}" for i in range(0, len(hexbytes), 2))


def pyemu_command(arch: str) -> list[str]:
    """pyemu-ARCH from this checkout (whatever copy of pyemu is installed)."""
    boot = (f"import sys; sys.path.insert(0, sys.argv.pop(1)); "
            f"from usermode.cli import main_{arch}; main_{arch}()")
    return [sys.executable, "-E", "-c", boot, str(ROOT)]


def _command(name: str) -> str:
    """The command's absolute path (the runs get a minimal PATH)."""
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"cpython_tests: {name} not found (pip install -e . / apt-get install "
                         "qemu-user)")
    return found


def run_module(arch: str, root: Path, module: str, emulator: str, engine: str, work: Path,
               timeout: float, host_exec: bool, reruns: int = 8) -> ModuleRun:
    """Run ``module``; when the process dies (or hangs) in a test, that test is a "crash" and
    the module runs again without it and without the tests already done."""
    pyemu_arch, qemu_cmd, magic, mask = ARCHES[arch]
    result = ModuleRun(emulator if emulator == "qemu" else f"pyemu-{engine}", module)
    out_dir = Path(tempfile.mkdtemp(prefix=f"{arch}-{module}-{result.emulator}-", dir=work))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(out_dir), "LC_ALL": "C.UTF-8",
           "QEMU_LD_PREFIX": str(root), "TMPDIR": str(out_dir)}
    if emulator == "qemu":
        command, binfmt = [_command(qemu_cmd)], (f"qemu-{arch}", magic, mask)
    else:
        command, binfmt = pyemu_command(pyemu_arch), None
        if engine == "stock":
            env["PYEMU_ENGINE"] = "stock"
        if host_exec:
            env["PYEMU_HOST_EXEC"] = "1"
    ignore = out_dir / "ignore.txt"
    started = time.monotonic()
    for attempt in range(reruns + 1):
        ignore.write_text("".join(f"{test}\n" for test in result.outcomes))
        guest = [str(root / "usr/bin/python3.11"), "-B", "-m", "test", "--ignorefile",
                 str(ignore), "--timeout", str(int(timeout * 0.8)), "-v", module]
        argv = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                namespace_script(command, binfmt), "sh", *command, *guest]
        left = timeout - (time.monotonic() - started)
        try:
            proc = subprocess.run(argv, env=env, cwd=out_dir, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=max(left, 1), start_new_session=True)
            output, how = proc.stdout.decode("utf-8", "replace"), f"status {proc.returncode}"
        except subprocess.TimeoutExpired as expired:
            output, how = (expired.stdout or b"").decode("utf-8", "replace"), "timeout"
        (out_dir / f"output-{attempt}.txt").write_text(output)
        outcomes, unfinished = parse_verbose(output)
        result.outcomes.update(outcomes)
        if unfinished is None:
            if how == "timeout":
                result.status = "timeout"
            break
        result.outcomes[unfinished] = "crash"
        result.crashes.append(f"{unfinished}: {how}")
        result.tail += f"--- {unfinished} ({how}):\n{output[-1500:]}\n"
        if how == "timeout" or time.monotonic() - started > timeout:
            result.status = "timeout"
            break
    result.seconds = time.monotonic() - started
    if result.crashes and result.status == "done":
        result.status = "crashed"
    return result


def compare(qemu: ModuleRun, pyemu: ModuleRun) -> dict:
    lost = sorted(qemu.passed() - pyemu.passed())
    return {"module": qemu.module, "candidate": pyemu.emulator,
            "qemu_pass": len(qemu.passed()), "pyemu_pass": len(pyemu.passed()),
            "regressions": lost, "pyemu_only": sorted(pyemu.passed() - qemu.passed()),
            "qemu_status": qemu.status, "pyemu_status": pyemu.status,
            "qemu_crashes": qemu.crashes, "pyemu_crashes": pyemu.crashes,
            "qemu_seconds": round(qemu.seconds, 1), "pyemu_seconds": round(pyemu.seconds, 1),
            "pyemu_tail": pyemu.tail, "qemu_tail": qemu.tail}


def table(rows: list[dict], arch_of: dict[int, str]) -> str:
    head = (f"| arch | engine | module | qemu pass | pyemu pass | lost | pyemu only "
            f"| qemu s | pyemu s | ratio |\n|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for i, r in enumerate(rows):
        ratio = r["pyemu_seconds"] / r["qemu_seconds"] if r["qemu_seconds"] else 0.0
        status = "" if r["pyemu_status"] == "done" else f" ({r['pyemu_status']})"
        qstatus = "" if r["qemu_status"] == "done" else f" ({r['qemu_status']})"
        lines.append(f"| {arch_of[i]} | {r['candidate'][6:]} | {r['module']} | "
                     f"{r['qemu_pass']}{qstatus} | {r['pyemu_pass']}{status} | "
                     f"{len(r['regressions'])} | {len(r['pyemu_only'])} | {r['qemu_seconds']} | "
                     f"{r['pyemu_seconds']} | {ratio:.2f} |")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="test modules (default: the full set)")
    parser.add_argument("--subset", choices=("full", "fast"), default="full")
    parser.add_argument("--arch", action="append", choices=sorted(ARCHES))
    parser.add_argument("--engine", action="append", choices=("patched", "stock"))
    parser.add_argument("--roots", type=Path, default=Path(os.environ.get(
        "XDG_CACHE_HOME", Path.home() / ".cache")) / "pyemu" / "cpython-roots")
    parser.add_argument("--work", type=Path, default=None, help="where outputs go")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per module run")
    parser.add_argument("--jobs", type=int, default=2, help="module runs at once")
    parser.add_argument("--host-exec", action="store_true", help="pyemu with -host-exec")
    parser.add_argument("--out", type=Path, help="write the comparison as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the summary table here")
    args = parser.parse_args(argv)
    modules = args.modules or (FULL if args.subset == "full" else FAST)
    arches, engines = args.arch or sorted(ARCHES), args.engine or ["patched"]
    work = args.work or Path(tempfile.mkdtemp(prefix="pyemu-cpython-"))
    work.mkdir(parents=True, exist_ok=True)
    roots = {arch: sysroot(arch, args.roots) for arch in arches}
    jobs = [(arch, module, emulator, engine) for arch in arches for module in modules
            for emulator, engine in [("qemu", "")] + [("pyemu", e) for e in engines]]
    results: dict[tuple, ModuleRun] = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_module, arch, roots[arch], module, emulator, engine, work,
                               args.timeout, args.host_exec): (arch, module, emulator, engine)
                   for arch, module, emulator, engine in jobs}
        for future in concurrent.futures.as_completed(futures):
            key = futures[future]
            results[key] = run = future.result()
            print(f"{key[0]:6} {run.emulator:13} {run.module:28} {run.status:8} "
                  f"{len(run.passed()):5} passed  {run.seconds:7.1f} s", flush=True)
    rows, arch_of = [], {}
    for arch in arches:
        for engine in engines:
            for module in modules:
                arch_of[len(rows)] = arch
                rows.append(compare(results[(arch, module, "qemu", "")],
                                    results[(arch, module, "pyemu", engine)]))
    summary = table(rows, arch_of)
    stamp = (f"{datetime.date.today()} at commit "
             f"{subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()}")
    print(f"\nCPython 3.11 regression tests, {stamp}:\n\n{summary}")
    for row, arch in zip(rows, (arch_of[i] for i in range(len(rows)))):
        for test in row["regressions"]:
            print(f"LOST {arch} {row['candidate']} {test}")
        if row["pyemu_status"] != "done" and row["qemu_status"] == "done":
            print(f"--- {arch} {row['candidate']} {row['module']}: {row['pyemu_status']}\n"
                  f"{row['pyemu_tail']}")
    if args.out:
        args.out.write_text(json.dumps({"when": stamp, "rows": rows, "arches": arch_of},
                                       indent=1))
    if args.markdown:
        args.markdown.write_text(f"CPython 3.11 regression tests, {stamp}:\n\n{summary}")
    bad = any(r["regressions"] or (r["pyemu_status"] != "done" and r["qemu_status"] == "done")
              for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
