"""pyemu-sysroot: the pure parts (apt output parsing, arch names, planning) and one real build.

The integration test builds a coreutils sysroot for arm64 with the host's apt (the .debs are
cached in tests/.cache/debs, or $PYEMU_TEST_CACHE/debs) and runs its dynamically linked ls and
sort under qemu-aarch64 -L, which proves the sysroot is usable.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO_ROOT, cache_dir, qemu_command

from usermode.errors import PyemuError
from usermode.sysroot import builder, cli
from usermode.sysroot.builder import Download, Manifest, Package, SysrootError

# `apt-get -c CONF -s install libc6 usr-is-merged coreutils` with builder.apt_config("arm64"),
# captured on Debian bookworm (LC_ALL=C).
SIMULATION = """\
Reading package lists...
Building dependency tree...
Reading state information...
The following additional packages will be installed:
  gcc-12-base libacl1 libattr1 libgcc-s1 libgmp10 libpcre2-8-0 libselinux1
Suggested packages:
  glibc-doc debconf | debconf-2.0 libc-l10n locales libnss-nis libnss-nisplus
Recommended packages:
  libidn2-0
The following NEW packages will be installed:
  coreutils gcc-12-base libacl1 libattr1 libc6 libgcc-s1 libgmp10 libpcre2-8-0
  libselinux1 usr-is-merged
0 upgraded, 10 newly installed, 0 to remove and 0 not upgraded.
Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [arm64])
Conf gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [arm64])
Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [arm64]) []
Inst libgcc-s1 (12.2.0-14+deb12u1 Debian:12.15/oldstable [arm64])
Conf libgcc-s1 (12.2.0-14+deb12u1 Debian:12.15/oldstable [arm64])
Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [arm64])
Inst libacl1 (2.3.1-3 Debian:12.15/oldstable [arm64])
Conf libacl1 (2.3.1-3 Debian:12.15/oldstable [arm64])
Inst libattr1 (1:2.5.1-4 Debian:12.15/oldstable [arm64])
Conf libattr1 (1:2.5.1-4 Debian:12.15/oldstable [arm64])
Inst libgmp10 (2:6.2.1+dfsg1-1.1 Debian:12.15/oldstable [arm64])
Conf libgmp10 (2:6.2.1+dfsg1-1.1 Debian:12.15/oldstable [arm64])
Inst libpcre2-8-0 (10.42-1 Debian:12.15/oldstable [arm64])
Conf libpcre2-8-0 (10.42-1 Debian:12.15/oldstable [arm64])
Inst libselinux1 (3.4-1+b6 Debian:12.15/oldstable [arm64])
Conf libselinux1 (3.4-1+b6 Debian:12.15/oldstable [arm64])
Inst coreutils (9.1-1 Debian:12.15/oldstable [arm64])
Conf coreutils (9.1-1 Debian:12.15/oldstable [arm64])
Inst usr-is-merged (37~deb12u1 Debian:12.15/oldstable [all])
Conf usr-is-merged (37~deb12u1 Debian:12.15/oldstable [all])
"""

# `apt-get -c CONF download --print-uris coreutils=9.1-1 libattr1=1:2.5.1-4
# usr-is-merged=37~deb12u1`: note apt's order is not the order asked for.
PRINT_URIS = """\
'http://deb.debian.org/debian/pool/main/a/attr/libattr1_2.5.1-4_arm64.deb' \
libattr1_1%3a2.5.1-4_arm64.deb 21888 \
SHA256:481e1c3fcad6773ba1c9d7f1de59e4fc80d95326c9b20192e13b7111013c932a
'http://deb.debian.org/debian/pool/main/c/coreutils/coreutils_9.1-1_arm64.deb' \
coreutils_9.1-1_arm64.deb 2815252 \
SHA256:ec8f090a14c684879dce251254d8d9ed0876d4480f750d5807ef04e5435e1c4d
'http://deb.debian.org/debian/pool/main/u/usrmerge/usr-is-merged_37%7edeb12u1_all.deb' \
usr-is-merged_37~deb12u1_all.deb 5616 \
SHA256:908b80730d99afe6f59ed7f449827b7047ceeeaa7637c368c03e4912e0a6de99
"""

APT_HEADER = "Reading package lists...\nBuilding dependency tree...\nReading state information...\n"
UNKNOWN = APT_HEADER + "E: Unable to locate package nosuchpkg\n"
VIRTUAL = APT_HEADER + """\
Package awk is a virtual package provided by:
  original-awk 2022-09-12-1
  mawk 1.3.4.20200120-3.1
  gawk 1:5.2.1-2

