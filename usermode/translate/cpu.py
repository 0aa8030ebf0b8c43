"""One guest CPU on one Unicorn engine: registers, the run loop and its stop reasons.

Guest code runs inside the engine. Python runs only when the guest traps (syscall, fault, other
exception). The syscall callback runs inside the engine's interrupt hook, so a syscall costs one
Python call and no engine restart; anything it raises is stored, the engine is stopped and the run
loop re-raises it (nothing is lost inside C).
"""
from __future__ import annotations

import ctypes
import functools
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import unicorn
from unicorn import Uc, UcError
from unicorn.unicorn_py3.unicorn import uclib as _uclib

from .arches import CpuModel, CpuSpec
from .blocksplit import BlockSplitter
from .kuser import KUSER_PAGE, KUSER_PAGE_SIZE, kuser_page
from .memory import PROT_ALL, PROT_EXEC, PROT_READ, AddressSpace, HostWindow

_CONST_MODULES = {
    "arm": unicorn.arm_const,
    "arm64": unicorn.arm64_const,
    "mips": unicorn.mips_const,
}


_UC_FAULTS = {
    unicorn.UC_ERR_READ_UNMAPPED: ("SIGSEGV", "SEGV_MAPERR"),
    unicorn.UC_ERR_WRITE_UNMAPPED: ("SIGSEGV", "SEGV_MAPERR"),
    unicorn.UC_ERR_FETCH_UNMAPPED: ("SIGSEGV", "SEGV_MAPERR"),
    unicorn.UC_ERR_READ_PROT: ("SIGSEGV", "SEGV_ACCERR"),
    unicorn.UC_ERR_WRITE_PROT: ("SIGSEGV", "SEGV_ACCERR"),
    unicorn.UC_ERR_FETCH_PROT: ("SIGSEGV", "SEGV_ACCERR"),
    unicorn.UC_ERR_READ_UNALIGNED: ("SIGBUS", "BUS_ADRALN"),
    unicorn.UC_ERR_WRITE_UNALIGNED: ("SIGBUS", "BUS_ADRALN"),
    unicorn.UC_ERR_FETCH_UNALIGNED: ("SIGBUS", "BUS_ADRALN"),
    unicorn.UC_ERR_INSN_INVALID: ("SIGILL", "ILL_ILLOPC"),
}


@functools.cache
def engine_patches() -> frozenset[str]:
    """The pyemu patches built into the loaded Unicorn library (tools/build_engine.py marks its
    builds with ``uc_pyemu_patches()``); empty for the stock library."""
    try:
        probe = _uclib.uc_pyemu_patches
    except AttributeError:
        return frozenset()
    probe.restype = ctypes.c_char_p
    probe.argtypes = []
    return frozenset((probe() or b"").decode("ascii", "replace").split(","))


def engine_description() -> str:
    """The loaded engine, for -v: its version and pyemu patches."""
    patches = sorted(engine_patches())
    return f"unicorn {unicorn.__version__} " + (
        f"with pyemu patches {', '.join(patches)}" if patches else "(stock)")


def engine_reason() -> str:
    """Why this engine runs (LIBUNICORN_PATH, PYEMU_ENGINE=stock, the install's build, or
    why the install could not build the patched one)."""
    from . import ENGINE_REASON
    return ENGINE_REASON


# Stores to writable pages stay on the engine's fast path with its own TLB (stock 2.1.4 sends
# every one through its slow "notdirty" path, so pyemu answers TLB fills where it can).
STORE_FASTPATH = "store-fastpath-1"
# The MIPS translator frees its per-instruction temp (stock: see blocksplit).
MIPS_TEMPS = "mips-temps-1"
# Guest loads and stores compile to host accesses into a HostWindow (32-bit guests, x86-64
# Linux hosts).
DIRECT_ACCESS = ("direct-loads-1", "direct-stores-1")
# Stop requests are checked only at block starts (stock 2.1.4 also checks after guest memory
# accesses, in the middle of a block): a stop from another thread leaves a whole guest state.
INLINE_EXIT_CHECKS = "exit-checks-1"


