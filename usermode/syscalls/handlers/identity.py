"""Identity, scheduling and limits: resource usage, scheduler policy and parameters, CPU
affinity and the current CPU, priorities, fs ids, supplementary groups, capabilities, prctl.

The guest process is the pyemu host process (as with qemu-user), so these act on it: what the
guest's kernel would do to its process, the host's does to pyemu. Policies, priority kinds and
RUSAGE_* are translated by name; linux/prctl.h and linux/capability.h have no per-arch part, so
prctl options and capability versions are the host's numbers as well.
"""
from __future__ import annotations

import errno
import functools
import os
import resource
from typing import Any

from .. import hostlib, state
from ..registry import syscall
from .common import fail, read_struct, write_struct, write_word
from .fsmeta import host_id

_NS = 1_000_000_000


# -- resource usage --------------------------------------------------------------------------
def rusage_fields(u: Any) -> dict[str, int]:
    """A host resource.struct_rusage as the fields of the guest's struct rusage."""
    out = {f"ru_{n}": getattr(u, f"ru_{n}") for n in (
        "maxrss", "ixrss", "idrss", "isrss", "minflt", "majflt", "nswap", "inblock", "oublock",
        "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw")}
    for name in ("utime", "stime"):
        usec = round(getattr(u, f"ru_{name}") * 1_000_000)
        out[f"ru_{name}_sec"], out[f"ru_{name}_usec"] = divmod(usec, 1_000_000)
    return out


@syscall("getrusage", "int", "ptr")
def getrusage(k: Any, who: int, usage: int) -> int:
    """int getrusage(int who, struct rusage *usage);"""
    host = next((getattr(resource, n) for n in ("RUSAGE_SELF", "RUSAGE_CHILDREN",
                                                 "RUSAGE_THREAD")
                 if k.abi.const[n] == who), None)
    if host is None:
        raise fail(errno.EINVAL)
    write_struct(k, usage, "rusage", rusage_fields(resource.getrusage(host)))
    return 0


# -- scheduler -------------------------------------------------------------------------------
_POLICIES = ("SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE")


@functools.cache
def _policies(abi: Any) -> dict[int, int]:
    """guest policy -> host policy (SCHED_OTHER is the uapi's SCHED_NORMAL)."""
    names = {"SCHED_OTHER": "SCHED_NORMAL"}
    return {abi.const[names.get(n, n)]: getattr(os, n) for n in _POLICIES}


def _policy_to_host(k: Any, policy: int) -> int:
    reset = k.abi.const["SCHED_RESET_ON_FORK"]
    host = _policies(k.abi).get(policy & ~reset)
    if host is None or policy < 0:
        raise fail(errno.EINVAL)
    return host | (os.SCHED_RESET_ON_FORK if policy & reset else 0)


def _check_pid(pid: int) -> int:
    if pid < 0:
        raise fail(errno.EINVAL)
    return pid


@syscall("sched_getparam", "int", "ptr")
def sched_getparam(k: Any, pid: int, param: int) -> int:
    """int sched_getparam(pid_t pid, struct sched_param *param);"""
    if param == 0:
        raise fail(errno.EINVAL)
    prio = os.sched_getparam(_check_pid(pid)).sched_priority
    write_struct(k, param, "sched_param", sched_priority=prio)
    return 0


@syscall("sched_setparam", "int", "ptr")
def sched_setparam(k: Any, pid: int, param: int) -> int:
    """int sched_setparam(pid_t pid, const struct sched_param *param);"""
    if param == 0:
        raise fail(errno.EINVAL)
    prio = read_struct(k, param, "sched_param")["sched_priority"]
    os.sched_setparam(_check_pid(pid), os.sched_param(prio))
    return 0


@syscall("sched_getscheduler", "int")
def sched_getscheduler(k: Any, pid: int) -> int:
    """int sched_getscheduler(pid_t pid);"""
    host = os.sched_getscheduler(_check_pid(pid))
    reset = host & os.SCHED_RESET_ON_FORK
    back = {h: g for g, h in _policies(k.abi).items()}
    return back[host & ~os.SCHED_RESET_ON_FORK] | (k.abi.const["SCHED_RESET_ON_FORK"]
                                                    if reset else 0)


