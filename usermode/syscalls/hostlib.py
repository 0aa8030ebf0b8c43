"""The few host libc calls Python's os module does not offer, through ctypes."""
from __future__ import annotations

import ctypes
import errno
import os
import sys
import time
from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)
_libc.getdents64.restype = ctypes.c_ssize_t
_libc.getdents64.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
_libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                            ctypes.c_uint]
_libc.faccessat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

# host constants Python's modules do not export (the generic Linux values of a 64-bit host)
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = 0x100, 0x400, 0x1000
MADV_DONTNEED = 4
F_SETOWN_EX, F_GETOWN_EX = 15, 16
TIOCGPTN, TIOCSPTLCK = 0x80045430, 0x40045431       # _IOR/_IOW('T', 0x30/0x31, int)
TIOCGSID, TIOCGPTPEER = 0x5429, 0x5441               # not in Python's termios


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def getdents64(fd: int, size: int) -> bytes:
    """Raw host linux_dirent64 records (at most ``size`` bytes)."""
    buf = ctypes.create_string_buffer(size)
    n = _check(_libc.getdents64(fd, buf, size))
    return buf.raw[:n]


def renameat2(olddir: int | None, old: bytes, newdir: int | None, new: bytes, flags: int) -> None:
    _check(_libc.renameat2(AT_FDCWD if olddir is None else olddir, old,
                           AT_FDCWD if newdir is None else newdir, new, flags))


def faccessat(dirfd: int | None, path: bytes, mode: int, flags: int) -> None:
    _check(_libc.faccessat(AT_FDCWD if dirfd is None else dirfd, path, mode, flags))


def madvise_dontneed(host_ptr: int, size: int) -> None:
    _check(_libc.madvise(host_ptr, size, MADV_DONTNEED))


_libc.statfs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
_libc.fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]


def statfs(target: bytes | int) -> dict[str, int]:
    """The host's struct statfs for a path or an fd (64-bit host: the generic layout)."""
    from .layouts import GENERIC_STATFS
    from .structs import Layout

    layout = Layout("statfs", GENERIC_STATFS, 8, "little")
    buf = ctypes.create_string_buffer(layout.size)
    if isinstance(target, int):
        _check(_libc.fstatfs(target, buf))
    else:
        _check(_libc.statfs(target, buf))
    return layout.unpack(buf.raw)


