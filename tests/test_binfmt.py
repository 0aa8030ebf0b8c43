"""pyemu-binfmt without the kernel: the magic and mask against qemu's own, the command line
(dry run, bad input, not root), the launcher's argument convention and the roll-back.

The kernel side (real registrations in a private binfmt_misc) is tests/test_binfmt_kernel.py.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import ARCHES, EXAMPLES_DIR, GUEST_DIR, REPO_ROOT, build, guest, minimal_env
from usermode.binfmt import command
from usermode.binfmt.entries import BinfmtError, BinfmtMisc, Entry, parse_entry
from usermode.binfmt.launcher import Launcher, c_string
from usermode.binfmt.magic import (ET_DYN, ET_EXEC, escape, magic_and_mask, matches,
                                   sample_header)
from usermode.binfmt.run import LaunchSettings, command_line
from usermode.translate.arches import ARCHES as SPECS, EF_MIPS_ABI2

# The oracle: qemu 7.2's registrations for these arches, as Debian bookworm's
# qemu-user-binfmt (1:7.2+dfsg-7+deb12u18) ships them in /usr/share/binfmts/qemu-ARCH
# (made by qemu's scripts/qemu-binfmt-conf.sh), copied verbatim.
QEMU_72 = {
    "arm": (
        r"\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00",
        r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"),
    "aarch64": (
        r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
        r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"),
    "mips": (
        r"\x7f\x45\x4c\x46\x01\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08"
        r"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        r"\xff\xff\xff\xff\xff\xff\xff\x00\xfe\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff"
        r"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20"),
    "mipsel": (
        r"\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08\x00"
        r"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        r"\xff\xff\xff\xff\xff\xff\xff\x00\xfe\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"
        r"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20"),
}
_BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
         "from usermode.binfmt import main; sys.exit(main())")


def unescape(text: str) -> bytes:
    return bytes(int(h, 16) for h in text.split(r"\x")[1:])


def binfmt_command() -> list[str]:
    """pyemu-binfmt of this checkout (see harness.pyemu_command)."""
    return [sys.executable, "-E", "-c", _BOOT, str(REPO_ROOT)]


def run_binfmt(*args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()):
    return subprocess.run([*prefix, *binfmt_command(), *args], capture_output=True, text=True,
                          env=minimal_env(env), timeout=60, check=False)


# --------------------------------------------------------------------------- magic and mask


@pytest.mark.parametrize("arch", ARCHES)
def test_magic_and_mask_are_qemus(arch):
    magic, mask = magic_and_mask(SPECS[arch])
    assert (escape(magic), escape(mask)) == QEMU_72[arch]


@pytest.mark.parametrize("arch", ARCHES)
def test_mask_takes_exec_and_dyn_whatever_the_osabi(arch):
    magic, mask = magic_and_mask(SPECS[arch])
    for e_type in (ET_EXEC, ET_DYN):
        for osabi in (0, 3, 97):           # SYSV, GNU/Linux, ARM
            header = sample_header(SPECS[arch], e_type, osabi=osabi)
            assert matches(magic, mask, header), (e_type, osabi)
    for e_type in (1, 4):                  # ET_REL, ET_CORE: not programs
        assert not matches(magic, mask, sample_header(SPECS[arch], e_type))


@pytest.mark.parametrize("arch", ARCHES)
def test_each_arch_claims_only_its_own_programs(arch):
    """Real programs: the static example (ET_EXEC) and a PIE (ET_DYN) from the cross
    compiler are claimed by their own arch's entry and by no other."""
    programs = [EXAMPLES_DIR / f"hello-{arch}", guest("args_env", arch, flags=("-O2", "-pie"))]
    for program in programs:
        header = program.read_bytes()[:64]
        claimed = [a for a in ARCHES if matches(*magic_and_mask(SPECS[a]), header)]
        assert claimed == [arch], program.name


@pytest.mark.parametrize("arch", ["mips", "mipsel"])
def test_mips_mask_refuses_n32(arch):
    """n32 shares o32's class and machine: only EF_MIPS_ABI2 tells them apart, and the n32
    programs belong to qemu-mipsn32 (pyemu runs o32 only)."""
    spec = SPECS[arch]
    magic, mask = magic_and_mask(spec)
    n32 = build(GUEST_DIR / "bare_start.c", arch, flags=("-mabi=n32", "-nostdlib", "-static"))
    o32 = build(GUEST_DIR / "bare_start.c", arch, flags=("-mabi=32", "-nostdlib", "-static"))
    assert not matches(magic, mask, n32.read_bytes()[:64])
    assert matches(magic, mask, o32.read_bytes()[:64])
    assert not matches(magic, mask, sample_header(spec, flags=EF_MIPS_ABI2))
    assert matches(magic, mask, sample_header(spec, flags=0x70001007))   # o32, mips32r2, pic
    assert matches(magic, mask, sample_header(spec, abiversion=1))       # gcc -mplt


