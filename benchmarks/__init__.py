"""pyemu against qemu-user, side by side: ``python -m benchmarks --help``.

Modules: ``support`` (the bridge to tests/harness.py and the machine description),
``workloads`` (what is run), ``measure`` (how one run is timed and checked),
``report`` (table, targets, JSON), ``cli`` (the command line).
"""
