#!/usr/bin/env python3
"""Generate per-ABI Linux constant tables from the kernel's own uapi headers.

Usage: python tools/gen_abi_constants.py [--out DIR] [--check] [-v]

The cross compiler computes every value; nothing is evaluated in Python:
1. `<triple>-gcc -E -dD` over the included uapi headers lists each object-like
   macro with the header defining it; FAMILIES picks names by (header, pattern).
2. A C file defines `const long long pyemu_vN[2] = {value, value < 0}` per name
   (pointers are rejected via __builtin_classify_type); it is compiled with
   `<triple>-gcc -c` and read back with pyelftools.  Names that do not compile
   (SIG_DFL, libc-dependent SO_TIMESTAMP on 32-bit...) are dropped, found from
   the diagnostics' line numbers.  The sign slot lets a macro of unsigned type
   keep its unsigned value in the ABI's width (~0UL: 0xffffffff on 32-bit ABIs).
Exceptions to "uapi only", because the kernel does not export them: SOCK_<type>,
AF_*/MSG_*/SCM_*/SOL_*, SHUT_* and EFD_* come from libc's <bits/socket_type.h>,
<bits/socket.h>, <sys/socket.h> / <bits/eventfd.h>, and ARM's
_NSIG (absent from its uapi asm/signal.h) from asm-generic/signal.h.
"""
from __future__ import annotations

import argparse
import difflib
import fnmatch
import re
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "usermode" / "syscalls" / "generated"


@dataclass(frozen=True)
class Abi:
    module: str
    title: str
    triple: str
    package: str  # linux-libc-dev-<package>-cross
    twin: Abi | None = None  # same ABI, other endianness: must give identical tables


ABIS = (
    Abi("arm_eabi", "ARM EABI", "arm-linux-gnueabihf", "armhf"),
    Abi("aarch64", "AArch64", "aarch64-linux-gnu", "arm64"),
    Abi("mips_o32", "MIPS o32", "mips-linux-gnu", "mips",
        twin=Abi("mips_o32", "MIPS o32 (little endian)", "mipsel-linux-gnu", "mipsel")),
)

UAPI_INCLUDES = (
    "asm/unistd.h", "asm/errno.h", "linux/signal.h", "linux/fcntl.h", "linux/mman.h",
    "linux/auxvec.h", "asm/termios.h", "asm/ioctls.h", "asm/sockios.h", "linux/time.h",
    "linux/resource.h", "linux/stat.h", "linux/futex.h", "linux/sched.h", "linux/wait.h",
    "linux/random.h", "asm/poll.h", "linux/socket.h", "asm/socket.h", "linux/net.h",
    "linux/in.h", "linux/tcp.h", "linux/fs.h", "linux/eventpoll.h",
    "linux/inotify.h", "linux/memfd.h", "linux/prctl.h", "linux/serial.h",
    "linux/capability.h", "linux/timex.h", "linux/falloc.h", "linux/fadvise.h", "linux/close_range.h",
    "linux/timerfd.h", "linux/ioprio.h", "linux/fanotify.h", "linux/in6.h", "linux/sockios.h",
    "linux/netlink.h", "linux/signalfd.h",
)
# Kernel-side typedef some uapi macros rely on (MIPS SIOCSPGRP is _IOW('s', 8, pid_t)).
UAPI_PRELUDE = ("typedef __kernel_pid_t pid_t;",)