# -- more host calls (64-bit Linux host: the generic struct layouts below are the host's) -------
def _fn(name: str, restype, *argtypes):
    f = getattr(_libc, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_int, _uint, _long, _ulong = ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_ulong
_ssize, _size, _ptr, _str = ctypes.c_ssize_t, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p
_i64 = ctypes.c_int64

_utimensat = _fn("utimensat", _int, _int, _str, _ptr, _int)
_futimens = _fn("futimens", _int, _int, _ptr)
_linkat = _fn("linkat", _int, _int, _str, _int, _str, _int)
_fallocate = _fn("fallocate64", _int, _int, _int, _i64, _i64)
_syncfs = _fn("syncfs", _int, _int)
_sync_file_range = _fn("sync_file_range", _int, _int, _i64, _i64, _uint)
_tee = _fn("tee", _ssize, _int, _int, _size, _uint)
_vmsplice = _fn("vmsplice", _ssize, _int, _ptr, _size, _uint)
_readahead = _fn("readahead", _ssize, _int, _i64, _size)
_close_range = _fn("close_range", _int, _uint, _uint, _int)


_execve = _fn("execve", _int, _str, ctypes.POINTER(_str), ctypes.POINTER(_str))
_signal = _fn("signal", _ptr, _int, _ptr)


def execve(path: bytes, argv: list[bytes], envp: list[bytes]) -> None:
    """The host's execve with argv and envp exactly as given (os.execve wants a mapping and a
    non-empty argv[0]); returns only by raising the host's error."""
    args = (_str * (len(argv) + 1))(*argv, None)
    env = (_str * (len(envp) + 1))(*envp, None)
    _check(_execve(path, args, env))


def set_disposition(sig: int, ignore: bool) -> None:
    """SIG_IGN or SIG_DFL for a host signal from any thread (Python's signal.signal is for the
    main thread only)."""
    _signal(sig, 1 if ignore else 0)


def _retry(call, *args) -> int:
    """A call that may block: an interruption by a host signal is InterruptedError (EINTR),
    for the handler to restart or report (``handlers.common.host_wait``)."""
    return _check(call(*args))


def _timespecs(pairs: list[tuple[int, int]] | None):
    if pairs is None:
        return None
    return (ctypes.c_long * 4)(*(v for pair in pairs for v in pair))


def utimensat(dirfd: int | None, path: bytes, times: list[tuple[int, int]] | None,
              flags: int) -> None:
    """utimensat with raw (sec, nsec) pairs (UTIME_NOW/UTIME_OMIT pass through)."""
    _check(_utimensat(AT_FDCWD if dirfd is None else dirfd, path, _timespecs(times), flags))


def futimens(fd: int, times: list[tuple[int, int]] | None) -> None:
    _check(_futimens(fd, _timespecs(times)))


def linkat(olddir: int | None, old: bytes, newdir: int | None, new: bytes, flags: int) -> None:
    _check(_linkat(AT_FDCWD if olddir is None else olddir, old,
                   AT_FDCWD if newdir is None else newdir, new, flags))


def fallocate(fd: int, mode: int, offset: int, length: int) -> None:
    _check(_fallocate(fd, mode, offset, length))


def syncfs(fd: int) -> None:
    _check(_syncfs(fd))


def sync_file_range(fd: int, offset: int, nbytes: int, flags: int) -> None:
    _check(_sync_file_range(fd, offset, nbytes, flags))


def tee(fd_in: int, fd_out: int, length: int, flags: int) -> int:
    return _retry(_tee, fd_in, fd_out, length, flags)


def vmsplice(fd: int, pieces: list[tuple[int, int]], flags: int) -> int:
    """vmsplice of host memory pieces (host pointer, length)."""
    iov = (ctypes.c_size_t * (2 * len(pieces)))(*(v for piece in pieces for v in piece))
    return _retry(_vmsplice, fd, ctypes.addressof(iov), len(pieces), flags)


def readahead(fd: int, offset: int, count: int) -> None:
    _check(_readahead(fd, offset, count))


def close_range(first: int, last: int, flags: int) -> None:
    _check(_close_range(first, last, flags))


_libc.pidfd_getfd.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_uint]


def pidfd_getfd(pidfd: int, targetfd: int) -> int:
    """A copy of another process's fd (glibc 2.36's wrapper)."""
    return _check(_libc.pidfd_getfd(pidfd, targetfd, 0))


def address_of(view: memoryview) -> int:
    """The host address of a writable memoryview's first byte (guest memory views are); 0 for
    an empty view (a zero-length buffer is legal everywhere, and has no byte to point at)."""
    if not len(view):
        return 0
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


_mincore = _fn("mincore", _int, _ptr, _size, _ptr)
_mlock2 = _fn("mlock2", _int, _ptr, _size, _uint)
_munlock = _fn("munlock", _int, _ptr, _size)
MLOCK_ONFAULT = 1


