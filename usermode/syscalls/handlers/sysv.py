"""SysV IPC: shared memory, semaphores, message queues, and MIPS's ``ipc`` multiplexer.

The objects are the host kernel's (as with qemu-user): ids, keys, permissions and blocking are
the host's, and other processes (guest or not) share them. ``shmat`` attaches the segment on the
host and maps that very memory into the guest (``AddressSpace.map_existing``), so a fork's child
and other processes see the same bytes; detaching unmaps it, which detaches on the host too.

What differs per ABI is data: the struct layouts (``layouts.py``, including the old structs a
32-bit ABI's *ctl commands mean without IPC_64, ``AbiSpec.ipc_old_structs``), the segment
alignment (``AbiSpec.shmlba``) and the message type's width (the ABI's long). Command numbers
and IPC_*/SHM_*/SEM_*/MSG_* flags come from linux/ipc.h, shm.h, sem.h, msg.h, which have no
per-arch part: they pass to the host as they are.
"""
from __future__ import annotations

import errno
import os
import sys
from typing import Any

from ...translate.memory import PAGE_SIZE, page_ceil
from .. import hostlib, layouts, state
from ..registry import syscall
from ..structs import Layout
from .common import (fail, host_wait, kernel_nsec, read_struct, read_word, write_struct,
                     write_word)

# The host's structs (layouts.host_decls: a 64-bit host's, generic but for its arch's own).
_HOST_DECLS = layouts.host_decls(os.uname().machine)
_HOST: dict[str, Layout] = {}


def _host(name: str) -> Layout:
    layout = _HOST.get(name)
    if layout is None:
        layout = _HOST[name] = Layout(name, _HOST_DECLS[name], 8, sys.byteorder)
    return layout


_IDS = ("perm_uid", "perm_gid", "perm_cuid", "perm_cgid")


def _to_guest(k: Any, values: dict[str, int], name: str) -> dict[str, int]:
    """A host struct's fields as the guest's struct ``name`` holds them: times split into
    low/_high words where the guest has _high fields, ids that do not fit (16-bit) become the
    overflow id 65534, anything else is truncated to the field as the kernel's copies do."""
    layout = k.abi.structs[name]
    names = {f.name for f in layout.fields}
    out: dict[str, int] = {}
    for f in layout.fields:
        if f.name.endswith("_high"):
            out[f.name] = values.get(f.name[:-5], 0) >> 32
        elif f.name in values:
            value = values[f.name]
            if f.name + "_high" in names:
                value &= 0xFFFFFFFF
            elif f.name in _IDS and value >> (8 * f.size):
                value = 65534
            out[f.name] = value
    return out


def _version(k: Any, cmd: int) -> tuple[int, bool]:
    """(the command without IPC_64, whether the old structs are meant)."""
    if k.abi.spec.ipc_old_structs:
        ipc64 = k.abi.const["IPC_64"]
        return cmd & ~ipc64, not cmd & ipc64
    return cmd, False


def _commands(k: Any, *names: str) -> set[int]:
    return {k.abi.const[n] for n in names}


def _ctl(k: Any, kind: str, ident: int, cmd: int, buf: int, old: bool,
         info_layouts: dict[str, str]) -> int:
    """shmctl/msgctl: STAT-like commands copy the host struct out, IPC_SET copies the settable
    fields in, the INFO commands copy their info struct out, the rest take no buffer."""
    c = k.abi.const
    ds = f"{kind}id_ds" if old else f"{kind}id64_ds"
    host_ds = _host(f"{kind}id64_ds")
    which = "shm" if kind == "shm" else "msg"
    prefix = "SHM" if kind == "shm" else "MSG"
    if cmd in _commands(k, "IPC_STAT", f"{prefix}_STAT", f"{prefix}_STAT_ANY"):
        result, raw = hostlib.ipc_ctl(which, ident, cmd, None, host_ds.size)
        write_struct(k, buf, ds, _to_guest(k, host_ds.unpack(raw), ds))
        return result
    if cmd == c["IPC_SET"]:
        guest = read_struct(k, buf, ds)
        _, raw = hostlib.ipc_ctl(which, ident, c["IPC_STAT"], None, host_ds.size)
        current = host_ds.unpack(raw)
        for f in ("perm_uid", "perm_gid", "perm_mode", "msg_qbytes"):
            if f in guest and f in current:
                current[f] = guest[f]
        return hostlib.ipc_ctl(which, ident, cmd, host_ds.pack(current))[0]
    info = info_layouts.get(next((n for n in info_layouts if c[n] == cmd), ""), None)
    if info is not None:
        host_info = _host("shminfo64" if info == "shminfo" else info)   # the host's is 64
        result, raw = hostlib.ipc_ctl(which, ident, cmd, None, host_info.size)
        write_struct(k, buf, info, _to_guest(k, host_info.unpack(raw), info))
        return result
    return hostlib.ipc_ctl(which, ident, cmd, None, 8)[0]


