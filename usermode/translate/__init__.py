"""The translation layer: guest code on the Unicorn engine (the only package that imports it).

Which engine library runs the guest is settled here, before anything imports ``unicorn``:

- ``LIBUNICORN_PATH`` set by the user: that library (the binding's own rule);
- else ``PYEMU_ENGINE=stock``: the library of the installed unicorn wheel;
- else pyemu's patched engine, if the install built it (``usermode/_engine/libunicorn.so.2``,
  see tools/build_engine.py), else the wheel's library; the install then left the reason in
  ``usermode/_engine/FALLBACK.txt``. ``ENGINE_REASON`` says which rule chose (``-v`` shows it).

The binding reads ``LIBUNICORN_PATH`` once, at import; it is set only for that import, so the
guest's environment and the programs it starts do not inherit it.
"""
from __future__ import annotations

import os
from pathlib import Path

BUNDLED_ENGINE = Path(__file__).resolve().parent.parent / "_engine" / "libunicorn.so.2"
# Written by the build backend when the install could not build the patched engine: why.
FALLBACK_REASON = BUNDLED_ENGINE.with_name("FALLBACK.txt")


def _choose_engine() -> tuple[str | None, str]:
    """(the directory of the library to load, or None for the binding's own choice; why)."""
    if os.environ.get("LIBUNICORN_PATH"):
        return None, f"LIBUNICORN_PATH={os.environ['LIBUNICORN_PATH']}"
    if os.environ.get("PYEMU_ENGINE") == "stock":
        return None, "PYEMU_ENGINE=stock"
    if BUNDLED_ENGINE.is_file():
        return str(BUNDLED_ENGINE.parent), "the patched engine the install built"
    try:
        reason = FALLBACK_REASON.read_text().strip().splitlines()[0]
    except (OSError, IndexError):
        reason = f"no patched engine in {BUNDLED_ENGINE.parent}"
    return None, f"the install did not build the patched engine: {reason}; then reinstall pyemu"


_engine_dir, ENGINE_REASON = _choose_engine()
if _engine_dir:
    os.environ["LIBUNICORN_PATH"] = _engine_dir
try:
    import unicorn  # noqa: F401  (loads the library)
finally:
    if _engine_dir:
        del os.environ["LIBUNICORN_PATH"]
