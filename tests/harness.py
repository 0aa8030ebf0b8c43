"""Test harness: cross-compiling guest programs and differential runs vs qemu-user.

qemu-user (7.2, Debian bookworm) is the oracle: every guest program is run under
both ``qemu-ARCH`` and ``pyemu-ARCH`` and the two outcomes must be identical.

Observed qemu-user 7.2 behaviour for a guest that dies of a signal (abort() ->
SIGABRT, NULL store -> SIGSEGV), with stderr a pipe, on arm, aarch64, mips and
mipsel alike (checked by hand while writing this harness):

* ``ulimit -c 0`` (RLIMIT_CORE = 0): qemu writes no core file, prints exactly one
  line on stderr, e.g.
      ``qemu: uncaught target signal 6 (Aborted) - core dumped``
      ``qemu: uncaught target signal 11 (Segmentation fault) - core dumped``
  (it says "core dumped" although nothing was dumped), then kills itself with
  the same host signal: the subprocess returncode is -6 / -11, i.e. a shell
  reports 134 / 139.  Output the guest flushed before dying is intact.
* ``ulimit -c unlimited``: qemu prints NOTHING on stderr, writes the guest core
  ``qemu_<progname>_<YYYYMMDD>-<HHMMSS>_<pid>.core`` (~8 MB) into the cwd, and
  then the host kernel dumps qemu itself (a ~150 MB ``core`` with this machine's
  core_pattern ``core``) into the cwd as well.  Status is still 134 / 139.

So the harness sets RLIMIT_CORE to 0 for itself and therefore for every child
(see ``_disable_core_dumps``; a ``preexec_fn`` is avoided because pytest-xdist
workers run threads), and every run gets a fresh temporary cwd by default, so no
core file can land in the repository.  With RLIMIT_CORE = 0 the qemu line above
becomes, after replacing the leading ``qemu: `` with ``pyemu: ``, exactly the
line pyemu must print.
"""

from __future__ import annotations

import difflib
import fcntl
import functools
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
GUEST_DIR = TESTS_DIR / "guest"
EXAMPLES_DIR = REPO_ROOT / "examples"

DEFAULT_FLAGS: tuple[str, ...] = ("-static", "-O2")
DEFAULT_TIMEOUT = 60


@dataclass(frozen=True)
class ArchInfo:
    name: str  # pyemu / qemu name
    cc: str  # cross compiler
    qemu: str  # qemu-user binary
    pyemu: str  # pyemu console script
    debian: str | None  # Debian architecture (None: not a Debian bookworm release arch)
    uname_m: str  # what `uname -m` reports under qemu


ARCH_INFO: dict[str, ArchInfo] = {
    "arm": ArchInfo("arm", "arm-linux-gnueabihf-gcc", "qemu-arm", "pyemu-arm", "armhf", "armv7l"),
    "aarch64": ArchInfo(
        "aarch64", "aarch64-linux-gnu-gcc", "qemu-aarch64", "pyemu-aarch64", "arm64", "aarch64"
    ),
    "mips": ArchInfo("mips", "mips-linux-gnu-gcc", "qemu-mips", "pyemu-mips", None, "mips"),
    "mipsel": ArchInfo(
        "mipsel", "mipsel-linux-gnu-gcc", "qemu-mipsel", "pyemu-mipsel", "mipsel", "mips"
    ),
}
ARCHES: tuple[str, ...] = ("arm", "aarch64", "mips", "mipsel")

# Debian architectures whose busybox-static the tests use, and the pyemu arch for each.
BUSYBOX_ARCHES: dict[str, str] = {"arm64": "aarch64", "armhf": "arm", "mipsel": "mipsel"}


