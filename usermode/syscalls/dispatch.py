"""Syscall dispatch: one dict lookup per syscall, decoders prepared once per handler and ABI.

The dispatcher is the Cpu's syscall callback. It reads the number and argument registers in one
batch, decodes the arguments as the handler declared them, calls the handler, and encodes the
result the ABI's way (negative errno in the return register, or MIPS's a3 flag).
"""
from __future__ import annotations

import errno as host_errno
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import GuestExit, ThreadExit
from ..kernel.fdspace import PRIVATE
from ..translate.memory import GuestFault
from . import handlers  # noqa: F401  (registers every handler)
from .abi import MAX_ERRNO, Abi
from .registry import ARG_TYPES, HANDLERS, KEEP_REGISTERS, Handler, InterruptedSyscall
from .strace import Tracer

Decoder = Callable[[list[int]], list[int]]


@dataclass(frozen=True)
class Entry:
    name: str
    handler: Handler
    decode: Decoder
    slots: int          # argument words used (registers, then stack on o32)
    # whether an fd argument names one of pyemu's own fds (None: the call takes no fd)
    names_private_fd: Callable[[Any], bool] | None = None


def make_fd_check(arg_types: tuple[str, ...]) -> Callable[[Any], bool] | None:
    """A function of the decoded arguments: does any fd argument name one of pyemu's own fds
    (kernel.fdspace)? Those are closed fds for the guest: the call fails with EBADF. None when
    the call takes no fd."""
    slots = [i for i, t in enumerate(arg_types) if ARG_TYPES[t][1] in ("fd", "dirfd")]
    if not slots:
        return None
    source = f"def check(v):\n    return {' or '.join(f'v[{i}] in P' for i in slots)}\n"
    scope: dict[str, Any] = {"P": PRIVATE.numbers}
    exec(compile(source, f"<fd check {','.join(arg_types)}>", "exec"), scope)
    return scope["check"]


def make_decoder(arg_types: tuple[str, ...], abi: Abi, first: int = 0) -> tuple[Decoder, int]:
    """A function from raw argument words to the decoded arguments (a tuple), and the number of
    words used. The argument words start at index ``first`` of the list it is given (1 when the
    syscall number comes first). The function is generated once per handler and ABI: one
    expression per argument, no per-call interpretation of the plan."""
    exprs: list[str] = []
    slot = 0
    little = abi.byteorder == "little"
    sign = 1 << (8 * abi.word_size - 1)
    for t in arg_types:
        kind = ARG_TYPES[t][0]
        if kind == "pair" and abi.word_size == 4:
            if abi.spec.pair_align and slot % 2:
                slot += 1
            lo, hi = (slot, slot + 1) if little else (slot + 1, slot)
            exprs.append(f"((((w[{hi + first}] << 32) | w[{lo + first}]) ^ {1 << 63}) - {1 << 63})")
            slot += 2
            continue
        w = f"w[{slot + first}]"
        exprs.append({
            "i32": f"((({w} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)",
            "u32": f"({w} & 0xFFFFFFFF)",
            "sword": f"(({w} ^ {sign}) - {sign})",
            "pair": f"(({w} ^ {1 << 63}) - {1 << 63})",
        }.get(kind, w))
        slot += 1
    source = f"def decode(w):\n    return ({''.join(e + ', ' for e in exprs)})\n"
    scope: dict[str, Any] = {}
    exec(compile(source, f"<decoder {','.join(arg_types)}>", "exec"), scope)
    return scope["decode"], slot


