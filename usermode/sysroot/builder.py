"""Build a guest sysroot from Debian packages with the host's apt and dpkg-deb.

``pyemu-sysroot create DIR --arch arm64 coreutils`` gives a directory that ``pyemu-aarch64 -L DIR``
(or ``qemu-aarch64 -L DIR``) can run the packages' dynamically linked programs from:

1. **resolve** — apt's own solver, run as if ``ARCH`` were the native architecture of an empty
   system (a private apt config: ``APT::Architecture ARCH``, only ``ARCH`` in
   ``APT::Architectures``, ``Dir::State::Status /dev/null``, no recommends) and asked to simulate
   ``apt-get install libc6 usr-is-merged PACKAGE...``. Its ``Inst`` lines are the plan: every
   package is ARCH or ``all``, alternatives and virtual packages are chosen as apt chooses them,
   and Multi-Arch: foreign dependencies are satisfied inside the sysroot, not by the host.
   Nothing Essential is added unless something depends on it. ``usr-is-merged`` (13 kB, no files)
   is always asked for because the sysroot *is* merged-/usr, and without it the common
   ``usrmerge | usr-is-merged`` dependency would pull in usrmerge and all of perl.
2. **fetch** — ``apt-get download --print-uris`` names each .deb and its size; the missing ones
   are downloaded by ``apt-get download NAME=VERSION`` into a private directory in the cache and
   renamed into it (``$PYEMU_DEB_CACHE``, else ``$XDG_CACHE_HOME/pyemu/debs``, else
   ``~/.cache/pyemu/debs``), so concurrent runs never see half-written files.
3. **extract** — ``dpkg-deb --fsys-tarfile DEB | tar -x --keep-directory-symlink`` into a root
   that already has ``bin -> usr/bin``, ``sbin -> usr/sbin``, ``lib -> usr/lib``. (``dpkg-deb -x``
   would replace those links by directories: GNU tar does that unless told to keep them.)
   Maintainer scripts are not run.
4. **finish** — absolute symlinks are made relative (so they resolve inside the sysroot, not on
   the host), ``etc/passwd``, ``group``, ``nsswitch.conf``, ``hosts`` are written when no package
   shipped them, and ``var/lib/pyemu-sysroot/manifest`` records the architecture and the
   installed packages, so a second ``create`` on the same directory adds packages instead of
   starting again.

The parsing and planning functions are pure; the side effects live in the functions below
``# ---- side effects``.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ..errors import PyemuError


class SysrootError(PyemuError):
    """The sysroot cannot be built (bad architecture, unknown package, apt or dpkg failure)."""


@dataclass(frozen=True)
class Arch:
    debian: str          # Debian architecture name
    pyemu: str           # pyemu's (and qemu's) name: pyemu-<pyemu>, qemu-<pyemu>
    triplet: str         # multiarch directory under /usr/lib
    interp: str          # PT_INTERP of the architecture's dynamically linked programs


ARCHES: dict[str, Arch] = {
    "arm64": Arch("arm64", "aarch64", "aarch64-linux-gnu", "/lib/ld-linux-aarch64.so.1"),
    "armhf": Arch("armhf", "arm", "arm-linux-gnueabihf", "/lib/ld-linux-armhf.so.3"),
    "mipsel": Arch("mipsel", "mipsel", "mipsel-linux-gnu", "/lib/ld.so.1"),
}
ALIASES = {"aarch64": "arm64", "arm": "armhf"}

ALWAYS = ("libc6", "usr-is-merged")            # asked for in every sysroot, before the user's
USR_LINKS = ("bin", "sbin", "lib")             # merged-/usr: NAME -> usr/NAME
# Not at the top: qemu -L lists the sysroot's "/" but stats the host's, so a name there that the
# host lacks shows up broken in `ls -la /`.
MARKER = "var/lib/pyemu-sysroot/manifest"

_PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]*")
_INST_RE = re.compile(r"^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([^\]\s]+)\]\)")
_URI_RE = re.compile(r"^'([^']+)' (\S+) (\d+) (\S+)")


@dataclass(frozen=True, order=True)
class Package:
    name: str
    version: str
    arch: str            # the target architecture or "all"

    @property
    def spec(self) -> str:
        """What ``apt-get download`` is given (the private config makes ARCH native)."""
        return f"{self.name}={self.version}"


@dataclass(frozen=True)
class Download:
    url: str
    filename: str
    size: int


@dataclass(frozen=True)
class Manifest:
    arch: str
    requested: tuple[str, ...]
    packages: tuple[Package, ...]


# --------------------------------------------------------------------------- pure


def debian_arch(name: str) -> Arch:
    """The Debian architecture for a Debian or pyemu architecture name."""
    key = ALIASES.get(name, name)
    if key in ARCHES:
        return ARCHES[key]
    if name in ("mips", "mipseb"):
        raise SysrootError(
            "mips (big-endian) is not a Debian bookworm architecture; use the cross toolchain's "
            "sysroot instead: pyemu-mips -L /usr/mips-linux-gnu PROGRAM "
            "(apt-get install libc6-mips-cross)")
    raise SysrootError(f"unknown architecture '{name}' (supported: {', '.join(arch_names())})")


def arch_names() -> list[str]:
    """Every accepted --arch value, Debian names first."""
    return [*ARCHES, *ALIASES]


def arch_enabled_error(arch: str, native: str, foreign: Iterable[str]) -> str | None:
    """Why dpkg/apt cannot give packages of ``arch`` (None if they can)."""
    if arch == native or arch in set(foreign):
        return None
    return (f"architecture {arch} is not enabled in dpkg; as root run: "
            f"dpkg --add-architecture {arch} && apt-get update")


def check_package_names(names: Iterable[str]) -> list[str]:
    """The package names, validated (no apt patterns or options); duplicates dropped."""
    seen: list[str] = []
    for name in names:
        if not _PACKAGE_RE.fullmatch(name):
            raise SysrootError(f"bad package name '{name}' (a Debian package name like coreutils)")
        if name not in seen:
            seen.append(name)
    return seen


def plan_roots(requested: Iterable[str]) -> list[str]:
    """The packages apt is asked to install: libc6 and usr-is-merged, then the user's."""
    return check_package_names([*ALWAYS, *requested])