def mincore(host_ptr: int, size: int) -> bytes:
    """One byte per page of host memory: bit 0 set when resident."""
    vec = ctypes.create_string_buffer((size + 4095) // 4096)
    _check(_mincore(host_ptr, size, vec))
    return vec.raw


def mlock2(host_ptr: int, size: int, onfault: bool) -> None:
    _check(_mlock2(host_ptr, size, MLOCK_ONFAULT if onfault else 0))


def munlock(host_ptr: int, size: int) -> None:
    _check(_munlock(host_ptr, size))


_timerfd_create = _fn("timerfd_create", _int, _int, _int)
_timerfd_settime = _fn("timerfd_settime", _int, _int, _int, _ptr, _ptr)
_timerfd_gettime = _fn("timerfd_gettime", _int, _int, _ptr)
_adjtimex = _fn("adjtimex", _int, _ptr)
_clock_adjtime = _fn("clock_adjtime", _int, _int, _ptr)
TFD_CLOEXEC, TFD_NONBLOCK = os.O_CLOEXEC, os.O_NONBLOCK


def timerfd_create(clock: int, flags: int) -> int:
    return _check(_timerfd_create(clock, flags))


def timerfd_settime(fd: int, flags: int, new: tuple[int, int, int, int]
                    ) -> tuple[int, int, int, int]:
    """(interval sec, nsec, value sec, nsec) in, the old setting out."""
    old = (ctypes.c_long * 4)()
    _check(_timerfd_settime(fd, flags, (ctypes.c_long * 4)(*new), old))
    return tuple(old)


def timerfd_gettime(fd: int) -> tuple[int, int, int, int]:
    cur = (ctypes.c_long * 4)()
    _check(_timerfd_gettime(fd, cur))
    return tuple(cur)


def adjtimex(clock: int | None, timex: bytes) -> tuple[int, bytes]:
    """adjtimex (clock None) or clock_adjtime with the host's struct timex; (state, struct)."""
    buf = ctypes.create_string_buffer(timex, len(timex))
    if clock is None:
        state = _check(_adjtimex(buf))
    else:
        state = _check(_clock_adjtime(clock, buf))
    return state, buf.raw


_getcpu = _fn("getcpu", _int, _ptr, _ptr)
_setfsuid = _fn("setfsuid", _int, _uint)
_setfsgid = _fn("setfsgid", _int, _uint)
_capget = _fn("capget", _int, _ptr, _ptr)
_capset = _fn("capset", _int, _ptr, _ptr)
_prctl = _fn("prctl", _int, _int, _ulong, _ulong, _ulong, _ulong)


def getcpu() -> tuple[int, int]:
    cpu, node = ctypes.c_uint(), ctypes.c_uint()
    _check(_getcpu(ctypes.byref(cpu), ctypes.byref(node)))
    return cpu.value, node.value


def setfsuid(uid: int) -> int:
    """The previous fsuid (setfsuid never fails: -1 asks without changing)."""
    return _setfsuid(uid & 0xFFFFFFFF)


def setfsgid(gid: int) -> int:
    return _setfsgid(gid & 0xFFFFFFFF)


def capget(version: int, pid: int) -> list[tuple[int, int, int]]:
    """(effective, permitted, inheritable) for the two 32-bit halves (version 3)."""
    header = (ctypes.c_uint32 * 2)(version, pid)
    data = (ctypes.c_uint32 * 6)()
    _check(_capget(header, data))
    return [tuple(data[0:3]), tuple(data[3:6])]


def capset(version: int, pid: int, sets: list[tuple[int, int, int]]) -> None:
    header = (ctypes.c_uint32 * 2)(version, pid)
    data = (ctypes.c_uint32 * 6)(*sets[0], *sets[1])
    _check(_capset(header, data))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_prctl(option, arg2, arg3, arg4, arg5))


def prctl_int_out(option: int) -> int:
    """A prctl that stores an int through its second argument."""
    value = ctypes.c_int()
    _check(_prctl(option, ctypes.addressof(value), 0, 0, 0))
    return value.value


def buffer_address(data: bytes) -> int:
    """A host address holding a copy of ``data`` (kept alive until the next call)."""
    global _kept
    _kept = ctypes.create_string_buffer(data, len(data))
    return ctypes.addressof(_kept)


_kept = None


_inotify_init1 = _fn("inotify_init1", _int, _int)
_inotify_add_watch = _fn("inotify_add_watch", _int, _int, _str, _uint)
_inotify_rm_watch = _fn("inotify_rm_watch", _int, _int, _int)


