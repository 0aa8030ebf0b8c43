"""Signal delivery: pending signals, default actions, handler frames and sigreturn.

Signals become pending (``post``) from kill/tgkill to oneself, from faults, from the host (see
``kernel.hostsig``). They are delivered at the points where the kernel would: when a syscall
returns and when the CPU stops for a fault or a host signal. Delivering one to a guest handler
builds the ABI's rt_sigframe (``sigframe.FrameSpec``) on the stack (or the alternate stack) and
points the CPU at the handler; ``sigreturn`` restores what the frame saved.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

from ..errors import GuestExit
from ..kernel.signals import default_action
from ..translate.memory import GuestFault
from .sigframe import FrameSpec, SigInfo, pack_siginfo

SIG_DFL, SIG_IGN = 0, 1
_FP_KEEP = 64            # frames whose FP state is kept (handlers that longjmp never return)


class Delivery:
    def __init__(self, k: Any, cpu: Any, trampoline: int):
        self.k = k
        self.abi = k.abi
        self.frame: FrameSpec = k.abi.spec.sigframe
        self.trampoline = trampoline
        f = self.frame
        self._names = [name for name, _ in f.regs]
        # one register batch per CPU (each guest thread has its own engine)
        self._batches: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._fp = [cpu.reg_id(name) for name in f.fp_regs]
        self._fp_saved: OrderedDict[int, list[int]] = OrderedDict()
        c = k.abi.const
        self.sa = {name: c.get(name, 0) for name in (
            "SA_SIGINFO", "SA_ONSTACK", "SA_RESTART", "SA_NODEFER", "SA_RESETHAND",
            "SA_RESTORER")}
        self.ss_onstack, self.ss_disable = c.get("SS_ONSTACK", 1), c.get("SS_DISABLE", 2)
        self._watchers: dict[str, Any] = {}

    @property
    def state(self) -> Any:
        """The calling thread's signal state."""
        return self.k.signals

    # -- queueing ----------------------------------------------------------------------------
    def post(self, info: SigInfo, thread: Any = None, forced: bool = False) -> bool:
        """Make a signal pending: for ``thread``, or for the process (kill, host signals,
        timers: then any thread not blocking it takes it, as in the kernel's shared pending
        set). Standard signals do not queue twice; real-time ones queue every instance. A thread that can take it is woken, if it is
        blocked in a syscall; so is one waiting for it (sigtimedwait, a signalfd read). A signal
        the disposition ignores is dropped unless blocked (the kernel's sig_ignored), so it
        never interrupts a syscall; ``forced`` (a fault) is always kept. Callable from any host
        thread (host signal handlers, timer threads). True when ``info`` is now pending."""
        threads, signo = self.k.threads, info.signo
        bit = 1 << (signo - 1)
        target = thread
        if target is None:
            me = threads.current_or_none()
            alive = [t for t in ([me] if me else []) + list(threads.by_tid.values()) if t.alive]
            target = next((t for t in alive if not t.signals.blocked & bit),
                          next((t for t in alive if t.signals.waiting & bit), None))
        blocked = target.signals.blocked & bit if target is not None else True
        if not forced and self.ignores(signo) and not blocked:
            return False
        queue = thread.signals.pending if thread is not None else threads.shared_pending
        # real-time signals queue each instance; a standard one is pending at most once
        waiting = queue.setdefault(signo, [])
        queued = not waiting or signo >= self.abi.signals["SIGRTMIN"]
        if queued:
            waiting.append(info)
        if target is not None:
            target.wake.set()
        self.changed()
        return queued

    def watch(self, name: str, callback: Any) -> None:
        """Call ``callback()`` whenever the set of pending signals changes (signalfd)."""
        self._watchers[name] = callback

    def changed(self) -> None:
        for callback in list(self._watchers.values()):
            callback()

    def pending_mask(self, thread: Any = None) -> int:
        """Signals pending for ``thread`` (the caller's by default) or its process."""
        own = (thread or self.k.thread).signals.pending
        return sum(1 << (s - 1) for s in {*own, *self.k.threads.shared_pending})

    def take(self, mask: int) -> SigInfo | None:
        """Dequeue the lowest pending signal in ``mask``, the thread's own before the process's
        (sigtimedwait, signalfd reads)."""
        for queue in (self.state.pending, self.k.threads.shared_pending):
            ready = [s for s in queue if mask >> (s - 1) & 1]
            if ready:
                return self._dequeue(queue, min(ready))
        return None

    def _dequeue(self, queue: dict[int, list[SigInfo]], signo: int) -> SigInfo:
        waiting = queue[signo]
        info = waiting.pop(0)
        if not waiting:
            del queue[signo]
        if info.dequeued is not None:
            info.dequeued(info)
        self.changed()
        return info

    def ignores(self, signo: int) -> bool:
        """SIG_IGN, or SIG_DFL for a signal whose default action is to ignore it."""
        handler = self.handler_of(signo)
        name = self.abi.signal_names.get(signo, "")
        return handler == SIG_IGN or (handler == SIG_DFL and default_action(name) == "ignore")

    def deliverable(self) -> int | None:
        blocked = self.state.blocked
        ready = [s for queue in (self.state.pending, self.k.threads.shared_pending)
                 for s in queue if not blocked >> (s - 1) & 1]
        return min(ready) if ready else None

    def handler_of(self, signo: int) -> int:
        """The disposition (shared by all threads; callable from any host thread)."""
        return self.k.threads.main.signals.actions.get(signo, {}).get("sa_handler", SIG_DFL)

    def restarts(self, signo: int) -> bool:
        action = self.state.actions.get(signo, {})
        return bool(action.get("sa_flags", 0) & self.sa["SA_RESTART"])

    # -- delivery ----------------------------------------------------------------------------
    def deliver(self, cpu: Any, forced: bool = False) -> bool:
        """Deliver one pending signal; True when a guest handler was set up to run."""
        signo = self.deliverable() if not forced else min(self.state.pending)
        if signo is None:
            return False
        own = self.state.pending
        info = self._dequeue(own if signo in own else self.k.threads.shared_pending, signo)
        if self.k.debugger is not None:       # gdb sees it first: it may cancel or change it
            signo = self.k.debugger.signal(cpu, signo)
            if not signo:
                return False
            if signo != info.signo:
                info = SigInfo(signo)
        handler = self.handler_of(signo)
        name = self.abi.signal_names.get(signo, f"SIG{signo}")
        if forced and (handler == SIG_IGN or self.state.blocked >> (signo - 1) & 1):
            handler = SIG_DFL          # a fault that cannot be handled kills (force_sig)
        if handler == SIG_IGN:
            return False
        if handler == SIG_DFL:
            action = default_action(name)
            if action in ("ignore", "stop"):
                return False
            raise GuestExit(128 + signo, signal=signo, core=action == "core")
        self._setup_frame(cpu, signo, info, handler)
        return True

    def _setup_frame(self, cpu: Any, signo: int, info: SigInfo, handler: int) -> None:
        f, action = self.frame, self.state.actions[signo]
        flags = action.get("sa_flags", 0)
        batch = self._batches.get(cpu)
        if batch is None:
            batch = self._batches[cpu] = cpu.registers(self._names)
        words = batch.read()
        saved = dict(zip((name for name, _ in f.regs), words))
        sp = cpu.read(cpu.spec.sp)
        ss_sp, ss_flags, ss_size = self.state.altstack
        on_alt = ss_size and ss_sp <= sp < ss_sp + ss_size
        if flags & self.sa["SA_ONSTACK"] and not ss_flags & self.ss_disable and not on_alt:
            sp = ss_sp + ss_size
        base = (sp - f.size) & ~(f.align - 1)
        frame = self._frame_bytes(saved, signo, info, base)
        try:
            self.k.space.write(base, frame)
        except GuestFault:
            raise GuestExit(128 + self.abi.signals["SIGSEGV"], signal=self.abi.signals["SIGSEGV"],
                            core=True) from None
        self._keep_fp(cpu, base)
        self._enter_handler(cpu, signo, base, handler, action)
        if not flags & self.sa["SA_NODEFER"]:
            self.state.blocked |= 1 << (signo - 1)
        self.state.blocked |= _mask_of(action.get("sa_mask", [])) & ~self._unblockable()
        if flags & self.sa["SA_RESETHAND"]:
            self.state.actions[signo] = {}

    def _frame_bytes(self, saved: dict[str, int], signo: int, info: SigInfo, base: int) -> bytes:
        f, ws, order = self.frame, self.abi.word_size, self.abi.byteorder
        out = bytearray(f.size)
        out[f.info:f.info + 128] = pack_siginfo(f.siginfo, info, ws, order)
        uc = f.uc
        stack = dict(zip(("sp", "flags", "size"), self.state.altstack))
        for i, member in enumerate(f.stack_order):
            size = 4 if member == "flags" else ws
            out[uc + f.uc_stack + i * ws: uc + f.uc_stack + i * ws + size] = \
                (stack[member] & ((1 << (8 * size)) - 1)).to_bytes(size, order)
        mc = uc + f.mcontext
        for name, offset in f.regs:
            value = _sign_extend(saved[name], ws) if f.reg_size > ws else saved[name]
            out[mc + offset: mc + offset + f.reg_size] = \
                (value & ((1 << (8 * f.reg_size)) - 1)).to_bytes(f.reg_size, order)
        if f.fault_address is not None and info.addr is not None:
            out[mc + f.fault_address: mc + f.fault_address + ws] = info.addr.to_bytes(ws, order)
        mask = self.state.blocked if self.state.suspend_mask is None else self.state.suspend_mask
        self.state.suspend_mask = None
        for i in range(self.abi.spec.sigset_words):
            off = uc + f.sigmask + 4 * i
            out[off:off + 4] = ((mask >> (32 * i)) & 0xFFFFFFFF).to_bytes(4, order)
        return bytes(out)

    def _enter_handler(self, cpu: Any, signo: int, base: int, handler: int, action: dict) -> None:
        f = self.frame
        restorer = action.get("sa_restorer", 0)
        if not (action.get("sa_flags", 0) & self.sa["SA_RESTORER"] and restorer):
            restorer = self.trampoline
        values = {f.args[0]: signo, f.args[1]: base + f.info, f.args[2]: base + f.uc,
                  f.link: restorer, cpu.spec.sp: base}
        for name in f.extra_entry:
            values[name] = handler
        if f.frame_record:
            values[f.frame_record] = base + f.size - 16
        if f.mode_flag:
            reg, bit = f.mode_flag
            mode = cpu.read(reg)
            values[reg] = (mode | bit) if handler & 1 else (mode & ~bit)
        for name, value in values.items():
            cpu.write(name, value)
        cpu.write(cpu.spec.pc, handler)

    def _keep_fp(self, cpu: Any, base: int) -> None:
        self._fp_saved[base] = [cpu.uc.reg_read(r) for r in self._fp]
        while len(self._fp_saved) > _FP_KEEP:
            self._fp_saved.popitem(last=False)

    # -- sigreturn ---------------------------------------------------------------------------
    def sigreturn(self, cpu: Any) -> None:
        """Restore the registers and mask saved by the frame at the stack pointer."""
        f, order = self.frame, self.abi.byteorder
        base = cpu.read(cpu.spec.sp)
        raw = self.k.space.read(base, f.size)
        mc = f.uc + f.mcontext
        values = [int.from_bytes(raw[mc + off: mc + off + f.reg_size], order) & self.abi.word_mask
                  for _, off in f.regs]
        mask = 0
        for i in range(self.abi.spec.sigset_words):
            off = f.uc + f.sigmask + 4 * i
            mask |= int.from_bytes(raw[off:off + 4], order) << (32 * i)
        self.state.blocked = mask & ~self._unblockable()
        fp = self._fp_saved.pop(base, None)
        if fp is not None:
            for reg, value in zip(self._fp, fp):
                cpu.uc.reg_write(reg, value)
        regs = dict(zip((name for name, _ in f.regs), values))
        for name, value in regs.items():
            if name != cpu.spec.pc:
                cpu.write(name, value)
        pc = regs[cpu.spec.pc]
        if f.mode_flag and regs[f.mode_flag[0]] & f.mode_flag[1]:
            pc |= 1
        cpu.write(cpu.spec.pc, pc)

    def _unblockable(self) -> int:
        s = self.abi.signals
        return (1 << (s["SIGKILL"] - 1)) | (1 << (s["SIGSTOP"] - 1))


def _mask_of(words: list[int]) -> int:
    return sum(w << (32 * i) for i, w in enumerate(words))


def _sign_extend(value: int, size: int) -> int:
    bits = 8 * size
    return value - (1 << bits) if value >> (bits - 1) & 1 else value
