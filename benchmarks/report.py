"""From raw runs to the table, the per-arch geometric means, the targets block and the JSON."""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass

from benchmarks.measure import PairResult, Run
from benchmarks.workloads import Sizes

CPU_GROUP = "cpu"


@dataclass(frozen=True)
class Row:
    """One table line: medians over the rounds, the ratio only when every round was valid."""

    result: PairResult
    pyemu_s: float | None
    qemu_s: float | None
    ratio: float | None
    pyemu_peak_mb: float | None
    qemu_peak_mb: float | None
    note: str

    @property
    def key(self) -> tuple[str, str]:
        return self.result.workload.name, self.result.arch


def _median(runs: list[Run]) -> float | None:
    return statistics.median(r.seconds for r in runs) if runs else None


def _peak_mb(runs: list[Run]) -> float | None:
    return max(r.maxrss_kb for r in runs) / 1024 if runs else None


def make_rows(results: list[PairResult], sizes: Sizes) -> list[Row]:
    rows = []
    for res in results:
        p, q = _median(res.runs["pyemu"]), _median(res.runs["qemu"])
        ratio = p / q if res.state == "ok" and p and q else None
        note = "" if res.state == "ok" else f"{res.state}: {res.reason}"
        rows.append(Row(res, p, q, ratio, _peak_mb(res.runs["pyemu"]), _peak_mb(res.runs["qemu"]),
                        note))
    by_key = {r.key: r for r in rows}
    return [_with_write_cost(r, by_key, sizes) for r in rows]


def write_cost_us(row: Row, by_key: dict[tuple[str, str], Row], sizes: Sizes) -> float | None:
    """pyemu µs per one-byte write: (write-1B - hello-static) / calls."""
    hello = by_key.get(("hello-static", row.result.arch))
    if row.ratio is None or hello is None or hello.ratio is None:
        return None
    assert row.pyemu_s is not None and hello.pyemu_s is not None
    return (row.pyemu_s - hello.pyemu_s) / sizes.write_calls * 1e6


def _with_write_cost(row: Row, by_key: dict[tuple[str, str], Row], sizes: Sizes) -> Row:
    if row.result.workload.name != "write-1B" or row.ratio is None:
        return row
    cost = write_cost_us(row, by_key, sizes)
    note = f"pyemu {cost:.2f} µs/call" if cost is not None else "µs/call needs hello-static"
    return dataclasses.replace(row, note=note)


def cpu_geomeans(rows: list[Row]) -> dict[str, tuple[float, int, int]]:
    """arch -> (geometric mean of the valid CPU-bound ratios, how many, how many attempted)."""
    out: dict[str, tuple[float, int, int]] = {}
    for arch in dict.fromkeys(r.result.arch for r in rows):
        group = [r for r in rows if r.result.arch == arch
                 and r.result.workload.group == CPU_GROUP and r.result.state != "n/a"]
        ratios = [r.ratio for r in group if r.ratio is not None]
        if ratios:
            out[arch] = (math.exp(statistics.fmean(map(math.log, ratios))), len(ratios),
                         len(group))
    return out


# --------------------------------------------------------------------------- the table


def _num(value: float | None, fmt: str) -> str:
    """``value`` formatted with ``fmt`` (e.g. "8.3f"), or a dash of the same width."""
    width = int(fmt.split(".")[0])
    return "-".rjust(width) if value is None else format(value, fmt)


def format_table(rows: list[Row]) -> str:
    head = (f"{'workload':<14} {'arch':<8} {'pyemu s':>8} {'qemu s':>8} {'ratio':>7} "
            f"{'pyemu MB':>8} {'qemu MB':>8}  note")
    lines = [head, "-" * len(head)]
    geomeans = cpu_geomeans(rows)
    for i, row in enumerate(rows):
        res = row.result
        lines.append(f"{res.workload.name:<14} {res.arch:<8} {_num(row.pyemu_s, '8.3f')} "
                     f"{_num(row.qemu_s, '8.3f')} {_num(row.ratio, '7.2f')} "
                     f"{_num(row.pyemu_peak_mb, '8.1f')} {_num(row.qemu_peak_mb, '8.1f')}  "
                     f"{row.note}".rstrip())
        last_cpu = res.workload.group == CPU_GROUP and (
            i + 1 == len(rows) or rows[i + 1].result.workload.group != CPU_GROUP)
        if last_cpu and geomeans:
            lines.append(_geomean_line(geomeans))
    return "\n".join(lines)


