"""Build systems running cross-compiled tests through pyemu, as users set them up: CMake's
CMAKE_CROSSCOMPILING_EMULATOR (tests/buildsys/cmake), Meson's exe_wrapper (tests/buildsys/meson)
and Cargo's target runner (tests/buildsys/cargo).

Each project has a passing unit test, the same test run with a wrong expectation twice (once
marked as expected to fail, so it passes; once plain, so it fails: the build system must report
exactly that one), and a program printing the machine it sees. The emulator the tests hand the
build system is this checkout's pyemu-ARCH with ``-E BUILDSYS_EMULATOR=pyemu``, so the program
can only print ``emulator=pyemu`` when pyemu ran it.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import (ARCH_INFO, TESTS_DIR, checkout_script, debian_sysroot, find_command,
                     minimal_env)

BUILDSYS = TESTS_DIR / "buildsys"
ARCHES = ("arm", "aarch64")
RUST_TARGETS = {"arm": "armv7-unknown-linux-gnueabihf", "aarch64": "aarch64-unknown-linux-gnu"}
# test name -> outcome the build system must report
EXPECTED = {"calc_test": "pass", "calc_wrong_expected_to_fail": "pass", "calc_wrong": "fail",
            "sysinfo": "pass"}
_HINT = "Install the build tools: apt-get install cmake meson ninja-build rustc cargo (.ci/run)."


def emulator(directory: Path, arch: str) -> list[str]:
    """This checkout's pyemu-ARCH, telling the guest it ran it."""
    script = checkout_script(directory / "bin", f"pyemu-{arch}", "usermode.cli", f"main_{arch}")
    return [str(script), "-E", "BUILDSYS_EMULATOR=pyemu"]


def sysinfo_line(arch: str) -> str:
    bits = 64 if arch == "aarch64" else 32
    return f"machine={ARCH_INFO[arch].uname_m} emulator=pyemu pointer-bits={bits}\n"


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=minimal_env(env),
                          capture_output=True, text=True, timeout=timeout, check=False)


def _ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, f"$ {' '.join(done.args)}\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("arch", ARCHES)
def test_ctest_runs_tests_under_pyemu(tmp_path, arch):
    cmake = find_command("cmake", _HINT)
    ctest = find_command("ctest", _HINT)
    find_command(ARCH_INFO[arch].cc, _HINT)
    build = tmp_path / "build"
    _ok(sh([cmake, "-S", BUILDSYS / "cmake", "-B", build,
            "--toolchain", BUILDSYS / "cmake" / f"toolchain-{arch}.cmake",
            f"-DCMAKE_CROSSCOMPILING_EMULATOR={';'.join(emulator(tmp_path, arch))}"], tmp_path))
    _ok(sh([cmake, "--build", build, "-j", "2"], tmp_path))
    junit = tmp_path / "junit.xml"
    done = sh([ctest, "--test-dir", build, "--output-junit", junit], tmp_path)
    assert done.returncode != 0, "ctest passed although calc_wrong fails"
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    outcome = {name: "fail" if case.get("status") == "fail" else "pass"
               for name, case in cases.items()}
    assert outcome == EXPECTED, done.stdout
    assert cases["sysinfo"].findtext("system-out") == sysinfo_line(arch)
    assert "gcd(12, 18) == 7" in cases["calc_wrong"].findtext("system-out")


@pytest.mark.parametrize("arch", ARCHES)
def test_meson_test_runs_tests_under_pyemu(tmp_path, arch):
    meson = find_command("meson", _HINT)
    find_command("ninja", _HINT)
    find_command(ARCH_INFO[arch].cc, _HINT)
    wrapper = tmp_path / "wrapper.ini"     # a later cross file overrides the project's
    wrapper.write_text(f"[binaries]\nexe_wrapper = {emulator(tmp_path, arch)!r}\n")
    build = tmp_path / "build"
    _ok(sh([meson, "setup", build, BUILDSYS / "meson",
            "--cross-file", BUILDSYS / "meson" / f"cross-{arch}.ini", "--cross-file", wrapper],
           tmp_path))
    done = sh([meson, "test", "-C", build, "--num-processes", "2"], tmp_path)
    assert done.returncode != 0, "meson test passed although calc_wrong fails"
    results = {}
    for line in (build / "meson-logs" / "testlog.json").read_text().splitlines():
        record = json.loads(line)
        results[record["name"].rpartition(" / ")[2]] = record
    outcome = {name: "pass" if r["result"] in ("OK", "EXPECTEDFAIL") else "fail"
               for name, r in results.items()}
    assert outcome == EXPECTED, done.stdout
    assert results["calc_wrong_expected_to_fail"]["result"] == "EXPECTEDFAIL"
    assert results["sysinfo"]["stdout"] == sysinfo_line(arch)


def _rust(arch: str) -> tuple[Path, Path, Path]:
    """Debian's cargo and rustc, and a sysroot (tests/.cache) holding Debian's Rust standard
    library for ``arch`` with the C library it was built against: ``rustc --sysroot`` compiles
    with it, ``pyemu -L`` runs with it, and nothing is installed on the host. (A rustup
    toolchain has no foreign standard library without downloading one.)"""
    cargo, rustc = Path("/usr/bin/cargo"), Path("/usr/bin/rustc")
    if not (cargo.exists() and rustc.exists()):
        pytest.fail(f"need Debian's /usr/bin/cargo and /usr/bin/rustc. {_HINT}", pytrace=False)
    root = debian_sysroot(ARCH_INFO[arch].debian, ["libstd-rust-dev"])
    if not (root / "usr/lib/rustlib" / RUST_TARGETS[arch]).is_dir():
        pytest.fail(f"{root}: no Rust standard library for {RUST_TARGETS[arch]}", pytrace=False)
    return cargo, rustc, root


@pytest.mark.parametrize("arch", ARCHES)
def test_cargo_runner_runs_tests_under_pyemu(tmp_path, arch):
    cargo, rustc, root = _rust(arch)
    find_command(ARCH_INFO[arch].cc, _HINT)
    crate = tmp_path / "crate"          # a copy: Cargo.lock and target/ are written there
    shutil.copytree(BUILDSYS / "cargo", crate)
    target = RUST_TARGETS[arch]
    wrapper, *options = emulator(tmp_path, arch)
    env = {"CARGO_HOME": str(tmp_path / "cargo-home"), "RUSTC": str(rustc),
           "RUSTFLAGS": f"--sysroot {root}/usr",
           f"CARGO_TARGET_{target.upper().replace('-', '_')}_RUNNER":
               " ".join([wrapper, "-L", str(root), *options])}
    # several test threads (a contended mutex spins with YIELD, which the engine refused)
    done = sh([cargo, "test", "--offline", "--target", target, "--", "--nocapture"], crate, env)
    _ok(done)
    assert "test result: ok. 3 passed; 0 failed; 1 ignored" in done.stdout
    assert sysinfo_line(arch).strip() in done.stdout
    failing = sh([cargo, "test", "--offline", "--target", target, "--", "--ignored"], crate, env)
    assert failing.returncode == 101, failing.stdout + failing.stderr
    assert "test tests::deliberate_failure ... FAILED" in failing.stdout
    assert "test result: FAILED. 0 passed; 1 failed" in failing.stdout
