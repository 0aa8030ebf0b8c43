"""The workloads: what each one runs, per architecture, and at what size."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import support

STATIC: tuple[str, ...] = ("-static", "-O2")
DYNAMIC: tuple[str, ...] = ("-O2",)
PYTHON_PACKAGES = ["python3.11-minimal"]


@dataclass(frozen=True)
class Sizes:
    """Problem sizes; ``QUICK`` is the smoke-run variant (``--quick``)."""

    sha256_mib: int = 32
    nbody_steps: int = 1_000_000
    qsort_ints: int = 2_000_000
    sieve_limit: int = 50_000_000
    gzip_mib: int = 16
    write_calls: int = 200_000
    stat_calls: int = 50_000
    python_loop: int = 3_000_000


FULL = Sizes()
QUICK = Sizes(sha256_mib=2, nbody_steps=50_000, qsort_ints=100_000, sieve_limit=2_000_000,
              gzip_mib=1, write_calls=10_000, stat_calls=2_500, python_loop=150_000)


class NotApplicable(Exception):
    """This workload does not exist for this architecture (the reason is shown as n/a)."""


@dataclass(frozen=True)
class Invocation:
    """One (workload, arch): the guest argv and the options each emulator gets before it."""

    argv: list[str]
    pyemu_args: list[str] = field(default_factory=list)
    qemu_args: list[str] = field(default_factory=list)
    stdout_to_file: bool = False  # big output: captured in a file and compared by sha256


@dataclass
class Context:
    """What preparing an invocation may need: sizes and a scratch directory (the runs' cwd)."""

    sizes: Sizes
    workdir: Path
    _files: dict[str, Path] = field(default_factory=dict)

    def program(self, source: Path, arch: str, flags: tuple[str, ...] = STATIC) -> str:
        return str(support.build(source, arch, flags))

    def file(self, name: str, make: Callable[[], bytes]) -> Path:
        """A file in the scratch directory, generated once per session."""
        if name not in self._files:
            path = self.workdir / name
            path.write_bytes(make())
            self._files[name] = path
        return self._files[name]


Prepare = Callable[[Context, str], Invocation]


@dataclass(frozen=True)
class Workload:
    name: str
    group: str  # "cpu" (the geometric mean), "python", "syscall", "startup"
    arches: tuple[str, ...]
    what: str  # one line for --list and the README
    prepare: Prepare


# --------------------------------------------------------------------------- preparations


def _c_program(stem: str, *args: Callable[[Sizes], object]) -> Prepare:
    """A program of benchmarks/programs/, its size arguments taken from the Sizes."""

    def prepare(ctx: Context, arch: str) -> Invocation:
        flags = STATIC + (("-lm",) if stem == "nbody" else ())
        program = ctx.program(support.PROGRAMS_DIR / f"{stem}.c", arch, flags)
        return Invocation([program, *(str(a(ctx.sizes)) for a in args)])

    return prepare


def compressible_text(size: int, seed: int = 2024) -> bytes:
    """Deterministic pseudo-random words from a 4096-word vocabulary (gzip: about 45%)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(4096)]
    chunks: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choices(vocab, k=12)) + "\n"
        chunks.append(line)
        total += len(line)
    return "".join(chunks).encode()[:size]


def _gzip(ctx: Context, arch: str) -> Invocation:
    debarch = support.debian_arch(arch)
    if debarch is None:
        raise NotApplicable(f"no Debian busybox for {arch}")
    busybox = str(support.fetch_busybox(debarch))
    size = ctx.sizes.gzip_mib << 20
    data = ctx.file(f"gzip-input-{size}", lambda: compressible_text(size))
    return Invocation([busybox, "gzip", "-c", str(data)], stdout_to_file=True)


def _python(code: Callable[[Sizes], str]) -> Prepare:
    def prepare(ctx: Context, arch: str) -> Invocation:
        root = support.debian_sysroot(support.debian_arch(arch) or arch, PYTHON_PACKAGES)
        lprefix = ["-L", str(root)]
        argv = [str(root / "usr/bin/python3.11"), "-B", "-c", code(ctx.sizes)]
        return Invocation(argv, pyemu_args=lprefix, qemu_args=lprefix)

    return prepare


def _stat(ctx: Context, arch: str) -> Invocation:
    target = ctx.file("stat-target", lambda: b"x" * 12345)
    program = ctx.program(support.PROGRAMS_DIR / "stat.c", arch)
    return Invocation([program, str(target), str(ctx.sizes.stat_calls)])


def _hello_static(ctx: Context, arch: str) -> Invocation:
    return Invocation([ctx.program(support.EXAMPLES_DIR / "hello.c", arch, STATIC)])


def _hello_dynamic(ctx: Context, arch: str) -> Invocation:
    program = ctx.program(support.EXAMPLES_DIR / "hello.c", arch, DYNAMIC)
    # pyemu finds the toolchain's sysroot by itself; qemu needs -L
    return Invocation([program], qemu_args=["-L", str(support.toolchain_root(arch))])


def _loop_code(sizes: Sizes) -> str:
    return f"s=0\nfor i in range({sizes.python_loop}): s+=i\nprint(s)"


ALL_ARCHES = support.ARCHES
PY_ARCHES = ("aarch64",)

WORKLOADS: tuple[Workload, ...] = (
    Workload("sha256", "cpu", ALL_ARCHES,
             "own SHA-256 of sha256_mib MiB generated in memory (LCG words); prints the digest",
             _c_program("sha256", lambda s: s.sha256_mib)),
    Workload("nbody", "cpu", ALL_ARCHES,
             "classic n-body (5 bodies, doubles, nbody_steps steps); prints energies %.9f",
             _c_program("nbody", lambda s: s.nbody_steps)),
    Workload("qsort", "cpu", ALL_ARCHES,
             "libc qsort of qsort_ints LCG ints; prints a checksum",
             _c_program("qsort", lambda s: s.qsort_ints)),
    Workload("sieve", "cpu", ALL_ARCHES,
             "byte sieve of Eratosthenes up to sieve_limit; prints the prime count",
             _c_program("sieve", lambda s: s.sieve_limit)),
    Workload("gzip", "cpu", ALL_ARCHES,
             "Debian busybox `gzip -c` of gzip_mib MiB of generated text; output compared by "
             "sha256 (no Debian busybox for big-endian mips)",
             _gzip),
    Workload("python-loop", "python", PY_ARCHES,
             "Debian python3.11 -B -c 's=0; for i in range(python_loop): s+=i; print(s)'",
             _python(_loop_code)),
    Workload("write-1B", "syscall", ALL_ARCHES,
             "write_calls one-byte write(2) calls to /dev/null (+ us/call vs hello-static)",
             _c_program("write1b", lambda s: s.write_calls)),
    Workload("stat", "syscall", ALL_ARCHES,
             "stat_calls stat(2) calls on one existing file",
             _stat),
    Workload("hello-static", "startup", ALL_ARCHES,
             "examples/hello.c, static: start-up and exit", _hello_static),
    Workload("hello-dynamic", "startup", ALL_ARCHES,
             "examples/hello.c, dynamically linked (qemu: -L /usr/<triple>)", _hello_dynamic),
    Workload("python-pass", "startup", PY_ARCHES,
             "Debian python3.11 -B -c pass: interpreter start-up", _python(lambda s: "pass")),
)

BY_NAME: dict[str, Workload] = {w.name: w for w in WORKLOADS}


def select(names: list[str] | None, arches: list[str]) -> list[tuple[Workload, str]]:
    """The (workload, arch) pairs to run, in table order (workload, then arch)."""
    chosen = [BY_NAME[n] for n in names] if names else list(WORKLOADS)
    chosen.sort(key=WORKLOADS.index)
    return [(w, a) for w in chosen for a in arches if a in w.arches]


def sizes_dict(sizes: Sizes) -> dict[str, int]:
    return dataclasses.asdict(sizes)
