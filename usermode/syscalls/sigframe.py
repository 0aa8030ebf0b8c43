"""Signal frames: the rt_sigframe each ABI's kernel builds on the user stack, and its undoing.

Sources: arch/arm/kernel/signal.c + uapi/asm/{sigcontext,ucontext}.h; arch/arm64/kernel/signal.c +
uapi/asm/sigcontext.h; arch/mips/kernel/signal.c + uapi/asm/{sigcontext,ucontext}.h (o32).
Each ``FrameSpec`` is data: offsets of siginfo, ucontext, the saved registers, the saved mask and
the registers a handler is entered with. pyemu always builds the RT frame (also for handlers
without SA_SIGINFO, which only look at their first argument), and both ``sigreturn`` and
``rt_sigreturn`` undo it. Floating-point/SIMD registers are restored from a copy pyemu keeps per
frame (they are not written into the guest's ucontext).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class SiginfoSpec:
    head: tuple[str, ...]      # order of si_signo, si_errno, si_code (MIPS swaps the last two)
    union: int                 # offset of the union (pid/uid/status, addr, value)


@dataclass(frozen=True)
class FrameSpec:
    size: int                  # bytes of the frame, from its (aligned) base
    align: int
    info: int                  # offset of struct siginfo in the frame
    siginfo: SiginfoSpec
    uc: int                    # offset of struct ucontext in the frame
    uc_stack: int              # offsets within ucontext ...
    stack_order: tuple[str, ...]   # stack_t members in order
    mcontext: int
    sigmask: int
    regs: tuple[tuple[str, int], ...]   # (register, offset within mcontext)
    reg_size: int              # bytes per saved register
    fault_address: int | None  # offset within mcontext, if the ABI saves it
    args: tuple[str, ...]      # handler's (signo, &info, &uc) registers
    link: str                  # return address register (-> restorer or trampoline)
    extra_entry: tuple[str, ...] = ()   # registers that also get the handler address (MIPS t9)
    frame_record: str | None = None     # register pointed at an {fp, lr} record (AArch64 x29)
    fp_regs: tuple[str, ...] = ()       # FP/SIMD state kept aside for sigreturn
    mode_flag: tuple[str, int] | None = None  # (register, bit) set when the handler is Thumb
    extra: dict[str, int] = field(default_factory=dict)


def _seq(prefix: str, count: int, base: int, step: int) -> tuple[tuple[str, int], ...]:
    return tuple((f"{prefix}{i}", base + step * i) for i in range(count))


ARM = FrameSpec(
    size=128 + 232 + 512 + 8, align=8, info=0,
    siginfo=SiginfoSpec(("signo", "errno", "code"), 12),
    uc=128, uc_stack=8, stack_order=("sp", "flags", "size"), mcontext=20, sigmask=104,
    regs=_seq("r", 13, 12, 4) + (("sp", 64), ("lr", 68), ("pc", 72), ("cpsr", 76)),
    reg_size=4, fault_address=80, args=("r0", "r1", "r2"), link="lr",
    fp_regs=tuple(f"d{i}" for i in range(32)) + ("fpscr",), mode_flag=("cpsr", 1 << 5),
)

AARCH64 = FrameSpec(
    size=128 + 176 + 288 + 4096 + 16, align=16, info=0,
    siginfo=SiginfoSpec(("signo", "errno", "code"), 16),
    uc=128, uc_stack=16, stack_order=("sp", "flags", "size"), mcontext=176, sigmask=40,
    regs=_seq("x", 31, 8, 8) + (("sp", 256), ("pc", 264), ("pstate", 272)),
    reg_size=8, fault_address=0, args=("x0", "x1", "x2"), link="x30", frame_record="x29",
    fp_regs=tuple(f"q{i}" for i in range(32)) + ("fpsr", "fpcr"),
)

MIPS_O32 = FrameSpec(
    size=152 + 616 + 16, align=8, info=24,
    siginfo=SiginfoSpec(("signo", "code", "errno"), 12),
    uc=152, uc_stack=8, stack_order=("sp", "size", "flags"), mcontext=24, sigmask=616,
    regs=(("pc", 8),) + tuple((f"{i}", 16 + 8 * i) for i in range(1, 32))
    + (("hi", 552), ("lo", 560)),
    reg_size=8, fault_address=None, args=("a0", "a1", "a2"), link="ra", extra_entry=("t9",),
    fp_regs=tuple(f"f{i}" for i in range(32)) + ("fcsr",),
)


@dataclass
class SigInfo:
    """The contents of a siginfo_t (only the members pyemu fills)."""

    signo: int
    code: int = 0              # SI_USER 0, SI_KERNEL 0x80, SEGV_MAPERR 1, ...
    errno: int = 0
    pid: int = 0
    uid: int = 0
    status: int = 0
    addr: int | None = None    # si_addr for faults
    value: int = 0
    timer: tuple[int, int] | None = None   # SI_TIMER's (si_tid, si_overrun): the timer's id
    # called when the signal is taken off the pending set (a timer counts overruns until then)
    dequeued: Callable[[SigInfo], None] | None = field(default=None, repr=False, compare=False)


def pack_siginfo(spec: SiginfoSpec, info: SigInfo, word: int, byteorder: str) -> bytes:
    end = "<" if byteorder == "little" else ">"
    out = bytearray(128)
    head = {"signo": info.signo, "errno": info.errno, "code": info.code}
    struct.pack_into(end + "iii", out, 0, *(head[name] for name in spec.head))
    ptr = "I" if word == 4 else "Q"
    if info.addr is not None:
        struct.pack_into(end + ptr, out, spec.union, info.addr & ((1 << (8 * word)) - 1))
    else:
        first, second = info.timer if info.timer is not None else (info.pid, info.uid)
        struct.pack_into(end + "iIi", out, spec.union, first, second, info.status)
        if info.value:
            struct.pack_into(end + ptr, out, spec.union + 8, info.value)
    return bytes(out)
