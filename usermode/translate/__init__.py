"""The translation layer: guest code on the Unicorn engine (the only package that imports it).

Which engine library runs the guest is settled here, before anything imports ``unicorn``:

- ``LIBUNICORN_PATH`` set by the user: that library (the binding's own rule);
- else ``PYEMU_ENGINE=stock``: the library of the installed unicorn wheel;
- else pyemu's patched engine, if the install built it (``usermode/_engine/libunicorn.so.2``,
  see tools/build_engine.py), else the wheel's library.

The binding reads ``LIBUNICORN_PATH`` once, at import; it is set only for that import, so the
guest's environment and the programs it starts do not inherit it.
"""
from __future__ import annotations

import os
from pathlib import Path

BUNDLED_ENGINE = Path(__file__).resolve().parent.parent / "_engine" / "libunicorn.so.2"


def _bundled_engine_dir() -> str | None:
    if os.environ.get("LIBUNICORN_PATH") or os.environ.get("PYEMU_ENGINE") == "stock":
        return None
    return str(BUNDLED_ENGINE.parent) if BUNDLED_ENGINE.is_file() else None


_engine_dir = _bundled_engine_dir()
if _engine_dir:
    os.environ["LIBUNICORN_PATH"] = _engine_dir
try:
    import unicorn  # noqa: F401  (loads the library)
finally:
    if _engine_dir:
        del os.environ["LIBUNICORN_PATH"]
