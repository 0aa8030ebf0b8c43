"""pyemu-binfmt against the kernel: registrations in a private binfmt_misc, then foreign
programs exec'd directly.

Since Linux 6.7 each user namespace that mounts binfmt_misc gets an instance of its own, so
each scenario runs as a shell script under ``unshare --user --map-root-user --mount`` and
touches nothing on the host (the ``private_binfmt`` fixture checks that the kernel really
keeps them apart). On an older kernel, as root, the scenarios use the host's binfmt_misc and
remove what they registered afterwards; otherwise they are skipped, saying why.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import ARCHES, EXAMPLES_DIR, REPO_ROOT, checkout_script, guest, minimal_env
from test_binfmt import QEMU_72

BINFMT = "/proc/sys/fs/binfmt_misc"
_USERNS = ("unshare", "--user", "--map-root-user", "--mount")
_STEP = re.compile(r"^@@ (\S+)\n(.*?)^@@ rc=(\d+)\n", re.S | re.M)
# each step: "@@ NAME", its output (stdout and stderr), "@@ rc=STATUS"
_PROLOGUE = """step() { name=$1; shift; echo "@@ $name"; ( eval "$*" ) 2>&1; echo "@@ rc=$?"; }
cd "$WORK"
"""


@dataclass(frozen=True)
class Namespace:
    """Where scenarios run: a private binfmt_misc (userns) or, failing that, the host's."""

    private: bool
    fake_qemu: str          # the name the scenarios give their qemu-style entry

    def mount_step(self) -> tuple[str, str]:
        """A fresh binfmt_misc in the namespace (on top of one it may have inherited from the
        host); the host's own as it is."""
        return "mount", f"mount -t binfmt_misc binfmt_misc {BINFMT}" if self.private else "true"

    def run(self, work: Path, steps: list[tuple[str, str]]) -> dict[str, tuple[str, int]]:
        """Run the steps in one shell (one namespace) in ``work``; name -> (output, status)."""
        script = _PROLOGUE + "".join(f"step {name} {_quote(cmd)}\n" for name, cmd in steps)
        (work / "scenario.sh").write_text(script)
        prefix = _USERNS if self.private else ()
        env = minimal_env({"WORK": str(work), "PATH": f"{work / 'bin'}:{minimal_env()['PATH']}"})
        try:
            done = subprocess.run([*prefix, "bash", str(work / "scenario.sh")], env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
        finally:
            if not self.private:
                _clean_host(self.fake_qemu)
        results = {m[1]: (m[2], int(m[3])) for m in _STEP.finditer(done.stdout)}
        missing = [name for name, _ in steps if name not in results]
        assert not missing, f"steps {missing} did not run:\n{done.stdout}\n{done.stderr}"
        return results


def _quote(command: str) -> str:
    return "'" + command.replace("'", "'\\''") + "'"


def _clean_host(fake_qemu: str) -> None:
    for arch in ARCHES:
        for name in (f"pyemu-{arch}", fake_qemu.format(arch=arch)):
            path = Path(BINFMT, name)
            if path.exists():
                path.write_text("-1")


def _probe_private() -> str | None:
    """None if a user namespace gets a binfmt_misc of its own (checked: an entry registered
    there is not in the host's instance), else why not."""
    name = f"pyemu-probe-{uuid.uuid4().hex[:8]}"
    line = f":{name}:E::pyemuprobe::/nonexistent:"
    probe = subprocess.run(
        [*_USERNS, "sh", "-c", f"mount -t binfmt_misc binfmt_misc {BINFMT} && "
                               f"echo '{line}' > {BINFMT}/register && test -e {BINFMT}/{name}"],
        capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"no binfmt_misc in a user namespace (Linux < 6.7?): {probe.stderr.strip()}"
    # the host's own instance, seen from a mount namespace of its own (nothing mounted here)
    host = subprocess.run(["unshare", "--mount", "sh", "-c",
                           f"mount -t binfmt_misc binfmt_misc {BINFMT} 2>/dev/null; "
                           f"test -e {BINFMT}/{name}"], check=False)
    if host.returncode == 0:
        _clean_host(name)
        return "an entry registered in a user namespace reached the host's binfmt_misc"
    return None


@pytest.fixture(scope="module")
def namespace() -> Namespace:
    if shutil.which("unshare") is None:
        reason = "unshare (util-linux) is not installed"
    else:
        reason = _probe_private()
    if reason is None:
        return Namespace(True, "qemu-{arch}")
    if not Path(BINFMT, "register").exists() or not Path(BINFMT).stat().st_uid == 0:
        pytest.skip(f"{reason}; and the host's binfmt_misc is not mounted")
    taken = [a for a in ARCHES if Path(BINFMT, f"pyemu-{a}").exists()]
    if taken:
        pytest.skip(f"{reason}; and the host already has pyemu entries ({taken})")
    return Namespace(False, "qemu-{arch}-pyemu-test")


@pytest.fixture
def work(tmp_path) -> Path:
    """A scenario's directory: bin/pyemu-binfmt (this checkout's), the example programs, a
    fake qemu interpreter that says who it is."""
    checkout_script(tmp_path / "bin", "pyemu-binfmt", "usermode.binfmt", "main")
    for arch in ARCHES:
        shutil.copy(EXAMPLES_DIR / f"hello-{arch}", tmp_path)
        shutil.copy(guest("args_env", arch), tmp_path / f"args_env-{arch}")
    fake = tmp_path / "fake-qemu"
    fake.write_text('#!/bin/sh\necho "fake qemu: $*"\n')
    fake.chmod(0o755)
    return tmp_path


def _fake_qemu_step(name: str, arch: str) -> tuple[str, str]:
    magic, mask = QEMU_72[arch]
    line = f":{name}:M::{magic}:{mask}:$WORK/fake-qemu:P"
    return "qemu", f"printf '%s' \"{line}\" > {BINFMT}/register"


def _argv(output: str) -> list[str]:
    return re.findall(r"^argv\[\d+\]=\[(.*)\]$", output, re.M)


@pytest.mark.parametrize("arch", ARCHES)
def test_register_run_choose_unregister(namespace, work, arch):
    qemu = namespace.fake_qemu.format(arch=arch)
    out = namespace.run(work, [
        namespace.mount_step(), _fake_qemu_step(qemu, arch),
        ("register", f"pyemu-binfmt register --launcher-dir $WORK/launchers"),
        ("status", f"pyemu-binfmt status {arch}"),
        ("hello", f"./hello-{arch}"),
        ("exec_a", f"PYEMU_T_A=seen exec -a NAME ./args_env-{arch} x 'y z'"),
        ("symlink", f"ln -s args_env-{arch} via-link && ./via-link"),
        ("disable", f"echo 0 > {BINFMT}/pyemu-{arch} && ./hello-{arch}"),
        ("enable", f"echo 1 > {BINFMT}/pyemu-{arch} && ./hello-{arch}"),
        ("unregister", "pyemu-binfmt unregister"),
        ("left", f"ls {BINFMT}"),
        ("after", f"./hello-{arch}"),
    ])
    assert out["register"][1] == 0, out["register"][0]
    assert f"pyemu-{arch}: registered, interpreter {work}/launchers/pyemu-{arch}.py, flags P" \
        in out["register"][0]
    status = out["status"][0]
    assert status.startswith(f"pyemu-{arch}: enabled, interpreter ") and out["status"][1] == 0
    assert f"also claimed by {qemu} (enabled, interpreter {work}/fake-qemu)" in status
    assert f"echo 0 > {BINFMT}/{qemu}" in status
    greeting = f"Hello, world! (from a {arch} guest)\n"
    assert out["hello"] == (greeting, 0)
    assert _argv(out["exec_a"][0]) == ["NAME", "x", "y z"] and out["exec_a"][1] == 0
    assert "env[PYEMU_T_A=seen]" in out["exec_a"][0]
    assert _argv(out["symlink"][0]) == ["./via-link"]
    # the newest enabled entry wins: pyemu's, registered after qemu's; disabled, qemu's runs
    assert out["disable"][0] == f"fake qemu: ./hello-{arch} ./hello-{arch}\n"
    assert out["enable"] == (greeting, 0)
    assert out["unregister"] == ("".join(f"pyemu-{a}: unregistered\n" for a in ARCHES), 0)
    left = out["left"][0].split()
    assert qemu in left and not [name for name in left if name.startswith("pyemu-")]
    if namespace.private:
        assert left == sorted([qemu, "register", "status"])
    assert out["after"][0].startswith("fake qemu: ")


def test_register_mounts_binfmt_misc_and_argv0_without_P(namespace, work):
    """No binfmt_misc mounted: register mounts it. Without P the kernel drops the caller's
    argv[0], and the guest sees the program's path, as under qemu."""
    inherited = Path(BINFMT, "register").exists()    # the host's: never write there
    out = namespace.run(work, [
        namespace.mount_step() if inherited else ("mount", "true"),
        ("register", "pyemu-binfmt register arm --preserve-argv0 no "
                     "--launcher-dir $WORK/launchers"),
        ("mounted", f"grep -c ' {BINFMT} binfmt_misc ' /proc/self/mounts"),
        ("exec_a", "exec -a NAME ./args_env-arm x")])
    assert out["register"] == (f"pyemu-arm: registered, interpreter {work}/launchers/"
                               "pyemu-arm.py, flags (none)\n", 0)
    assert out["mounted"][0].strip() != "0"
    assert _argv(out["exec_a"][0]) == [f"{work}/args_env-arm", "x"]


def test_sysroot_is_baked_into_the_launcher(namespace, work):
    """--sysroot DIR (or PYEMU_LD_PREFIX at registration) is the guests' -L prefix; one given
    at run time wins."""
    for root, text in (("root-a", "registered"), ("root-b", "given at run time")):
        (work / root / "etc").mkdir(parents=True)
        (work / root / "etc" / "which-sysroot").write_text(text + "\n")
    shutil.copy(guest("cat", "mipsel"), work / "cat-mipsel")
    out = namespace.run(work, [
        namespace.mount_step(),
        ("register", "PYEMU_LD_PREFIX=$WORK/root-a pyemu-binfmt register mipsel "
                     "--launcher-dir $WORK/launchers"),
        ("cat", "./cat-mipsel /etc/which-sysroot"),
        ("runtime", "PYEMU_LD_PREFIX=$WORK/root-b ./cat-mipsel /etc/which-sysroot"),
    ])
    assert out["register"][0].endswith(f"sysroot {work}/root-a\n")
    assert out["cat"] == ("registered\n", 0)
    assert out["runtime"] == ("given at run time\n", 0)


def test_credential_and_persistent_use_the_native_launcher(namespace, work):
    """C (with O) needs an ELF interpreter; F opens it at registration, so the registered
    path may go away afterwards and programs still run."""
    out = namespace.run(work, [
        namespace.mount_step(),
        ("register", "pyemu-binfmt register aarch64 --credential yes --persistent yes "
                     "--launcher-dir $WORK/launchers"),
        ("flags", f"grep flags {BINFMT}/pyemu-aarch64"),
        ("kind", "head -c 4 $WORK/launchers/pyemu-aarch64 | od -An -c"),
        ("hello", "./hello-aarch64"),
        ("moved", "mv $WORK/launchers/pyemu-aarch64 $WORK/moved && ./hello-aarch64"),
        ("exec_a", "exec -a NAME ./args_env-aarch64 one"),
    ])
    assert out["register"][1] == 0, out["register"][0]
    assert out["flags"][0] == "flags: POCF\n"
    assert out["kind"][0].split() == ["177", "E", "L", "F"]
    greeting = "Hello, world! (from a aarch64 guest)\n"
    assert out["hello"] == (greeting, 0)
    assert out["moved"] == (greeting, 0)
    assert _argv(out["exec_a"][0]) == ["NAME", "one"]


def test_systemd_files_load_as_systemd_binfmt_would(namespace, work):
    """--systemd writes binfmt.d files (and launchers) and registers nothing; each file's
    line, written to register as systemd-binfmt does, works."""
    out = namespace.run(work, [
        namespace.mount_step(),
        ("write", "pyemu-binfmt register --systemd --exportdir $WORK/binfmt.d "
                  "--launcher-dir $WORK/launchers"),
        ("nothing", f"ls {BINFMT}"),
        ("files", "cat $WORK/binfmt.d/pyemu-*.conf"),
        ("load", f"for f in $WORK/binfmt.d/*.conf; do grep -v '^#' $f > {BINFMT}/register; done"),
        ("run", "./hello-mips && ./hello-arm"),
        ("remove", "pyemu-binfmt unregister --systemd --exportdir $WORK/binfmt.d && "
                   "ls $WORK/binfmt.d | wc -l"),
    ])
    assert out["write"][1] == 0, out["write"][0]
    assert out["nothing"][0].split() == ["register", "status"]
    lines = [line for line in out["files"][0].splitlines() if not line.startswith("#")]
    assert lines == [f":pyemu-{arch}:M::{QEMU_72[arch][0]}:{QEMU_72[arch][1]}:"
                     f"{work}/launchers/pyemu-{arch}.py:P" for arch in sorted(ARCHES)]
    assert out["run"] == ("Hello, world! (from a mips guest)\n"
                          "Hello, world! (from a arm guest)\n", 0)
    assert out["remove"][0].endswith("\n0\n")


def test_an_installed_pyemu_binfmt(namespace, work, tmp_path_factory):
    """What a user does: pip install pyemu (here into a private venv, on the stock engine to
    skip the engine build), then that installation's pyemu-binfmt console script registers
    launchers that run the installed pyemu."""
    venv = tmp_path_factory.mktemp("venv")
    # pip builds in the source tree (build/, *.egg-info, usermode/_engine/): build a copy
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source)
    skip = shutil.ignore_patterns("__pycache__", "libunicorn*", "FALLBACK.txt")
    for name in ("usermode", "tools"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=skip)
    _ok_run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    _ok_run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(source)],
            env={"PYEMU_ENGINE": "stock"})
    out = namespace.run(work, [
        namespace.mount_step(),
        ("register", f"{venv}/bin/pyemu-binfmt register arm --launcher-dir $WORK/launchers"),
        ("shebang", "head -n 1 $WORK/launchers/pyemu-arm.py"),
        ("hello", "./hello-arm"),
        ("exec_a", "exec -a NAME ./args_env-arm"),
    ])
    assert out["register"][1] == 0, out["register"][0]
    assert re.fullmatch(rf"#!{venv}/bin/python[0-9.]* -I\n", out["shebang"][0])
    assert out["hello"] == ("Hello, world! (from a arm guest)\n", 0)
    assert _argv(out["exec_a"][0]) == ["NAME"]


