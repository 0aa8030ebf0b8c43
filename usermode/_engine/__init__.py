"""Where the install puts pyemu's patched Unicorn library (libunicorn.so.2), when it could build
it (tools/build_engine.py, run by the project's build backend tools/pyemu_build_backend.py);
usermode.translate loads it from here. Empty in the repository."""