def inotify_init1(flags: int) -> int:
    return _check(_inotify_init1(flags))


def inotify_add_watch(fd: int, path: bytes, mask: int) -> int:
    return _check(_inotify_add_watch(fd, path, mask))


def inotify_rm_watch(fd: int, wd: int) -> None:
    _check(_inotify_rm_watch(fd, wd))


# -- SysV IPC (glibc's wrappers; a 64-bit host's structs are the generic ones: layouts.py) ------
_shmget = _fn("shmget", _int, _int, _size, _int)
_shmat = _fn("shmat", _ptr, _int, _ptr, _int)
_shmctl = _fn("shmctl", _int, _int, _int, _ptr)
_semget = _fn("semget", _int, _int, _int, _int)
_semtimedop = _fn("semtimedop", _int, _int, _ptr, _size, _ptr)
_semctl = _fn("semctl", _int, _int, _int, _int, _ulong)    # variadic: union semun as a word
_msgget = _fn("msgget", _int, _int, _int)
_msgsnd = _fn("msgsnd", _int, _int, _ptr, _size, _int)
_msgrcv = _fn("msgrcv", _ssize, _int, _ptr, _size, _long, _int)
_msgctl = _fn("msgctl", _int, _int, _int, _ptr)
SHM_RDONLY, SHM_EXEC = 0o10000, 0o100000
_MAP_FAILED = ctypes.c_void_p(-1).value


def shmget(key: int, size: int, flags: int) -> int:
    return _check(_shmget(key, size, flags))


SHM_REMAP = 0o40000


def shmat(shmid: int, flags: int, at: int | None = None) -> int:
    """Attach a segment at host address ``at`` (replacing what is there), or wherever the host
    likes; its host address."""
    ptr = _shmat(shmid, at, flags | (SHM_REMAP if at else 0))
    if ptr is None or ptr == _MAP_FAILED:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ptr


def ipc_ctl(which: str, ident: int, cmd: int, buf: bytes | None, size: int = 0
            ) -> tuple[int, bytes]:
    """shmctl/msgctl (which: "shm"/"msg") with a struct buffer in and out: (result, buffer)."""
    out = ctypes.create_string_buffer(buf or bytes(size), max(len(buf or b""), size))
    call = _shmctl if which == "shm" else _msgctl
    return _check(call(ident, cmd, out)), out.raw


def semget(key: int, nsems: int, flags: int) -> int:
    return _check(_semget(key, nsems, flags))


def semctl(semid: int, semnum: int, cmd: int, arg: int | bytes | None = None, size: int = 0
           ) -> tuple[int, bytes]:
    """semctl with an int argument, or a buffer (struct or u16 array) in and out."""
    if isinstance(arg, int):
        return _check(_semctl(semid, semnum, cmd, arg & 0xFFFFFFFFFFFFFFFF)), b""
    out = ctypes.create_string_buffer(arg or bytes(size), max(len(arg or b""), size))
    return _check(_semctl(semid, semnum, cmd, ctypes.addressof(out))), out.raw


def semtimedop(semid: int, sops: bytes, nsops: int, timeout: tuple[int, int] | None) -> None:
    buf = ctypes.create_string_buffer(sops, len(sops))
    ts = (ctypes.c_long * 2)(*timeout) if timeout is not None else None
    _retry(_semtimedop, semid, buf, nsops, ts)


def msgget(key: int, flags: int) -> int:
    return _check(_msgget(key, flags))


def msgsnd(msqid: int, mtype: int, text: bytes, flags: int) -> None:
    buf = ctypes.create_string_buffer(mtype.to_bytes(8, sys.byteorder, signed=True) + text,
                                      8 + len(text))
    _retry(_msgsnd, msqid, buf, len(text), flags)


