#!/usr/bin/env python3
"""What a new user's install gives: a fresh clone, empty caches, a fresh venv, ``pip install .``.

    python3 tools/check_install.py patched    # the install builds the patched engine
    python3 tools/check_install.py no-cmake   # without cmake: the stock engine, and -v says why

Each case clones this repository's HEAD into a temporary directory, points XDG_CACHE_HOME (so
pyemu's engine cache and pip's cache) at a new empty directory, makes a venv, installs the
clone into it as the README's first command does, and runs that command's example with -v.
It exits 0 when the engine ``pyemu-arm -v`` names is the one the case expects. CI runs both
(.ci/run): a machine whose caches are warm would hide a broken cold build.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GREETING = "Hello, world! (from a arm guest)"


def _run(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=3600)
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}\n")
    return proc


def _path_without(tool: str, into: Path) -> str:
    """A PATH like this one, with every command but ``tool``: links in one directory."""
    into.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            if entry.name.startswith(tool) or (into / entry.name).exists():
                continue
            if entry.is_file() and os.access(entry.path, os.X_OK):
                (into / entry.name).symlink_to(entry.path)
    return str(into)


def check(case: str, keep: bool) -> int:
    work = Path(tempfile.mkdtemp(prefix=f"pyemu-install-{case}-"))
    log = work / "install.log"
    started = time.monotonic()
    try:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYEMU_", "PIP_CACHE", "VIRTUAL_ENV", "PYTHON"))
               and k not in ("LIBUNICORN_PATH",)}
        env["XDG_CACHE_HOME"] = str(work / "cache")
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        src = work / "src"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(src)], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
        bindir = work / "venv" / "bin"
        if case == "no-cmake":
            env["PATH"] = os.pathsep.join([str(bindir), _path_without("cmake", work / "bin")])
            assert shutil.which("cmake", path=env["PATH"]) is None
        else:
            env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
        install = _run([str(bindir / "pip"), "install", "-v", "."], env, src, log)
        if install.returncode != 0:
            print(f"check_install {case}: pip install failed; see {log}", file=sys.stderr)
            keep = True
            return 1
        run = _run([str(bindir / "pyemu-arm"), "-v", "examples/hello-arm"], env, src, log)
        engine = re.search(r"^pyemu: engine (.*)$", run.stderr, re.MULTILINE)
        reason = re.search(r"^pyemu: engine chosen: (.*)$", run.stderr, re.MULTILINE)
        print(f"check_install {case}: {time.monotonic() - started:.0f} s; "
              f"pyemu-arm -v: {engine.group(1) if engine else '?'}; "
              f"{reason.group(1) if reason else '?'}")
        problems = []
        if run.returncode != 0 or GREETING not in run.stdout:
            problems.append(f"the example did not run (status {run.returncode})")
        if engine is None or reason is None:
            problems.append("-v named no engine or no reason")
        elif case == "patched" and "with pyemu patches" not in engine.group(1):
            problems.append("a cold install did not build the patched engine")
        elif case == "no-cmake" and ("(stock)" not in engine.group(1)
                                     or "cmake not found" not in reason.group(1)):
            problems.append("without cmake -v should say stock, and that cmake was missing")
        for problem in problems:
            print(f"check_install {case}: {problem}; see {log}", file=sys.stderr)
        keep = keep or bool(problems)
        return 1 if problems else 0
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="+", choices=("patched", "no-cmake"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    return max(check(case, args.keep) for case in args.cases)


if __name__ == "__main__":
    sys.exit(main())