# (target table, headers allowed to define the name (globs), name pattern).  "SIGNAL" is
# split later into SIGNALS / NSIG / CONSTANTS.
Family = tuple[str, str, str]
C = "CONSTANTS"
UAPI_FAMILIES: tuple[Family, ...] = (
    ("SYSCALLS", "asm/unistd*.h asm-generic/unistd.h", r"__(ARM_)?NR_\w+"),
    ("ERRNO", "asm/errno.h asm-generic/errno*.h", r"E[A-Z0-9]+"),
    ("SIGNAL", "asm/signal.h asm-generic/signal*.h linux/signal.h",
     r"SIG\w+|SA_\w+|SS_\w+|MINSIGSTKSZ|_NSIG"),
    ("AUXV", "linux/auxvec.h asm/auxvec.h", r"AT_(?!VECTOR_SIZE)\w+"),
    (C, "asm/siginfo.h asm-generic/siginfo.h",
     r"(SI|ILL|FPE|SEGV|BUS|TRAP|CLD|POLL|SYS|EMT|SIGEV)_\w+"),
    (C, "linux/fcntl.h asm/fcntl.h asm-generic/fcntl.h", r"(O|F|AT|LOCK)_\w+|FD_CLOEXEC|FASYNC"),
    (C, "linux/mman.h asm/mman.h asm-generic/mman*.h", r"(PROT|MAP|MREMAP|MADV|MS|MCL|MLOCK)_\w+"),
    (C, "asm/ioctls.h asm-generic/ioctls.h asm/termbits.h asm-generic/termbits*.h asm/termios.h "
        "asm-generic/termios.h asm/sockios.h asm-generic/sockios.h", r"[A-Z][A-Z0-9_]*"),
    (C, "linux/time.h", r"CLOCKS?_\w+|TIMER_ABSTIME|ITIMER_\w+|MAX_CLOCKS"),
    (C, "asm/resource.h asm-generic/resource.h linux/resource.h", r"(RLIMIT|RLIM|RUSAGE|PRIO)_\w+"),
    (C, "linux/stat.h", r"S_I\w+|STATX_\w+"),
    (C, "linux/futex.h", r"FUTEX_\w+"),
    (C, "linux/sched.h", r"(CLONE|SCHED)_\w+|CSIGNAL"),
    (C, "linux/wait.h", r"(__)?W[A-Z]+|P_[A-Z]+"),
    (C, "linux/random.h", r"GRND_\w+"),
    (C, "asm/poll.h asm-generic/poll.h", r"POLL\w+"),
    (C, "linux/socket.h asm/socket.h asm-generic/socket.h linux/net.h",
     r"(SOCK|SOL|SO|SCM|AF|PF|MSG|SYS)_\w+"),
    (C, "linux/in.h", r"IPPROTO_\w+|IP_\w+|MCAST_\w+"),
    (C, "linux/in6.h", r"IPV6_\w+"),
    (C, "linux/sockios.h", r"SIOC\w+"),
    (C, "linux/netlink.h", r"NETLINK_\w+|NLM_F_\w+|NLMSG_(NOOP|ERROR|DONE|OVERRUN|MIN_TYPE)"),
    (C, "linux/tcp.h", r"TCP_\w+"),
    (C, "linux/fs.h", r"(SEEK|RENAME|SYNC_FILE_RANGE|RWF)_\w+"),
    (C, "linux/eventpoll.h", r"EPOLL\w+"),
    (C, "linux/inotify.h", r"IN_\w+"),
    (C, "linux/memfd.h", r"MFD_\w+"),
    (C, "linux/prctl.h", r"PR_\w+"),
    (C, "linux/capability.h", r"_LINUX_CAPABILITY_\w+|CAP_[A-Z_]+"),
    (C, "linux/timex.h", r"(ADJ|MOD|STA|TIME)_\w+"),
    (C, "linux/falloc.h", r"FALLOC_FL_\w+"),
    (C, "linux/fadvise.h", r"POSIX_FADV_\w+"),
    (C, "linux/close_range.h", r"CLOSE_RANGE_\w+"),
    (C, "linux/timerfd.h", r"TFD_\w+"),
    (C, "linux/signalfd.h", r"SFD_\w+"),
    (C, "linux/ioprio.h", r"IOPRIO_\w+"),
    (C, "linux/fanotify.h", r"FAN_\w+|FANOTIFY_\w+"),
)
# Socket types and eventfd flags live in non-uapi kernel headers (include/linux/net.h,
# include/linux/eventfd.h in 6.1); libc mirrors them.  uapi names take precedence.
LIBC_FAMILIES: tuple[Family, ...] = (
    (C, "bits/socket_type.h", r"SOCK_\w+"),
    (C, "bits/socket.h", r"(AF|PF|MSG|SCM|SOL)_\w+"),
    (C, "sys/socket.h", r"SHUT_(RD|WR|RDWR)"),
    (C, "bits/eventfd.h", r"EFD_\w+"),
)
# SysV IPC, a unit of its own: uapi <linux/shm.h> includes libc's <unistd.h>, whose SEEK_*
# would otherwise shadow <linux/fs.h>'s.
IPC_INCLUDES = ("linux/ipc.h", "linux/shm.h", "linux/sem.h", "linux/msg.h")
IPC_FAMILIES: tuple[Family, ...] = (
    (C, "linux/ipc.h", r"IPC_\w+|(SEM|MSG|SHM)[A-Z]+"),
    (C, "linux/shm.h asm/shmbuf.h asm-generic/shmbuf.h", r"SHM\w+"),
    (C, "linux/sem.h", r"SEM\w+|GET(PID|VAL|ALL|NCNT|ZCNT)|SET(VAL|ALL)"),
    (C, "linux/msg.h", r"MSG\w+"),
)
Unit = tuple[tuple[str, ...], tuple[str, ...], tuple[Family, ...]]  # includes, prelude, families
UNITS: tuple[Unit, ...] = ((UAPI_INCLUDES, UAPI_PRELUDE, UAPI_FAMILIES),
                           (IPC_INCLUDES, (), IPC_FAMILIES),
                           (("sys/socket.h", "sys/eventfd.h"), ("#define _GNU_SOURCE 1",), LIBC_FAMILIES))

