"""Syscall handlers by family; importing this package registers all of them."""
from . import fs, fsinfo, fsmeta, futex, io, mm, proc, process, signals, time  # noqa: F401
from . import mqueue, notify, refused, sysv  # noqa: F401
from . import identity, poll, transfer  # noqa: F401
from . import epoll, fdsets, net, netioctl, netmsg  # noqa: F401
from . import posixtimers, signalfd  # noqa: F401