@syscall("sched_setscheduler", "int", "int", "ptr")
def sched_setscheduler(k: Any, pid: int, policy: int, param: int) -> int:
    """int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param);"""
    if param == 0:
        raise fail(errno.EINVAL)
    prio = read_struct(k, param, "sched_param")["sched_priority"]
    os.sched_setscheduler(_check_pid(pid), _policy_to_host(k, policy), os.sched_param(prio))
    return 0


@syscall("sched_get_priority_max", "int")
def sched_get_priority_max(k: Any, policy: int) -> int:
    """int sched_get_priority_max(int policy);"""
    host = _policies(k.abi).get(policy)
    if host is None:
        raise fail(errno.EINVAL)
    return os.sched_get_priority_max(host)


@syscall("sched_get_priority_min", "int")
def sched_get_priority_min(k: Any, policy: int) -> int:
    """int sched_get_priority_min(int policy);"""
    host = _policies(k.abi).get(policy)
    if host is None:
        raise fail(errno.EINVAL)
    return os.sched_get_priority_min(host)


def _rr_interval(k: Any, pid: int, tp: int, layout: str) -> int:
    ns = round(os.sched_rr_get_interval(_check_pid(pid)) * _NS)
    sec, nsec = divmod(ns, _NS)
    write_struct(k, tp, layout, tv_sec=sec, tv_nsec=nsec)
    return 0


@syscall("sched_rr_get_interval", "int", "ptr")
def sched_rr_get_interval(k: Any, pid: int, tp: int) -> int:
    """int sched_rr_get_interval(pid_t pid, struct timespec *tp);"""
    return _rr_interval(k, pid, tp, "timespec")


@syscall("sched_rr_get_interval_time64", "int", "ptr")
def sched_rr_get_interval_time64(k: Any, pid: int, tp: int) -> int:
    """int sched_rr_get_interval_time64(pid_t pid, struct __kernel_timespec *tp);"""
    return _rr_interval(k, pid, tp, "timespec64")


@syscall("sched_setaffinity", "int", "uint", "ptr")
def sched_setaffinity(k: Any, pid: int, size: int, mask: int) -> int:
    """int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);
    (the mask is an array of the ABI's words, in its byte order)"""
    word = k.abi.word_size
    size = min(size, 1024 // 8) // word * word      # the kernel reads whole words it knows
    raw = k.space.read(mask, size)
    bits = sum(int.from_bytes(raw[i:i + word], k.abi.byteorder) << (8 * i)
               for i in range(0, size, word))
    cpus = {cpu for cpu in range(8 * size) if bits >> cpu & 1}
    usable = cpus & set(range(os.cpu_count() or 1))
    if not usable:
        raise fail(errno.EINVAL)
    os.sched_setaffinity(_check_pid(pid), usable)
    return 0


@syscall("getcpu", "ptr", "ptr", "ptr")
def getcpu(k: Any, cpu: int, node: int, tcache: int) -> int:
    """int getcpu(unsigned int *cpu, unsigned int *node, struct getcpu_cache *tcache);"""
    host_cpu, host_node = hostlib.getcpu()
    if cpu:
        write_word(k, cpu, host_cpu, 4)
    if node:
        write_word(k, node, host_node, 4)
    return 0


# -- priorities ------------------------------------------------------------------------------
def _which(k: Any, which: int) -> int:
    host = next((getattr(os, n) for n in ("PRIO_PROCESS", "PRIO_PGRP", "PRIO_USER")
                 if k.abi.const[n] == which), None)
    if host is None:
        raise fail(errno.EINVAL)
    return host


@syscall("getpriority", "int", "int")
def getpriority(k: Any, which: int, who: int) -> int:
    """int getpriority(int which, id_t who);  (the syscall returns 20 - nice, never negative)"""
    return 20 - os.getpriority(_which(k, which), who)


@syscall("setpriority", "int", "int", "int")
def setpriority(k: Any, which: int, who: int, prio: int) -> int:
    """int setpriority(int which, id_t who, int prio);"""
    os.setpriority(_which(k, which), who, max(-20, min(19, prio)))
    return 0


@syscall("nice", "int")
def nice(k: Any, inc: int) -> int:
    """int nice(int inc);  (the syscall returns 0, not the new value)"""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(-20, min(19, current + max(-40, min(40, inc)))))
    return 0