def apt_config(arch: str, sandbox_root: bool) -> str:
    """apt configuration (``apt-get -c FILE``) that resolves as an empty ``arch`` system."""
    lines = [
        "#clear APT::Architectures;",
        f'APT::Architectures {{ "{arch}"; }};',
        f'APT::Architecture "{arch}";',
        'Dir::State::Status "/dev/null";',     # nothing installed
        'Dir::Cache::pkgcache "";',            # keep the host's binary caches untouched
        'Dir::Cache::srcpkgcache "";',
        'APT::Install-Recommends "false";',
        'APT::Install-Suggests "false";',
        'APT::Get::Show-Versions "false";',
    ]
    if sandbox_root:   # root downloading into a directory the _apt user cannot write
        lines.append('APT::Sandbox::User "root";')
    return "\n".join(lines) + "\n"


def parse_simulation(text: str) -> list[Package]:
    """The packages of ``apt-get -s install``'s ``Inst`` lines, in apt's order."""
    packages = []
    for line in text.splitlines():
        match = _INST_RE.match(line)
        if match:
            name, version, arch = match.groups()
            packages.append(Package(name.split(":", 1)[0], version, arch))
    return packages


def apt_failure(output: str, arch: str) -> str:
    """One line saying why apt refused, from its combined stdout and stderr."""
    lines = output.splitlines()
    errors = [line[3:].strip() for line in lines if line.startswith("E: ")]
    for error in errors:
        if m := re.fullmatch(r"Unable to locate package (\S+)", error):
            name = m.group(1)
            if name in ALWAYS:
                return (f"apt knows no {name} for {arch}: its package lists are missing; "
                        f"as root run: apt-get update")
            return f"unknown package '{name}' for {arch} (not in apt's lists)"
        if m := re.fullmatch(r"Package '(\S+)' has no installation candidate", error):
            providers = _providers(lines)
            if providers:
                return (f"'{m.group(1)}' is a virtual package; name one of: "
                        + ", ".join(providers))
            return f"package '{m.group(1)}' has no installable version for {arch}"
    unmet = _after(lines, "The following packages have unmet dependencies:")
    if unmet:
        return f"cannot satisfy the dependencies for {arch}: {unmet}"
    return "apt-get failed: " + first_error(output)


