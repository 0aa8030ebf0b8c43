"""Process identity, exit, limits, system information, TLS and randomness."""
from __future__ import annotations

import errno
import os
import resource
from typing import Any

from ...errors import GuestExit, ThreadExit
from ...kernel.fdspace import PRIVATE
from ..registry import syscall
from .common import fail, read_struct, write_struct


@syscall("exit", "int")
def exit_(k: Any, status: int) -> int:
    """void exit(int status);  (this thread only; the process ends with its last thread)"""
    threads = k.threads
    if k.thread is not threads.main:
        raise ThreadExit(status & 0xFF)
    k.thread.alive = False
    for other in threads.others_alive():
        threads.blocking(other.host.join)
    raise GuestExit(status & 0xFF)


@syscall("exit_group", "int")
def exit_group(k: Any, status: int) -> int:
    """void exit_group(int status);"""
    raise GuestExit(status & 0xFF)


def _getter(name: str, read) -> None:
    def handler(k: Any) -> int:
        return read(k.process.ids)

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = f"{name}(void);"
    syscall(name)(handler)


for _names, _read in ((("getpid",), lambda ids: ids.pid),
                      (("getppid",), lambda ids: ids.ppid),
                      (("getuid", "getuid32"), lambda ids: ids.uid),
                      (("geteuid", "geteuid32"), lambda ids: ids.euid),
                      (("getgid", "getgid32"), lambda ids: ids.gid),
                      (("getegid", "getegid32"), lambda ids: ids.egid)):
    for _n in _names:
        _getter(_n, _read)


@syscall("getresuid", "ptr", "ptr", "ptr", also=("getresuid32",))
def getresuid(k: Any, ruid: int, euid: int, suid: int) -> int:
    """int getresuid(uid_t *ruid, uid_t *euid, uid_t *suid);"""
    for addr, value in zip((ruid, euid, suid), os.getresuid()):
        k.space.write(addr, value.to_bytes(4, k.abi.byteorder))
    return 0


@syscall("getresgid", "ptr", "ptr", "ptr", also=("getresgid32",))
def getresgid(k: Any, rgid: int, egid: int, sgid: int) -> int:
    """int getresgid(gid_t *rgid, gid_t *egid, gid_t *sgid);"""
    for addr, value in zip((rgid, egid, sgid), os.getresgid()):
        k.space.write(addr, value.to_bytes(4, k.abi.byteorder))
    return 0


def _set_id(name: str, host_call, argc: int, field: str | None) -> None:
    def handler(k: Any, *ids: int) -> int:
        host_call(*(i if i != 0xFFFFFFFF else -1 for i in ids))
        if field:
            setattr(k.process.ids, field, ids[0])
        return 0

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = f"int {name}(...);  (passed to the host, as qemu-user does)"
    syscall(name, *(["uint"] * argc))(handler)


for _n, _call, _argc, _field in (
        ("setuid", os.setuid, 1, "uid"), ("setgid", os.setgid, 1, "gid"),
        ("setreuid", os.setreuid, 2, None), ("setregid", os.setregid, 2, None),
        ("setresuid", os.setresuid, 3, None), ("setresgid", os.setresgid, 3, None)):
    _set_id(_n, _call, _argc, _field)
    _set_id(_n + "32", _call, _argc, _field)


@syscall("getpgid", "int")
def getpgid(k: Any, pid: int) -> int:
    """pid_t getpgid(pid_t pid);"""
    return os.getpgid(pid)


@syscall("getpgrp")
def getpgrp(k: Any) -> int:
    """pid_t getpgrp(void);"""
    return os.getpgrp()


@syscall("setpgid", "int", "int")
def setpgid(k: Any, pid: int, pgid: int) -> int:
    """int setpgid(pid_t pid, pid_t pgid);"""
    os.setpgid(pid, pgid)
    return 0


@syscall("getsid", "int")
def getsid(k: Any, pid: int) -> int:
    """pid_t getsid(pid_t pid);"""
    return os.getsid(pid)


@syscall("setsid")
def setsid(k: Any) -> int:
    """pid_t setsid(void);"""
    os.setsid()             # returns None in Python; the new session's id is the caller's pid
    return os.getpid()


@syscall("gettid")
def gettid(k: Any) -> int:
    """pid_t gettid(void);"""
    return k.thread.tid


@syscall("set_tid_address", "ptr")
def set_tid_address(k: Any, tidptr: int) -> int:
    """pid_t set_tid_address(int *tidptr);"""
    k.thread.tid_address = tidptr
    return k.thread.tid


@syscall("set_robust_list", "ptr", "size")
def set_robust_list(k: Any, head: int, length: int) -> int:
    """long set_robust_list(struct robust_list_head *head, size_t len);"""
    if length != k.abi.structs["robust_list_head"].size:
        raise fail(errno.EINVAL)
    k.thread.robust_list = (head, length)
    return 0


@syscall("ARM_set_tls", "ptr", also=("set_thread_area",))
def set_tls(k: Any, value: int) -> int:
    """int set_tls(void *tp);  (ARM's __ARM_NR_set_tls, MIPS's set_thread_area)"""
    k.cpu.set_tls(value)
    return 0


@syscall("uname", "ptr")
def uname(k: Any, buf: int) -> int:
    """int uname(struct utsname *buf);"""
    host = os.uname()
    write_struct(k, buf, "utsname", sysname=b"Linux", nodename=os.fsencode(host.nodename),
                 release=os.fsencode(host.release), version=os.fsencode(host.version),
                 machine=k.cpu.spec.uname_machine.encode(), domainname=b"(none)")
    return 0