VALUE_MACRO = ("#define PYEMU_V(i, x) const long long pyemu_v##i[2] = {(long long)(x) + 0 * "
               "(long long)sizeof(char[__builtin_classify_type(x) - 1U < 4U ? 1 : -1]), (x) < 0};")
LINEMARKER = re.compile(r'^# \d+ "(.*)"')
DEFINE = re.compile(r"^#define (\w+)(\(?)\s*(.*)$")
Macros = dict[str, tuple[str, str]]  # name -> (body, defining header relative to include/)
Tables = dict[str, object]


def run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit(f"error: {cmd[0]} not found; the cross compilers are required") from None
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc


def include_lines(includes: tuple[str, ...], prelude: tuple[str, ...] = ()) -> list[str]:
    """Feature macros of the prelude ("#define ...") come first, its typedefs after."""
    defines = [line for line in prelude if line.startswith("#define")]
    rest = [line for line in prelude if not line.startswith("#define")]
    return defines + [f"#include <{header}>" for header in includes] + rest


def list_macros(cc: str, includes: tuple[str, ...], tmp: Path,
                prelude: tuple[str, ...] = ()) -> Macros:
    """Object-like macros visible after including `includes`, with their origin."""
    src = tmp / "probe.c"
    src.write_text("\n".join(include_lines(includes, prelude)) + "\n")
    macros: Macros = {}
    header = ""
    for line in run([cc, "-E", "-dD", str(src)]).stdout.splitlines():
        if m := LINEMARKER.match(line):
            header = m[1].rsplit("/include/", 1)[-1]
        elif m := DEFINE.match(line):
            if m[2]:
                macros.pop(m[1], None)
            else:
                macros[m[1]] = (m[3].strip(), header)
        elif line.startswith("#undef "):
            macros.pop(line.split()[1], None)
    return macros


def select(macros: Macros, families: tuple[Family, ...]) -> dict[str, str]:
    """Map each wanted macro name to its target table."""
    chosen: dict[str, str] = {}
    for target, headers, pattern in families:
        rx = re.compile(pattern)
        for name, (body, header) in macros.items():
            if body and rx.fullmatch(name) and any(fnmatch.fnmatch(header, h)
                                                   for h in headers.split()):
                chosen.setdefault(name, target)
    return chosen


def evaluate(cc: str, includes: tuple[str, ...], names: list[str], tmp: Path,
             prelude: tuple[str, ...] = ()) -> tuple[dict[str, int], list[str]]:
    """Let the compiler compute `names`; return (values, names that did not compile)."""
    names, dropped = list(names), []
    while True:
        head = include_lines(includes, prelude) + [VALUE_MACRO]
        body = [f"PYEMU_V({i}, {name})" for i, name in enumerate(names)]
        src, obj = tmp / "values.c", tmp / "values.o"
        src.write_text("\n".join(head + body) + "\n")
        proc = run([cc, "-c", "-w", "-o", str(obj), str(src)], check=False)
        if proc.returncode == 0:
            return dict(zip(names, read_values(obj, len(names)))), dropped
        lines = {int(n) - len(head) - 1 for n in re.findall(r"values\.c:(\d+):", proc.stderr)}
        bad = {names[i] for i in lines if 0 <= i < len(names)}
        if not bad:
            raise RuntimeError(f"{cc}: headers do not compile:\n{proc.stderr}")
        dropped += sorted(bad)
        names = [name for name in names if name not in bad]