# --------------------------------------------------------------------------- command line


def _dry_run_lines(launchers: Path, flags: str, native: bool) -> list[str]:
    lines = []
    for arch in ARCHES:
        magic, mask = QEMU_72[arch]
        interpreter = launchers / (f"pyemu-{arch}" if native else f"pyemu-{arch}.py")
        lines.append(f":pyemu-{arch}:M::{magic}:{mask}:{interpreter}:{flags}")
    return lines


@pytest.mark.parametrize("options, flags, native", [
    ((), "P", False),
    (("--preserve-argv0", "no"), "", False),
    (("--credential", "yes"), "POC", True),
    (("--persistent",), "PF", True),
    (("--fix-binary", "yes", "--no-preserve-argv0"), "F", True),
])
def test_dry_run_prints_the_lines_and_writes_nothing(tmp_path, options, flags, native):
    launchers = tmp_path / "launchers"
    done = run_binfmt("register", "--dry-run", "--launcher-dir", str(launchers), *options,
                      "--binfmt-dir", str(tmp_path / "nowhere"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == _dry_run_lines(launchers, flags, native)
    assert done.stderr == ""
    assert not launchers.exists() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("args", [("register", "x86_64"), ("unregister", "arm", "sparc"),
                                  ("status", "armhf"), ("register", "--bogus"), ("frobnicate",),
                                  ()])
def test_bad_usage_is_one_line_and_status_2(args):
    done = run_binfmt(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("pyemu-binfmt: ")


def test_unknown_arch_names_the_known_ones():
    done = run_binfmt("register", "x86_64", "arm")
    assert done.stderr == ("pyemu-binfmt: unknown arch 'x86_64' (known: arm, aarch64, mips, "
                           "mipsel)\n")


def test_a_plain_sysroot_needs_one_arch(tmp_path):
    done = run_binfmt("register", "--dry-run", "--sysroot", str(tmp_path))
    assert done.returncode == 2 and "ARCH=DIR" in done.stderr
    done = run_binfmt("register", "--dry-run", "arm", "aarch64",
                      env={"PYEMU_LD_PREFIX": str(tmp_path)})
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1


def _unprivileged() -> tuple[str, ...]:
    """A prefix that runs a command as a non-root user of a user namespace of its own
    (uid 65534 there, no capabilities), or skip with the reason."""
    prefix = ("unshare", "--user", "--map-user=65534", "--map-group=65534", "--mount")
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make an unprivileged user namespace: {probe.stderr.strip()}")
    return prefix


def test_not_root_cannot_mount_binfmt_misc(tmp_path):
    """binfmt_misc is not mounted in the namespace (nor on this host) and mounting needs
    root: one line, status 1, no launcher written."""
    prefix = _unprivileged()
    if BinfmtMisc().mounted():
        pytest.skip("binfmt_misc is mounted on this host: the namespace would see it")
    done = run_binfmt("register", "--launcher-dir", str(tmp_path / "l"), prefix=prefix)
    assert done.returncode == 1, done
    assert done.stderr == ("pyemu-binfmt: cannot mount binfmt_misc on /proc/sys/fs/binfmt_misc: "
                           "Operation not permitted (are you root?)\n")
    assert not (tmp_path / "l").exists()


def test_not_root_cannot_write_register(tmp_path):
    """A mounted binfmt_misc whose register file the user may not write: checked before
    anything is written."""
    prefix = _unprivileged()
    fake = tmp_path / "binfmt_misc"
    fake.mkdir()
    (fake / "register").touch(mode=0)
    done = run_binfmt("register", "arm", "--binfmt-dir", str(fake),
                      "--launcher-dir", str(tmp_path / "l"), prefix=prefix)
    assert done.returncode == 1
    assert done.stderr == f"pyemu-binfmt: {fake}/register is not writable (are you root?)\n"
    assert not (tmp_path / "l").exists() and (fake / "register").stat().st_size == 0


def test_status_and_unregister_mount_nothing(tmp_path):
    """Only register mounts binfmt_misc; looking and removing leave an unmounted one alone."""
    for cmd in ("status", "unregister"):
        done = run_binfmt(cmd, "--binfmt-dir", str(tmp_path))
        assert done.returncode == 0 and f"binfmt_misc is not mounted on {tmp_path}" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_native_launcher_needs_a_compiler(tmp_path):
    done = run_binfmt("register", "arm", "--credential", "--binfmt-dir", str(tmp_path),
                      "--launcher-dir", str(tmp_path / "l"), env={"PATH": "/nonexistent",
                                                                  "CC": ""})
    assert done.returncode == 1
    assert "no C compiler found" in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "l").exists()


def test_qemus_yes_no_spelling():
    assert command.yes_no_words(["register", "--credential", "yes", "--persistent", "no",
                                 "arm"]) == ["register", "--credential", "--no-persistent", "arm"]
    assert command.yes_no_words(["--preserve-argv0", "arm"]) == ["--preserve-argv0", "arm"]


# --------------------------------------------------------------------------- launchers


@pytest.mark.parametrize("settings, args, expected", [
    (LaunchSettings("arm"), ["/d/prog", "NAME", "x"], ["-0", "NAME", "--", "/d/prog", "x"]),
    (LaunchSettings("arm"), ["/d/prog", ""], ["-0", "", "--", "/d/prog"]),
    (LaunchSettings("arm"), ["/d/prog"], ["-0", "/d/prog", "--", "/d/prog"]),
    (LaunchSettings("arm", preserve_argv0=False), ["/d/prog", "-x"],
     ["-0", "/d/prog", "--", "/d/prog", "-x"]),
    (LaunchSettings("mips", sysroot="/r"), ["-p", "-0", "-L"],
     ["-L", "/r", "-0", "-0", "--", "-p", "-L"]),
    (LaunchSettings("arm", execfd_first=True), ["-1", "/d/prog", "a0", "b"],
     ["-0", "a0", "--", "/d/prog", "b"]),
])
def test_launcher_command_line(settings, args, expected):
    assert command_line(settings, args, {}) == expected


def test_a_sysroot_at_run_time_wins():
    settings = LaunchSettings("arm", sysroot="/registered")
    for name in ("PYEMU_LD_PREFIX", "QEMU_LD_PREFIX"):
        assert command_line(settings, ["/p", "p"], {name: "/now"}) == ["-0", "p", "--", "/p"]


def test_launcher_script_is_python_naming_this_checkout(tmp_path):
    launcher = Launcher(tmp_path, LaunchSettings("mipsel", sysroot="/s p"), python="/py/bin/x")
    text = launcher.script_text()
    assert text.startswith("#!/py/bin/x -I\n")
    compile(text, "launcher", "exec")
    assert repr(str(REPO_ROOT)) in text and "sysroot='/s p'" in text
    assert launcher.interpreter == tmp_path / "pyemu-mipsel.py"


def test_c_string_escapes_what_c_would_read_otherwise():
    assert c_string('/a b/"q"\\?x\n') == '"/a b/\\042q\\042\\134\\077x\\012"'


# --------------------------------------------------------------------------- entries


KERNEL_TEXT = ("enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: POCF\n"
               "offset 0\nmagic 7f454c4601010100000000000000000002002800\n"
               "mask ffffffffffffff00fffffffffffffffffeffffff\n")


def test_parse_entry_and_register_line():
    entry = parse_entry("qemu-arm", KERNEL_TEXT)
    assert entry.enabled and entry.flags == "POCF" and entry.offset == 0
    magic, mask = QEMU_72["arm"]
    assert entry.register_line() == (f":qemu-arm:M:0:{magic}:{mask}:"
                                     f"/usr/libexec/qemu-binfmt/arm-binfmt-P:POCF")
    assert entry.claims(sample_header(SPECS["arm"], ET_DYN))
    assert not entry.claims(sample_header(SPECS["aarch64"]))
    disabled = parse_entry("x", "disabled\ninterpreter /x\nflags: \nextension .jar\n")
    assert not disabled.enabled and disabled.extension == ".jar" and not disabled.claims(b"")


class FakeBinfmt(BinfmtMisc):
    """binfmt_misc in a dict; ``fail_on`` makes registering that entry fail like the kernel."""

    def __init__(self, entries: dict[str, str], fail_on: str):
        super().__init__("/nonexistent")
        self.lines = dict(entries)
        self.disabled: set[str] = set()
        self.fail_on = fail_on

    def entry(self, name: str) -> Entry | None:
        if name not in self.lines:
            return None
        return Entry(name, name not in self.disabled, "?", "")

    def register(self, line: str) -> None:
        name = line.split(":")[1]
        if name == self.fail_on:
            raise BinfmtError("writing to register failed: Invalid argument")
        self.lines[name] = line

    def remove(self, name: str) -> None:
        del self.lines[name]

    def enable(self, name: str, on: bool = True) -> None:
        (self.disabled.discard if on else self.disabled.add)(name)


def test_a_failure_in_the_middle_takes_back_what_this_run_did(tmp_path):
    """Registering arm, aarch64, mips, mipsel with mips refused: the new arm and aarch64
    entries go, the pyemu-arm that was there before comes back; qemu's stays."""
    before = {"pyemu-arm": "old arm line", "qemu-arm": "qemu line"}
    fake = FakeBinfmt(before, fail_on="pyemu-mips")
    args = command.build_parser().parse_args(["register", "--launcher-dir", str(tmp_path)])
    with pytest.raises(BinfmtError, match="Invalid argument; nothing was changed"):
        command.register_all(fake, command.plans(args, {}))
    assert set(fake.lines) == {"pyemu-arm", "qemu-arm"}
    assert fake.lines["qemu-arm"] == "qemu line"
    assert fake.lines["pyemu-arm"].startswith(":pyemu-arm:M:0:")   # the old entry, restored