# A stop requested by a code hook comes before the hooked instruction (exit-checks-1 alone
# deferred it to the next block: breakpoints and single steps need it at once).
HOOK_STOPS = "hook-stops-1"


def preemptible() -> bool:
    """Whether one guest thread can be stopped from another and resumed safely."""
    return INLINE_EXIT_CHECKS in engine_patches()


def debuggable() -> bool:
    """Whether breakpoints and single steps stop where they should (the stock engine, or a
    patched one with hook-stops-1; not a patched build older than that patch)."""
    patches = engine_patches()
    return INLINE_EXIT_CHECKS not in patches or HOOK_STOPS in patches


def host_window(limit: int) -> HostWindow | None:
    """The host layout for a guest address space of ``limit`` bytes: a HostWindow when the
    engine can load and store there directly (PYEMU_DIRECT=0 turns that off), else None."""
    if limit > 1 << 32 or not set(DIRECT_ACCESS) <= engine_patches():
        return None
    if os.environ.get("PYEMU_DIRECT", "1") == "0":
        return None
    try:
        return HostWindow(1 << 32)
    except MemoryError:     # no room for 4 GiB of address space: the TLB path
        return None


_INTR_CFUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)
_ACCESS_RIGHT = {unicorn.UC_MEM_READ: 1, unicorn.UC_MEM_WRITE: 2, unicorn.UC_MEM_FETCH: 4}


@dataclass(frozen=True)
class Fault:
    """Why guest code stopped without a syscall: the signal Linux would raise."""

    signal: str           # "SIGSEGV", "SIGILL", ...
    code: str             # si_code name
    address: int          # faulting data address (or pc)
    pc: int


# The same library through PyDLL: its functions keep the GIL. Register batches are short C
# calls made from inside engine callbacks, where releasing and retaking the GIL around each
# one costs more than the call itself.
_uclib_gil = ctypes.PyDLL(_uclib._name, handle=_uclib._handle)


class RegisterBatch:
    """A fixed list of (integer, at most 64-bit) registers read or written with one engine
    call, through the C API with buffers prepared once: the binding's own batch functions cost
    several microseconds per call in Python, which the syscall path cannot afford."""

    __slots__ = ("_values", "_read", "_write")

    def __init__(self, uc: Uc, ids: list[int]):
        n = len(ids)
        regs = (ctypes.c_int * n)(*ids)
        self._values = (ctypes.c_uint64 * n)()
        base = ctypes.addressof(self._values)
        ptrs = (ctypes.c_void_p * n)(*(base + 8 * i for i in range(n)))
        # the arguments bound once (the arrays stay alive with the partials)
        self._read = functools.partial(_uclib_gil.uc_reg_read_batch, uc._uch, regs, ptrs, n)
        self._write = functools.partial(_uclib_gil.uc_reg_write_batch, uc._uch, regs, ptrs, n)

    def read(self) -> list[int]:
        self._read()
        return self._values[:]

    def write(self, values: Sequence[int]) -> None:
        for i, value in enumerate(values):
            self._values[i] = value & 0xFFFFFFFFFFFFFFFF
        self._write()

    def write1(self, value: int) -> None:
        """Write the first (or only) register."""
        self._values[0] = value & 0xFFFFFFFFFFFFFFFF
        self._write()

    def write2(self, first: int, second: int) -> None:
        """Write the first two registers."""
        values = self._values
        values[0] = first & 0xFFFFFFFFFFFFFFFF
        values[1] = second & 0xFFFFFFFFFFFFFFFF
        self._write()