# -- shared memory ---------------------------------------------------------------------------
@syscall("shmget", "int", "size", "int")
def shmget(k: Any, key: int, size: int, flags: int) -> int:
    """int shmget(key_t key, size_t size, int shmflg);"""
    return hostlib.shmget(key, size, flags)


def _shmat(k: Any, shmid: int, addr: int, flags: int) -> int:
    c = k.abi.const
    shmlba = k.abi.spec.shmlba
    if addr:
        if addr % shmlba:
            if not flags & c["SHM_RND"]:
                raise fail(errno.EINVAL)
            addr -= addr % shmlba
            if not addr and flags & c["SHM_REMAP"]:
                raise fail(errno.EINVAL)
    elif flags & c["SHM_REMAP"]:
        raise fail(errno.EINVAL)
    stat = _host("shmid64_ds").unpack(hostlib.ipc_ctl("shm", shmid, c["IPC_STAT"], None,
                                                      _host("shmid64_ds").size)[1])
    size = page_ceil(stat["shm_segsz"])
    if addr:
        if not flags & c["SHM_REMAP"] and not k.space.is_free(addr, size):
            raise fail(errno.EINVAL)
        if addr + size > k.space.limit:
            raise fail(errno.EINVAL)
        start = addr
    else:
        start = k.space.find_free(size)
        if start is None:
            raise fail(errno.ENOMEM)
    readonly = flags & c["SHM_RDONLY"]
    host_flags = (hostlib.SHM_RDONLY if readonly else 0) | (
        hostlib.SHM_EXEC if flags & c["SHM_EXEC"] else 0)
    host = hostlib.shmat(shmid, host_flags, k.space.host_slot(start))
    prot = 1 | (0 if readonly else 2) | (4 if flags & c["SHM_EXEC"] else 0)
    name = f"/SYSV{stat['perm_key'] & 0xFFFFFFFF:08x} (deleted)"
    k.space.map_existing(start, size, prot, host, name=name, inode=shmid, shared=True,
                         max_prot=prot)
    state.of(k).shm[start] = size
    return start


@syscall("shmat", "int", "ptr", "int", ret="x")
def shmat(k: Any, shmid: int, addr: int, flags: int) -> int:
    """void *shmat(int shmid, const void *shmaddr, int shmflg);"""
    return _shmat(k, shmid, addr, flags)


@syscall("shmdt", "ptr")
def shmdt(k: Any, addr: int) -> int:
    """int shmdt(const void *shmaddr);  (the segment attached at addr: what of it is still
    mapped as that segment is unmapped, which detaches it on the host)"""
    size = state.of(k).shm.pop(addr, None) if addr % PAGE_SIZE == 0 else None
    if size is None:
        raise fail(errno.EINVAL)
    first = k.space.find(addr)
    name = first.name if first is not None else None
    for vma in list(k.space.vmas()):
        if vma.start < addr + size and vma.end > addr and vma.name == name:
            lo, hi = max(vma.start, addr), min(vma.end, addr + size)
            k.space.unmap(lo, hi - lo)
    return 0


def _shmctl(k: Any, shmid: int, cmd: int, buf: int) -> int:
    cmd, old = _version(k, cmd)
    return _ctl(k, "shm", shmid, cmd, buf, old,
                {"IPC_INFO": "shminfo" if old else "shminfo64", "SHM_INFO": "shm_info"})


@syscall("shmctl", "int", "int", "ptr")
def shmctl(k: Any, shmid: int, cmd: int, buf: int) -> int:
    """int shmctl(int shmid, int cmd, struct shmid_ds *buf);"""
    return _shmctl(k, shmid, cmd, buf)


# -- semaphores ------------------------------------------------------------------------------
@syscall("semget", "int", "int", "int")
def semget(k: Any, key: int, nsems: int, flags: int) -> int:
    """int semget(key_t key, int nsems, int semflg);"""
    return hostlib.semget(key, nsems, flags)


def _semtimedop(k: Any, semid: int, sops: int, nsops: int, timeout: int,
                layout: str | None) -> int:
    if nsops <= 0:
        raise fail(errno.EINVAL)
    if nsops > _semopm():               # before reading the operations, as the kernel does
        raise fail(errno.E2BIG)
    guest = k.abi.structs["sembuf"]
    host = _host("sembuf")
    raw = k.space.read(sops, guest.size * nsops)
    ops = b"".join(host.pack(guest.unpack(raw[i * guest.size:(i + 1) * guest.size]))
                   for i in range(nsops))
    limit = None
    if timeout and layout:
        t = read_struct(k, timeout, layout)
        limit = (t["tv_sec"], kernel_nsec(k, t["tv_nsec"]))
    host_wait(k, lambda: hostlib.semtimedop(semid, ops, nsops, limit))
    return 0


