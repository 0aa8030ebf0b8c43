"""The pytest plugin (usermode.pytest_plugin): a suite of cross-compiled programs, run by
pytest in a subprocess with the plugin loaded, as a user's suite would be."""
from __future__ import annotations

import importlib.metadata
import textwrap

import pytest
from harness import ARCHES, EXAMPLES_DIR, guest

pytest_plugins = ("pytester",)


def _plugin_args() -> list[str]:
    """The installed entry point loads the plugin; a checkout not installed since it gained
    one needs it named."""
    installed = any(ep.value == "usermode.pytest_plugin"
                    for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "usermode.pytest_plugin"]


def _suite(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(test_guest=textwrap.dedent(body))
    pytester.syspathinsert(str(EXAMPLES_DIR.parent))


def test_the_fixture_runs_a_program_on_each_arch(pytester: pytest.Pytester):
    _suite(pytester, f"""
        import pytest

        @pytest.mark.pyemu_arches{tuple(ARCHES)!r}
        def test_hello(pyemu, pyemu_arch):
            result = pyemu([r"{EXAMPLES_DIR}/hello-" + pyemu_arch], arch=pyemu_arch)
            assert result.returncode == 0
            assert result.stdout == f"Hello, world! (from a {{pyemu_arch}} guest)\\n".encode()
            assert result.syscalls[-1].name == "exit_group"
        """)
    result = pytester.runpytest_subprocess(*_plugin_args(), "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_hello?arm? PASSED*", "*test_hello?mipsel? PASSED*"])


def test_arch_option_and_failure_report(pytester: pytest.Pytester):
    program = guest("exit42", "aarch64")
    _suite(pytester, f"""
        def test_fails(pyemu, pyemu_arch):
            result = pyemu([r"{program}"], arch="aarch64")
            assert result.returncode == 0
        """)
    result = pytester.runpytest_subprocess(*_plugin_args(), "--pyemu-arch", "aarch64")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pyemu run 1: *exit42*", "exit status 42",
                                 "last * syscalls:", "*exit_group(42) = ?*"])


def test_works_under_xdist(pytester: pytest.Pytester):
    _suite(pytester, f"""
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_many(pyemu, n):
            result = pyemu([r"{EXAMPLES_DIR}/hello-arm"])
            assert result.ok
        """)
    result = pytester.runpytest_subprocess(*_plugin_args(), "-n", "2")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*2 workers*"])