class Cpu:
    """A guest CPU: an engine attached to a shared AddressSpace."""

    def __init__(self, spec: CpuSpec, space: AddressSpace, model: CpuModel | None = None):
        self.spec = spec
        self.space = space
        self.model = model or spec.default_model
        self._consts = _CONST_MODULES[spec.reg_prefix]
        mode = 0
        for name in spec.engine_mode:
            mode |= getattr(unicorn, f"UC_MODE_{name}")
        self.uc = Uc(getattr(unicorn, f"UC_ARCH_{spec.engine_arch}"), mode)
        self.uc.ctl_set_cpu_model(getattr(self._consts, f"UC_CPU_{self.model.engine_model}"))
        if spec.engine_page_size:
            self.uc.ctl_set_page_size(spec.engine_page_size)
        # The engine asks us for each page's rights (virtual TLB): stores to data pages then
        # take the fast path (with the engine's own TLB every store is a slow "notdirty"
        # write), and faults are seen here with their address. No memory hook may be
        # installed on the normal path: any one of them sends every access to the slow path.
        # Set before anything initializes the engine. An engine with pyemu's store patch has
        # fast stores with its own TLB, which also spares the Python call per TLB miss.
        self.virtual_tlb = spec.virtual_tlb and STORE_FASTPATH not in engine_patches()
        if self.virtual_tlb:
            self.uc.ctl_set_tlb_mode(unicorn.UC_TLB_VIRTUAL)
        self._pc = self.reg_id(spec.pc)
        self._syscall_intno = spec.syscall_intno
        self._mode_reg = self.reg_id(spec.mode_flag[0]) if spec.mode_flag else None
        self._mask = (1 << spec.elf_class) - 1
        self._until = self._mask if spec.run_until is None else spec.run_until
        self._last_page = self._mask & ~0xFFF
        self._pending: BaseException | None = None
        self._fault: Fault | None = None
        self._last_access = 0
        self._probing = False
        self._stepping = False
        self._step_lock = threading.Lock()
        self.debug_hooks: Any = None     # translate.debug.DebugHooks, under a debugger
        self.on_syscall: Callable[[Cpu], None] = lambda cpu: None
        self._enable_fpu()
        self._splitter = None
        if spec.block_split_limit and MIPS_TEMPS not in engine_patches():
            self._splitter = BlockSplitter(self.uc, spec.byteorder, spec.block_split_limit)
        space.attach(self)
        self.direct_access = False
        if space.window is not None:
            status = _uclib.uc_pyemu_direct(self.uc._uch, ctypes.c_uint64(space.window.base),
                                            ctypes.c_uint64(space.window.size))
            self.direct_access = status == unicorn.UC_ERR_OK
        if spec.kuser_helpers and space.find(KUSER_PAGE) is None:
            space.map(KUSER_PAGE, KUSER_PAGE_SIZE, PROT_READ | PROT_EXEC, name="[vectors]")
            space.write(KUSER_PAGE, kuser_page(spec.byteorder), check=False)
        self._hooks = [self._add_intr_hook()]
        if self.virtual_tlb:
            self.uc.hook_add(unicorn.UC_HOOK_TLB_FILL, self._on_tlb_fill)
        else:   # the engine's own TLB: faults report their address through this hook
            self.uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, self._on_invalid_access)

    # -- registers ---------------------------------------------------------------------------
    def reg_id(self, name: str) -> int:
        const = f"UC_{self.spec.reg_prefix.upper()}_REG_{name.upper()}"
        try:
            return getattr(self._consts, const)
        except AttributeError:
            raise KeyError(f"no register {name!r} on {self.spec.name}") from None

    def registers(self, names: Sequence[str]) -> RegisterBatch:
        return RegisterBatch(self.uc, [self.reg_id(n) for n in names])

    def read(self, name: str) -> int:
        return self.uc.reg_read(self.reg_id(name))

    def write(self, name: str, value: int) -> None:
        self.uc.reg_write(self.reg_id(name), value & self._mask)

    def write_wide(self, name: str, value: int) -> None:
        """Write any register at its own width (FP/SIMD ones too: ``write`` masks to a word).
        The pc keeps the current Thumb state: the engine takes it from bit 0 of a pc write."""
        if name == self.spec.pc and self._mode_reg is not None:
            value = (value & ~1) | (self.pc & 1)
        self.uc.reg_write(self.reg_id(name), value)

    def jump(self, address: int) -> None:
        """Point the CPU at ``address``; bit 0 selects Thumb where the architecture has it
        (the engine takes the Thumb state from bit 0 of a pc write, and clears the bit)."""
        self.uc.reg_write(self._pc, address)

    @property
    def pc(self) -> int:
        """The resume address, with the Thumb bit where the architecture has one."""
        pc = self.uc.reg_read(self._pc)
        if self._mode_reg is not None and self.uc.reg_read(self._mode_reg) & self.spec.mode_flag[1]:
            pc |= 1
        return pc

    def rewind_syscall(self) -> None:
        """Point the pc back at the syscall instruction just executed (to restart it)."""
        pc = self.pc
        size = 2 if pc & 1 else self.spec.syscall_insn_size
        self.uc.reg_write(self._pc, pc - size)

    def set_tls(self, value: int) -> None:
        self.write(self.spec.tls, value)

    def _enable_fpu(self) -> None:
        for name, bits in self.spec.fpu_enable:
            self.write(name, self.read(name) | bits)

    # -- Engine protocol (used by AddressSpace) ----------------------------------------------
    # Changing the map makes the engine look up code addresses through the TLB (to drop stale
    # translations): those lookups must not fault, so they are answered with an identity
    # mapping while ``_probing``, and the TLB (which caches rights) is flushed afterwards.
    def _changing_map(self, operation, *args) -> None:
        self._probing = True
        try:
            operation(*args)
        finally:
            self._probing = False
            self.uc.ctl(unicorn.UC_CTL_TLB_FLUSH, unicorn.UC_CTL_IO_WRITE)

    def map_host(self, start: int, size: int, prot: int, host: int) -> None:
        self._changing_map(self.uc.mem_map_ptr, start, size, prot, host)
        if self._splitter:      # fresh anonymous memory is zeros: only files hold code yet
            self._split_later(start, size, prot, files_only=True)

    def unmap(self, start: int, size: int) -> None:
        self._changing_map(self.uc.mem_unmap, start, size)
        if self._splitter:
            self._splitter.unmapped(start, size)

    def protect(self, start: int, size: int, prot: int) -> None:
        self._changing_map(self.uc.mem_protect, start, size, prot)
        if self._splitter:
            self._splitter.unmapped(start, size)
            self._split_later(start, size, prot)

    def _split_later(self, start: int, size: int, prot: int, files_only: bool = False) -> None:
        vma = self.space.find(start)
        if vma is not None and (vma.name.startswith("/") or not files_only):
            delta = start - vma.start
            self._splitter.mapped(start, size, prot, vma.host + delta, vma.name,
                                  vma.offset + delta)

    def invalidate_code(self, start: int, end: int) -> None:
        self._changing_map(self.uc.ctl_remove_cache, start, end)

    # -- running -----------------------------------------------------------------------------
    def run(self, start: int | None = None, until: int | None = None,
            count: int = 0) -> Fault | None:
        """Run guest code from ``start`` (default: the current pc) until something stops it,
        until it reaches ``until``, or for ``count`` instructions.

        Returns the Fault that stopped it, or None when preempt() (or a hook) stopped it (or
        it reached ``until``). Exceptions raised by the syscall callback (GuestExit among them)
        and by block hooks propagate from here.
        """
        begin = self.pc if start is None else start
        self._fault = None
        if self._splitter and self._splitter.pending:
            self._splitter.prepare()
        try:
            self.uc.emu_start(begin, self._until if until is None else until, count=count)
            if self._pending is None and self.uc.reg_read(self._pc) == self._until:
                # the guest jumped to the end address: no user code can run there
                self._fault = Fault("SIGSEGV", "SEGV_MAPERR", self._until, self._until)
        except UcError as err:
            if err.errno == unicorn.UC_ERR_INSN_INVALID and self._after_hint():
                pass                        # a YIELD or WFE: nothing to do, go on after it
            elif self._pending is None and self._fault is None:
                self._fault = self._fault_from_error(err)
            # the refused access may have left a TLB entry behind (the stock engine fills
            # it before checking the region's rights): the next access must ask again
            self.uc.ctl(unicorn.UC_CTL_TLB_FLUSH, unicorn.UC_CTL_IO_WRITE)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            raise pending
        return self._fault

    def step(self) -> Fault | None:
        """Run one instruction (a MIPS branch with its delay slot), as a debugger's single
        step. Not preempted: a stop request before the instruction would make a step that
        ran nothing look like one that branched to itself. Each step costs the engine two
        flushes of its translated code (it adds, then drops, its instruction-count hook)."""
        with self._step_lock:
            self._stepping = True
        try:
            return self.run(count=1)
        finally:
            with self._step_lock:
                self._stepping = False

    def run_to(self, address: int) -> Fault | None:
        """Run straight-line code from the current pc up to ``address`` (not executing it).
        (A run's end address stops at any instruction on every engine build; the instruction
        count did not on pyemu's engine before its hook-stops-1 patch.)"""
        # the end address is compiled into the code: the block at the pc is translated again
        pc, thumb = self.uc.reg_read(self._pc), self.pc & 1
        self.invalidate_code(pc, pc + 1)
        fault = self.run(None, address & ~1)
        if fault is None:       # MIPS's translator halts there without updating the pc
            self.uc.reg_write(self._pc, (address & ~1) | thumb)    # (bit 0: stay in Thumb)
        return fault

    # -- API hooks (usermode.Emulator): not on the normal path -------------------------------
    def hook_code(self, start: int, end: int, callback: Callable[[int], None]) -> Any:
        """Call ``callback(address)`` before each instruction in [start, end]; a handle for
        ``unhook``. Code already translated there is translated again (hooks are compiled in)."""
        def on_code(_uc: Uc, address: int, _size: int, _data: object) -> None:
            try:
                callback(address)
            except BaseException as exc:
                self.fail(exc)
        handle = self.uc.hook_add(unicorn.UC_HOOK_CODE, on_code, begin=start, end=end)
        self.invalidate_code(start & ~0xFFF, end + 1)
        return handle

    def hook_memory(self, start: int, end: int, read: bool, write: bool,
                    callback: Callable[[str, int, int, int], None]) -> Any:
        """Call ``callback(kind, address, size, value)`` ("read" or "write") for guest accesses
        to [start, end]: every access of the engine then takes its checked path (3-5x slower,
        and no direct memory access), only while a memory hook exists."""
        kinds = (unicorn.UC_HOOK_MEM_READ if read else 0) | (
            unicorn.UC_HOOK_MEM_WRITE if write else 0)

        def on_access(_uc: Uc, access: int, address: int, size: int, value: int,
                      _data: object) -> None:
            try:
                callback("write" if access == unicorn.UC_MEM_WRITE else "read", address, size,
                         value)
            except BaseException as exc:
                self.fail(exc)
        handle = self.uc.hook_add(kinds, on_access, begin=start, end=end)
        self.uc.ctl_flush_tb()      # code translated so far has no calls to the hook
        return handle

    def unhook(self, handle: Any) -> None:
        self.uc.hook_del(handle)
        self.uc.ctl_flush_tb()

    def preempt(self) -> None:
        """From another host thread: stop at the start of the next block; run() returns None.
        Only where ``preemptible()``; harmless when the CPU is not running."""
        with self._step_lock:
            if not self._stepping:
                self.uc.emu_stop()

    def fail(self, exc: BaseException) -> None:
        """From inside a hook: stop the engine; run() raises ``exc``."""
        self._pending = exc
        self.uc.emu_stop()

    def _after_hint(self) -> bool:
        """Whether the instruction just before the pc is a hint the engine refuses (the
        engine leaves the pc past it: Unicorn's AArch32 YIELD and WFE; Rust's spin loops)."""
        thumb = self.pc & 1
        patterns = self.spec.thumb_hints if thumb else self.spec.hints
        pc = self.uc.reg_read(self._pc)
        order = self.spec.byteorder
        for width, mask, value in patterns:
            try:
                raw = bytes(self.uc.mem_read(pc - width, width))
            except UcError:
                continue
            if thumb and width == 4:
                word = (int.from_bytes(raw[:2], order) << 16) | int.from_bytes(raw[2:], order)
            else:
                word = int.from_bytes(raw, order)
            if word & mask == value:
                return True
        return False

    def _fault_from_error(self, err: UcError) -> Fault:
        signal, code = _UC_FAULTS.get(err.errno, ("SIGSEGV", "SEGV_MAPERR"))
        pc = self.uc.reg_read(self._pc)
        address = pc
        if signal in ("SIGSEGV", "SIGBUS"):
            address = self._exact_fault_address() if self.virtual_tlb else self._last_access
        return Fault(signal, code, address, pc)

    def _exact_fault_address(self) -> int:
        """The TLB fill only sees the page: the faulting instruction's memory operand gives the
        address (decoded with capstone, on faults only)."""
        page = self._last_access
        try:
            from .faultaddr import memory_operand_address
            pc = self.uc.reg_read(self._pc)
            code = bytes(self.uc.mem_read(pc, 4))
            address = memory_operand_address(self, code, pc)
        except Exception:  # an undecodable instruction: the page is the best we know
            return page
        if address is None or address & ~0xFFF != page & ~0xFFF:
            return page
        return address

    def _add_intr_hook(self) -> object:
        """The interrupt hook, registered through the C API with the bound method as the C
        callback: the binding's wrapper around Python callbacks adds about a microsecond to
        every syscall."""
        uc = self.uc
        cfunc = _INTR_CFUNC(self._on_interrupt)
        handle = ctypes.c_size_t()
        status = _uclib.uc_hook_add(uc._uch, ctypes.byref(handle), unicorn.UC_HOOK_INTR,
                                    ctypes.cast(cfunc, ctypes.c_void_p), None, 1, 0)
        if status != unicorn.UC_ERR_OK:
            raise UcError(status)
        return cfunc          # kept alive with the Cpu

    def _on_interrupt(self, _handle: int, intno: int, _data: int) -> None:
        try:
            if intno == self._syscall_intno:
                self.on_syscall(self)
                if self._splitter and self._splitter.pending:   # mmap/mprotect of code
                    self._splitter.prepare()
                return
            pc = self.uc.reg_read(self._pc)
            signal = self.spec.trap_signals.get(intno, "SIGILL")
            self._fault = Fault(signal, f"intno {intno}", pc, pc)
            self.uc.emu_stop()
        except BaseException as exc:  # re-raised by run() once the engine has stopped
            self._pending = exc
            self.uc.emu_stop()

    def _on_invalid_access(self, uc: Uc, access: int, address: int, size: int, value: int,
                           _data: object) -> bool:
        self._last_access = address
        return False

    def _on_tlb_fill(self, uc: Uc, vaddr: int, access: int, entry, _data: object) -> bool:
        if self._probing or vaddr >= self._last_page:
            # the engine translating an address for its own bookkeeping (it also probes the
            # address -1, outside any user mapping on every arch)
            entry.paddr, entry.perms = vaddr, PROT_ALL
            return True
        vma = self.space.find(vaddr)
        if vma is None:
            self._last_access = vaddr
            return False
        entry.paddr = vaddr
        entry.perms = vma.prot
        if not vma.prot & _ACCESS_RIGHT.get(access, 0):
            self._last_access = vaddr
        return True