# -- fs ids and supplementary groups -----------------------------------------------------------
def _fs_id(name: str, host_call: Any) -> None:
    for call in (name, name + "32"):
        def handler(k: Any, ident: int, call: str = call) -> int:
            old = host_call(host_id(k, call, ident))
            limit = 0xFFFF if call + "32" in k.abi.syscalls.values() else 0xFFFFFFFF
            return old if old <= limit else 65534      # overflowuid, as high2lowuid does
        handler.__name__ = handler.__qualname__ = call
        handler.__doc__ = f"int {call}(uid_t id);  (returns the previous value)"
        syscall(call, "uint")(handler)


_fs_id("setfsuid", hostlib.setfsuid)
_fs_id("setfsgid", hostlib.setfsgid)


def _gid_size(k: Any, call: str) -> int:
    """Bytes per gid in the list: 2 for ARM's 16-bit calls (those with a *32 twin)."""
    return 2 if call + "32" in k.abi.syscalls.values() else 4


def _groups_calls(call: str) -> None:
    get, put = call.replace("X", "get"), call.replace("X", "set")

    def getgroups(k: Any, size: int, groups: int) -> int:
        """int getgroups(int size, gid_t list[]);"""
        ids = os.getgroups()
        if size < 0:
            raise fail(errno.EINVAL)
        if size == 0:
            return len(ids)
        if size < len(ids):
            raise fail(errno.EINVAL)
        width = _gid_size(k, get)
        limit = (1 << (8 * width)) - 1
        k.space.write(groups, b"".join((g if g <= limit else 65534).to_bytes(   # overflowgid
            width, k.abi.byteorder) for g in ids))
        return len(ids)

    def setgroups(k: Any, size: int, groups: int) -> int:
        """int setgroups(size_t size, const gid_t *list);"""
        if size < 0 or size > 65536:
            raise fail(errno.EINVAL)
        width = _gid_size(k, put)
        raw = k.space.read(groups, width * size) if size else b""
        os.setgroups([int.from_bytes(raw[i:i + width], k.abi.byteorder)
                      for i in range(0, len(raw), width)])
        return 0

    getgroups.__name__ = getgroups.__qualname__ = get
    setgroups.__name__ = setgroups.__qualname__ = put
    syscall(get, "int", "ptr")(getgroups)
    syscall(put, "int", "ptr")(setgroups)


_groups_calls("Xgroups")
_groups_calls("Xgroups32")


# -- capabilities ----------------------------------------------------------------------------
def _cap_words(k: Any, header: int) -> int:
    """How many cap_user_data structs the header's version means; a bad version is reported
    back (the kernel's preferred version is written) as EINVAL."""
    c = k.abi.const
    version = read_struct(k, header, "cap_user_header")["version"]
    words = {c["_LINUX_CAPABILITY_VERSION_1"]: c["_LINUX_CAPABILITY_U32S_1"],
             c["_LINUX_CAPABILITY_VERSION_2"]: c["_LINUX_CAPABILITY_U32S_2"],
             c["_LINUX_CAPABILITY_VERSION_3"]: c["_LINUX_CAPABILITY_U32S_3"]}.get(version)
    if words is None:
        write_word(k, header, c["_LINUX_CAPABILITY_VERSION_3"], 4)
        raise fail(errno.EINVAL)
    return words


@syscall("capget", "ptr", "ptr")
def capget(k: Any, header: int, data: int) -> int:
    """int capget(cap_user_header_t hdrp, cap_user_data_t datap);  (a NULL datap probes: a bad
    version is then 0, with the preferred version written back)"""
    try:
        words = _cap_words(k, header)
    except OSError as err:
        if err.errno == errno.EINVAL and not data:
            return 0
        raise
    pid = read_struct(k, header, "cap_user_header")["pid"]
    if pid < 0:
        raise fail(errno.EINVAL)
    if not data:
        return 0
    sets = hostlib.capget(k.abi.const["_LINUX_CAPABILITY_VERSION_3"], pid)
    size = k.abi.structs["cap_user_data"].size
    for i in range(words):
        write_struct(k, data + i * size, "cap_user_data", effective=sets[i][0],
                     permitted=sets[i][1], inheritable=sets[i][2])
    return 0


