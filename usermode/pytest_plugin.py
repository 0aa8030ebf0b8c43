"""pytest plugin: run cross-compiled programs under pyemu from a test suite.

Installed with pyemu (the ``pytest11`` entry point), so a suite only uses its fixtures:

    def test_hello(pyemu):
        result = pyemu(["build/hello-arm"], timeout=10)
        assert (result.returncode, result.stdout) == (0, b"hello\\n")

    @pytest.mark.pyemu_arches("arm", "aarch64")          # default: all four
    def test_everywhere(pyemu, pyemu_arch):
        result = pyemu([f"build/{pyemu_arch}/hello"], arch=pyemu_arch)

- ``pyemu(argv, **options)`` is ``usermode.run`` (arch, sysroot, env, cwd, stdin, timeout,
  max_instructions, ...) with the syscalls recorded; it returns the ``Result``.
- ``pyemu_arch`` parametrizes a test over the architectures of its ``pyemu_arches`` marker
  (or all); ``--pyemu-arch NAME`` (repeatable) keeps only those.
- ``--pyemu-sysroot DIR`` is the default ``sysroot`` (``-L``) of every run.
- When a test fails, its report shows each run's command, exit status, the guest's stderr and
  its last syscalls.

Every run is a child process in its own session, so the plugin works under pytest-xdist
(``-n auto``) like any other test code.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

ARCH_NAMES = ("arm", "aarch64", "mips", "mipsel")
LAST_SYSCALLS = 20
_RUNS = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyemu", "running foreign programs under pyemu")
    group.addoption("--pyemu-arch", action="append", default=[], metavar="ARCH",
                    help="run pyemu_arch tests for this architecture only (repeatable)")
    group.addoption("--pyemu-sysroot", default=None, metavar="DIR",
                    help="default sysroot (-L) for the pyemu fixture's runs")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pyemu_arches(*names): the architectures pyemu_arch "
                                       "runs the test for (default: all)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pyemu_arch" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("pyemu_arches")
    arches = list(marker.args) if marker and marker.args else list(ARCH_NAMES)
    unknown = [a for a in arches if a not in ARCH_NAMES]
    if unknown:
        raise pytest.UsageError(f"pyemu_arches: unknown architecture(s) {unknown}")
    chosen = metafunc.config.getoption("--pyemu-arch")
    if chosen:
        arches = [a for a in arches if a in chosen]
    metafunc.parametrize("pyemu_arch", arches)


@pytest.fixture
def pyemu(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Run a foreign program under pyemu: ``pyemu(argv, **usermode.run options)``."""
    from .api import run

    runs: list[Any] = []
    request.node.stash[_RUNS] = runs
    sysroot = request.config.getoption("--pyemu-sysroot")

    def runner(argv: Any, **options: Any) -> Any:
        if sysroot is not None:
            options.setdefault("sysroot", sysroot)
        options.setdefault("strace", True)
        result = run(argv, **options)
        runs.append(result)
        return result

    return runner


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    runs = item.stash.get(_RUNS, None)
    if report.when != "call" or not report.failed or not runs:
        return
    for number, result in enumerate(runs, 1):
        report.sections.append((f"pyemu run {number}: {' '.join(result.argv)}",
                                describe(result)))


def describe(result: Any) -> str:
    """A run as a failure report shows it."""
    lines = [f"exit status {result.returncode}"
             + (f" (signal {result.signal})" if result.signal else "")
             + (" (timed out)" if result.timed_out else "")
             + (" (instruction limit)" if result.instruction_limit else ""),
             "stderr:", result.stderr.decode("utf-8", "replace")[-4000:].rstrip() or "(empty)"]
    if result.syscalls:
        lines.append(f"last {min(LAST_SYSCALLS, len(result.syscalls))} syscalls:")
        for call in result.syscalls[-LAST_SYSCALLS:]:
            lines.append(f"  {call.name}({', '.join(call.args)}) = {call.result}")
    return "\n".join(lines)
