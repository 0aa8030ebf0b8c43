"""``pyemu-binfmt``: register pyemu with the kernel's binfmt_misc, so that foreign programs run
when exec'd directly (``./hello-arm``), as qemu-binfmt-conf.sh does for qemu-user.

    pyemu-binfmt register   [ARCH...] [options]   (default: every arch)
    pyemu-binfmt unregister [ARCH...] [--systemd]
    pyemu-binfmt status     [ARCH...]
    pyemu-binfmt binds      (the host directories a chroot needs for the launchers)

Entries are called ``pyemu-ARCH`` (qemu's are ``qemu-ARCH``). Bad usage (an unknown arch or
option) is one line and status 2; anything that stops the work (not root, binfmt_misc missing,
a write refused) is one line and status 1, with nothing left half-registered.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from ..errors import PyemuError, UsageError
from ..translate.arches import ARCHES
from . import launcher as launchers
from .entries import DEFAULT_DIR, BinfmtError, BinfmtMisc, Entry, normalize_flags
from .magic import ET_DYN, ET_EXEC, escape, magic_and_mask, sample_header
from .run import LaunchSettings

PROG = "pyemu-binfmt"
SYSTEMD_DIR = Path("/etc/binfmt.d")
# qemu-binfmt-conf.sh's switches (taking "yes" or "no" there) and the flag each one sets
SWITCHES = {"preserve-argv0": "P", "credential": "C", "persistent": "F", "fix-binary": "F"}


class BinfmtUsage(UsageError):
    """A bad pyemu-binfmt command line: status 2, as for any usage error."""

    exit_status = 2


@dataclass(frozen=True)
class Plan:
    """One arch's entry: its name, launcher and flags."""

    arch: str
    launcher: launchers.Launcher
    flags: str

    @property
    def name(self) -> str:
        return f"pyemu-{self.arch}"

    def line(self) -> str:
        """The string written to binfmt_misc's ``register`` (and to a binfmt.d file)."""
        magic, mask = magic_and_mask(ARCHES[self.arch])
        return (f":{self.name}:M::{escape(magic)}:{escape(mask)}:"
                f"{self.launcher.interpreter}:{self.flags}")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line and status 2 through main's handler."""

    def error(self, message: str) -> NoReturn:
        raise BinfmtUsage(f"{message} (see {PROG} -h)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Register pyemu as the kernel's interpreter for "
                     "foreign Linux programs (binfmt_misc), so they run when exec'd directly.")
    common = _Parser(add_help=False)
    common.add_argument("--binfmt-dir", type=Path, default=DEFAULT_DIR, metavar="DIR",
                        help=f"where binfmt_misc is (mounted there if not; default {DEFAULT_DIR})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    reg = commands.add_parser("register", parents=[common],
                              help="register pyemu-ARCH entries (default: all)")
    _arch_argument(reg)
    reg.add_argument("--dry-run", action="store_true",
                     help="print the registration lines, write nothing")
    reg.add_argument("--systemd", action="store_true",
                     help="write EXPORTDIR/pyemu-ARCH.conf for systemd-binfmt instead of "
                          "registering now")
    reg.add_argument("--exportdir", type=Path, default=SYSTEMD_DIR, metavar="EXPORTDIR",
                     help=f"directory for --systemd (default {SYSTEMD_DIR})")
    reg.add_argument("--launcher-dir", type=Path, default=launchers.DEFAULT_DIR, metavar="DIR",
                     help=f"where the launchers go (default {launchers.DEFAULT_DIR})")
    reg.add_argument("--sysroot", action="append", default=[], metavar="[ARCH=]DIR",
                     help="the guests' -L prefix (default: $PYEMU_LD_PREFIX); ARCH=DIR per "
                          "arch when registering several")
    for switch, flag in SWITCHES.items():
        reg.add_argument(f"--{switch}", action=argparse.BooleanOptionalAction,
                         default=None if flag != "P" else True,
                         help=f"binfmt flag {flag} (qemu-binfmt-conf.sh's --{switch} yes|no)")
    unreg = commands.add_parser("unregister", parents=[common],
                                help="remove pyemu-ARCH entries (default: all)")
    _arch_argument(unreg)
    unreg.add_argument("--systemd", action="store_true",
                       help="remove EXPORTDIR/pyemu-ARCH.conf instead")
    unreg.add_argument("--exportdir", type=Path, default=SYSTEMD_DIR, metavar="EXPORTDIR")
    status = commands.add_parser("status", parents=[common],
                                 help="show pyemu's entries and others claiming the same programs")
    _arch_argument(status)
    binds = commands.add_parser("binds", help="print the host directories the launchers need, "
                                "to bind into a chroot or container at the same paths")
    binds.add_argument("--launcher-dir", type=Path, default=launchers.DEFAULT_DIR, metavar="DIR")
    return parser