E: Package 'awk' has no installation candidate
"""
CONFLICT = APT_HEADER + """\
Some packages could not be installed. This may mean that you have
requested an impossible situation or if you are using the unstable
distribution that some required packages have not yet been created
or been moved out of Incoming.
The following information may help to resolve the situation:

The following packages have unmet dependencies:
 systemd-sysv : Conflicts: sysvinit-core but 3.06-4 is to be installed
 sysvinit-core : Conflicts: systemd-sysv but 252.39-1~deb12u2 is to be installed
E: Unable to correct problems, you have held broken packages.
"""
FETCH_FAILED = """\
Err:1 http://deb.debian.org/debian bookworm/main arm64 hello arm64 2.10-3
  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
E: Failed to fetch http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_arm64.deb  \
Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
"""


# --------------------------------------------------------------------------- architectures


@pytest.mark.parametrize("name, debian, pyemu, interp", [
    ("arm64", "arm64", "aarch64", "/lib/ld-linux-aarch64.so.1"),
    ("aarch64", "arm64", "aarch64", "/lib/ld-linux-aarch64.so.1"),
    ("armhf", "armhf", "arm", "/lib/ld-linux-armhf.so.3"),
    ("arm", "armhf", "arm", "/lib/ld-linux-armhf.so.3"),
    ("mipsel", "mipsel", "mipsel", "/lib/ld.so.1"),
])
def test_arch_names(name, debian, pyemu, interp):
    arch = builder.debian_arch(name)
    assert (arch.debian, arch.pyemu, arch.interp) == (debian, pyemu, interp)


def test_mips_is_refused_with_the_cross_sysroot_suggested():
    with pytest.raises(SysrootError, match=r"not a Debian bookworm architecture.*"
                                           r"/usr/mips-linux-gnu"):
        builder.debian_arch("mips")


def test_unknown_arch():
    with pytest.raises(SysrootError, match="unknown architecture 'sparc'.*arm64"):
        builder.debian_arch("sparc")


def test_arch_enabled():
    assert builder.arch_enabled_error("arm64", "amd64", ["arm64", "armhf"]) is None
    assert builder.arch_enabled_error("arm64", "arm64", []) is None
    error = builder.arch_enabled_error("mipsel", "amd64", ["arm64"])
    assert error == ("architecture mipsel is not enabled in dpkg; as root run: "
                     "dpkg --add-architecture mipsel && apt-get update")


# --------------------------------------------------------------------------- planning


def test_plan_always_starts_with_libc6_and_drops_duplicates():
    assert builder.plan_roots(["coreutils", "libc6", "coreutils"]) == [
        "libc6", "usr-is-merged", "coreutils"]
    assert builder.plan_roots([]) == ["libc6", "usr-is-merged"]


@pytest.mark.parametrize("bad", ["Foo", "-s", "lib*", "libc6=2.36", "a b", ""])
def test_bad_package_names(bad):
    with pytest.raises(SysrootError, match="bad package name"):
        builder.plan_roots([bad])


def test_apt_config_makes_the_target_the_only_architecture():
    text = builder.apt_config("armhf", sandbox_root=False)
    assert "#clear APT::Architectures;" in text
    assert 'APT::Architectures { "armhf"; };' in text
    assert 'APT::Architecture "armhf";' in text
    assert 'Dir::State::Status "/dev/null";' in text
    assert 'APT::Install-Recommends "false";' in text
    assert "Sandbox" not in text
    assert 'APT::Sandbox::User "root";' in builder.apt_config("armhf", sandbox_root=True)


# --------------------------------------------------------------------------- apt output


def test_parse_simulation():
    packages = builder.parse_simulation(SIMULATION)
    assert [p.name for p in packages] == [
        "gcc-12-base", "libc6", "libgcc-s1", "libacl1", "libattr1", "libgmp10",
        "libpcre2-8-0", "libselinux1", "coreutils", "usr-is-merged"]
    assert packages[1] == Package("libc6", "2.36-9+deb12u14", "arm64")
    assert Package("libattr1", "1:2.5.1-4", "arm64") in packages      # epoch kept
    assert packages[-1] == Package("usr-is-merged", "37~deb12u1", "all")
    assert packages[1].spec == "libc6=2.36-9+deb12u14"


def test_parse_simulation_arch_qualified_and_upgrade_forms():
    text = ("Inst libfoo:arm64 [1.0] (1.1 Debian:12.15/oldstable, Debian-Security:12/"
            "oldstable-security [arm64])\n")
    assert builder.parse_simulation(text) == [Package("libfoo", "1.1", "arm64")]


def test_parse_print_uris_and_match_in_plan_order():
    downloads = builder.parse_print_uris(PRINT_URIS)
    assert downloads[0] == Download(
        "http://deb.debian.org/debian/pool/main/a/attr/libattr1_2.5.1-4_arm64.deb",
        "libattr1_1%3a2.5.1-4_arm64.deb", 21888)
    plan = [Package("coreutils", "9.1-1", "arm64"), Package("libattr1", "1:2.5.1-4", "arm64"),
            Package("usr-is-merged", "37~deb12u1", "all")]
    matched = builder.match_downloads(plan, downloads)
    assert [d.filename for d in matched] == [
        "coreutils_9.1-1_arm64.deb", "libattr1_1%3a2.5.1-4_arm64.deb",
        "usr-is-merged_37~deb12u1_all.deb"]
    with pytest.raises(SysrootError, match="no .deb for hello"):
        builder.match_downloads([*plan, Package("hello", "2.10-3", "arm64")], downloads)


@pytest.mark.parametrize("output, message", [
    (UNKNOWN, "unknown package 'nosuchpkg' for arm64 (not in apt's lists)"),
    (APT_HEADER + "E: Unable to locate package libc6\n",
     "apt knows no libc6 for arm64: its package lists are missing; as root run: apt-get update"),
    (VIRTUAL, "'awk' is a virtual package; name one of: original-awk, mawk, gawk"),
    (CONFLICT, "cannot satisfy the dependencies for arm64: systemd-sysv : Conflicts: "
               "sysvinit-core but 3.06-4 is to be installed"),
    (APT_HEADER + "E: Version '0.0' for 'libc6' was not found\n",
     "apt-get failed: Version '0.0' for 'libc6' was not found"),
    ("", "apt-get failed: no output"),
])
def test_apt_failure_is_one_line(output, message):
    assert builder.apt_failure(output, "arm64") == message


def test_failed_download_is_named():
    hello = Download("http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_arm64.deb",
                     "hello_2.10-3_arm64.deb", 1000)
    other = Download("http://x/pool/main/c/coreutils/coreutils_9.1-1_arm64.deb",
                     "coreutils_9.1-1_arm64.deb", 1)
    assert builder.failed_downloads(FETCH_FAILED, [other, hello]) == ["hello_2.10-3_arm64.deb"]
    assert builder.first_error(FETCH_FAILED).startswith(
        "Failed to fetch http://deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_arm64.deb "
        "Could not connect")


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("link, target, expected", [
    ("etc/rmt", "/usr/sbin/rmt", "../usr/sbin/rmt"),
    ("usr/lib/python3.11/sitecustomize.py", "/etc/python3.11/sitecustomize.py",
     "../../../etc/python3.11/sitecustomize.py"),
    ("usr/bin/x", "/usr/bin/y", "y"),
    ("top", "/", "."),
    ("usr/lib/a/b", "/lib/./a/../c", "../../../lib/c"),
])
def test_relative_link(link, target, expected):
    assert builder.relative_link(link, target) == expected


def test_relativize_symlinks(tmp_path):
    (tmp_path / "usr" / "sbin").mkdir(parents=True)
    (tmp_path / "usr" / "sbin" / "rmt").write_text("x")
    (tmp_path / "etc").mkdir()
    os.symlink("/usr/sbin/rmt", tmp_path / "etc" / "rmt")
    os.symlink("usr/sbin", tmp_path / "sbin")
    assert builder.relativize_symlinks(tmp_path) == 1
    assert os.readlink(tmp_path / "etc" / "rmt") == "../usr/sbin/rmt"
    assert os.readlink(tmp_path / "sbin") == "usr/sbin"
    assert (tmp_path / "etc" / "rmt").read_text() == "x"


def test_minimal_etc_files(tmp_path):
    files = builder.minimal_etc()
    assert files["passwd"].startswith("root:x:0:0:")
    assert "nobody:x:65534:65534:" in files["passwd"]
    assert "root:x:0:" in files["group"].splitlines()
    assert "passwd:         files" in files["nsswitch.conf"].splitlines()
    assert files["hosts"].startswith("127.0.0.1\tlocalhost\n")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hosts").write_text("mine\n")
    assert builder.write_etc(tmp_path) == ["passwd", "group", "nsswitch.conf"]
    assert (tmp_path / "etc" / "hosts").read_text() == "mine\n"


def test_manifest_round_trip():
    manifest = Manifest("armhf", ("python3.11-minimal",),
                        (Package("libc6", "2.36-9", "armhf"), Package("b", "1:2", "all")))
    parsed = builder.parse_manifest(builder.format_manifest(manifest))
    assert parsed.arch == "armhf" and parsed.requested == manifest.requested
    assert set(parsed.packages) == set(manifest.packages)
    with pytest.raises(SysrootError):
        builder.parse_manifest("garbage\n")


def test_inspect_root(tmp_path):
    assert builder.inspect_root(tmp_path / "new", "arm64") is None
    assert builder.inspect_root(tmp_path, "arm64") is None                  # empty
    (tmp_path / "file").write_text("x")
    with pytest.raises(SysrootError, match="not empty and not a pyemu sysroot"):
        builder.inspect_root(tmp_path, "arm64")
    with pytest.raises(SysrootError, match="is not a directory"):
        builder.inspect_root(tmp_path / "file", "arm64")
    builder.write_manifest(tmp_path, Manifest("armhf", (), ()))
    with pytest.raises(SysrootError, match="is a sysroot for armhf, not arm64"):
        builder.inspect_root(tmp_path, "arm64")
    assert builder.inspect_root(tmp_path, "armhf") == Manifest("armhf", (), ())


def test_cache_dir_choice():
    assert builder.deb_cache_dir({"PYEMU_DEB_CACHE": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c")
    assert builder.deb_cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/pyemu/debs")
    assert builder.deb_cache_dir({"HOME": "/h"}) == Path("/h/.cache/pyemu/debs")


def test_summary_helpers():
    assert builder.format_size(45_900_000) == "43.8 MB"
    assert builder.format_size(512) == "512 B"
    assert builder.plural(1, "package") == "1 package"
    assert builder.usage_lines(builder.debian_arch("arm"), "/s") == [
        "pyemu-arm -L /s PROGRAM", "qemu-arm -L /s PROGRAM"]


# --------------------------------------------------------------------------- command line


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.parametrize("argv, message", [
    ([], "pyemu-sysroot: no command given"),
    (["frob"], "pyemu-sysroot: unknown command 'frob'"),
    (["create", "d"], "pyemu-sysroot: the following arguments are required: --arch"),
    (["create", "d", "--arch", "mips"], "pyemu-sysroot: mips (big-endian) is not a Debian"),
    (["create", "d", "--arch", "x86"], "pyemu-sysroot: unknown architecture 'x86'"),
    (["create", "d", "--arch", "arm64", "Bad"], "pyemu-sysroot: bad package name 'Bad'"),
])
def test_cli_errors_are_one_line(argv, message, capsys, tmp_path):
    status, out, err = _main(argv, capsys)
    assert status == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err


def test_cli_list_arches(capsys):
    status, out, _err = _main(["list-arches"], capsys)
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == ["arm64", "armhf", "mipsel", "mips"]


def test_sysroot_error_is_a_pyemu_error():
    assert issubclass(SysrootError, PyemuError)


# --------------------------------------------------------------------------- the real thing


def _sysroot_command(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYEMU_DEB_CACHE=str(cache))
    return subprocess.run([sys.executable, "-m", "usermode.sysroot.cli", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def test_unknown_package_fails_cleanly(tmp_path):
    proc = _sysroot_command("create", str(tmp_path / "root"), "--arch", "arm64",
                            "no-such-package-pyemu", cache=cache_dir() / "debs")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "pyemu-sysroot: unknown package 'no-such-package-pyemu' for arm64 (not in apt's lists)")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "root").exists()


def test_coreutils_arm64_sysroot_runs_under_qemu(tmp_path):
    root = tmp_path / "arm64"
    proc = _sysroot_command("create", str(root), "--arch", "arm64", "coreutils",
                            cache=cache_dir() / "debs")
    assert proc.returncode == 0, proc.stderr
    assert f"pyemu-aarch64 -L {root} PROGRAM" in proc.stdout
    assert f"qemu-aarch64 -L {root} PROGRAM" in proc.stdout

    for name in ("bin", "sbin", "lib"):
        assert os.readlink(root / name) == f"usr/{name}"
    interp = root / "lib" / "ld-linux-aarch64.so.1"
    real = Path(os.path.realpath(interp))
    assert real.is_file() and real.is_relative_to(root.resolve()), real
    assert (root / "usr" / "bin" / "ls").is_file()
    assert (root / "lib" / "aarch64-linux-gnu" / "libc.so.6").exists()
    for name in ("passwd", "group", "nsswitch.conf", "hosts"):
        assert (root / "etc" / name).is_file()
    absolute = [p for p in root.rglob("*") if p.is_symlink() and os.readlink(p).startswith("/")]
    assert absolute == []

    qemu = qemu_command("aarch64")
    ls = subprocess.run([*qemu, "-L", str(root), str(root / "usr/bin/ls"), "-la", "/"],
                        capture_output=True, text=True, timeout=60, check=False)
    assert ls.returncode == 0, ls.stderr
    assert ls.stdout.startswith("total ") and " usr" in ls.stdout, ls.stdout
    sort = subprocess.run([*qemu, "-L", str(root), str(root / "usr/bin/sort")],
                          input="pear\napple\nfig\n", capture_output=True, text=True,
                          timeout=60, check=False)
    assert (sort.returncode, sort.stdout, sort.stderr) == (0, "apple\nfig\npear\n", "")

    again = _sysroot_command("create", str(root), "--arch", "aarch64", cache=cache_dir() / "debs")
    assert again.returncode == 0, again.stderr
    assert "(0 new)" in again.stdout
    manifest = (root / builder.MARKER).read_text()
    assert "requested coreutils" in manifest and "package libc6 " in manifest
