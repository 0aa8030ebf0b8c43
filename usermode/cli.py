"""Command line: ``pyemu-ARCH [options] program [args...]``, qemu-user's form and options.

Options stop at the program name; everything after it belongs to the guest. Each option has an
environment variable (``PYEMU_*``; ``QEMU_LD_PREFIX`` is accepted for ``-L``).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, NoReturn

from . import __version__
from .errors import PyemuError, UsageError

ARCH_NAMES = ("arm", "aarch64", "mips", "mipsel")
STARTED = time.monotonic()      # -timeout counts from here, the start-up included


@dataclass(frozen=True)
class Option:
    flag: str
    env: str | None
    arg: str | None           # metavar, or None for a switch
    help: str


OPTIONS = (
    Option("-h", None, None, "print this help and exit"),
    Option("-L", "PYEMU_LD_PREFIX", "path", "guest path prefix (sysroot) for absolute paths"),
    Option("-E", "PYEMU_SET_ENV", "var=value", "set guest environment variable(s), comma-separated"),
    Option("-U", "PYEMU_UNSET_ENV", "var", "remove guest environment variable(s), comma-separated"),
    Option("-0", "PYEMU_ARGV0", "argv0", "use argv0 as the guest's argv[0]"),
    Option("-s", "PYEMU_STACK_SIZE", "size", "guest stack size in bytes (suffixes k, M, G)"),
    Option("-cpu", "PYEMU_CPU", "model", "CPU model ('-cpu help' lists them)"),
    Option("-seed", "PYEMU_RAND_SEED", "n", "seed for AT_RANDOM and getrandom (deterministic)"),
    Option("-strace", "PYEMU_STRACE", None, "log every syscall on stderr"),
    Option("-d", "PYEMU_LOG_ITEMS", "item[,...]", "log items: in_asm, exec ('-d help' lists them)"),
    Option("-D", "PYEMU_LOG_FILENAME", "logfile",
           "write the -d log and the -strace lines to logfile, not stderr"),
    Option("-coverage", "PYEMU_COVERAGE", "file", "write the blocks that ran to file at exit"),
    Option("-coverage-format", "PYEMU_COVERAGE_FORMAT", "drcov|plain",
           "the -coverage file's format (default drcov)"),
    Option("-g", "PYEMU_GDB", "port", "wait for gdb on 127.0.0.1:port before the first "
           "instruction"),
    Option("-v", "PYEMU_VERBOSE", None, "say which arch, sysroot and engine were chosen"),
    Option("-host-exec", "PYEMU_HOST_EXEC", None,
           "let the guest execve host programs (run natively); otherwise ENOEXEC"),
    Option("-timeout", "PYEMU_TIMEOUT", "seconds",
           "end the run after this wall time (status 124)"),
    Option("-max-insns", "PYEMU_MAX_INSNS", "n",
           "end the run after exactly n guest instructions (status 123)"),
    Option("-version", None, None, "print the version and exit"),
)
_BY_FLAG = {o.flag: o for o in OPTIONS}
_ALIASES = {"-help": "-h", "--help": "-h", "--version": "-version"}
_ENV_ALIASES = {"PYEMU_LD_PREFIX": ("QEMU_LD_PREFIX",)}


def usage(command: str) -> str:
    lines = [f"usage: {command} [options] program [arguments...]",
             "Run a Linux program built for another CPU (user-mode emulation).", "",
             "Options and their environment variables:"]
    for o in OPTIONS:
        left = f"{o.flag} {o.arg}" if o.arg else o.flag
        env = f"  [{o.env}]" if o.env else ""
        lines.append(f"  {left:<18} {o.help}{env}")
    lines.append("  PYEMU_LOG=1        report unimplemented syscalls on stderr")
    return "\n".join(lines)


def parse(args: list[str], environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(option values by flag, program and its arguments). Environment first, then flags."""
    values: dict[str, str] = {}
    for o in OPTIONS:
        for name in (o.env, *_ENV_ALIASES.get(o.env or "", ())):
            if name and environ.get(name):
                values.setdefault(o.flag, environ[name])
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        flag = args[i]
        if flag == "--":
            i += 1
            break
        flag = _ALIASES.get(flag, flag)
        if flag.startswith("--") and flag[1:] in _BY_FLAG:
            flag = flag[1:]
        option = _BY_FLAG.get(flag)
        if option is None:
            raise UsageError(f"unknown option '{args[i]}' (see -h)")
        if option.arg is None:
            values[flag] = "1"
            i += 1
            continue
        if i + 1 >= len(args):
            raise UsageError(f"option '{flag}' needs an argument ({option.arg})")
        if flag in ("-E", "-U") and flag in values:   # these accumulate
            values[flag] += "," + args[i + 1]
        else:
            values[flag] = args[i + 1]
        i += 2
    return values, args[i:]


