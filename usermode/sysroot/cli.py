"""``pyemu-sysroot``: build a guest sysroot from Debian packages (see builder.py).

    pyemu-sysroot create DIR --arch ARCH [PACKAGE...]
    pyemu-sysroot list-arches
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from ..errors import PyemuError, UsageError
from . import builder

PROG = "pyemu-sysroot"


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one ``pyemu-sysroot:`` line and status 1."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} -h)")


USAGE = f"""usage: {PROG} create DIR --arch ARCH [--cache DEBS] [PACKAGE...]
       {PROG} list-arches

Build a directory of Debian packages (always libc6, plus PACKAGE... and their dependencies) for
a guest architecture, to run dynamically linked programs with pyemu-ARCH -L DIR.
'{PROG} create -h' shows the options."""


def create_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"{PROG} create",
        description="Download PACKAGE... and their dependencies (always libc6) for ARCH with "
                    "the host's apt and unpack them into DIR, a merged-/usr root for -L.")
    parser.add_argument("dir", metavar="DIR", help="the sysroot directory (new, or one to add to)")
    parser.add_argument("packages", nargs="*", default=[], metavar="PACKAGE",
                        help="Debian package names")
    parser.add_argument("--arch", required=True, metavar="ARCH",
                        help="Debian architecture: arm64, armhf, mipsel "
                             "(or pyemu's names aarch64, arm)")
    parser.add_argument("--cache", metavar="DEBS",
                        help="where to keep downloaded .debs (default: $PYEMU_DEB_CACHE, else "
                             "$XDG_CACHE_HOME/pyemu/debs, else ~/.cache/pyemu/debs)")
    return parser


def list_arches() -> str:
    aliases = {debian: alias for alias, debian in builder.ALIASES.items()}
    lines = []
    for a in builder.ARCHES.values():
        also = f"   (also --arch {aliases[a.debian]})" if a.debian in aliases else ""
        lines.append(f"{a.debian:<8} for pyemu-{a.pyemu} -L DIR{also}")
    lines.append("mips     not a Debian architecture: use pyemu-mips -L /usr/mips-linux-gnu")
    return "\n".join(lines)


def create(args: argparse.Namespace) -> int:
    result = builder.build(args.dir, args.arch, args.packages, cache=args.cache)
    root = str(result.root)
    print(f"sysroot {root}: {builder.plural(len(result.packages), 'package')} for "
          f"{result.arch.debian} ({len(result.added)} new), {builder.format_size(result.size)}")
    print("run its programs with:")
    for line in builder.usage_lines(result.arch, root):
        print(f"  {line}")
    return 0


def run(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else (None, [])
    if command in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if command == "list-arches" and not rest:
        print(list_arches())
        return 0
    if command == "create":
        return create(create_parser().parse_intermixed_args(rest))
    what = f"unknown command '{command}'" if command else "no command given"
    raise UsageError(f"{what} (usage: {PROG} create DIR --arch ARCH [PACKAGE...] | list-arches)")


def _fail(message: str, status: int = 1) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()
    raise SystemExit(status)


def main(argv: list[str] | None = None) -> NoReturn:
    try:
        status = run(sys.argv[1:] if argv is None else argv)
    except PyemuError as err:
        _fail(str(err), err.exit_status)
    except KeyboardInterrupt:
        status = 130
    except Exception as err:  # a bug: one line, the traceback on request
        if os.environ.get("PYEMU_DEBUG"):
            raise
        _fail(f"internal error: {type(err).__name__}: {err} (set PYEMU_DEBUG=1 for details)")
    raise SystemExit(status)


if __name__ == "__main__":
    main()