def _semopm() -> int:
    """The host's limit on operations per semop (kernel.sem's third field)."""
    with open("/proc/sys/kernel/sem") as f:
        return int(f.read().split()[2])


@syscall("semop", "int", "ptr", "uint")
def semop(k: Any, semid: int, sops: int, nsops: int) -> int:
    """int semop(int semid, struct sembuf *sops, size_t nsops);"""
    return _semtimedop(k, semid, sops, nsops, 0, None)


@syscall("semtimedop", "int", "ptr", "uint", "ptr")
def semtimedop(k: Any, semid: int, sops: int, nsops: int, timeout: int) -> int:
    """int semtimedop(int semid, struct sembuf *sops, size_t nsops,
    const struct timespec *timeout);"""
    return _semtimedop(k, semid, sops, nsops, timeout, "timespec")


@syscall("semtimedop_time64", "int", "ptr", "uint", "ptr")
def semtimedop_time64(k: Any, semid: int, sops: int, nsops: int, timeout: int) -> int:
    """int semtimedop_time64(int semid, struct sembuf *sops, size_t nsops,
    const struct __kernel_timespec *timeout);"""
    return _semtimedop(k, semid, sops, nsops, timeout, "timespec64")


def _semctl(k: Any, semid: int, semnum: int, cmd: int, arg: int) -> int:
    """semctl: ``arg`` is the union semun as the guest passed it (a word)."""
    cmd, old = _version(k, cmd)
    c = k.abi.const
    ds = "semid_ds" if old else "semid64_ds"
    host_ds = _host("semid64_ds")
    if cmd in _commands(k, "IPC_STAT", "SEM_STAT", "SEM_STAT_ANY"):
        result, raw = hostlib.semctl(semid, semnum, cmd, None, host_ds.size)
        write_struct(k, arg, ds, _to_guest(k, host_ds.unpack(raw), ds))
        return result
    if cmd == c["IPC_SET"]:
        guest = read_struct(k, arg, ds)
        _, raw = hostlib.semctl(semid, 0, c["IPC_STAT"], None, host_ds.size)
        current = host_ds.unpack(raw)
        for f in ("perm_uid", "perm_gid", "perm_mode"):
            current[f] = guest[f]
        return hostlib.semctl(semid, semnum, cmd, host_ds.pack(current))[0]
    if cmd in _commands(k, "IPC_INFO", "SEM_INFO"):
        result, raw = hostlib.semctl(semid, semnum, cmd, None, _host("seminfo").size)
        write_struct(k, arg, "seminfo", _host("seminfo").unpack(raw))
        return result
    if cmd in _commands(k, "GETALL", "SETALL"):
        _, raw = hostlib.semctl(semid, 0, c["IPC_STAT"], None, host_ds.size)
        nsems = host_ds.unpack(raw)["sem_nsems"]
        if cmd == c["GETALL"]:
            _, values = hostlib.semctl(semid, semnum, cmd, None, 2 * nsems)
            k.space.write(arg, b"".join(int.from_bytes(values[i:i + 2], sys.byteorder)
                                        .to_bytes(2, k.abi.byteorder)
                                        for i in range(0, 2 * nsems, 2)))
            return 0
        raw = k.space.read(arg, 2 * nsems)
        values = b"".join(int.from_bytes(raw[i:i + 2], k.abi.byteorder)
                          .to_bytes(2, sys.byteorder) for i in range(0, 2 * nsems, 2))
        return hostlib.semctl(semid, semnum, cmd, values)[0]
    if cmd == c["SETVAL"]:
        return hostlib.semctl(semid, semnum, cmd, k.abi.int32(arg))[0]
    return hostlib.semctl(semid, semnum, cmd, 0)[0]


@syscall("semctl", "int", "int", "int", "ulong")
def semctl(k: Any, semid: int, semnum: int, cmd: int, arg: int) -> int:
    """int semctl(int semid, int semnum, int cmd, union semun arg);"""
    return _semctl(k, semid, semnum, cmd, arg)


# -- message queues --------------------------------------------------------------------------
@syscall("msgget", "int", "int")
def msgget(k: Any, key: int, flags: int) -> int:
    """int msgget(key_t key, int msgflg);"""
    return hostlib.msgget(key, flags)


