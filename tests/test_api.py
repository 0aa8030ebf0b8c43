"""The Python API: usermode.run (a child process per run) and usermode.Emulator (step-wise,
in this process)."""
from __future__ import annotations

import os
import time

import pytest
from harness import ARCHES, EXAMPLES_DIR, guest

import usermode
from usermode.errors import LoaderError
from usermode.symbols import read_symbols

GREETING = "Hello, world! (from a {} guest)\n"


@pytest.mark.parametrize("arch", ARCHES)
def test_run_a_program_and_see_its_syscalls(arch):
    result = usermode.run([EXAMPLES_DIR / f"hello-{arch}"], arch=arch, strace=True)
    assert (result.returncode, result.signal, result.stdout, result.stderr) == (
        0, None, GREETING.format(arch).encode(), b""), result
    assert not result.timed_out and not result.instruction_limit
    assert [c.name for c in result.syscalls][-2:] == ["write", "exit_group"]
    assert result.syscalls[-2].args[0] == "1" and result.syscalls[-1].result == "?"


def test_run_passes_argv_env_cwd_and_stdin(tmp_path, busybox):
    (tmp_path / "here.txt").write_text("x")
    result = usermode.run([busybox("arm64"), "sh", "-c", 'read line; echo "$line $FOO $0"; ls'],
                          env={"FOO": "bar", "PATH": "/bin"}, cwd=tmp_path, stdin=b"hi\n")
    assert (result.returncode, result.stdout) == (0, b"hi bar sh\nhere.txt\n"), result


def test_run_reports_a_death_by_signal(tmp_path):
    result = usermode.run([guest("abort", "aarch64")])
    assert (result.returncode, result.signal) == (134, 6), result
    assert b"uncaught target signal 6 (Aborted)" in result.stderr


def test_timeout_ends_an_infinite_loop_with_no_process_left():
    marker = f"pyemu-api-timeout-{os.getpid()}"
    started = time.monotonic()
    result = usermode.run([guest("spin_forever", "arm"), "fork", marker], timeout=1)
    took = time.monotonic() - started
    assert result.timed_out and result.returncode == 124, result
    assert took < 2.0, f"{took:.2f} s"
    time.sleep(0.2)
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, marker)]


def _cmdline_has(pid: str, text: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return text.encode() in f.read()
    except OSError:
        return False


@pytest.mark.parametrize("arch", ARCHES)
def test_max_instructions_stops_at_the_same_instruction_every_time(arch):
    program = guest("spin_forever", arch)
    results = [usermode.run([program], max_instructions=250_001) for _ in range(5)]
    assert all(r.instruction_limit and r.returncode == 123 for r in results), results[0]
    assert len({r.stderr for r in results}) == 1, [r.stderr for r in results]


def test_bad_input_is_a_loader_error(tmp_path):
    text = tmp_path / "script.txt"
    text.write_text("not a program\n")
    with pytest.raises(LoaderError):
        usermode.run([text])
    with pytest.raises(LoaderError):
        usermode.run([tmp_path / "missing"])
    with pytest.raises(LoaderError):
        usermode.Emulator([text])


@pytest.mark.parametrize("arch", ARCHES)
def test_a_syscall_hook_changes_what_getpid_returns(arch, capfd):
    emu = usermode.Emulator([guest("api_target", arch)])
    seen = []

    def before(call):
        if call.name == "getpid":
            call.result = 4242

    def after(call):
        seen.append(call.name)

    emu.on_syscall(before=before, after=after)
    stop = emu.run()
    assert (stop.reason, stop.status) == ("exit", 7)
    assert capfd.readouterr().out == "pid 4242\ncounter 10\n"
    assert "write" in seen and "getpid" in seen


@pytest.mark.parametrize("arch", ARCHES)
def test_emulator_steps_to_an_address_and_by_instructions(arch, capfd):
    program = guest("api_target", arch)
    symbols = read_symbols(str(program), ~1)
    bump = next(start for start, _size, name in symbols.entries if name == "bump")
    emu = usermode.Emulator([program])
    stop = emu.run(until=bump)
    assert stop.reason == "address" and stop.pc & ~1 == bump, stop
    assert emu.symbol(stop.pc) == "bump"
    counter = next(start for start, _size, name in symbols.entries if name == "counter")
    assert emu.read_memory(counter, 4) == bytes(4)
    stop = emu.run(count=5)
    assert stop.reason == "count" and stop.pc != bump
    writes = []
    emu.on_memory(counter, counter + 4, lambda kind, address, size, value:
                  writes.append((kind, value)) if kind == "write" else None)
    stop = emu.run()
    assert (stop.reason, stop.status) == ("exit", 7)
    assert [v for _kind, v in writes] == list(range(1, 11))
    assert capfd.readouterr().out.endswith("counter 10\n")