def msgrcv(msqid: int, size: int, msgtyp: int, flags: int) -> tuple[int, bytes]:
    """(mtype, text) of the message received."""
    buf = ctypes.create_string_buffer(8 + size)
    n = _retry(_msgrcv, msqid, buf, size, msgtyp, flags)
    return int.from_bytes(buf.raw[:8], sys.byteorder, signed=True), buf.raw[8:8 + n]


# -- POSIX message queues (the names carry libc's leading "/", which the wrappers strip) -------
_mq_open = _fn("mq_open", _int, _str, _int, _uint, _ptr)        # variadic: mode, attr
_mq_unlink = _fn("mq_unlink", _int, _str)
_mq_timedsend = _fn("mq_timedsend", _int, _int, _ptr, _size, _uint, _ptr)
_mq_timedreceive = _fn("mq_timedreceive", _ssize, _int, _ptr, _size, _ptr, _ptr)
_mq_setattr = _fn("mq_setattr", _int, _int, _ptr, _ptr)           # the mq_getsetattr syscall
_mq_notify = _fn("mq_notify", _int, _int, _ptr)
SIGEV_SIGNAL, SIGEV_NONE = 0, 1
_SIGEVENT_SIZE = 64


def _mq_attr(attr: tuple[int, int, int, int] | None):
    return None if attr is None else (ctypes.c_long * 8)(*attr)


def mq_open(name: bytes, flags: int, mode: int, attr: tuple[int, int, int, int] | None) -> int:
    return _check(_mq_open(name, flags, mode, _mq_attr(attr)))


def mq_unlink(name: bytes) -> None:
    _check(_mq_unlink(name))


def mq_timedsend(mqdes: int, data: bytes, prio: int, timeout: tuple[int, int] | None) -> None:
    ts = (ctypes.c_long * 2)(*timeout) if timeout is not None else None
    _retry(_mq_timedsend, mqdes, data, len(data), prio, ts)


def mq_timedreceive(mqdes: int, size: int, timeout: tuple[int, int] | None
                    ) -> tuple[bytes, int]:
    """(message, priority)."""
    buf = ctypes.create_string_buffer(max(size, 1))
    prio = ctypes.c_uint()
    ts = (ctypes.c_long * 2)(*timeout) if timeout is not None else None
    n = _retry(_mq_timedreceive, mqdes, buf, size, ctypes.byref(prio), ts)
    return buf.raw[:n], prio.value


def mq_getsetattr(mqdes: int, new: tuple[int, int, int, int] | None
                  ) -> tuple[int, int, int, int]:
    old = (ctypes.c_long * 8)()
    _check(_mq_setattr(mqdes, _mq_attr(new), old))
    return tuple(old[:4])


def mq_notify(mqdes: int, event: tuple[int, int, int] | None) -> None:
    """event: (sigev_notify, sigev_signo, sigev_value) or None to unregister."""
    if event is None:
        _check(_mq_notify(mqdes, None))
        return
    notify, signo, value = event
    buf = ctypes.create_string_buffer(value.to_bytes(8, sys.byteorder)
                                      + signo.to_bytes(4, sys.byteorder, signed=True)
                                      + notify.to_bytes(4, sys.byteorder, signed=True),
                                      _SIGEVENT_SIZE)
    _check(_mq_notify(mqdes, buf))


# -- calls glibc 2.36 has no wrapper for, by number: numbers from 424 on are the same on every
# Linux arch (the unified syscall table), so these are the host's too
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
NR_OPENAT2 = 437


def openat2(dirfd: int | None, path: bytes, flags: int, mode: int, resolve: int) -> int:
    how = (ctypes.c_uint64 * 3)(flags, mode, resolve)
    return _check(_syscall(ctypes.c_long(NR_OPENAT2),
                           ctypes.c_long(AT_FDCWD if dirfd is None else dirfd),
                           ctypes.c_char_p(path), how, ctypes.c_long(24)))


_fanotify_init = _fn("fanotify_init", _int, _uint, _uint)
_fanotify_mark = _fn("fanotify_mark", _int, _int, _uint, ctypes.c_uint64, _int, _str)


