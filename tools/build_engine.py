#!/usr/bin/env python3
"""Build pyemu's patched Unicorn engine: the unicorn 2.1.4 sdist from PyPI plus
tools/engine/unicorn-2.1.4-pyemu.patch, as a library (and optionally a wheel) in a cache.

    python3 tools/build_engine.py            # build (or reuse) the library, print its path
    python3 tools/build_engine.py --wheel    # ... and a unicorn wheel with it, print that
    python3 tools/build_engine.py --install  # ... and pip-install that wheel into this Python

The project's install runs this (tools/pyemu_build_backend.py) and puts the library in
usermode/_engine/, where pyemu loads it from; when the build fails (no cmake or compiler, no
network) the install goes on with the stock wheel's library. The patch (see its comments)
keeps guest stores on the engine's fast path, grows the TLB of a thrashing guest, checks for
exit requests inline instead of calling a helper around every guest memory access, gives
every memory region its own RAM addresses, and frees the MIPS translator's per-instruction
temp. pyemu works with either engine: it asks the loaded library for ``uc_pyemu_patches()``
at run time and picks its TLB mode and MIPS workaround accordingly.

Only the ARM, AArch64 and MIPS targets are built. Needs cmake, a C compiler and make, and
the sdist (pip download, else the simple pages of pip's configured indexes). The wheel's version is
2.1.4+pyemu.KEY (KEY: hash of the sdist, the patch and the build settings), which satisfies
the project's ``unicorn==2.1.4`` requirement.
"""
from __future__ import annotations

import argparse
import ctypes
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

VERSION = "2.1.4"
SDIST = f"unicorn-{VERSION}.tar.gz"
SDIST_SHA256 = "00567a70e323f749b419cd86bee4f9115beab7ebba32194581c090cbb7c59cff"
PATCH = Path(__file__).resolve().parent / "engine" / f"unicorn-{VERSION}-pyemu.patch"
TARGETS = "arm;aarch64;mips"
EXPECTED_PATCHES = {"store-fastpath-1", "mips-temps-1", "tlb-grow-1", "exit-checks-1",
                    "ram-offsets-1", "exact-inexact-1", "direct-loads-1", "read-rights-1",
                    "direct-stores-1", "hook-stops-1"}


class BuildError(Exception):
    """A step failed; the message says which and how to fix it."""


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyemu" / "engine"


def build_key(debug: bool) -> str:
    h = hashlib.sha256()
    for part in (SDIST_SHA256.encode(), PATCH.read_bytes(), TARGETS.encode(),
                 b"debug" if debug else b"release"):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:12]


def run(cmd: list[str], what: str, **kw) -> None:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise BuildError(f"{what} failed ({' '.join(cmd)}):\n{tail}")


def require_tools() -> None:
    missing = [tool for tool in ("cmake", "make") if shutil.which(tool) is None]
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        missing.append("a C compiler")
    if missing:
        raise BuildError(f"{', '.join(missing)} not found (Debian: apt-get install cmake "
                         "build-essential)")


# What a PEP 517 build leaves in its hooks' environment for the frontend's own use: a pip started
# from inside the build inherits it and then fails to build anything of its own
# ("BackendInvalid: Backend was not loaded from backend-path"), and the path overlay hides the
# base environment's site-packages.
_BUILD_ONLY_VARIABLES = ("PEP517_BACKEND_PATH", "PEP517_BUILD_BACKEND",
                         "_PYPROJECT_HOOKS_BUILD_BACKEND", "PIP_BUILD_TRACKER",
                         "PIP_REQ_TRACKER", "PYTHONPATH", "PYTHONNOUSERSITE")


def clean_environment() -> dict[str, str]:
    """This process's environment without what an enclosing PEP 517 build put there (pip's
    own settings, such as PIP_INDEX_URL, stay)."""
    return {k: v for k, v in os.environ.items() if k not in _BUILD_ONLY_VARIABLES}


def configured_indexes() -> list[str]:
    """The package indexes pip is configured with, main index first (PIP_INDEX_URL, else
    pip's configuration files, else PyPI), then the extra ones; http(s) ones only."""
    env = clean_environment()
    settings: dict[str, list[str]] = {"index-url": [], "extra-index-url": []}
    try:
        listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], env=env,
                                 capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    for line in listing.splitlines():      # e.g. global.index-url='https://...'
        key, _, value = line.partition("=")
        option = key.rsplit(".", 1)[-1]
        if option in settings:
            settings[option] += value.strip().strip("'\"").split()
    main = env.get("PIP_INDEX_URL", "").split() or settings["index-url"][:1] or [
        "https://pypi.org/simple"]
    extra = env.get("PIP_EXTRA_INDEX_URL", "").split() + settings["extra-index-url"]
    return [url.rstrip("/") for url in dict.fromkeys(main + extra)
            if url.startswith(("http://", "https://"))]


def sdist_link(index: str, timeout: float = 120) -> str:
    """The sdist's URL on a PEP 503 simple index page (``index``/unicorn/)."""
    page_url = f"{index}/unicorn/"
    with urllib.request.urlopen(page_url, timeout=timeout) as response:
        page = response.read().decode("utf-8", "replace")
    for href in re.findall(r'href="([^"]+)"', page):
        target = html.unescape(href)
        if target.split("#", 1)[0].rsplit("/", 1)[-1] == SDIST:
            return urllib.parse.urljoin(page_url, target.split("#", 1)[0])
    raise OSError(f"{page_url} lists no {SDIST}")


def _download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=300) as response:
        data = response.read()
    partial = dest.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(dest)