def cache_dir() -> Path:
    d = Path(os.environ.get("PYEMU_TEST_CACHE") or (TESTS_DIR / ".cache"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _disable_core_dumps() -> None:
    """RLIMIT_CORE = 0 for this process and so for every child (see module docstring)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))


_disable_core_dumps()


# --------------------------------------------------------------------------- commands


def find_command(name: str, hint: str) -> str:
    """Absolute path of a command.

    Looked up in $PYEMU_TEST_BINDIR (if set), then next to the running Python
    (where ``pip install -e .`` puts the console scripts, even in a venv that
    is not activated), then on $PATH.
    """
    dirs = [os.environ.get("PYEMU_TEST_BINDIR", ""), str(Path(sys.executable).parent)]
    for d in filter(None, dirs):
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        looked = ", ".join(filter(None, dirs))
        pytest.fail(
            f"{name}: command not found (looked in {looked} and $PATH). {hint}",
            pytrace=False,
        )
    return found


_PYEMU_HINT = (
    "Install the project from the repository root with: python3 -m pip install -e '.[test]'"
)
_CROSS_HINT = (
    "Install the cross toolchains and qemu-user, e.g. apt-get install gcc-arm-linux-gnueabihf "
    "gcc-aarch64-linux-gnu gcc-mips-linux-gnu gcc-mipsel-linux-gnu qemu-user (see .ci/run)."
)


def pyemu_command(arch: str | None) -> list[str]:
    """Command prefix for pyemu; arch None means the auto-detecting ``pyemu``.

    It runs this checkout's code, whatever copy the installed ``pyemu-ARCH`` console scripts
    import: the runs get a minimal environment (no PYTHONPATH), so a worktree's tests would
    otherwise test the installed tree. The command is the console script's entry point.
    """
    find_command("pyemu" if arch is None else ARCH_INFO[arch].pyemu, _PYEMU_HINT)
    entry = "main" if arch is None else f"main_{arch}"
    boot = (f"import sys; sys.path.insert(0, sys.argv.pop(1)); "
            f"from usermode.cli import {entry}; {entry}()")
    return [sys.executable, "-E", "-c", boot, str(REPO_ROOT)]


def checkout_script(directory: Path, name: str, module: str, function: str) -> Path:
    """An executable ``directory/name`` that runs ``module.function()`` of this checkout.

    For tools that need a program path rather than a command list (CMake's emulator, Meson's
    exe_wrapper, Cargo's runner, binfmt_misc): the installed console scripts may import
    another copy of pyemu, as ``pyemu_command`` explains.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!{sys.executable} -E\n"
                    f"import sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\n"
                    f"from {module} import {function}\nsys.exit({function}())\n")
    path.chmod(0o755)
    return path


def pyemu_name(arch: str | None) -> str:
    return "pyemu" if arch is None else ARCH_INFO[arch].pyemu


def qemu_command(arch: str) -> list[str]:
    return [find_command(ARCH_INFO[arch].qemu, _CROSS_HINT)]


# --------------------------------------------------------------------------- building


@functools.cache
def _compiler_identity(cc_path: str) -> bytes:
    real = os.path.realpath(cc_path)
    try:
        version = subprocess.run(
            [cc_path, "--version"], capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"{cc_path} --version failed: {exc}", pytrace=False)
    return real.encode() + b"\0" + version


def build(
    source: Path | str,
    arch: str,
    flags: Sequence[str] = DEFAULT_FLAGS,
    extra_sources: Sequence[Path | str] = (),
) -> Path:
    """Cross-compile ``source`` for ``arch``; return the cached executable.

    The cache key is a hash of the sources' bytes, the flags and the compiler's
    real path and ``--version`` output.  The binary is linked to a unique
    temporary name and renamed into place, so parallel pytest processes may
    build the same program at the same time.  Flags come after the sources on
    the command line, so libraries such as ``-lm`` may be given in ``flags``.
    """
    info = ARCH_INFO[arch]
    source = Path(source)
    sources = [source, *map(Path, extra_sources)]
    cc = find_command(info.cc, _CROSS_HINT)

    h = hashlib.sha256()
    h.update(_compiler_identity(cc))
    for flag in flags:
        h.update(b"\0flag\0" + flag.encode())
    # the headers next to a source (tests/guest/show.h) are part of what it compiles to
    headers = sorted({h for src in sources for h in src.parent.glob("*.h")})
    for src in [*sources, *headers]:
        try:
            data = src.read_bytes()
        except OSError as exc:
            pytest.fail(f"cannot read guest source {src}: {exc}", pytrace=False)
        h.update(b"\0src\0" + src.name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    digest = h.hexdigest()[:20]

    out_dir = cache_dir() / "bin"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{source.stem}-{arch}-{digest}"
    if out.exists():
        return out

    tmp = out_dir / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    cmd = [cc, "-o", str(tmp), *map(str, sources), *flags]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        pytest.fail(f"compiler timed out: {' '.join(cmd)}", pytrace=False)
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        pytest.fail(
            f"compiling {source.name} for {arch} failed (exit {proc.returncode}):\n"
            f"$ {' '.join(cmd)}\n{proc.stdout.decode(errors='replace')}"
            f"{proc.stderr.decode(errors='replace')}",
            pytrace=False,
        )
    os.replace(tmp, out)
    return out


def guest(name: str, arch: str, flags: Sequence[str] = DEFAULT_FLAGS) -> Path:
    """Build ``tests/guest/<name>.c`` for ``arch``."""
    return build(GUEST_DIR / f"{name}.c", arch, flags)


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Outcome:
    stdout: bytes
    stderr: bytes
    status: int  # exit status; 128+N when the process was killed by signal N

    def text(self) -> str:
        return (
            f"status: {self.status}\nstdout:\n{_show(self.stdout)}\nstderr:\n{_show(self.stderr)}"
        )


def _show(data: bytes, limit: int = 4000) -> str:
    s = data.decode("utf-8", errors="backslashreplace")
    if len(s) > limit:
        s = s[:limit] + f"\n... ({len(s) - limit} more characters)"
    return s


def normalize_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def minimal_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every run gets: PATH, HOME, LC_ALL=C, plus ``extra``.

    qemu and pyemu both pass their own environment on to the guest, so this is
    exactly what the guest sees.  LC_ALL=C also stops Python (pyemu) from
    coercing the C locale and adding LC_CTYPE to its own environment.
    LIBUNICORN_PATH (the Unicorn binding's own variable: the directory of the
    engine library to load) and PYEMU_ENGINE (``stock``: not the patched engine
    the install built), when set, are passed on, so that the suite can run on
    another engine (see usermode/translate/__init__.py).
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LC_ALL": "C",
    }
    for name in ("LIBUNICORN_PATH", "PYEMU_ENGINE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if extra:
        env.update(extra)
    return env


def run(
    cmd_prefix: Sequence[str],
    argv: Sequence[str | os.PathLike],
    stdin: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    files: Mapping[str, bytes | str] | None = None,
) -> Outcome:
    """Run ``cmd_prefix + argv``; collect stdout, stderr and the normalized status.

    * ``stdin``: bytes/str fed to the process; None means /dev/null.
    * ``env``: merged into :func:`minimal_env`; nothing else of ours is passed on.
    * ``cwd``: None means a fresh empty temporary directory, removed afterwards
      (so runs never see each other's files and core files go nowhere).
    * ``files``: name -> content written into the cwd before the run.
    * a process killed by signal N gets status 128+N; a timeout fails the test.
    """
    cmd = [os.fspath(c) for c in cmd_prefix] + [os.fspath(a) for a in argv]
    if isinstance(stdin, str):
        stdin = stdin.encode()
    tmp_cwd = None
    if cwd is None:
        tmp_cwd = tempfile.mkdtemp(prefix="pyemu-run-")
        cwd = tmp_cwd
    try:
        for name, content in (files or {}).items():
            data = content.encode() if isinstance(content, str) else content
            Path(cwd, name).write_bytes(data)
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=minimal_env(env),
                cwd=cwd,
                start_new_session=True,  # so a timeout can kill the whole group
            )
        except FileNotFoundError as exc:
            pytest.fail(f"cannot run {cmd[0]}: {exc}", pytrace=False)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            pytest.fail(
                f"timed out after {timeout}s: {' '.join(cmd)}\n"
                f"stdout so far:\n{_show(out)}\nstderr so far:\n{_show(err)}",
                pytrace=False,
            )
        except BaseException:
            _kill_group(proc)
            proc.communicate()
            raise
        return Outcome(out, err, normalize_status(proc.returncode))
    finally:
        if tmp_cwd is not None:
            shutil.rmtree(tmp_cwd, ignore_errors=True)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def run_pyemu(arch: str | None, argv, emu_args: Sequence[str] = (), **kw) -> Outcome:
    """``pyemu-ARCH [emu_args] argv...`` (arch None: the auto-detecting ``pyemu``)."""
    return run(pyemu_command(arch) + list(emu_args), argv, **kw)


def run_qemu(arch: str, argv, emu_args: Sequence[str] = (), **kw) -> Outcome:
    """``qemu-ARCH [emu_args] argv...``"""
    return run(qemu_command(arch) + list(emu_args), argv, **kw)


_QEMU_PREFIX = re.compile(rb"^qemu: ", re.MULTILINE)


def normalize_qemu_stderr(stderr: bytes) -> bytes:
    """qemu's own messages start with ``qemu: ``; pyemu's with ``pyemu: ``."""
    return _QEMU_PREFIX.sub(b"pyemu: ", stderr)


def _diff(name: str, expected: bytes, actual: bytes) -> str:
    exp = expected.decode("utf-8", errors="backslashreplace").splitlines(keepends=True)
    act = actual.decode("utf-8", errors="backslashreplace").splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(exp, act, fromfile=f"qemu {name}", tofile=f"pyemu {name}", n=2)
    )
    if not lines:  # differ only in ways splitlines hides (e.g. a final newline)
        return f"{name} differs: qemu {expected[-80:]!r} vs pyemu {actual[-80:]!r}\n"
    text = "".join(line if line.endswith("\n") else line + "\n\\ no newline\n" for line in lines)
    if len(text) > 6000:
        text = text[:6000] + f"... ({len(text) - 6000} more characters of diff)\n"
    return text


def compare(expected: Outcome, actual: Outcome, what: str = "") -> None:
    """Assert pyemu's outcome ``actual`` equals qemu's ``expected`` (stderr normalized)."""
    exp_err = normalize_qemu_stderr(expected.stderr)
    problems = []
    if expected.status != actual.status:
        problems.append(f"status: qemu {expected.status}, pyemu {actual.status}\n")
    if expected.stdout != actual.stdout:
        problems.append(_diff("stdout", expected.stdout, actual.stdout))
    if exp_err != actual.stderr:
        problems.append(_diff("stderr", exp_err, actual.stderr))
    if problems:
        head = f"pyemu differs from qemu{': ' + what if what else ''}\n"
        raise AssertionError(head + "".join(problems))


def assert_same(
    arch: str,
    argv: Sequence[str | os.PathLike],
    *,
    pyemu_arch: str | None | object = ...,
    emu_args: Sequence[str] = (),
    qemu_args: Sequence[str] = (),
    pyemu_args: Sequence[str] = (),
    qemu_cwd: Path | str | None = None,
    **kw,
) -> Outcome:
    """Run ``argv`` under pyemu-ARCH and qemu-ARCH and assert identical outcomes.

    stdout, status and stderr (qemu's after :func:`normalize_qemu_stderr`) must be
    equal.  Each run gets its own fresh temporary cwd unless ``cwd`` is given
    (``files`` are written into each).  ``pyemu_arch=None`` runs the
    auto-detecting ``pyemu`` instead of ``pyemu-ARCH``; ``qemu_args`` go to qemu only
    (e.g. the ``-L`` that pyemu finds by itself), ``pyemu_args`` to pyemu only (its own options,
    such as ``-host-exec``); ``qemu_cwd`` gives qemu its own copy of a
    prepared directory when the program changes it.  Returns pyemu's outcome.
    """
    p_arch = arch if pyemu_arch is ... else pyemu_arch
    mine = run_pyemu(p_arch, argv, emu_args=[*pyemu_args, *emu_args], **kw)
    if qemu_cwd is not None:
        kw = dict(kw, cwd=qemu_cwd)
    oracle = run_qemu(arch, argv, emu_args=[*qemu_args, *emu_args], **kw)
    what = " ".join([pyemu_name(p_arch), *emu_args, *map(os.fspath, argv)])
    compare(oracle, mine, what)
    return mine


# --------------------------------------------------------------------------- busybox


_busybox_paths: dict[str, Path] = {}


def fetch_busybox(debarch: str) -> Path:
    """Debian's busybox-static for ``debarch`` (arm64, armhf, mipsel): path of bin/busybox.

    ``apt-get download busybox-static:ARCH`` + ``dpkg-deb -x`` into the cache,
    once per architecture (a file lock serializes parallel pytest workers).
    Needs ``dpkg --add-architecture ARCH`` and ``apt-get update`` beforehand
    (.ci/run does both).  Failure fails the test with the reason.
    """
    if debarch in _busybox_paths:
        return _busybox_paths[debarch]
    root = cache_dir() / "busybox"
    root.mkdir(parents=True, exist_ok=True)
    dest = root / debarch
    binary = dest / "bin" / "busybox"
    with open(root / f"{debarch}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.is_file():
            _download_busybox(debarch, root, dest)
    _busybox_paths[debarch] = binary
    return binary


def _download_busybox(debarch: str, root: Path, dest: Path) -> None:
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: cannot fetch busybox-static:{debarch}", pytrace=False)
    work = Path(tempfile.mkdtemp(prefix=f".dl-{debarch}-", dir=root))
    try:
        pkg = f"busybox-static:{debarch}"
        cmd = ["apt-get", "download", "-o", "APT::Sandbox::User=root", pkg]
        try:
            proc = subprocess.run(cmd, cwd=work, check=False, capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{' '.join(cmd)}` timed out", pytrace=False)
        debs = sorted(work.glob("*.deb"))
        if proc.returncode != 0 or len(debs) != 1:
            pytest.fail(
                f"`{' '.join(cmd)}` failed (exit {proc.returncode}); is the architecture "
                f"added and the index fresh?  Try: dpkg --add-architecture {debarch} && "
                f"apt-get update\n{proc.stdout.decode(errors='replace')}"
                f"{proc.stderr.decode(errors='replace')}",
                pytrace=False,
            )
        deb = debs[0]
        version = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=False, capture_output=True, text=True
        ).stdout.strip()
        extracted = work / "root"
        proc = subprocess.run(
            ["dpkg-deb", "-x", str(deb), str(extracted)],
            check=False,
            capture_output=True,
            timeout=300,
        )
        if proc.returncode != 0 or not (extracted / "bin" / "busybox").is_file():
            pytest.fail(
                f"dpkg-deb -x {deb.name} failed or has no bin/busybox:\n"
                f"{proc.stderr.decode(errors='replace')}",
                pytrace=False,
            )
        (extracted / "PACKAGE-VERSION").write_text(f"{pkg} {version}\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(extracted, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def busybox_version(debarch: str) -> str:
    f = cache_dir() / "busybox" / debarch / "PACKAGE-VERSION"
    return f.read_text().strip() if f.exists() else "?"


# --------------------------------------------------------------------------- Debian sysroots


def debian_sysroot(debarch: str, packages: Sequence[str]) -> Path:
    """A sysroot made by ``pyemu-sysroot create`` for ``debarch`` with ``packages``.

    Built once into the cache (keyed by arch and package list; a file lock serializes parallel
    workers); the .deb downloads are cached too. Failure fails the test with the builder's output.
    """
    key = hashlib.sha256(" ".join(sorted(packages)).encode()).hexdigest()[:12]
    root = cache_dir() / "sysroots"
    root.mkdir(parents=True, exist_ok=True)
    dest = root / f"{debarch}-{key}"
    with open(root / f"{debarch}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (dest / "var/lib/pyemu-sysroot/manifest").is_file():
            work = Path(tempfile.mkdtemp(prefix=f".build-{debarch}-", dir=root))
            env = dict(os.environ, PYEMU_DEB_CACHE=str(cache_dir() / "debs"))
            proc = subprocess.run(
                [sys.executable, "-m", "usermode.sysroot.cli", "create", str(work / "root"),
                 "--arch", debarch, *packages],
                cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                shutil.rmtree(work, ignore_errors=True)
                pytest.fail(f"pyemu-sysroot create --arch {debarch} {' '.join(packages)} failed:"
                            f"\n{proc.stdout}{proc.stderr}", pytrace=False)
            if dest.exists():
                shutil.rmtree(dest)
            os.rename(work / "root", dest)
            shutil.rmtree(work, ignore_errors=True)
    return dest