def _providers(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if line.endswith("is a virtual package provided by:"):
            names = []
            for follow in lines[i + 1:]:
                if not follow.startswith("  "):
                    break
                names.append(follow.split()[0])
            return names
    return []


def _after(lines: list[str], header: str) -> str | None:
    if header in lines:
        following = lines[lines.index(header) + 1:]
        if following and following[0].startswith(" "):
            return " ".join(following[0].split())
    return None


def first_error(output: str) -> str:
    """apt's first error line (without ``E: ``), or its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line[3:] for line in lines if line.startswith("E: ")]
    return " ".join((errors or lines[-1:] or ["no output"])[0].split())


def parse_print_uris(text: str) -> list[Download]:
    """``apt-get download --print-uris`` lines: 'URL' FILENAME SIZE HASH."""
    downloads = []
    for line in text.splitlines():
        match = _URI_RE.match(line)
        if match:
            url, filename, size, _hash = match.groups()
            downloads.append(Download(url, filename, int(size)))
    return downloads


def failed_downloads(output: str, downloads: Iterable[Download]) -> list[str]:
    """The .deb filenames apt-get's output says it failed to fetch."""
    failed = []
    for line in output.splitlines():
        if "Failed to fetch" in line:
            for d in downloads:
                if d.url in line or d.url.rsplit("/", 1)[-1] in line:
                    failed.append(d.filename)
    return failed


def match_downloads(packages: Iterable[Package], downloads: Iterable[Download]) -> list[Download]:
    """The download of each package, in the packages' order (apt prints them in its own)."""
    by_name = {d.filename.split("_", 1)[0]: d for d in downloads}
    missing = [p.name for p in packages if p.name not in by_name]
    if missing:
        raise SysrootError(f"apt-get download gave no .deb for {', '.join(missing)}")
    return [by_name[p.name] for p in packages]


def relative_link(link: str, target: str) -> str:
    """An absolute symlink target, made relative to the link's directory.

    Both are paths inside the sysroot: ``link`` relative to its root (``usr/bin/x``), ``target``
    as the guest sees it (``/usr/lib/y``)."""
    start = posixpath.dirname("/" + link.lstrip("/"))
    return posixpath.relpath(posixpath.normpath(target), start)


def minimal_etc() -> dict[str, str]:
    """Files under etc/ that user, group and host lookups need, by name."""
    passwd = ("root:x:0:0:root:/root:/bin/sh\n"
              "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
              "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
              "sys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    group = ("root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\n"
             "staff:x:50:\nusers:x:100:\nnogroup:x:65534:\n")
    nsswitch = "".join(f"{db + ':':<15} files\n" for db in
                       ("passwd", "group", "shadow", "gshadow", "networks", "protocols",
                        "services", "ethers", "rpc", "netgroup"))
    nsswitch += f"{'hosts:':<15} files dns\n"
    hosts = "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"
    return {"passwd": passwd, "group": group, "nsswitch.conf": nsswitch, "hosts": hosts}


def format_manifest(manifest: Manifest) -> str:
    lines = ["# pyemu-sysroot: built from Debian packages; `pyemu-sysroot create` adds to it",
             f"arch {manifest.arch}", "requested " + " ".join(manifest.requested)]
    lines += [f"package {p.name} {p.version} {p.arch}" for p in sorted(manifest.packages)]
    return "\n".join(lines) + "\n"


def parse_manifest(text: str) -> Manifest:
    arch, requested, packages = "", (), []
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key == "arch":
            arch = rest.strip()
        elif key == "requested":
            requested = tuple(rest.split())
        elif key == "package" and len(rest.split()) == 3:
            packages.append(Package(*rest.split()))
    if not arch:
        raise SysrootError(f"{MARKER}: no 'arch' line (not written by pyemu-sysroot?)")
    return Manifest(arch, requested, tuple(packages))


def format_size(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def usage_lines(arch: Arch, root: str) -> list[str]:
    """How to run a program from the sysroot, under pyemu and under qemu-user."""
    return [f"pyemu-{arch.pyemu} -L {root} PROGRAM",
            f"qemu-{arch.pyemu} -L {root} PROGRAM"]


def deb_cache_dir(environ: Mapping[str, str]) -> Path:
    """Where downloaded .debs are kept between runs."""
    if environ.get("PYEMU_DEB_CACHE"):
        return Path(environ["PYEMU_DEB_CACHE"])
    base = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or "~", ".cache")
    return Path(os.path.expanduser(base)) / "pyemu" / "debs"


# --------------------------------------------------------------------------- side effects

Log = Callable[[str], None]


def _stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Result:
    root: Path
    arch: Arch
    packages: tuple[Package, ...]
    added: tuple[Package, ...]       # unpacked by this run
    size: int                         # bytes in regular files


def build(root: str | os.PathLike, arch_name: str, requested: Iterable[str],
          cache: str | os.PathLike | None = None, log: Log = _stderr_log) -> Result:
    """Create (or add packages to) the sysroot ``root`` for ``arch_name``."""
    arch = debian_arch(arch_name)
    requested = check_package_names(requested)
    check_tools()
    check_arch_enabled(arch.debian)
    root_path = Path(root).absolute()
    try:
        previous = inspect_root(root_path, arch.debian)
        if previous:
            requested = check_package_names([*previous.requested, *requested])
        cache_path = Path(cache) if cache else deb_cache_dir(os.environ)
        packages, debs = gather(arch.debian, requested, previous, cache_path, log)
        install(root_path, Manifest(arch.debian, tuple(requested), tuple(packages)), debs, log)
        return Result(root_path, arch, tuple(packages), tuple(debs), tree_size(root_path))
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        raise SysrootError(f"{where}{err.strerror or err}") from None


def gather(arch: str, requested: list[str], previous: Manifest | None, cache: Path,
           log: Log) -> tuple[list[Package], dict[Package, Path]]:
    """Every package of the sysroot, and the .deb of each one not already in it."""
    with tempfile.TemporaryDirectory(prefix="pyemu-sysroot-") as tmp:
        config = Path(tmp) / "apt.conf"
        config.write_text(apt_config(arch, os.geteuid() == 0))
        log(f"resolving {' '.join(plan_roots(requested))} for {arch}")
        packages = resolve(config, plan_roots(requested), arch)
        have = set(previous.packages) if previous else set()
        todo = [p for p in packages if p not in have]
        return packages, dict(zip(todo, fetch(config, todo, arch, cache, log)))


def install(root: Path, manifest: Manifest, debs: dict[Package, Path], log: Log) -> None:
    """Unpack ``debs`` into the merged-/usr root and finish it; the manifest is written first
    (without them) so an interrupted run leaves a directory the next run recognises."""
    make_skeleton(root)
    kept = tuple(p for p in manifest.packages if p not in debs)
    write_manifest(root, Manifest(manifest.arch, manifest.requested, kept))
    if debs:
        log(f"extracting {plural(len(debs), 'package')} into {root}")
    for package, deb in debs.items():
        extract(deb, root, package)
    relativize_symlinks(root)
    write_etc(root)
    write_manifest(root, manifest)


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C", LANGUAGE="")
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                              **kwargs)
    except OSError as err:
        raise SysrootError(f"cannot run {argv[0]}: {err.strerror}") from None