def _geomean_line(geomeans: dict[str, tuple[float, int, int]]) -> str:
    parts = []
    for arch, (g, n, attempted) in geomeans.items():
        extra = "" if n == attempted else f" ({n} of {attempted} valid)"
        parts.append(f"{arch} {g:.2f}{extra}")
    return "  CPU-bound geometric mean pyemu/qemu: " + ", ".join(parts)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    what: str
    arch: str
    limit: float
    value: float | None
    shown: str  # the measured value as printed

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value <= self.limit

    @property
    def verdict(self) -> str:
        return {None: "not measured", True: "met", False: "not met"}[self.met]


def _target(what: str, arch: str, limit: float, value: float | None, fmt: str,
            suffix: str = "") -> Target:
    shown = "-" if value is None else format(value, fmt) + suffix
    return Target(what, arch, limit, value, shown)


def targets(rows: list[Row], sizes: Sizes) -> list[Target]:
    by_key = {r.key: r for r in rows}
    arches = list(dict.fromkeys(r.result.arch for r in rows))
    geomeans = cpu_geomeans(rows)
    out: list[Target] = []
    for arch in arches:
        cpu = [r for r in rows if r.result.arch == arch and r.result.workload.group == CPU_GROUP
               and r.ratio is not None]
        worst = max(cpu, key=lambda r: r.ratio or 0.0, default=None)
        out.append(_target("CPU-bound geomean pyemu/qemu <= 1.3", arch, 1.3,
                           geomeans[arch][0] if arch in geomeans else None, ".2f"))
        out.append(_target("CPU-bound max pyemu/qemu <= 2.0", arch, 2.0,
                           worst.ratio if worst else None, ".2f",
                           f" ({worst.result.workload.name})" if worst else ""))
        write = by_key.get(("write-1B", arch))
        out.append(_target("write-1B <= 3 µs/call", arch, 3.0,
                           write_cost_us(write, by_key, sizes) if write else None, ".2f", " µs"))
        out.append(_time_target(by_key, "hello-static", arch, 0.15))
        out.append(_time_target(by_key, "hello-dynamic", arch, 0.25))
        hello = by_key.get(("hello-static", arch))
        rss = hello.pyemu_peak_mb if hello and hello.ratio is not None else None
        out.append(_target("hello-static peak RSS <= 80 MB", arch, 80.0, rss, ".1f", " MB"))
        python = by_key.get(("python-pass", arch))
        if python:
            out.append(_target("python-pass <= 2x qemu", arch, 2.0, python.ratio, ".2f", "x"))
    order = list(dict.fromkeys(t.what for t in out))
    return sorted(out, key=lambda t: order.index(t.what))  # by target, then arch


def _time_target(by_key: dict[tuple[str, str], Row], name: str, arch: str,
                 limit: float) -> Target:
    row = by_key.get((name, arch))
    value = row.pyemu_s if row and row.ratio is not None else None
    return _target(f"{name} <= {limit} s", arch, limit, value, ".3f", " s")


def format_targets(items: list[Target]) -> str:
    lines = ["targets (pyemu, from the project's issue):"]
    for t in items:
        lines.append(f"  {t.what:<38} {t.arch:<8} {t.shown:>18}  {t.verdict}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- JSON


def to_json(rows: list[Row], items: list[Target], machine: dict[str, object],
            config: dict[str, object]) -> dict[str, object]:
    return {
        "machine": machine,
        "config": config,
        "results": [_row_json(r) for r in rows],
        "cpu_geomean": {a: {"geomean": g, "valid": n, "attempted": m}
                        for a, (g, n, m) in cpu_geomeans(rows).items()},
        "targets": [{"target": t.what, "arch": t.arch, "limit": t.limit, "value": t.value,
                     "met": t.met} for t in items],
    }


def _row_json(row: Row) -> dict[str, object]:
    res = row.result
    return {
        "workload": res.workload.name, "group": res.workload.group, "arch": res.arch,
        "state": res.state, "reason": res.reason,
        "median_pyemu_s": row.pyemu_s, "median_qemu_s": row.qemu_s, "ratio": row.ratio,
        "pyemu_peak_rss_mb": row.pyemu_peak_mb, "qemu_peak_rss_mb": row.qemu_peak_mb,
        "note": row.note,
        "runs": {emu: [r.json() for r in runs] for emu, runs in res.runs.items()},
    }
