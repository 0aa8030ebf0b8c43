"""pyemu's build backend: setuptools, after building pyemu's patched Unicorn engine.

``pip install .`` (and ``pip install -e .``) first runs tools/build_engine.py, which compiles
the unicorn 2.1.4 sdist with the project's patch into ~/.cache/pyemu/engine/KEY/ (about two
minutes on two cores the first time, reused after), and copies the library into
usermode/_engine/, where pyemu loads it from. If that build fails (no cmake or C compiler, no
network), the install says why on stderr (``pip -v`` shows it) and goes on: pyemu then runs on
the stock unicorn wheel. ``PYEMU_ENGINE=stock`` at install time skips the build.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # the rest of the PEP 517/660 interface, unchanged
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_engine  # noqa: E402  (tools/build_engine.py)

__all__ = ["build_editable", "build_sdist", "build_wheel", "get_requires_for_build_editable",
           "get_requires_for_build_sdist", "get_requires_for_build_wheel",
           "prepare_metadata_for_build_editable", "prepare_metadata_for_build_wheel"]

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "usermode" / "_engine" / "libunicorn.so.2"
# setuptools copies package files to build/lib and reuses that copy in the next build
STALE_COPY = ROOT / "build" / "lib" / "usermode" / "_engine" / "libunicorn.so.2"
# Why this install has no patched library: pyemu -v shows its first line (usermode.translate).
FALLBACK = BUNDLED.with_name("FALLBACK.txt")
STALE_FALLBACK = STALE_COPY.with_name("FALLBACK.txt")


def drop_bundled(reason: str) -> None:
    """No patched library in this build (nor a copy left by an earlier one); say why."""
    BUNDLED.unlink(missing_ok=True)
    STALE_COPY.unlink(missing_ok=True)
    STALE_FALLBACK.unlink(missing_ok=True)
    FALLBACK.write_text(reason.strip() + "\n")


def bundle_engine() -> None:
    """Put the patched library into usermode/_engine/, or leave the stock one in charge."""
    if os.environ.get("PYEMU_ENGINE") == "stock":
        drop_bundled("PYEMU_ENGINE=stock was set at install time")
        print("pyemu: PYEMU_ENGINE=stock: not building the patched engine", file=sys.stderr)
        return
    try:
        library = build_engine.build_library(build_engine.default_cache(), os.cpu_count() or 1)
    except (build_engine.BuildError, OSError) as err:
        drop_bundled(str(err))
        print(f"pyemu: warning: the patched engine was not built, pyemu will run on the stock "
              f"unicorn wheel (slower): {err}", file=sys.stderr)
        return
    partial = BUNDLED.with_name(BUNDLED.name + ".part")
    shutil.copy(library, partial)
    partial.replace(BUNDLED)
    FALLBACK.unlink(missing_ok=True)
    STALE_FALLBACK.unlink(missing_ok=True)
    print(f"pyemu: patched engine {library} -> {BUNDLED}", file=sys.stderr)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    bundle_engine()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    bundle_engine()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