def fanotify_init(flags: int, event_f_flags: int) -> int:
    return _check(_fanotify_init(flags, event_f_flags))


def fanotify_mark(fd: int, flags: int, mask: int, dirfd: int | None, path: bytes | None) -> None:
    _check(_fanotify_mark(fd, flags, mask, AT_FDCWD if dirfd is None else dirfd, path))


# -- shared mappings ----------------------------------------------------------------------------
_mmap = _fn("mmap", _ptr, _ptr, _size, _int, _int, _int, ctypes.c_int64)
_munmap = _fn("munmap", _int, _ptr, _size)
_msync = _fn("msync", _int, _ptr, _size, _int)
_MAP_SHARED, _MAP_FIXED, _MAP_ANONYMOUS = 0x01, 0x10, 0x20
_PROT_READ, _PROT_WRITE = 1, 2
MS_ASYNC, MS_INVALIDATE, MS_SYNC = 1, 2, 4


def _mapped(ptr: int | None) -> int:
    if ptr is None or ptr == ctypes.c_void_p(-1).value:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ptr


def mmap_shared(size: int, fd: int | None, offset: int, file_size: int, writable: bool,
                at: int | None = None) -> int:
    """Host memory for a guest MAP_SHARED mapping of ``size`` bytes: shared anonymous memory
    (``fd`` None), or the file's pages from ``offset`` shared with the file; at host address
    ``at`` (replacing what is there) or anywhere. Pages past the end of the file stay
    anonymous: touching a file mapping there would raise SIGBUS in pyemu."""
    prot = _PROT_READ | (_PROT_WRITE if writable or fd is None else 0)
    base = _mapped(_mmap(at, size, _PROT_READ | _PROT_WRITE,
                         _MAP_SHARED | _MAP_ANONYMOUS | (_MAP_FIXED if at else 0), -1, 0))
    in_file = min(size, max(0, (file_size - offset + 4095) & ~4095))
    if fd is not None and in_file:
        try:
            _mapped(_mmap(base, in_file, prot, _MAP_SHARED | _MAP_FIXED, fd, offset))
        except OSError:
            _munmap(base, size)
            raise
    return base


def msync(host_ptr: int, size: int, flags: int) -> None:
    _check(_msync(host_ptr, size, flags))


# -- futexes in memory shared with other processes: the host's futex on the host address ---------
# The syscall's number is the host's (glibc has no wrapper); the operations are generic uapi.
_NR_FUTEX = {"x86_64": 202, "aarch64": 98, "riscv64": 98, "ppc64le": 221, "s390x": 238}
FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 3, 4, 9, 10


def futex(addr: int, op: int, val: int, timeout: float | None = None, addr2: int = 0,
          val3: int = 0, val2: int = 0) -> int:
    """futex(2) on host memory (shared, not private). ``timeout`` is relative (FUTEX_WAIT_BITSET
    gets it as an absolute CLOCK_MONOTONIC time); ``val2`` is the requeue limit."""
    nr = _NR_FUTEX.get(os.uname().machine)
    if nr is None:
        raise OSError(errno.ENOSYS, "futex: unknown host architecture")
    third: Any = ctypes.c_void_p(val2)
    if timeout is not None:
        sec = int(timeout)
        nsec = int((timeout - sec) * 1e9)
        if op == FUTEX_WAIT_BITSET:
            now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + int(timeout * 1e9)
            sec, nsec = divmod(now, 1_000_000_000)
        third = ctypes.byref((ctypes.c_long * 2)(sec, nsec))
    return _check(_syscall(ctypes.c_long(nr), ctypes.c_void_p(addr), ctypes.c_int(op),
                           ctypes.c_uint(val & 0xFFFFFFFF), third, ctypes.c_void_p(addr2),
                           ctypes.c_uint(val3 & 0xFFFFFFFF)))
