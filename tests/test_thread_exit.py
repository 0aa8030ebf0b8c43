"""The process ends while other guest threads run (tests/guest/thread_exit.c): no host crash,
and every run's status and output are qemu-user's, run after run.

Each scenario runs PYEMU_STRESS_RUNS times per arch (default 20 here; the stress command in
README.md runs 200). A pyemu that let another thread run guest code while the process was
being torn down crashed with a host SIGSEGV or SIGABRT in up to half of these runs.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import ARCHES, compare, guest, run_pyemu, run_qemu

from usermode.translate.cpu import preemptible

THREAD_FLAGS = ("-static", "-O2", "-pthread")
RUNS = int(os.environ.get("PYEMU_STRESS_RUNS", "20"))

# created: detached threads being created at exit; spin: threads in guest code without
# syscalls (needs time slices); spinsys: the same with a syscall now and then; blocked:
# threads in read, futex, nanosleep and poll; fromthread: exit() from a thread that is not
# the main one; signal: a fatal SIGTERM while threads run; fault: a thread's SIGSEGV
QEMU_SCENARIOS = ("created", "spin", "spinsys", "blocked", "fromthread", "signal", "fault")


def _repeat(arch, argv, runs):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda _: run_pyemu(arch, argv, timeout=60), range(runs)))


@pytest.mark.parametrize("scenario", QEMU_SCENARIOS)
@pytest.mark.parametrize("arch", ARCHES)
def test_exit_while_threads_run(arch, scenario):
    if scenario == "spin" and not preemptible():
        pytest.skip("the stock engine has no time slices: a thread spinning without syscalls "
                    "keeps the others waiting (README, Limits)")
    binary = guest("thread_exit", arch, THREAD_FLAGS)
    expected = run_qemu(arch, [binary, scenario], timeout=60)
    assert expected.stdout.startswith(f"scenario {scenario}\n".encode()), expected.text()
    for run, outcome in enumerate(_repeat(arch, [binary, scenario], RUNS)):
        compare(expected, outcome, f"{scenario}, run {run + 1} of {RUNS}")


@pytest.mark.parametrize("arch", ARCHES)
def test_execve_from_a_thread_while_others_run(arch):
    """qemu-user cannot execve a foreign binary without binfmt_misc; the expected outcome is
    the exec'd program's."""
    binary = guest("thread_exit", arch, THREAD_FLAGS)
    for run, outcome in enumerate(_repeat(arch, [binary, "exec"], RUNS)):
        assert (outcome.status, outcome.stdout, outcome.stderr) == (
            6, b"scenario exec\nscenario child\nexec'd child\n", b""), \
            f"run {run + 1} of {RUNS}:\n{outcome.text()}"