def parse_size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    scale = units.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale != 1 else text
    try:
        value = int(digits, 0) * scale
    except ValueError:
        raise UsageError(f"bad size '{text}'") from None
    if value <= 0:
        raise UsageError(f"bad size '{text}'")
    return value


def initial_environment() -> list[bytes]:
    """The environment this process was started with, before Python touched it (PEP 538
    locale coercion adds LC_CTYPE); /proc/self/environ keeps the original."""
    try:
        with open("/proc/self/environ", "rb") as f:
            return [e for e in f.read().split(b"\0") if e]
    except OSError:
        return [k + b"=" + v for k, v in os.environb.items()]


def guest_environment(values: dict[str, str]) -> list[bytes]:
    env = initial_environment()
    for name in filter(None, values.get("-U", "").split(",")):
        key = os.fsencode(name) + b"="
        env = [e for e in env if not e.startswith(key)]
    for item in filter(None, values.get("-E", "").split(",")):
        if "=" not in item:
            raise UsageError(f"-E needs var=value, got '{item}'")
        key = os.fsencode(item.split("=", 1)[0]) + b"="
        env = [e for e in env if not e.startswith(key)] + [os.fsencode(item)]
    return env


def build_config(arch: str | None, args: list[str], environ: dict[str, str]):
    from .emulator import RunConfig

    values, rest = parse(args, environ)
    if "-h" in values:
        print(usage(_command(arch)))
        raise SystemExit(0)
    if "-version" in values:
        print(f"pyemu {__version__} (user-mode emulator on Unicorn)")
        raise SystemExit(0)
    if values.get("-cpu") == "help":
        print(_cpu_list(arch))
        raise SystemExit(0)
    log_items = _log_items(values.get("-d", ""))
    if not rest:
        raise UsageError(f"no program given (usage: {_command(arch)} [options] program [args])")
    program = rest[0]
    argv0 = values.get("-0", program)
    seed = values.get("-seed")
    try:
        seed_value = int(seed, 0) if seed is not None else None
    except ValueError:
        raise UsageError(f"bad -seed '{seed}'") from None
    coverage_format = values.get("-coverage-format", "drcov")
    if coverage_format not in ("drcov", "plain"):
        raise UsageError(f"unknown coverage format '{coverage_format}' (drcov or plain)")
    timeout = _positive(values, "-timeout", float)
    max_insns = _positive(values, "-max-insns", int)
    return RunConfig(
        program=program, argv=[os.fsencode(argv0)] + [os.fsencode(a) for a in rest[1:]],
        env=guest_environment(values), arch=arch, sysroot=values.get("-L"),
        stack_size=parse_size(values["-s"]) if "-s" in values else 8 << 20,
        seed=seed_value, strace="-strace" in values, verbose="-v" in values,
        log_unimplemented=bool(environ.get("PYEMU_LOG")), cpu_model=values.get("-cpu"),
        log_items=log_items, log_file=values.get("-D"), coverage=values.get("-coverage"),
        host_exec="-host-exec" in values, timeout=timeout, max_insns=max_insns,
        coverage_format=coverage_format, gdb_port=_gdb_port(values.get("-g")))


def _positive(values: dict[str, str], flag: str, kind: type) -> Any:
    if flag not in values:
        return None
    try:
        value = kind(values[flag], 0) if kind is int else kind(values[flag])
    except ValueError:
        value = 0
    if not value > 0:
        raise UsageError(f"bad {flag} '{values[flag]}' (a positive number)")
    return value


