"""pyemu's own file descriptors, kept out of the guest's fd space.

Guest fds are host fds (see docs/ARCHITECTURE.md), so anything pyemu opens for itself (the
signal wake-up pipe, the ``-D`` log, the vfork hand-shake pipe) would be a number the guest
could see in ``/proc/self/fd``, close with ``close_range`` or ``closefrom``, or dup over: a
child closing its fds closed pyemu's signal pipe and killed its waker thread. The kernel gives a
process exactly the fds it opened, so pyemu keeps its own where the guest cannot reach them:

- the top ``RESERVED`` numbers below the host's soft RLIMIT_NOFILE (raised by ``RESERVED``
  first where the hard limit allows), and the guest is shown a soft limit ``RESERVED`` lower:
  for the guest they lie at or above its limit, where the kernel never allocates, ``dup2`` and
  ``F_DUPFD`` refuse (EBADF, EINVAL) and nothing is open;
- every syscall argument declared as an fd (``registry``'s ``fd`` type) that names one of them
  fails with EBADF, as for a closed fd; ``close_range`` skips them; listings of
  ``/proc/self/fd`` and ``/proc/self/fdinfo`` leave them out.

One table per host process (module level): a forked child inherits the fds and the table.
"""
from __future__ import annotations

import errno
import fcntl
import os
import resource

RESERVED = 16


class PrivateFds:
    """The fd numbers pyemu keeps for itself in this process."""

    def __init__(self) -> None:
        self.numbers: set[int] = set()
        self._ceiling: int | None = None      # the host soft limit, once adjusted
        self._guest_soft: int | None = None   # a soft limit the guest set itself

    def _top(self) -> int:
        """The host soft limit (raised once by RESERVED where the hard limit allows)."""
        if self._ceiling is None:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if hard == resource.RLIM_INFINITY or soft + RESERVED <= hard:
                try:
                    resource.setrlimit(resource.RLIMIT_NOFILE, (soft + RESERVED, hard))
                    soft += RESERVED
                except (ValueError, OSError):
                    pass
            self._ceiling = soft
        return self._ceiling

    @property
    def guest_limit(self) -> int:
        """The soft RLIMIT_NOFILE the guest is shown."""
        top = self._top()
        return self._guest_soft if self._guest_soft is not None else top - RESERVED

    def set_guest_limit(self, soft: int, hard: int) -> None:
        """The guest sets its fd limits: the host's soft limit stays RESERVED above the
        guest's, as far as the hard limit allows."""
        infinity = resource.RLIM_INFINITY
        host_soft = soft if soft == infinity else soft + RESERVED
        if hard != infinity and (host_soft == infinity or host_soft > hard):
            host_soft = max(soft, hard) if soft != infinity else soft
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (host_soft, hard))
        except ValueError as err:       # Python's word for EINVAL and EPERM
            code = errno.EPERM if "maximum" in str(err) else errno.EINVAL
            raise OSError(code, os.strerror(code)) from None
        self._top()
        self._ceiling, self._guest_soft = host_soft, soft

    def adopt(self, fd: int) -> int:
        """Move ``fd`` (close-on-exec) into the reserved numbers; the new number."""
        top = self._top()
        for number in range(top - 1, top - RESERVED - 1, -1):
            if number in self.numbers:
                continue
            try:
                os.fstat(number)
                continue                          # taken (by the guest, past its limit)
            except OSError:
                pass
            os.dup2(fd, number, inheritable=False)
            os.close(fd)
            self.numbers.add(number)
            return number
        # every reserved number taken: keep it where it is, close-on-exec at least
        fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        self.numbers.add(fd)
        return fd

    def pipe(self) -> tuple[int, int]:
        """A close-on-exec pipe in the reserved numbers."""
        r, w = os.pipe2(os.O_CLOEXEC)
        return self.adopt(r), self.adopt(w)

    def close(self, fd: int) -> None:
        self.numbers.discard(fd)
        try:
            os.close(fd)
        except OSError:
            pass

    def check(self, fd: int) -> int:
        """``fd`` when the guest may use it; EBADF for one of pyemu's."""
        if fd in self.numbers:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return fd

    def ranges_without(self, first: int, last: int) -> list[tuple[int, int]]:
        """[first, last] split around pyemu's fds (for close_range)."""
        out, start = [], first
        for number in sorted(n for n in self.numbers if first <= n <= last):
            if start <= number - 1:
                out.append((start, number - 1))
            start = number + 1
        if start <= last:
            out.append((start, last))
        return out


PRIVATE = PrivateFds()
