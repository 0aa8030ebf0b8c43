"""The interpreter files binfmt_misc runs: one launcher per arch in a stable directory.

binfmt_misc passes an interpreter no options, so what differs per entry (the arch, whether
argv[0] is preserved, the sysroot) is written into the launcher itself:

* ``pyemu-ARCH.py``, a Python script whose ``#!`` line names the Python that registered it
  (absolute, with ``-I`` so no PYTHON* variable of the caller changes it) and which puts that
  installation's package directories on ``sys.path`` first, so it runs the pyemu that wrote it;
* ``pyemu-ARCH``, a small native (ELF) program, only for entries with flag C, O or F: the
  kernel refuses a ``#!`` script as the interpreter of an O or C entry (it would be a second
  interpreter for the descriptor it opened), and F pins only the file it opens at
  registration, which for a script is its first line. The native launcher runs
  ``python -I pyemu-ARCH.py EXECFD ARGS...``. It is compiled at registration with the host's
  C compiler (``$CC`` or ``cc``).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import PyemuError
from .run import LaunchSettings

DEFAULT_DIR = Path("/usr/local/libexec/pyemu-binfmt")
MARKER = "pyemu-binfmt launcher"
# what the launchers import: pyemu and the packages it needs at run time
_PACKAGES = ("usermode", "unicorn", "elftools", "capstone")
_SHEBANG_LIMIT = 255          # BINPRM_BUF_SIZE (256) less the newline


class LauncherError(PyemuError):
    """A launcher cannot be written (directory, Python path, compiler)."""


@dataclass(frozen=True)
class Launcher:
    """The launcher files of one arch and the interpreter path registered for them."""

    directory: Path
    settings: LaunchSettings
    native: bool = False
    python: str = sys.executable

    @property
    def script(self) -> Path:
        return self.directory / f"pyemu-{self.settings.arch}.py"

    @property
    def interpreter(self) -> Path:
        """What the kernel runs: the native launcher if there is one, else the script."""
        return self.directory / f"pyemu-{self.settings.arch}" if self.native else self.script

    def script_text(self) -> str:
        s = self.settings
        args = (f"LaunchSettings(arch={s.arch!r}, preserve_argv0={s.preserve_argv0!r}, "
                f"execfd_first={self.native!r}, sysroot={s.sysroot!r})")
        return (f"#!{self.python} -I\n"
                f"# {MARKER} for {s.arch} programs (binfmt_misc entry pyemu-{s.arch}),\n"
                f"# written by `pyemu-binfmt register`, which rewrites it: do not edit.\n"
                f"import sys\n"
                f"sys.path[:0] = {package_dirs()!r}\n"
                f"from usermode.binfmt.run import LaunchSettings, launch\n"
                f"launch({args}, sys.argv[1:])\n")

    def check(self) -> None:
        """Refuse what cannot work before anything is written."""
        if not os.path.isabs(self.python) or any(c.isspace() for c in self.python):
            raise LauncherError(f"the Python running pyemu-binfmt ({self.python!r}) needs an "
                                "absolute path without spaces to be a #! interpreter")
        if len(f"#!{self.python} -I") > _SHEBANG_LIMIT:
            raise LauncherError(f"the path of Python ({self.python}) is too long for a #! line")
        if self.native and compiler() is None:
            raise LauncherError("flags C, O and F need a native launcher, compiled at "
                                "registration: no C compiler found (set CC or install gcc)")
        for path in (self.script, self.interpreter):
            if ":" in str(path) or "\n" in str(path):
                raise LauncherError(f"{path}: an interpreter path cannot contain ':' or a "
                                    "newline (binfmt_misc's separators)")

    def write(self) -> None:
        """Write the script (and compile the native launcher); each file replaced at once."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _replace(self.script, self.script_text().encode())
        except OSError as err:
            raise LauncherError(f"cannot write {self.script}: {err.strerror}") from None
        if self.native:
            _compile(native_source(self.python, str(self.script)), self.interpreter)


