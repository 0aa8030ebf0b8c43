"""Run one command and measure it; started as ``python -S -E spawn.py`` by measure.py.

Why a separate, lean process: a child's ``ru_maxrss`` (from ``wait4``) is never below the
peak RSS of the process that forked it, because the kernel records the old address space's
high-water mark at ``execve`` (and ``subprocess`` uses vfork, so that is the parent's).  The
benchmark runner imports pytest and generates a 16 MiB gzip input, so its own peak is large;
this script imports almost nothing (its peak, about 11 MB, is the floor of every reading and
is reported as ``rss_floor_kb``).

stdin: one JSON request ``{"cmd", "cwd", "env", "timeout", "stdout_file"}``.
stdout: one JSON line ``{"seconds", "status", "maxrss_kb", "timed_out", "stderr_tail"}``
followed by the child's raw stdout (unless it went to ``stdout_file``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _status(wait_status: int) -> int:
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def measure(req: dict) -> tuple[dict, bytes]:
    """Wall time from just before the fork to the reaping; the child's own peak RSS."""
    timed_out = threading.Event()
    out_file = open(req["stdout_file"], "wb") if req.get("stdout_file") else None
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(req["cmd"], stdin=subprocess.DEVNULL,
                                stdout=out_file or subprocess.PIPE, stderr=err,
                                env=req["env"], cwd=req["cwd"], start_new_session=True)
        timer = threading.Timer(req["timeout"], lambda: (timed_out.set(), _kill_group(proc.pid)))
        timer.start()
        try:
            data = proc.stdout.read() if proc.stdout else b""
            _pid, wait_status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            timer.cancel()
            if out_file:
                out_file.close()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here, not by Popen
        err.seek(max(0, os.fstat(err.fileno()).st_size - 400))
        stderr_tail = err.read().decode(errors="replace")
    meta = {"seconds": seconds, "status": -1 if timed_out.is_set() else _status(wait_status),
            "maxrss_kb": usage.ru_maxrss, "timed_out": timed_out.is_set(),
            "stderr_tail": stderr_tail}
    return meta, data


def main() -> None:
    meta, data = measure(json.loads(sys.stdin.buffer.read()))
    sys.stdout.buffer.write(json.dumps(meta).encode() + b"\n" + data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
