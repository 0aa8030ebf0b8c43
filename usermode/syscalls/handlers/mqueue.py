"""POSIX message queues: mq_open, mq_unlink, mq_timedsend/mq_timedreceive (+_time64),
mq_notify, mq_getsetattr.

A queue descriptor is a host descriptor (as every guest fd), so queues are the host's and shared
with every process that opens the name. The syscalls take the queue's name without libc's leading
"/", which the host's libc wrappers expect and strip again. struct mq_attr is the ABI's longs;
O_* flags are translated as for open; notification signals are renumbered for the host.
"""
from __future__ import annotations

import errno
import os
from typing import Any

from .. import hostlib
from ..registry import syscall
from .common import fail, host_wait, inheritable, kernel_nsec, read_struct, write_struct

def _name(k: Any, name: int) -> bytes:
    if not name:
        raise fail(errno.EFAULT)
    return b"/" + k.space.read_cstr(name, 256)


def _attr(k: Any, addr: int) -> tuple[int, int, int, int] | None:
    if not addr:
        return None
    a = read_struct(k, addr, "mq_attr")
    return (a["mq_flags"], a["mq_maxmsg"], a["mq_msgsize"], a["mq_curmsgs"])


@syscall("mq_open", "str", "oflags", "mode", "ptr")
def mq_open(k: Any, name: int, oflag: int, mode: int, attr: int) -> int:
    """mqd_t mq_open(const char *name, int oflag, mode_t mode, struct mq_attr *attr);"""
    host_flags = k.abi.open_flags.to_host(oflag, passthrough=3)
    fd = hostlib.mq_open(_name(k, name), host_flags, mode, _attr(k, attr))
    return inheritable(fd, cloexec=bool(host_flags & os.O_CLOEXEC))


@syscall("mq_unlink", "str")
def mq_unlink(k: Any, name: int) -> int:
    """int mq_unlink(const char *name);"""
    hostlib.mq_unlink(_name(k, name))
    return 0


def _timeout(k: Any, addr: int, layout: str) -> tuple[int, int] | None:
    if not addr:
        return None
    t = read_struct(k, addr, layout)
    return (t["tv_sec"], kernel_nsec(k, t["tv_nsec"]))


def _send(k: Any, mqdes: int, msg: int, length: int, prio: int, timeout: int,
          layout: str) -> int:
    data = k.space.read(msg, length)
    limit = _timeout(k, timeout, layout)
    host_wait(k, lambda: hostlib.mq_timedsend(mqdes, data, prio, limit))
    return 0


def _receive(k: Any, mqdes: int, msg: int, length: int, prio: int, timeout: int,
             layout: str) -> int:
    k.space.views(msg, length, write=True) if length else None      # EFAULT before receiving
    limit = _timeout(k, timeout, layout)
    data, priority = host_wait(k, lambda: hostlib.mq_timedreceive(mqdes, length, limit))
    k.space.write(msg, data)
    if prio:
        k.space.write(prio, priority.to_bytes(4, k.abi.byteorder))
    return len(data)


for _suffix, _layout in (("", "timespec"), ("_time64", "timespec64")):
    def _bind(layout: str) -> tuple[Any, Any]:
        def mq_timedsend(k: Any, mqdes: int, msg: int, length: int, prio: int,
                         timeout: int) -> int:
            """int mq_timedsend(mqd_t mqdes, const char *msg_ptr, size_t msg_len,
            unsigned int msg_prio, const struct timespec *abs_timeout);"""
            return _send(k, mqdes, msg, length, prio, timeout, layout)

        def mq_timedreceive(k: Any, mqdes: int, msg: int, length: int, prio: int,
                            timeout: int) -> int:
            """ssize_t mq_timedreceive(mqd_t mqdes, char *msg_ptr, size_t msg_len,
            unsigned int *msg_prio, const struct timespec *abs_timeout);"""
            return _receive(k, mqdes, msg, length, prio, timeout, layout)
        return mq_timedsend, mq_timedreceive

    _snd, _rcv = _bind(_layout)
    syscall("mq_timedsend" + _suffix, "fd", "ptr", "size", "uint", "ptr")(_snd)
    syscall("mq_timedreceive" + _suffix, "fd", "ptr", "size", "ptr", "ptr")(_rcv)


@syscall("mq_getsetattr", "fd", "ptr", "ptr")
def mq_getsetattr(k: Any, mqdes: int, new: int, old: int) -> int:
    """int mq_getsetattr(mqd_t mqdes, const struct mq_attr *newattr, struct mq_attr *oldattr);
    (only O_NONBLOCK in mq_flags can change)"""
    attr = _attr(k, new)
    if attr is not None:
        nonblock = k.abi.const["O_NONBLOCK"]
        if attr[0] & ~nonblock:
            raise fail(errno.EINVAL)
        attr = (os.O_NONBLOCK if attr[0] & nonblock else 0, *attr[1:])
    flags, maxmsg, msgsize, curmsgs = hostlib.mq_getsetattr(mqdes, attr)
    if old:
        write_struct(k, old, "mq_attr", mq_flags=k.abi.open_flags.to_guest(flags),
                     mq_maxmsg=maxmsg, mq_msgsize=msgsize, mq_curmsgs=curmsgs)
    return 0


@syscall("mq_notify", "fd", "ptr")
def mq_notify(k: Any, mqdes: int, sevp: int) -> int:
    """int mq_notify(mqd_t mqdes, const struct sigevent *sevp);  (SIGEV_SIGNAL's number is
    renumbered for the host; the kernel's SIGEV_THREAD form needs a netlink socket, which pyemu
    does not provide: EINVAL)"""
    if not sevp:
        hostlib.mq_notify(mqdes, None)
        return 0
    c = k.abi.const
    ev = read_struct(k, sevp, "sigevent")
    notify, signo, value = ev["sigev_notify"], ev["sigev_signo"], ev["sigev_value"]
    if notify == c["SIGEV_SIGNAL"]:
        host_signo = k.abi.signal_to_host(signo) if 1 <= signo <= k.abi.nsig else None
        if host_signo is None:
            raise fail(errno.EINVAL)
        hostlib.mq_notify(mqdes, (hostlib.SIGEV_SIGNAL, host_signo, value))
    elif notify == c["SIGEV_NONE"]:
        hostlib.mq_notify(mqdes, (hostlib.SIGEV_NONE, 0, value))
    else:
        raise fail(errno.EINVAL)
    return 0
