"""Timing one run (wall time, exit status, peak RSS via wait4) and one (workload, arch) pair:
pyemu and qemu in alternation, every round checked (both exit 0, same stdout)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import support
from benchmarks.workloads import Context, Invocation, NotApplicable, Workload

EMULATORS: tuple[str, ...] = ("pyemu", "qemu")


@dataclass(frozen=True)
class Run:
    seconds: float
    status: int  # exit status; 128+N when killed by signal N; -1 when timed out
    maxrss_kb: int
    stdout_sha256: str
    stdout_head: bytes  # the first bytes, for messages
    stderr_tail: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0

    def json(self) -> dict[str, object]:
        return {"seconds": round(self.seconds, 6), "status": self.status,
                "maxrss_kb": self.maxrss_kb, "stdout_sha256": self.stdout_sha256}


@dataclass
class PairResult:
    workload: Workload
    arch: str
    state: str = "ok"  # "ok", "FAIL" or "n/a"
    reason: str = ""
    runs: dict[str, list[Run]] = field(default_factory=lambda: {e: [] for e in EMULATORS})

    def fail(self, reason: str) -> None:
        self.state, self.reason = "FAIL", reason


# --------------------------------------------------------------------------- one run

SPAWN = Path(__file__).with_name("spawn.py")


def execute(cmd: list[str], cwd: Path, timeout: float, stdout_file: Path | None = None) -> Run:
    """Run ``cmd`` through the lean helper spawn.py (see there why), which times it with
    perf_counter around Popen + ``os.wait4`` and returns the child's own ``ru_maxrss``.
    stdout goes to a pipe (or to ``stdout_file``, for big outputs), stderr to a file."""
    request = {"cmd": cmd, "cwd": str(cwd), "env": support.guest_env(), "timeout": timeout,
               "stdout_file": str(stdout_file) if stdout_file else None}
    proc = subprocess.run([sys.executable, "-S", "-E", str(SPAWN)],
                          input=json.dumps(request).encode(), capture_output=True,
                          timeout=timeout + 120, check=False)
    header, _, data = proc.stdout.partition(b"\n")
    if proc.returncode != 0 or not header.startswith(b"{"):
        raise RuntimeError(f"benchmarks/spawn.py failed on {cmd[0]}:\n"
                           f"{proc.stderr.decode(errors='replace')}")
    meta = json.loads(header)
    if stdout_file:
        data = stdout_file.read_bytes()
    return Run(seconds=meta["seconds"], status=meta["status"], maxrss_kb=meta["maxrss_kb"],
               stdout_sha256=hashlib.sha256(data).hexdigest(), stdout_head=data[:160],
               stderr_tail=meta["stderr_tail"].encode())


def rss_floor_kb(workdir: Path) -> int:
    """The peak RSS every reading includes at least: that of the helper itself."""
    return execute(["true"], workdir, 60).maxrss_kb


# --------------------------------------------------------------------------- one pair


def _describe_failure(emulator: str, run: Run) -> str:
    if run.status == -1:
        return f"{emulator} timed out after {run.seconds:.0f}s"
    lines = run.stderr_tail.decode(errors="replace").strip().splitlines()
    last = lines[-1].strip() if lines else "no stderr"
    return f"{emulator} exit {run.status}: {last[:160]}"


def check_round(pyemu: Run, qemu: Run) -> str | None:
    """None when the round is valid, else why not."""
    for name, run in (("pyemu", pyemu), ("qemu", qemu)):
        if not run.ok:
            return _describe_failure(name, run)
    if pyemu.stdout_sha256 != qemu.stdout_sha256:
        return (f"stdout differs: pyemu {pyemu.stdout_head[:60]!r} vs "
                f"qemu {qemu.stdout_head[:60]!r}")
    return None


def commands(inv: Invocation, arch: str) -> dict[str, list[str]]:
    return {
        "pyemu": [*support.pyemu_command(arch), *inv.pyemu_args, *inv.argv],
        "qemu": [*support.qemu_command(arch), *inv.qemu_args, *inv.argv],
    }


def measure_pair(workload: Workload, arch: str, ctx: Context, rounds: int,
                 timeout: float) -> PairResult:
    """Prepare the pair, then ``rounds`` x (pyemu, qemu); stop at the first invalid round."""
    result = PairResult(workload, arch)
    try:
        inv = workload.prepare(ctx, arch)
        cmds = commands(inv, arch)
    except NotApplicable as exc:
        result.state, result.reason = "n/a", str(exc)
        return result
    except support.SetupError as exc:
        result.fail(f"setup: {exc}".splitlines()[0][:200])
        return result
    try:
        _run_rounds(result, cmds, inv, ctx.workdir, rounds, timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:  # the helper itself failed
        result.fail(str(exc).strip().splitlines()[-1][:200])
    return result


def _run_rounds(result: PairResult, cmds: dict[str, list[str]], inv: Invocation, workdir: Path,
                rounds: int, timeout: float) -> None:
    for _ in range(rounds):
        this_round = {}
        for emulator in EMULATORS:
            out = workdir / f"stdout-{emulator}" if inv.stdout_to_file else None
            this_round[emulator] = execute(cmds[emulator], workdir, timeout, out)
            result.runs[emulator].append(this_round[emulator])
            if out:
                out.unlink(missing_ok=True)
        problem = check_round(this_round["pyemu"], this_round["qemu"])
        if problem:
            result.fail(problem)
            return
