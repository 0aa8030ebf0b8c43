"""Reading strace's output format (``strace -f -o FILE`` lines): the Python API parses
pyemu's -strace lines with it (``Result.syscalls``), and the tests check with it that those
lines are strace's (it accepts the host strace's own output: tests/test_strace.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

_CALL = re.compile(r"^(?P<pid>\d+) +(?P<name>[a-z_][a-z0-9_]*)\((?P<args>.*)\) *= "
                   r"(?P<result>\?|-1 (?P<errno>E[A-Z0-9]+) \([^()]*\)|-?\d+|0x[0-9a-f]+)"
                   r"(?: \(.*\))?$")
_END = re.compile(r"^(?P<pid>\d+) +\+\+\+ (?:exited with (?P<status>\d+)|killed by "
                  r"(?P<signal>SIG[A-Z0-9]+)(?: \(core dumped\))?) \+\+\+$")
_STRING = re.compile(r'^"(?:[^"\\]|\\(?:[nrtvf"\\]|[0-7]{1,3}|x[0-9a-f]{2}))*"(?:\.\.\.)?$')
_SCALAR = re.compile(r"^(?:NULL|-?\d+|0x[0-9a-f]+|0[0-7]+|[A-Z_][A-Z0-9_]*(?:\|(?:[A-Z_][A-Z0-9_]*"
                     r"|0x[0-9a-f]+|\d+))*|\d+\*\d+)(?: /\* .* \*/)?$")


@dataclass(frozen=True)
class Call:
    pid: int
    name: str
    args: tuple[str, ...]
    result: str
    errno: str | None


@dataclass(frozen=True)
class End:
    pid: int
    status: int | None
    signal: str | None


def parse(line: str) -> Call | End:
    """One strace line; ValueError for anything strace would not have written."""
    found = _CALL.match(line)
    if found:
        args = tuple(split_args(found.group("args")))
        for arg in args:
            if not valid_arg(arg):
                raise ValueError(f"argument {arg!r} in {line!r}")
        return Call(int(found.group("pid")), found.group("name"), args, found.group("result"),
                    found.group("errno"))
    found = _END.match(line)
    if found:
        status = found.group("status")
        return End(int(found.group("pid")), int(status) if status else None,
                   found.group("signal"))
    raise ValueError(f"not an strace line: {line!r}")


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments (quotes, brackets and braces nest)."""
    out, depth, start, i, quoted = [], 0, 0, 0, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    if quoted or depth:
        raise ValueError(f"unbalanced arguments: {text!r}")
    if text.strip():
        out.append(text[start:].strip())
    return out


def valid_arg(arg: str) -> bool:
    if arg.startswith(("{", "[")):
        return arg.endswith(("}", "]", "...")) or arg.split()[-1].endswith(("}", "]"))
    if arg.startswith('"'):
        return bool(_STRING.match(arg))
    if " /* " in arg and arg.split(" /* ", 1)[0].startswith(("0x", "[", "{")):
        return True
    return bool(_SCALAR.match(arg))