class Dispatcher:
    """The syscall callback for one CPU."""

    def __init__(self, kernel: Any, cpu: Any, tracer: Tracer):
        self.kernel = kernel
        self.abi: Abi = kernel.abi
        self.tracer = tracer
        spec = self.abi.spec
        self._in = cpu.registers([spec.nr_reg, *spec.arg_regs])
        out = [spec.ret_reg] + ([spec.error_flag_reg] if spec.error_flag_reg else [])
        self._out = cpu.registers(out)
        self._ret2 = cpu.registers([spec.ret2_reg]) if spec.ret2_reg else None
        self._sp = cpu.registers([cpu.spec.sp])
        self._nregs = len(spec.arg_regs)
        self._flag = bool(spec.error_flag_reg)
        self._mask = self.abi.word_mask
        # filled as syscalls are first made: no start-up work proportional to the table
        self._table: dict[int, Entry | None] = {}

    def _entry(self, nr: int) -> Entry | None:
        name = self.abi.syscalls.get(nr)
        handler = HANDLERS.get(name) if name is not None else None
        entry = None
        if handler is not None:
            # the register words come with the number first; o32's stack words follow them
            decode, slots = make_decoder(handler.args, self.abi, first=1)
            entry = Entry(name, handler, decode, slots, make_fd_check(handler.args))
        self._table[nr] = entry
        return entry

    def implemented(self) -> list[str]:
        return sorted(e.name for e in map(self._entry, self.abi.syscalls) if e is not None)

    def __call__(self, cpu: Any) -> None:
        words = self._in.read()
        entry = self._table.get(words[0], False)
        if entry is False:
            entry = self._entry(words[0])
        if entry is None:
            self._finish(self._unimplemented(words[0]))
            return
        if entry.slots > self._nregs:
            values = entry.decode(words + self._stack_args(entry.slots - self._nregs))
        else:
            values = entry.decode(words)
        k = self.kernel
        trace = self.tracer.enabled
        if trace:
            self.tracer.call(k, entry.name, entry.handler.args, values)
        try:
            if entry.names_private_fd is not None and entry.names_private_fd(values):
                raise OSError(host_errno.EBADF, "one of pyemu's own descriptors")
            result = entry.handler.fn(k, *values)
        except OSError as exc:
            result = -self.abi.guest_errno(exc.errno or host_errno.EINVAL)
        except GuestFault:
            result = -self.abi.errno["EFAULT"]
        except InterruptedSyscall as intr:
            result = self._interrupted(cpu, intr.signo, words)
        except (GuestExit, ThreadExit):
            if trace:
                self.tracer.no_return(k)
            raise
        if trace:
            self.tracer.result(k, result, entry.handler.ret)
        if result.__class__ is int and not self._flag:     # the common case, inline
            self._out.write1(result & self._mask)
        elif result is not KEEP_REGISTERS:
            self._finish(result)
        threads = k.threads
        if threads.shared_pending or threads.current.signals.pending:
            k.delivery.deliver(cpu)
        if threads.lock.waiters:            # let a waiting thread run (MIPS's only chance)
            threads.blocking(lambda: None)

    def _interrupted(self, cpu: Any, signo: int, words: list[int]) -> Any:
        """EINTR, or (SA_RESTART) the syscall made to run again after the handler."""
        if not self.kernel.delivery.restarts(signo):
            return -self.abi.errno["EINTR"]
        self._in.write(words)
        cpu.rewind_syscall()
        return KEEP_REGISTERS

    def _stack_args(self, count: int) -> list[int]:
        base = self._sp.read()[0] + (self.abi.spec.stack_arg_offset or 0)
        raw = self.kernel.space.read(base, 4 * count)
        return [int.from_bytes(raw[i:i + 4], self.abi.byteorder) for i in range(0, len(raw), 4)]

    def _unimplemented(self, nr: int) -> int:
        name = self.abi.syscalls.get(nr, f"syscall_{nr}")
        self.tracer.unimplemented(self.kernel, name, nr)
        return -self.abi.errno["ENOSYS"]

    def _finish(self, result: Any) -> None:
        if isinstance(result, tuple):
            result, second = result
            if self._ret2 is not None:
                self._ret2.write([second])
        if self._flag:
            if -MAX_ERRNO <= result < 0:
                self._out.write2(-result, 1)
            else:
                self._out.write2(result & self._mask, 0)
        else:
            self._out.write1(result & self._mask)