# -- resource limits -------------------------------------------------------------------------
def _resource(k: Any, guest: int) -> int:
    for name, value in k.abi.const.items():
        if name.startswith("RLIMIT_") and value == guest and hasattr(resource, name):
            return getattr(resource, name)
    raise fail(errno.EINVAL)


def _to_guest_limit(k: Any, value: int, infinity: int) -> int:
    return infinity if value == resource.RLIM_INFINITY or value >= infinity else value


def _to_host_limit(value: int, infinity: int) -> int:
    return resource.RLIM_INFINITY if value >= infinity else value


def _get_limits(pid: int, host_res: int) -> tuple[int, int]:
    """A process's limits as its guest sees them: the fd soft limit without the numbers pyemu
    keeps for its own descriptors (kernel.fdspace)."""
    cur, mx = resource.prlimit(pid, host_res)
    if host_res == resource.RLIMIT_NOFILE and pid in (0, os.getpid()):
        cur = PRIVATE.guest_limit
    return cur, mx


def _set_limits(pid: int, host_res: int, limits: tuple[int, int]) -> None:
    if host_res == resource.RLIMIT_NOFILE and pid in (0, os.getpid()):
        PRIVATE.set_guest_limit(*limits)
    else:
        resource.prlimit(pid, host_res, limits)


@syscall("prlimit64", "int", "uint", "ptr", "ptr")
def prlimit64(k: Any, pid: int, res: int, new: int, old: int) -> int:
    """int prlimit(pid_t pid, int resource, const struct rlimit64 *new, struct rlimit64 *old);"""
    host_res = _resource(k, res)
    inf = (1 << 64) - 1
    limits = None
    if new:
        r = read_struct(k, new, "rlimit64")
        limits = (_to_host_limit(r["rlim_cur"], inf), _to_host_limit(r["rlim_max"], inf))
    cur, mx = _get_limits(pid, host_res)
    if limits:
        _set_limits(pid, host_res, limits)
    if old:
        write_struct(k, old, "rlimit64", rlim_cur=_to_guest_limit(k, cur, inf),
                     rlim_max=_to_guest_limit(k, mx, inf))
    return 0


@syscall("getrlimit", "uint", "ptr", also=("ugetrlimit",))
def getrlimit(k: Any, res: int, rlim: int) -> int:
    """int getrlimit(int resource, struct rlimit *rlim);"""
    cur, mx = _get_limits(0, _resource(k, res))
    inf = k.abi.const["RLIM_INFINITY"]
    write_struct(k, rlim, "rlimit", rlim_cur=_to_guest_limit(k, cur, inf),
                 rlim_max=_to_guest_limit(k, mx, inf))
    return 0


@syscall("setrlimit", "uint", "ptr")
def setrlimit(k: Any, res: int, rlim: int) -> int:
    """int setrlimit(int resource, const struct rlimit *rlim);"""
    r = read_struct(k, rlim, "rlimit")
    inf = k.abi.const["RLIM_INFINITY"]
    _set_limits(0, _resource(k, res), (_to_host_limit(r["rlim_cur"], inf),
                                       _to_host_limit(r["rlim_max"], inf)))
    return 0


# -- system information ----------------------------------------------------------------------
@syscall("sysinfo", "ptr")
def sysinfo(k: Any, info: int) -> int:
    """int sysinfo(struct sysinfo *info);"""
    meminfo = _meminfo()
    with open("/proc/uptime") as f:
        uptime = int(float(f.read().split()[0]))
    loads = [int(x * 65536) for x in os.getloadavg()]
    values = {"totalram": meminfo.get("MemTotal", 0), "freeram": meminfo.get("MemFree", 0),
              "sharedram": meminfo.get("Shmem", 0), "bufferram": meminfo.get("Buffers", 0),
              "totalswap": meminfo.get("SwapTotal", 0), "freeswap": meminfo.get("SwapFree", 0)}
    unit = 1
    limit = k.abi.word_mask
    while max(values.values()) // unit > limit:
        unit *= 2
    values = {key: v // unit for key, v in values.items()}
    write_struct(k, info, "sysinfo", values, uptime=uptime, loads=loads, procs=_procs(),
                 mem_unit=unit)
    return 0


def _meminfo() -> dict[str, int]:
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            out[key] = int(rest.split()[0]) * 1024
    return out


def _procs() -> int:
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


@syscall("sched_getaffinity", "int", "uint", "ptr")
def sched_getaffinity(k: Any, pid: int, size: int, mask: int) -> int:
    """int sched_getaffinity(pid_t pid, size_t cpusetsize, cpu_set_t *mask);"""
    cpus = os.sched_getaffinity(pid)
    word = k.abi.word_size
    nbytes = -(-(max(cpus) + 1) // (8 * word)) * word
    if size < nbytes or size % word:
        raise fail(errno.EINVAL)
    bits = sum(1 << c for c in cpus)
    out = b"".join(((bits >> (8 * word * i)) & k.abi.word_mask).to_bytes(word, k.abi.byteorder)
                   for i in range(nbytes // word))
    k.space.write(mask, out)
    return nbytes


@syscall("sched_yield")
def sched_yield(k: Any) -> int:
    """int sched_yield(void);"""
    return 0


@syscall("getrandom", "ptr", "size", "uint")
def getrandom(k: Any, buf: int, length: int, flags: int) -> int:
    """ssize_t getrandom(void *buf, size_t buflen, unsigned int flags);"""
    length = min(length, 1 << 25)
    k.space.write(buf, k.random_bytes(length))
    return length


@syscall("personality", "uint")
def personality(k: Any, persona: int) -> int:
    """int personality(unsigned long persona);  (always PER_LINUX)"""
    return 0