def check_tools() -> None:
    for tool in ("apt-get", "dpkg", "dpkg-deb", "tar"):
        if shutil.which(tool) is None:
            raise SysrootError(f"{tool} not found: pyemu-sysroot needs a Debian host with apt, "
                               "dpkg and GNU tar")


def check_arch_enabled(arch: str) -> None:
    native = _run(["dpkg", "--print-architecture"]).stdout.strip()
    foreign = _run(["dpkg", "--print-foreign-architectures"]).stdout.split()
    error = arch_enabled_error(arch, native, foreign)
    if error:
        raise SysrootError(error)


def inspect_root(root: Path, arch: str) -> Manifest | None:
    """The manifest of an earlier build into ``root``; None for a new or empty directory."""
    if root.exists() and not root.is_dir():
        raise SysrootError(f"{root} exists and is not a directory")
    marker = root / MARKER
    if marker.is_file():
        previous = parse_manifest(marker.read_text())
        if previous.arch != arch:
            raise SysrootError(f"{root} is a sysroot for {previous.arch}, not {arch}")
        return previous
    if root.is_dir() and any(root.iterdir()):
        raise SysrootError(f"{root} is not empty and not a pyemu sysroot; give a new directory")
    return None


def make_skeleton(root: Path) -> None:
    """The merged-/usr links (``bin -> usr/bin`` ...), made before anything is unpacked."""
    try:
        for name in USR_LINKS:
            (root / "usr" / name).mkdir(parents=True, exist_ok=True)
            link = root / name
            if not link.is_symlink():
                if link.exists():
                    raise SysrootError(f"{link} is not a symlink to usr/{name} (merged /usr)")
                link.symlink_to(f"usr/{name}")
    except OSError as err:
        raise SysrootError(f"cannot create {err.filename or root}: {err.strerror}") from None