def _arch_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("arches", nargs="*", metavar="ARCH",
                        help=f"one of {', '.join(ARCHES)} (default: all)")


def yes_no_words(argv: list[str]) -> list[str]:
    """Accept qemu-binfmt-conf.sh's spelling ``--credential yes|no`` (no arch is called
    yes or no, so the word after a switch is never an arch)."""
    out: list[str] = []
    for word in argv:
        previous = out[-1][2:] if out and out[-1].startswith("--") else None
        if previous in SWITCHES and word in ("yes", "no"):
            out[-1] = f"--{previous}" if word == "yes" else f"--no-{previous}"
        else:
            out.append(word)
    return out


def selected_arches(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in ARCHES]
    if unknown:
        raise BinfmtUsage(f"unknown arch '{unknown[0]}' (known: {', '.join(ARCHES)})")
    return list(dict.fromkeys(names)) or list(ARCHES)


def sysroots(values: list[str], arches: list[str], environ: dict[str, str]) -> dict[str, str]:
    """ARCH -> sysroot from ``--sysroot [ARCH=]DIR`` (or PYEMU_LD_PREFIX): a plain DIR names
    one arch's sysroot, so it needs exactly one arch to go with."""
    given = values or [v for v in (environ.get("PYEMU_LD_PREFIX"),
                                   environ.get("QEMU_LD_PREFIX")) if v][:1]
    result: dict[str, str] = {}
    for value in given:
        arch, sep, path = value.partition("=")
        if not sep or arch not in ARCHES:
            arch, path = "", value
        if not arch:
            if len(arches) != 1:
                raise BinfmtUsage(f"sysroot '{value}' is for one arch; name the arch to "
                                  "register or give --sysroot ARCH=DIR for each")
            arch = arches[0]
        result[arch] = os.path.abspath(path)
    return result


def plans(args: argparse.Namespace, environ: dict[str, str]) -> list[Plan]:
    arches = selected_arches(args.arches)
    roots = sysroots(args.sysroot, arches, environ)
    wanted = "".join(flag for switch, flag in SWITCHES.items()
                     if getattr(args, switch.replace("-", "_")))
    flags = normalize_flags(wanted)
    native = any(f in flags for f in "OCF")
    return [Plan(arch, launchers.Launcher(
        args.launcher_dir.absolute(),
        LaunchSettings(arch, preserve_argv0="P" in flags, sysroot=roots.get(arch)),
        native=native), flags) for arch in arches]


def register(args: argparse.Namespace, environ: dict[str, str]) -> int:
    todo = plans(args, environ)
    if args.dry_run:
        for plan in todo:
            print(plan.line())
        return 0
    for plan in todo:
        plan.launcher.check()
    if args.systemd:
        return write_systemd(todo, args.exportdir)
    misc = BinfmtMisc(args.binfmt_dir)
    misc.ensure_mounted()
    misc.check_writable()
    for plan in todo:
        plan.launcher.write()
    register_all(misc, todo)
    for plan in todo:
        sysroot = plan.launcher.settings.sysroot
        root = f", sysroot {sysroot}" if sysroot else ""
        print(f"{plan.name}: registered, interpreter {plan.launcher.interpreter}, "
              f"flags {plan.flags or '(none)'}{root}")
        for line in rivals(misc, plan.arch):
            print(f"  {line}")
    return 0


def register_all(misc: BinfmtMisc, todo: list[Plan]) -> None:
    """Register every plan, replacing pyemu's old entries; on a failure, take back what this
    run registered and put back what it replaced, then report the failure."""
    added: list[str] = []
    replaced: list[Entry] = []
    try:
        for plan in todo:
            old = misc.entry(plan.name)
            if old is not None:
                misc.remove(plan.name)
                replaced.append(old)
            misc.register(plan.line())
            added.append(plan.name)
    except BinfmtError as err:
        undone = _roll_back(misc, added, replaced)
        raise BinfmtError(f"{err}; {undone}") from None


def _roll_back(misc: BinfmtMisc, added: list[str], replaced: list[Entry]) -> str:
    problems = []
    for name in reversed(added):
        try:
            misc.remove(name)
        except BinfmtError as err:
            problems.append(str(err))
    for entry in replaced:
        try:
            if misc.entry(entry.name) is None:
                misc.register(entry.register_line())
                if not entry.enabled:
                    misc.enable(entry.name, False)
        except BinfmtError as err:
            problems.append(str(err))
    if problems:
        return "rolling back also failed: " + "; ".join(problems)
    return "nothing was changed" if added or replaced else "nothing was registered"


