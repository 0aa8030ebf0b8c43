"""Calls pyemu refuses deliberately, as the kernel refuses them to an unprivileged user.

A guest never gets to reboot, load kernel modules, mount, swap, account, change root, hang up
the terminal or open by file handle on the host through pyemu, even when pyemu runs as root: each
handler makes the checks the kernel makes before the capability check (so a bad path or flag
still gives ENOENT, ENOTDIR, EINVAL or EFAULT as it would), then fails with EPERM, the answer for
a caller without the capability. They are registered with ``refused=True`` and listed as
"refused" in docs/syscalls.md. (The time setters are in ``time``, the host names in
``identity``.)
"""
from __future__ import annotations

import errno
import os
import stat
from typing import Any, Callable

from ..registry import syscall
from .common import fail, guest_path


def _eperm(name: str, args: tuple[str, ...], doc: str,
           check: Callable[..., None] | None = None) -> None:
    def handler(k: Any, *values: int) -> int:
        if check is not None:
            check(k, *values)
        raise fail(errno.EPERM)

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = f"{doc}  (refused: EPERM)"
    syscall(name, *args, refused=True)(handler)


def _path_exists(k: Any, path: int, *rest: int) -> None:
    os.stat(guest_path(k, path))


def _strings(*positions: int) -> Callable[..., None]:
    """Read the string arguments at ``positions`` (EFAULT for a bad one), as mount(2) does."""
    def check(k: Any, *values: int) -> None:
        for i in positions:
            if values[i]:
                k.space.read_cstr(values[i])
    return check


for _name, _args, _doc, _check in (
        ("reboot", ("int", "int", "uint", "ptr"),
         "int reboot(int magic, int magic2, int cmd, void *arg);", None),
        ("kexec_load", ("ulong", "ulong", "ptr", "ulong"),
         "long kexec_load(unsigned long entry, unsigned long nr_segments, "
         "struct kexec_segment *segments, unsigned long flags);", None),
        ("kexec_file_load", ("fd", "fd", "ulong", "ptr", "ulong"),
         "long kexec_file_load(int kernel_fd, int initrd_fd, unsigned long cmdline_len, "
         "const char *cmdline, unsigned long flags);", None),
        ("init_module", ("ptr", "ulong", "str"),
         "int init_module(void *module_image, unsigned long len, const char *param_values);",
         None),
        ("finit_module", ("fd", "str", "int"),
         "int finit_module(int fd, const char *param_values, int flags);", None),
        ("delete_module", ("str", "uint"), "int delete_module(const char *name, unsigned int flags);",
         None),
        ("mount", ("str", "str", "str", "ulong", "ptr"),
         "int mount(const char *source, const char *target, const char *filesystemtype, "
         "unsigned long mountflags, const void *data);", _strings(0, 1, 2)),
        ("umount2", ("str", "int"), "int umount2(const char *target, int flags);", _path_exists),
        ("umount", ("str",), "int umount(const char *target);", _path_exists),
        ("pivot_root", ("str", "str"), "int pivot_root(const char *new_root, const char *put_old);",
         None),
        ("swapon", ("str", "int"), "int swapon(const char *path, int swapflags);", None),
        ("swapoff", ("str",), "int swapoff(const char *path);", None),
        ("acct", ("str",), "int acct(const char *filename);", None),
        ("vhangup", (), "int vhangup(void);", None),
        ("open_by_handle_at", ("fd", "ptr", "oflags"),
         "int open_by_handle_at(int mount_fd, struct file_handle *handle, int flags);", None),
        ("lookup_dcookie", ("u64", "ptr", "size"),
         "int lookup_dcookie(u64 cookie, char *buffer, size_t len);", None),
        ("fsopen", ("str", "uint"), "int fsopen(const char *fsname, unsigned int flags);", None),
        ("fspick", ("dirfd", "str", "uint"),
         "int fspick(int dirfd, const char *path, unsigned int flags);", None),
        ("fsmount", ("fd", "uint", "uint"),
         "int fsmount(int fsfd, unsigned int flags, unsigned int attr_flags);", None),
        ("move_mount", ("dirfd", "str", "dirfd", "str", "uint"),
         "int move_mount(int from_dirfd, const char *from_path, int to_dirfd, "
         "const char *to_path, unsigned int flags);", None),
        ("bpf", ("int", "ptr", "uint"),
         "int bpf(int cmd, union bpf_attr *attr, unsigned int size);  (as with the usual "
         "kernel.unprivileged_bpf_disabled)", None),
        ("syslog", ("int", "ptr", "int"),
         "int syslog(int type, char *bufp, int len);  (every action, as with the usual "
         "kernel.dmesg_restrict=1)", None)):
    _eperm(_name, _args, _doc, _check)


@syscall("chroot", "str", refused=True)
def chroot(k: Any, path: int) -> int:
    """int chroot(const char *path);  (refused: EPERM once the path checks pass; the sysroot
    (-L) is pyemu's way to give a guest another root)"""
    st = os.stat(guest_path(k, path))
    if not stat.S_ISDIR(st.st_mode):
        raise fail(errno.ENOTDIR)
    if not os.access(guest_path(k, path), os.X_OK):
        raise fail(errno.EACCES)
    raise fail(errno.EPERM)
