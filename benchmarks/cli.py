"""``python -m benchmarks``: build, run pyemu and qemu-user in alternation, print the table."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import report, support
from benchmarks.measure import EMULATORS, PairResult, measure_pair, rss_floor_kb
from benchmarks.workloads import FULL, QUICK, WORKLOADS, Context, Sizes, select, sizes_dict


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="pyemu vs qemu-user on the same guest programs, run in alternation; "
                    "every run's stdout is checked against qemu's.")
    p.add_argument("--arch", action="extend", nargs="+", choices=support.ARCHES,
                   help="architectures (default: all four)")
    p.add_argument("--rounds", type=int, default=None,
                   help="pyemu/qemu rounds per workload (default 3; 1 with --quick)")
    p.add_argument("--only", action="extend", nargs="+", metavar="NAME",
                   choices=[w.name for w in WORKLOADS], help="run only these workloads")
    p.add_argument("--json", type=Path, metavar="FILE", help="write all results and raw times")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 round, reduced sizes")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds before one run is killed and reported as FAIL (default 300)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def list_workloads() -> str:
    return "\n".join(f"{w.name:<14} {w.group:<8} {','.join(w.arches):<26} {w.what}"
                     for w in WORKLOADS)


def _progress(i: int, total: int, res: PairResult) -> None:
    times = "  ".join(
        f"{emu} " + " ".join(f"{r.seconds:.2f}" for r in res.runs[emu]) for emu in EMULATORS)
    state = "" if res.state == "ok" else f"  {res.state}: {res.reason}"
    print(f"[{i}/{total}] {res.workload.name} {res.arch}: {times}{state}",
          file=sys.stderr, flush=True)


def run_all(args: argparse.Namespace, ctx: Context) -> list[PairResult]:
    arches = [a for a in support.ARCHES if not args.arch or a in args.arch]
    pairs = select(args.only, arches)
    results = []
    for i, (workload, arch) in enumerate(pairs, 1):
        res = measure_pair(workload, arch, ctx, args.rounds, args.timeout)
        _progress(i, len(pairs), res)
        results.append(res)
    return results


def render(rows: list[report.Row], goals: list[report.Target], machine: dict[str, object],
           rounds: int, floor_kb: int, sizes: Sizes) -> str:
    """The text report: table, targets, machine and run parameters."""
    return "\n".join([
        report.format_table(rows), "", report.format_targets(goals), "",
        support.machine_line(machine),
        f"rounds: {rounds} (medians); peak RSS floor (the measuring helper): "
        f"{floor_kb / 1024:.1f} MB; sizes: "
        + ", ".join(f"{k}={v:_}" for k, v in sizes_dict(sizes).items()),
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        print(list_workloads())
        return 0
    sizes = QUICK if args.quick else FULL
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pyemu-bench-") as workdir:
        floor_kb = rss_floor_kb(Path(workdir))
        results = run_all(args, Context(sizes, Path(workdir)))
    rows = report.make_rows(results, sizes)
    goals = report.targets(rows, sizes)
    machine = support.machine_info((args.arch or ["aarch64"])[0])
    print(render(rows, goals, machine, args.rounds, floor_kb, sizes))
    if args.json:
        config = {"rounds": args.rounds, "quick": args.quick, "timeout_s": args.timeout,
                  "rss_floor_kb": floor_kb, "sizes": sizes_dict(sizes),
                  "started": started.isoformat(timespec="seconds"),
                  "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
                  "argv": sys.argv[1:] if argv is None else argv}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_json(rows, goals, machine, config), indent=1,
                                        ensure_ascii=False) + "\n")
    return 1 if any(r.state == "FAIL" for r in results) else 0