@syscall("capset", "ptr", "ptr")
def capset(k: Any, header: int, data: int) -> int:
    """int capset(cap_user_header_t hdrp, const cap_user_data_t datap);"""
    words = _cap_words(k, header)
    pid = read_struct(k, header, "cap_user_header")["pid"]
    if pid not in (0, k.process.ids.pid):
        raise fail(errno.EPERM)
    size = k.abi.structs["cap_user_data"].size
    sets = []
    for i in range(2):
        d = read_struct(k, data + i * size, "cap_user_data") if i < words else {}
        sets.append((d.get("effective", 0), d.get("permitted", 0), d.get("inheritable", 0)))
    hostlib.capset(k.abi.const["_LINUX_CAPABILITY_VERSION_3"], 0, sets)
    return 0


# -- prctl -----------------------------------------------------------------------------------
def _set_name(k: Any, addr: int) -> int:
    try:
        name = k.space.read_cstr(addr, 16)
    except OSError:                   # no NUL in the first 16 bytes: the kernel keeps 15
        name = k.space.read(addr, 15)
    name = name[:15]
    state.of(k).comm = name
    hostlib.prctl(k.abi.const["PR_SET_NAME"], hostlib.buffer_address(name + b"\0"))
    return 0


def _get_name(k: Any, addr: int) -> int:
    k.space.write(addr, state.of(k).comm.ljust(16, b"\0"))
    return 0


def _set_pdeathsig(k: Any, sig: int) -> int:
    if not 0 <= sig <= k.abi.nsig:
        raise fail(errno.EINVAL)
    host = k.abi.signal_to_host(sig) if sig else 0
    hostlib.prctl(k.abi.const["PR_SET_PDEATHSIG"], host or 0)
    state.of(k).pdeathsig = sig
    return 0


def _int_out(k: Any, addr: int, value: int) -> int:
    write_word(k, addr, value, 4)
    return 0


@syscall("prctl", "int", "ulong", "ulong", "ulong", "ulong")
def prctl(k: Any, option: int, arg2: int, arg3: int, arg4: int, arg5: int) -> int:
    """int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
    unsigned long arg5);  (the name and parent-death signal are kept for the guest and set on
    the host too; dumpable, no_new_privs, keepcaps, the child subreaper and the bounding set
    are the process's, i.e. pyemu's: credential changes reset dumpable there, as the kernel
    does; other options: EINVAL)"""
    c = k.abi.const
    st = state.of(k)
    if option == c["PR_SET_NAME"]:
        return _set_name(k, arg2)
    if option == c["PR_GET_NAME"]:
        return _get_name(k, arg2)
    if option == c["PR_SET_PDEATHSIG"]:
        return _set_pdeathsig(k, arg2)
    if option == c["PR_GET_PDEATHSIG"]:
        return _int_out(k, arg2, st.pdeathsig)
    if option in (c["PR_SET_DUMPABLE"], c["PR_GET_DUMPABLE"], c["PR_SET_NO_NEW_PRIVS"],
                  c["PR_GET_NO_NEW_PRIVS"], c["PR_GET_KEEPCAPS"],
                  c["PR_SET_KEEPCAPS"], c["PR_CAPBSET_READ"], c["PR_SET_CHILD_SUBREAPER"]):
        return hostlib.prctl(option, arg2, arg3, arg4, arg5)
    if option == c["PR_GET_CHILD_SUBREAPER"]:
        return _int_out(k, arg2, hostlib.prctl_int_out(option))
    raise fail(errno.EINVAL)


# -- host names: refused ---------------------------------------------------------------------
@syscall("sethostname", "ptr", "size", refused=True)
def sethostname(k: Any, name: int, length: int) -> int:
    """int sethostname(const char *name, size_t len);  (EPERM: CAP_SYS_ADMIN is never granted;
    pyemu does not rename the host)"""
    raise fail(errno.EPERM)


@syscall("setdomainname", "ptr", "size", refused=True)
def setdomainname(k: Any, name: int, length: int) -> int:
    """int setdomainname(const char *name, size_t len);  (EPERM, as sethostname)"""
    raise fail(errno.EPERM)