def rivals(misc: BinfmtMisc, arch: str) -> list[str]:
    """Lines about other entries (qemu's) that claim ``arch``'s programs too."""
    spec = ARCHES[arch]
    headers = [sample_header(spec, e_type) for e_type in (ET_EXEC, ET_DYN)]
    lines = []
    for entry in misc.entries():
        if entry.name == f"pyemu-{arch}" or not any(entry.claims(h) for h in headers):
            continue
        state = "enabled" if entry.enabled else "disabled"
        lines.append(f"also claimed by {entry.name} ({state}, interpreter "
                     f"{entry.interpreter}); the most recently registered enabled entry "
                     f"runs: choose with 'echo 0 > {misc.path / entry.name}' (or "
                     f"pyemu-{arch}), 'echo 1' to enable again")
    return lines


def write_systemd(todo: list[Plan], exportdir: Path) -> int:
    """binfmt.d files (systemd-binfmt loads them at boot) and the launchers they name."""
    try:
        exportdir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BinfmtError(f"cannot create {exportdir}: {err.strerror}") from None
    if not os.access(exportdir, os.W_OK):
        raise BinfmtError(f"{exportdir} is not writable (are you root?)")
    for plan in todo:
        plan.launcher.write()
        conf = exportdir / f"{plan.name}.conf"
        text = (f"# {plan.name}: run {plan.arch} programs with pyemu (written by "
                f"`{PROG} register --systemd`)\n{plan.line()}\n")
        try:
            conf.write_text(text)
        except OSError as err:
            raise BinfmtError(f"cannot write {conf}: {err.strerror}") from None
        print(f"{plan.name}: wrote {conf}")
    print("systemd-binfmt loads them at boot; now: systemctl restart systemd-binfmt")
    return 0


def unregister(args: argparse.Namespace) -> int:
    arches = selected_arches(args.arches)
    if args.systemd:
        for arch in arches:
            conf = args.exportdir / f"pyemu-{arch}.conf"
            if conf.exists():
                conf.unlink()
                print(f"pyemu-{arch}: removed {conf}")
        return 0
    misc = BinfmtMisc(args.binfmt_dir)
    if not misc.mounted():      # then no entry is visible to remove: mount nothing for that
        print(f"binfmt_misc is not mounted on {misc.path}: no pyemu entry to remove")
        return 0
    misc.check_writable()
    for arch in arches:
        name = f"pyemu-{arch}"
        if misc.entry(name) is None:
            print(f"{name}: not registered")
            continue
        misc.remove(name)
        print(f"{name}: unregistered")
    return 0


def status(args: argparse.Namespace) -> int:
    arches = selected_arches(args.arches)
    misc = BinfmtMisc(args.binfmt_dir)
    if not misc.mounted():      # looking changes nothing: no mount here
        print(f"binfmt_misc is not mounted on {misc.path}, so no entry is visible "
              f"('{PROG} register' mounts it)")
        return 0
    for arch in arches:
        entry = misc.entry(f"pyemu-{arch}")
        if entry is None:
            print(f"pyemu-{arch}: not registered")
        else:
            state = "enabled" if entry.enabled else "disabled"
            print(f"pyemu-{arch}: {state}, interpreter {entry.interpreter}, "
                  f"flags {entry.flags or '(none)'}")
        for line in rivals(misc, arch):
            print(f"  {line}")
    return 0


USAGE = f"""usage: {PROG} register   [ARCH...] [--dry-run] [--systemd] [--sysroot [ARCH=]DIR]
                             [--[no-]preserve-argv0] [--credential] [--persistent]
                             [--launcher-dir DIR]
       {PROG} unregister [ARCH...] [--systemd]
       {PROG} status     [ARCH...]
       {PROG} binds      [--launcher-dir DIR]
ARCH: {', '.join(ARCHES)} (default: all). '{PROG} COMMAND -h' shows a command's options."""


def run(argv: list[str], environ: dict[str, str]) -> int:
    if not argv:
        raise BinfmtUsage("no command given (register, unregister or status; see -h)")
    if argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    args = build_parser().parse_args(yes_no_words(argv))
    if args.command == "register":
        return register(args, environ)
    if args.command == "unregister":
        return unregister(args)
    if args.command == "status":
        return status(args)
    if args.command == "binds":
        print("\n".join(launchers.host_dirs(args.launcher_dir.absolute())))
        return 0
    raise BinfmtUsage("no command given (register, unregister or status; see -h)")


def main(argv: list[str] | None = None) -> int:
    """The console script: errors are one ``pyemu-binfmt:`` line on stderr."""
    import sys

    try:
        return run(sys.argv[1:] if argv is None else argv, dict(os.environ))
    except PyemuError as err:
        sys.stdout.flush()
        print(f"{PROG}: {err}", file=sys.stderr)
        return err.exit_status
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a bug: one line, the traceback on request
        if os.environ.get("PYEMU_DEBUG"):
            raise
        print(f"{PROG}: internal error: {type(err).__name__}: {err} "
              "(set PYEMU_DEBUG=1 for details)", file=sys.stderr)
        return 1