def read_values(obj: Path, count: int) -> list[int]:
    """Read back the pyemu_vN arrays from the object file."""
    found: dict[int, int] = {}
    sections: dict[int, bytes] = {}
    with obj.open("rb") as f:
        elf = ELFFile(f)
        fmt = ("<" if elf.little_endian else ">") + "qq"
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            if not sym.name.startswith("pyemu_v"):
                continue
            index = sym["st_shndx"]
            if index not in sections:
                section = elf.get_section(index)
                nobits = section["sh_type"] == "SHT_NOBITS"  # all-zero data may land in .bss
                sections[index] = bytes(section["sh_size"]) if nobits else section.data()
            value, negative = struct.unpack_from(fmt, sections[index], sym["st_value"])
            found[int(sym.name[7:])] = value + (1 << 64) if value < 0 and not negative else value
    if len(found) != count:
        raise RuntimeError(f"{obj}: expected {count} values, found {len(found)}")
    return [found[i] for i in range(count)]


def collect(cc: str, verbose: bool) -> tuple[dict[str, dict[str, int]], Macros]:
    """Values per target table for one compiler, plus the uapi macro bodies."""
    raw: dict[str, dict[str, int]] = {}
    uapi: Macros = {}
    for includes, prelude, families in UNITS:
        with tempfile.TemporaryDirectory() as tmp:
            macros = list_macros(cc, includes, Path(tmp), prelude)
            chosen = select(macros, families)
            values, dropped = evaluate(cc, includes, list(chosen), Path(tmp), prelude)
        uapi = uapi or macros
        for name, value in values.items():
            raw.setdefault(chosen[name], {}).setdefault(name, value)
        if verbose and dropped:
            sys.stderr.write(f"{cc}: dropped {len(dropped)}: {' '.join(dropped)}\n")
    return raw, uapi


def split_syscalls(values: dict[str, int], macros: Macros) -> tuple[dict, dict]:
    """SYSCALLS (number -> canonical name) and SYSCALL_ALIASES (alias -> canonical)."""
    names: dict[str, str] = {}
    for macro in values:
        m = re.fullmatch(r"__(ARM_)?NR_([a-z0-9_]+)", macro)
        if m and m[2] != "syscalls":  # skips __NR_Linux, __NR_syscalls, __ARM_NR_BASE, ...
            names[macro] = ("ARM_" if m[1] else "") + m[2]
    by_number: dict[int, list[str]] = {}
    for macro in names:
        by_number.setdefault(values[macro], []).append(macro)
    syscalls, aliases = {}, {}
    for number, group in by_number.items():
        # A macro defined as another syscall macro (__NR_a __NR_b) is the alias.
        group.sort(key=lambda mac: (macros[mac][0].strip("() ") in names, names[mac]))
        syscalls[number] = names[group[0]]
        aliases.update({names[mac]: names[group[0]] for mac in group[1:]})
    return syscalls, aliases


def split_signals(cc: str, values: dict[str, int], macros: Macros
                  ) -> tuple[int, dict[str, int], dict[str, int]]:
    """(NSIG, SIGNALS, other signal-API constants)."""
    nsig = values.get("_NSIG")
    if nsig is None:  # ARM's uapi asm/signal.h leaves _NSIG to the kernel: generic 64
        with tempfile.TemporaryDirectory() as tmp:
            nsig = evaluate(cc, ("asm-generic/signal.h",), ["_NSIG"], Path(tmp))[0]["_NSIG"]
    signals, other = {}, {}
    for name, value in values.items():
        if re.fullmatch(r"SIG[A-Z0-9]+", name) and 1 <= value <= nsig:
            signals[name] = value
        elif name != "_NSIG":
            other[name] = value
    if "SIGRTMAX" not in signals and macros.get("SIGRTMAX", ("",))[0] == "_NSIG":
        signals["SIGRTMAX"] = nsig
    return nsig, signals, other


def build_tables(cc: str, verbose: bool) -> Tables:
    raw, macros = collect(cc, verbose)
    syscalls, aliases = split_syscalls(raw["SYSCALLS"], macros)
    nsig, signals, signal_api = split_signals(cc, raw["SIGNAL"], macros)
    constants = raw["CONSTANTS"]
    if clash := set(constants) & set(signal_api):
        raise RuntimeError(f"{cc}: names in two families: {sorted(clash)}")
    return {"NSIG": nsig, "SYSCALLS": syscalls, "SYSCALL_ALIASES": aliases,
            "ERRNO": raw["ERRNO"], "SIGNALS": signals, "AUXV": raw["AUXV"],
            "CONSTANTS": constants | signal_api}