def _ok_run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"$ {' '.join(cmd)}\n{done.stdout}\n{done.stderr}"


def test_in_a_chroot_with_the_host_dirs_bound(namespace, work):
    """F pins the launcher; what it runs (Python, pyemu, the C library) is looked up in the
    chroot. Bound at the same paths (pyemu-binfmt binds lists them), the launcher works in a
    root that has nothing else: here one holding only the programs."""
    if not namespace.private:
        pytest.skip("binds and chroot are done in a private namespace only")
    root = work / "root"
    root.mkdir()
    shutil.copy(work / "hello-arm", root)
    shutil.copy(work / "args_env-arm", root)
    out = namespace.run(work, [
        namespace.mount_step(),
        ("register", "pyemu-binfmt register arm --persistent --launcher-dir $WORK/launchers"),
        ("bind", "pyemu-binfmt binds --launcher-dir $WORK/launchers | while read -r d; do "
                 "mkdir -p \"$WORK/root$d\" && mount --rbind \"$d\" \"$WORK/root$d\"; done"),
        ("hello", "chroot $WORK/root /hello-arm"),
        ("args", "chroot $WORK/root /args_env-arm x"),
    ])
    assert out["register"][1] == 0 and out["bind"][1] == 0, out["bind"][0]
    assert out["hello"] == ("Hello, world! (from a arm guest)\n", 0)
    assert _argv(out["args"][0]) == ["/args_env-arm", "x"]