def _msgsnd(k: Any, msqid: int, msgp: int, size: int, flags: int) -> int:
    if size < 0:
        raise fail(errno.EINVAL)
    word = k.abi.word_size
    mtype = read_word(k, msgp)
    if mtype >> (8 * word - 1):
        mtype -= 1 << (8 * word)
    text = k.space.read(msgp + word, size)
    host_wait(k, lambda: hostlib.msgsnd(msqid, mtype, text, flags))
    return 0


@syscall("msgsnd", "int", "ptr", "ssize", "int")
def msgsnd(k: Any, msqid: int, msgp: int, size: int, flags: int) -> int:
    """int msgsnd(int msqid, const void *msgp, size_t msgsz, int msgflg);
    (struct msgbuf: the ABI's long mtype, then the text)"""
    return _msgsnd(k, msqid, msgp, size, flags)


def _msgrcv(k: Any, msqid: int, msgp: int, size: int, msgtyp: int, flags: int) -> int:
    if size < 0:
        raise fail(errno.EINVAL)
    k.space.views(msgp, k.abi.word_size + size, write=True)    # EFAULT before receiving
    mtype, text = host_wait(k, lambda: hostlib.msgrcv(msqid, size, msgtyp, flags))
    write_word(k, msgp, mtype)
    k.space.write(msgp + k.abi.word_size, text)
    return len(text)


@syscall("msgrcv", "int", "ptr", "ssize", "long", "int")
def msgrcv(k: Any, msqid: int, msgp: int, size: int, msgtyp: int, flags: int) -> int:
    """ssize_t msgrcv(int msqid, void *msgp, size_t msgsz, long msgtyp, int msgflg);"""
    return _msgrcv(k, msqid, msgp, size, msgtyp, flags)


def _msgctl(k: Any, msqid: int, cmd: int, buf: int) -> int:
    cmd, old = _version(k, cmd)
    return _ctl(k, "msq", msqid, cmd, buf, old, {"IPC_INFO": "msginfo", "MSG_INFO": "msginfo"})


@syscall("msgctl", "int", "int", "ptr")
def msgctl(k: Any, msqid: int, cmd: int, buf: int) -> int:
    """int msgctl(int msqid, int cmd, struct msqid_ds *buf);"""
    return _msgctl(k, msqid, cmd, buf)


# -- MIPS o32's multiplexer ------------------------------------------------------------------
@syscall("ipc", "uint", "int", "ulong", "ulong", "ptr", "long")
def ipc(k: Any, call: int, first: int, second: int, third: int, ptr: int, fifth: int) -> int:
    """int ipc(unsigned int call, int first, unsigned long second, unsigned long third,
    void *ptr, long fifth);  (ipc/syscall.c: the call number's high 16 bits are a version)"""
    c = k.abi.const
    version, call = call >> 16, call & 0xFFFF
    i32 = k.abi.int32
    size = second - (1 << 8 * k.abi.word_size) if second >> (8 * k.abi.word_size - 1) else second
    if call == c["SEMOP"]:
        return _semtimedop(k, first, ptr, second, 0, None)
    if call == c["SEMTIMEDOP"]:
        return _semtimedop(k, first, ptr, second, fifth, "timespec")
    if call == c["SEMGET"]:
        return hostlib.semget(first, i32(second), i32(third))
    if call == c["SEMCTL"]:
        if not ptr:
            raise fail(errno.EINVAL)
        return _semctl(k, first, i32(second), i32(third), read_word(k, ptr))
    if call == c["MSGSND"]:
        return _msgsnd(k, first, ptr, size, i32(third))
    if call == c["MSGRCV"]:
        if version == 0:
            if not ptr:
                raise fail(errno.EINVAL)
            kludge = read_struct(k, ptr, "ipc_kludge")
            return _msgrcv(k, first, kludge["msgp"], size, kludge["msgtyp"], i32(third))
        return _msgrcv(k, first, ptr, size, fifth, i32(third))
    if call == c["MSGGET"]:
        return hostlib.msgget(first, i32(second))
    if call == c["MSGCTL"]:
        return _msgctl(k, first, i32(second), ptr)
    if call == c["SHMAT"]:
        if version == 1:            # the iBCS2 form, never for user space
            raise fail(errno.EINVAL)
        write_word(k, third, _shmat(k, first, ptr, i32(second)))
        return 0
    if call == c["SHMDT"]:
        return shmdt(k, ptr)
    if call == c["SHMGET"]:
        return hostlib.shmget(first, second, i32(third))
    if call == c["SHMCTL"]:
        return _shmctl(k, first, i32(second), ptr)
    raise fail(errno.ENOSYS)