def compare_twins(abi: Abi, tables: Tables, twin: Tables) -> None:
    """One module serves both endiannesses, so every value must agree."""
    def flat(t: Tables) -> dict:
        return {(key, k): v for key, table in t.items()
                for k, v in (table.items() if isinstance(table, dict) else [("", table)])}
    mine, other = flat(tables), flat(twin)
    diffs = [f"{key}[{k!r}]: {mine.get((key, k))!r} != {other.get((key, k))!r}"
             for key, k in sorted(mine.keys() | other.keys(), key=str)
             if mine.get((key, k)) != other.get((key, k))]
    if diffs:
        raise SystemExit(f"error: {abi.triple} and {abi.twin.triple} disagree:\n  "
                         + "\n  ".join(diffs))


def package_version(package: str) -> str:
    """Version of the Debian package providing the headers ("unknown" without dpkg)."""
    cmd = ["dpkg-query", "-W", "-f", "${Version}", f"linux-libc-dev-{package}-cross"]
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def banner(abi: Abi) -> list[str]:
    def source(a: Abi) -> str:
        return f"{a.triple}-gcc (linux-libc-dev-{a.package}-cross {package_version(a.package)})"
    lines = [f"# Linux constants for {abi.title}, generated from the kernel uapi headers",
             f"# as compiled by {source(abi)}."]
    if abi.twin:
        lines.append(f"# Cross-checked identical with {source(abi.twin)}.")
    return lines + [
        "# Values are computed by the compiler; macros of unsigned type keep their unsigned",
        "# value in the ABI's width (~0UL is 0xffffffff on 32-bit ABIs). Exceptions to uapi:",
        "# SOCK_<type>, AF_/MSG_/SCM_/SOL_/SHUT_ and EFD_* from libc <bits/socket_type.h>, <bits/socket.h>, <bits/eventfd.h>;",
        "# a _NSIG missing from asm/signal.h is taken from asm-generic/signal.h.",
        "# Do not edit by hand. Regenerate with: python tools/gen_abi_constants.py",
    ]


LAYOUT = (("SYSCALLS", "int, str", 0x10000), ("SYSCALL_ALIASES", "str, str", 0),
          ("ERRNO", "str, int", 1 << 64), ("SIGNALS", "str, int", 1 << 64),
          ("AUXV", "str, int", 1 << 64), ("CONSTANTS", "str, int", 256))  # (name, types, hex from)


def render(abi: Abi, tables: Tables) -> str:
    lines = banner(abi) + ["", f"NSIG: int = {tables['NSIG']}"]
    for name, types, hex_from in LAYOUT:
        def fmt(x: int | str) -> str:
            return f'"{x}"' if isinstance(x, str) else hex(x) if x >= hex_from else str(x)
        lines += ["", f"{name}: dict[{types}] = {{"]
        lines += [f"    {fmt(k)}: {fmt(v)}," for k, v in sorted(tables[name].items())] + ["}"]
    return "\n".join(lines) + "\n"


def generate_all(verbose: bool) -> dict[str, str]:
    """Module file name -> text, for every ABI."""
    compilers = [a for abi in ABIS for a in (abi, abi.twin) if a]
    with ThreadPoolExecutor(len(compilers)) as pool:
        results = dict(zip(compilers, pool.map(
            lambda a: build_tables(f"{a.triple}-gcc", verbose), compilers)))
    texts = {}
    for abi in ABIS:
        if abi.twin:
            compare_twins(abi, results[abi], results[abi.twin])
        texts[f"{abi.module}.py"] = render(abi, results[abi])
    return texts


def check(texts: dict[str, str], out: Path) -> int:
    stale = 0
    for filename, text in texts.items():
        path = out / filename
        old = path.read_text() if path.exists() else ""
        if old != text:
            stale += 1
            diff = list(difflib.unified_diff(old.splitlines(), text.splitlines(),
                                             str(path), "regenerated", lineterm="", n=0))
            changed = sum(1 for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---"))
            print(f"{path}: out of date ({changed} lines differ)")
            print("\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else ""))
    return 1 if stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="exit 1 if the modules are stale")
    parser.add_argument("-v", "--verbose", action="store_true", help="list dropped names")
    args = parser.parse_args(argv)
    start = time.monotonic()
    texts = generate_all(args.verbose)
    if args.check:
        status = check(texts, args.out)
        print("generated ABI modules are " + ("STALE" if status else "up to date"))
        return status
    args.out.mkdir(parents=True, exist_ok=True)
    for filename, text in texts.items():
        (args.out / filename).write_text(text)
    print(f"wrote {len(texts)} modules to {args.out} in {time.monotonic() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
