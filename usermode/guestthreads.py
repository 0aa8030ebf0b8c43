"""Running guest threads: the run loop every thread uses, clone(CLONE_THREAD), thread exit.

See ``kernel.threads`` for the model (one engine per thread, one guest lock). This module knows
how to make a CPU for a new thread (a new engine on the shared address space, the parent's
registers copied) and how a thread's host thread lives and ends.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any

from .errors import GuestExit, ThreadExit
from .kernel.threads import GuestThread, SignalState
from .limits import BudgetExhausted
from .syscalls.sigframe import SigInfo
from .translate.cpu import Cpu, preemptible

class ThreadRunner:
    # CPUs of threads that ended, kept for new threads: an engine keeps its translated code,
    # so a new thread does not translate everything it runs again (Python's threads run the
    # same interpreter code: about 20 ms a thread before). They stay attached to the address
    # space, so their mappings follow the process's.
    SPARE_CPUS = 8

    def __init__(self, emulation: Any):
        self.em = emulation
        self.k = emulation.kernel
        self.threads = self.k.threads
        self._spare: list[Cpu] = []

    def cpus(self) -> list[Cpu]:
        """The CPUs of the live guest threads."""
        return [t.cpu for t in self.threads.by_tid.values()] or [self.em.cpu]

    # -- the run loop ------------------------------------------------------------------------
    def loop(self, cpu: Cpu, start: int | None) -> None:
        """Run the calling thread's guest code until it exits (an exception ends it)."""
        delivery = self.k.delivery
        # where a block may start inside a branch delay slot (MIPS), a preempted thread is
        # resumed as it was: a signal frame there would lose the pending branch
        deliver_when_preempted = not cpu.spec.delay_slots
        debugger = self.em.debugger
        while True:
            try:
                fault = cpu.run(start) if debugger is None else debugger.run(cpu, start)
            except BudgetExhausted as spent:        # --max-insns: the last few, then the end
                raise self.em.budget.finish(cpu, spent) from None
            start = None
            if fault is not None:
                self.take_fault(cpu, fault)
            if fault is not None or deliver_when_preempted:
                while delivery.deliverable() is not None:
                    delivery.deliver(cpu)
            if self.threads.lock.waiting():
                self.threads.blocking(lambda: None)      # stopped: let the others run

    def take_fault(self, cpu: Cpu, fault: Any) -> None:
        """The signal a fault raises, delivered now (a handler, or the end of the process)."""
        abi, delivery = self.k.abi, self.k.delivery
        signo = abi.signals.get(fault.signal, abi.signals["SIGSEGV"])
        info = SigInfo(signo, code=abi.const.get(fault.code, 0), addr=fault.address)
        delivery.post(info, self.k.thread, forced=True)
        delivery.deliver(cpu, forced=True)

    # -- clone -------------------------------------------------------------------------------
    def spawn(self, flags: int, stack: int, ptid: int, tls: int, ctid: int) -> int:
        """clone(CLONE_VM|CLONE_THREAD|...): a new engine and host thread; returns the tid."""
        c, parent = self.k.abi.const, self.k.thread
        cpu = self._spare.pop() if self._spare else self._new_cpu(parent.cpu.model)
        self._copy_context(parent.cpu, cpu)
        if stack:
            cpu.write(cpu.spec.sp, stack)
        spec = self.k.abi.spec
        cpu.write(spec.ret_reg, 0)
        if spec.error_flag_reg:
            cpu.write(spec.error_flag_reg, 0)
        if flags & c["CLONE_SETTLS"]:
            cpu.set_tls(tls)
        signals = SignalState(actions=parent.signals.actions, blocked=parent.signals.blocked)
        thread = GuestThread(0, cpu, signals)
        ready = threading.Event()
        thread.host = threading.Thread(target=self._thread_main, args=(thread, ready),
                                       name="pyemu-guest-thread", daemon=True)
        thread.host.start()
        ready.wait()
        if preemptible():
            self.threads.start_time_slices()
        self.threads.by_tid[thread.tid] = thread
        tid_bytes = thread.tid.to_bytes(4, self.k.abi.byteorder)
        if flags & c["CLONE_PARENT_SETTID"] and ptid:
            self.k.space.write(ptid, tid_bytes)
        if flags & c["CLONE_CHILD_SETTID"] and ctid:
            self.k.space.write(ctid, tid_bytes)
        if flags & c["CLONE_CHILD_CLEARTID"]:
            thread.tid_address = ctid
        return thread.tid

    def _new_cpu(self, model: Any) -> Cpu:
        cpu = Cpu(self.em.spec, self.em.space, model)
        cpu.on_syscall = self.em.make_dispatcher(cpu)
        self.em.cpu_created(cpu)
        return cpu

    def _copy_context(self, src: Cpu, dst: Cpu) -> None:
        frame = self.k.abi.spec.sigframe
        names = [name for name, _ in frame.regs if name != src.spec.pc]
        for name in names + [src.spec.tls]:
            dst.write(name, src.read(name))
        for name in frame.fp_regs:
            dst.uc.reg_write(dst.reg_id(name), src.uc.reg_read(src.reg_id(name)))
        dst.uc.reg_write(dst.reg_id(src.spec.pc), src.pc)

    def _thread_main(self, thread: GuestThread, ready: threading.Event) -> None:
        thread.tid = threading.get_native_id()
        ready.set()
        self.threads.lock.acquire()
        self.threads.bind(thread)
        try:
            self.loop(thread.cpu, None)
        except ThreadExit:
            pass
        except GuestExit as done:
            self.end_process(done)
        except BaseException as exc:  # a bug in pyemu: one line, like the main thread's
            sys.stderr.write(f"pyemu: internal error in a guest thread: {type(exc).__name__}: "
                             f"{exc}\n")
            sys.stderr.flush()
            os._exit(1)
        finally:
            self._finish(thread)
            self.threads.running = None
            self.threads.lock.release()

    def _finish(self, thread: GuestThread) -> None:
        """A thread ends: clear its child-tid word and wake whoever joins it."""
        thread.alive = False
        if thread.tid_address:
            try:
                self.k.space.write(thread.tid_address, bytes(4))
            except Exception:
                pass
            self.threads.futexes.wake(thread.tid_address, 1 << 30)
        if len(self._spare) < self.SPARE_CPUS:
            self._spare.append(thread.cpu)
        else:
            self.em.space.detach(thread.cpu)

    def end_process(self, done: GuestExit) -> None:
        """exit_group or a fatal signal in a thread other than the main one: the whole
        process ends here, at once, with the guest lock held (no guest code runs after)."""
        from .emulator import die_by_signal

        status = self.em.exited(done)
        sys.stdout.flush()
        sys.stderr.flush()
        if self.em.death_signal is not None:
            die_by_signal(self.em.death_signal, from_thread=True)
        os._exit(status)