def fetch_sdist(cache: Path) -> Path:
    """The sdist: from the cache, else through pip (in a clean environment, with its index
    settings), else from the simple pages of the indexes pip is configured with."""
    sdist = cache / "sdist" / SDIST
    if not sdist.is_file():
        sdist.parent.mkdir(parents=True, exist_ok=True)
        failures: list[str] = []
        try:
            run([sys.executable, "-m", "pip", "download", f"unicorn=={VERSION}", "--no-binary",
                 ":all:", "--no-deps", "-d", str(sdist.parent)], "downloading the sdist",
                env=clean_environment())
        except BuildError as pip_error:
            failures.append(str(pip_error))
        for index in ([] if sdist.is_file() else configured_indexes()):
            try:
                _download(sdist_link(index), sdist)
                break
            except (OSError, ValueError) as err:
                failures.append(f"{index}: {err}")
        if not sdist.is_file():
            raise BuildError("the unicorn sdist could not be downloaded:\n" + "\n".join(failures))
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise BuildError(f"{sdist}: sha256 {digest}, expected {SDIST_SHA256} (the sdist the "
                         "patch was written against); delete it to download it again")
    return sdist


def extract_sdist(sdist: Path, dest: Path) -> Path:
    """Unpack the sdist into ``dest``; the unpacked tree's root (its C sources are in src/)."""
    with tarfile.open(sdist) as tar:
        try:
            tar.extractall(dest, filter="data")
        except TypeError:       # Python before 3.11.4: no extraction filters
            tar.extractall(dest)
    return dest / f"unicorn-{VERSION}"


def apply_patch(src: Path) -> None:
    """Apply the patch to the sdist's C sources (git apply, else patch)."""
    if shutil.which("git"):
        run(["git", "apply", "-p1", str(PATCH)], "applying the patch", cwd=src)
    elif shutil.which("patch"):
        run(["patch", "-p1", "--batch", "--forward", "-i", str(PATCH)], "applying the patch",
            cwd=src)
    else:
        raise BuildError("neither git nor patch found to apply the patch")


def compile_library(src: Path, build: Path, jobs: int, debug: bool) -> Path:
    kind = "Debug" if debug else "Release"
    run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_BUILD_TYPE={kind}",
         "-DUNICORN_BUILD_TESTS=off", "-DUNICORN_INSTALL=off",
         "-DUNICORN_LEGACY_STATIC_ARCHIVE=off", f"-DUNICORN_ARCH={TARGETS}"], "cmake configure")
    run(["cmake", "--build", str(build), "-j", str(jobs), "--target", "unicorn"], "compiling")
    return build / "libunicorn.so.2"


def check_library(library: Path) -> None:
    lib = ctypes.CDLL(str(library))
    probe = lib.uc_pyemu_patches
    probe.restype = ctypes.c_char_p
    found = set(probe().decode().split(","))
    if found != EXPECTED_PATCHES:
        raise BuildError(f"{library}: reports patches {sorted(found)}, expected "
                         f"{sorted(EXPECTED_PATCHES)}")


def make_wheel(tree: Path, library: Path, out: Path, key: str) -> Path:
    """The sdist's setup.py packages a library found in prebuilt/ instead of building one."""
    shutil.copy(library, tree / "prebuilt" / "libunicorn.so.2")
    env = dict(os.environ, SETUPTOOLS_SCM_PRETEND_VERSION=f"{VERSION}+pyemu.{key}")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(tree)],
        "building the wheel", env=env)
    wheels = sorted(out.glob(f"unicorn-{VERSION}+pyemu.{key}-*.whl"))
    if not wheels:
        raise BuildError(f"no wheel in {out}")
    return wheels[-1]


def build_library(cache: Path, jobs: int, debug: bool = False) -> Path:
    """The patched library, built into ``cache/KEY/`` unless it is already there."""
    out = cache / build_key(debug)
    library = out / "libunicorn.so.2"
    if library.is_file():
        return library
    require_tools()
    sdist = fetch_sdist(cache)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=cache) as work:
        tree = extract_sdist(sdist, Path(work))
        apply_patch(tree / "src")
        built = compile_library(tree / "src", Path(work) / "build", jobs, debug)
        check_library(built)
        out.mkdir(parents=True, exist_ok=True)
        partial = out / "libunicorn.so.2.part"
        shutil.copy(built, partial)
        partial.replace(library)
    return library


def build_wheel(cache: Path, jobs: int, debug: bool = False) -> Path:
    """A unicorn wheel around the patched library (the sdist's Python binding, unchanged)."""
    library = build_library(cache, jobs, debug)
    key = build_key(debug)
    wheels = sorted(library.parent.glob("*.whl"))
    if wheels:
        return wheels[-1]
    with tempfile.TemporaryDirectory(prefix="wheel-", dir=cache) as work:
        tree = extract_sdist(fetch_sdist(cache), Path(work))
        return make_wheel(tree, library, library.parent, key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", action="store_true",
                        help="also build a unicorn wheel around the library; print its path")
    parser.add_argument("--install", action="store_true",
                        help="pip-install that wheel into this Python (replacing unicorn)")
    parser.add_argument("--cache", type=Path, default=default_cache(),
                        help="where the sdist, the library and the wheel go (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel compile jobs (default: the CPU count)")
    parser.add_argument("--debug", action="store_true", help="an unoptimized build with symbols")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        library = build_library(args.cache, args.jobs, args.debug)
        result = library
        if args.wheel or args.install:
            result = build_wheel(args.cache, args.jobs, args.debug)
        if args.install:
            run([sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps",
                 str(result)], "installing the wheel")
    except BuildError as err:
        print(f"build_engine: {err}", file=sys.stderr)
        return 1
    print(result)
    print(f"LIBUNICORN_PATH={library.parent} loads the library without installing it; "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