def resolve(config: Path, roots: list[str], arch: str) -> list[Package]:
    proc = _run(["apt-get", "-c", str(config), "-s", "install", *roots])
    if proc.returncode != 0:
        raise SysrootError(apt_failure(proc.stdout + proc.stderr, arch))
    packages = parse_simulation(proc.stdout)
    if not packages:
        raise SysrootError("apt-get planned no packages (unexpected output from apt-get -s)")
    return packages


def fetch(config: Path, packages: list[Package], arch: str, cache: Path,
          log: Log) -> list[Path]:
    """The .deb of each package, from the cache or downloaded into it."""
    if not packages:
        return []
    proc = _run(["apt-get", "-c", str(config), "download", "--print-uris",
                 *(p.spec for p in packages)])
    if proc.returncode != 0:
        raise SysrootError(apt_failure(proc.stdout + proc.stderr, arch))
    downloads = match_downloads(packages, parse_print_uris(proc.stdout))
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SysrootError(f"cannot create the .deb cache {cache}: {err.strerror}") from None
    missing = [(p, d) for p, d in zip(packages, downloads)
               if not _cached(cache / d.filename, d.size)]
    if missing:
        size = format_size(sum(d.size for _p, d in missing))
        log(f"downloading {plural(len(missing), 'package')} ({size}) into {cache}")
        _download(config, missing, cache)
    return [cache / d.filename for d in downloads]


def _cached(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _download(config: Path, missing: list[tuple[Package, Download]], cache: Path) -> None:
    """apt-get download into a private directory, then rename each .deb into the cache."""
    work = Path(tempfile.mkdtemp(prefix=".download-", dir=cache))
    try:
        proc = _run(["apt-get", "-c", str(config), "download", *(p.spec for p, _d in missing)],
                    cwd=work)
        output = proc.stdout + proc.stderr
        failed = failed_downloads(output, [d for _p, d in missing])
        failed += [d.filename for _p, d in missing if not _cached(work / d.filename, d.size)]
        if failed:
            package = next(p for p, d in missing if d.filename == failed[0])
            raise SysrootError(f"download of {package.name} {package.version} failed: "
                               + first_error(output))
        for _p, d in missing:
            os.replace(work / d.filename, cache / d.filename)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def extract(deb: Path, root: Path, package: Package) -> None:
    """Unpack one .deb's files into ``root``, writing through the merged-/usr symlinks."""
    dpkg = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert dpkg.stdout is not None
    tar = subprocess.run(["tar", "-x", "--keep-directory-symlink", "--no-same-owner",
                          "-C", str(root)], stdin=dpkg.stdout, capture_output=True, check=False)
    dpkg.stdout.close()
    dpkg_err = dpkg.stderr.read() if dpkg.stderr else b""
    if dpkg.wait() != 0 or tar.returncode != 0:
        detail = (dpkg_err or tar.stderr).decode(errors="replace").strip().splitlines()
        raise SysrootError(f"cannot unpack {package.name} ({deb.name}): "
                           + (detail[0] if detail else "dpkg-deb or tar failed"))


def relativize_symlinks(root: Path) -> int:
    """Rewrite every absolute symlink under ``root`` to point inside it; how many."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                continue
            target = os.readlink(path)
            if target.startswith("/"):
                os.unlink(path)
                os.symlink(relative_link(os.path.relpath(path, root), target), path)
                count += 1
    return count


def write_etc(root: Path) -> list[str]:
    """Write the minimal etc files no package provided; their names."""
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    written = []
    for name, text in minimal_etc().items():
        if not os.path.lexists(etc / name):
            (etc / name).write_text(text)
            written.append(name)
    return written


def write_manifest(root: Path, manifest: Manifest) -> None:
    tmp = root / (MARKER + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(format_manifest(manifest))
    os.replace(tmp, root / MARKER)


def tree_size(root: Path) -> int:
    """Bytes in the regular files under ``root`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total