def _gdb_port(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        port = int(text, 10)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise UsageError(f"bad gdb port '{text}' (-g takes a TCP port, 1-65535)")
    return port


def _log_items(text: str) -> tuple[str, ...]:
    from .tracing import LOG_ITEMS

    items = tuple(filter(None, text.split(",")))
    if "help" in items:
        print("Log items (-d item[,item...]):")
        for name, what in LOG_ITEMS.items():
            print(f"  {name:<8} {what}")
        raise SystemExit(0)
    for item in items:
        if item not in LOG_ITEMS:
            raise UsageError(f"unknown log item '{item}' (-d help lists them)")
    return items


def _command(arch: str | None) -> str:
    return f"pyemu-{arch}" if arch else "pyemu"


def _cpu_list(arch: str | None) -> str:
    from .translate.arches import ARCHES

    lines = []
    for name in (arch,) if arch else ARCH_NAMES:
        spec = ARCHES[name]
        lines.append(f"{name}: " + " ".join(m.name for m in spec.models)
                     + f" (default {spec.default_model.name})")
    return "\n".join(lines)


def _fail(message: str, status: int = 1) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.write(f"pyemu: {message}\n")
    sys.stderr.flush()
    raise SystemExit(status)


def _start_deadline(seconds: float) -> None:
    """--timeout: pyemu leads its own process group (as GNU timeout does), so that the guest's
    children can be ended with it and a shell pipeline's other commands are not."""
    from .limits import TIMEOUT_STATUS, Deadline, kill_process_group_except_self

    try:
        os.setpgid(0, 0)
    except OSError:         # a session leader already leads its group
        pass

    def expire(message: str) -> None:
        sys.stderr.write(message + "\n")
        kill_process_group_except_self()
        end_process(TIMEOUT_STATUS)

    Deadline(seconds, expire, already=time.monotonic() - STARTED).start()


def _thread_failed(args) -> None:
    """An exception that ended one of pyemu's own threads: one line, never a traceback on the
    guest's stderr (the traceback with PYEMU_DEBUG=1)."""
    if os.environ.get("PYEMU_DEBUG"):
        import traceback
        traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback)
    name = args.thread.name if args.thread is not None else "a thread"
    sys.stderr.write(f"pyemu: internal error in {name}: {args.exc_type.__name__}: "
                     f"{args.exc_value}\n")


class _Discard:
    """Where pyemu's own output goes when the process started with that fd closed (Python
    then leaves sys.stdout or sys.stderr None): a closed fd swallows writes too."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def run_cli(arch: str | None, args: list[str] | None = None) -> int:
    args = sys.argv[1:] if args is None else args
    import threading
    threading.excepthook = _thread_failed
    if sys.stdout is None:
        sys.stdout = _Discard()     # type: ignore[assignment]
    if sys.stderr is None:
        sys.stderr = _Discard()     # type: ignore[assignment]
    try:
        config = build_config(arch, args, dict(os.environ))
        from .emulator import Emulation, die_by_signal

        emulation = Emulation(config)
        emulation.catch_host_signals()
        if config.timeout is not None:
            _start_deadline(config.timeout)
        status = emulation.run()
        if emulation.death_signal is not None:
            die_by_signal(emulation.death_signal)
        return status
    except PyemuError as err:
        _fail(str(err), err.exit_status)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a bug in pyemu: one line, the traceback on request
        if os.environ.get("PYEMU_DEBUG"):
            raise
        _fail(f"internal error: {type(err).__name__}: {err} (set PYEMU_DEBUG=1 for details)")


def end_process(status: int) -> NoReturn:
    """Leave with ``status`` as exit_group does: at once, every thread with it. Other guest
    threads may still be inside their engines or blocked in host calls on guest memory, and
    interpreter shutdown would tear engines and memory down under them."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:      # None: the process started with that fd closed
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def run_and_exit(arch: str | None, args: list[str] | None = None) -> NoReturn:
    """A console script's whole life: run, then leave with the guest's status (binfmt
    launchers call this with the command line they built)."""
    try:
        status = run_cli(arch, args)
    except SystemExit as leave:     # -h, -version, bad usage
        code = leave.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if isinstance(code, str):
            sys.stderr.write(code + "\n")
    end_process(status)


def _entry(arch: str | None) -> Callable[[], NoReturn]:
    def main() -> NoReturn:
        run_and_exit(arch)
    return main


main = _entry(None)
main_arm = _entry("arm")
main_aarch64 = _entry("aarch64")
main_mips = _entry("mips")
main_mipsel = _entry("mipsel")

if __name__ == "__main__":
    main()