def package_dirs() -> list[str]:
    """The directories holding pyemu and its run-time dependencies, in this installation."""
    dirs: list[str] = []
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        parent = str(Path(next(iter(spec.submodule_search_locations))).resolve().parent)
        if parent not in dirs:
            dirs.append(parent)
    return dirs


def host_dirs(directory: Path) -> list[str]:
    """The host directories a launcher reads at run time, outermost only: the launchers, the
    Python installation and pyemu's packages, the dynamic loader and every directory of a
    file this process has mapped (the C library, libpython, the Unicorn engine). Bound at
    the same paths into a chroot or container, they let the launchers run there."""
    from ..loader.elf import read_elf

    dirs = {str(directory), sys.prefix, sys.base_prefix, *package_dirs()}
    interp = read_elf(os.path.realpath(sys.executable)).interp
    dirs.update(os.path.dirname(p) for p in _link_chain(interp) if interp)
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            path = fields[5].strip() if len(fields) == 6 else ""
            if path.startswith("/") and not path.startswith(("/proc/", "/dev/", "/memfd:")):
                dirs.add(os.path.dirname(path))
    real = sorted({os.path.realpath(d) for d in dirs} | dirs)
    return [d for d in real if not any(d.startswith(other.rstrip("/") + "/") for other in real)]


def _link_chain(path: str) -> list[str]:
    """``path`` and every name its symbolic links go through (the loader, /lib64/ld-linux-
    x86-64.so.2, is a link to /lib/x86_64-linux-gnu/...: both names must exist in a chroot)."""
    chain = [path]
    while os.path.islink(path) and len(chain) < 40:
        path = os.path.join(os.path.dirname(path), os.readlink(path))
        chain.append(os.path.normpath(path))
    return chain


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.write(fd, data)
        os.fchmod(fd, 0o755)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def compiler() -> str | None:
    for name in (os.environ.get("CC", ""), "cc", "gcc"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def c_string(text: str) -> str:
    """A C string literal for ``text``'s bytes (octal escapes for anything unusual)."""
    out = []
    for b in os.fsencode(text):
        ch = chr(b)
        out.append(ch if 0x20 <= b < 0x7F and ch not in '"\\?' else f"\\{b:03o}")
    return '"' + "".join(out) + '"'


_NATIVE_SOURCE = r"""/* {marker} (native): runs the Python launcher with the descriptor the
   kernel opened for flag O or C (AT_EXECFD, -1 if none) first, then its own arguments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static const char python[] = {python};
static const char script[] = {script};

int main(int argc, char **argv)
{{
    char fd[24] = "-1";
    char **args = calloc((size_t)argc + 4, sizeof *args);
    unsigned long value;

    if (args == NULL)
        return 127;
    errno = 0;
    value = getauxval(AT_EXECFD);
    if (errno == 0)
        snprintf(fd, sizeof fd, "%lu", value);
    args[0] = (char *)python;
    args[1] = "-I";
    args[2] = (char *)script;
    args[3] = fd;
    for (int i = 1; i < argc; i++)
        args[3 + i] = argv[i];
    execv(python, args);
    fprintf(stderr, "pyemu-binfmt launcher: cannot run %s: %s\n", python, strerror(errno));
    return 127;
}}
"""


def native_source(python: str, script: str) -> str:
    return _NATIVE_SOURCE.format(marker=MARKER, python=c_string(python), script=c_string(script))


def _compile(source: str, output: Path) -> None:
    """Compile the native launcher, static when the C library allows (it then needs nothing
    from the mount namespace it runs in but Python), else dynamic."""
    cc = compiler()
    if cc is None:
        raise LauncherError("no C compiler found for the native launcher (set CC)")
    with tempfile.TemporaryDirectory(prefix="pyemu-binfmt-") as work:
        src, binary = Path(work, "launcher.c"), Path(work, "launcher")
        src.write_text(source)
        for extra in (["-static"], []):
            proc = subprocess.run([cc, "-O2", *extra, "-o", str(binary), str(src)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                break
        else:
            detail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise LauncherError(f"compiling the native launcher with {cc} failed: {detail}")
        try:
            _replace(output, binary.read_bytes())
        except OSError as err:
            raise LauncherError(f"cannot write {output}: {err.strerror}") from None
