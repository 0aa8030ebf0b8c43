"""Which Unicorn library runs the guest: the patched one the install built
(usermode/_engine/), the stock wheel's (PYEMU_ENGINE=stock), or the user's (LIBUNICORN_PATH).

`.ci/run` runs the suite twice: with the engine its install built, then with PYEMU_ENGINE=stock.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path

from harness import REPO_ROOT, guest, minimal_env, run_pyemu

sys.path.insert(0, str(REPO_ROOT / "tools"))
import build_engine  # noqa: E402

BUNDLED = REPO_ROOT / "usermode" / "_engine" / "libunicorn.so.2"
PATCHES = ", ".join(sorted(build_engine.EXPECTED_PATCHES)).encode()
ENGINE_LINE = re.compile(rb"pyemu: engine unicorn 2\.1\.4\S* (.*), (?:virtual|engine) TLB(?:, direct memory access)?\n")


def engine_of(env: dict[str, str] | None = None) -> bytes:
    """The engine `pyemu -v` names for a static program."""
    out = run_pyemu("aarch64", [guest("exit42", "aarch64")], emu_args=["-v"], env=env)
    assert out.status == 42, out.text()
    found = ENGINE_LINE.search(out.stderr)
    assert found, out.text()
    return found.group(1)


def wheel_library_dir() -> str:
    spec = importlib.util.find_spec("unicorn")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(list(spec.submodule_search_locations)[0]) / "lib")


def expected_default() -> bytes:
    """What the configuration this suite runs in should give."""
    if os.environ.get("LIBUNICORN_PATH"):
        library = ctypes.CDLL(os.path.join(os.environ["LIBUNICORN_PATH"], "libunicorn.so.2"))
        patched = hasattr(library, "uc_pyemu_patches")
    elif os.environ.get("PYEMU_ENGINE") == "stock":
        patched = False
    else:
        patched = BUNDLED.is_file()
    return b"with pyemu patches " + PATCHES if patched else b"(stock)"


def test_default_engine():
    """The bundled patched library when the install built one, unless told otherwise."""
    assert engine_of() == expected_default()


def test_pyemu_engine_stock_selects_the_wheels_library():
    # (an empty LIBUNICORN_PATH: this suite may run with one set, which would win)
    assert engine_of({"PYEMU_ENGINE": "stock", "LIBUNICORN_PATH": ""}) == b"(stock)"


def test_libunicorn_path_wins():
    assert engine_of({"LIBUNICORN_PATH": wheel_library_dir()}) == b"(stock)"


def test_guest_environment_does_not_inherit_the_engine_choice(busybox):
    out = run_pyemu("aarch64", [busybox("arm64"), "env"])
    assert out.status == 0, out.text()
    assert b"LC_ALL=C\n" in out.stdout
    # only a LIBUNICORN_PATH the run itself was given (the bundled engine's never leaks)
    assert (b"LIBUNICORN_PATH=" in out.stdout) == ("LIBUNICORN_PATH" in minimal_env())
