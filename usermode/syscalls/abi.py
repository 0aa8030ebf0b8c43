"""Linux ABI descriptors: how each guest ABI passes syscalls, numbers things and lays out memory.

``AbiSpec`` is frozen data, one per ABI (ARM EABI, AArch64, MIPS o32). ``Abi`` binds a spec to a
byte order and the generated tables (``generated/*.py``, from the kernel's headers) and derives
the translations handlers need: errno and signal numbers, open flags, struct layouts.
"""
from __future__ import annotations

import errno as host_errno
import importlib
import os
import signal as host_signal
from dataclasses import dataclass

from . import layouts, sigframe
from .sigframe import FrameSpec
from .flags import FlagTable
from .structs import LayoutSet

MAX_ERRNO = 4095


@dataclass(frozen=True)
class AddressLayout:
    """Where Linux puts things in a fresh process of this ABI (no randomization)."""

    limit: int          # size of the user address space
    stack_top: int
    mmap_base: int      # top of the top-down mmap area
    dyn_base: int       # where ET_DYN executables go (ELF_ET_DYN_BASE)


@dataclass(frozen=True)
class AbiSpec:
    name: str
    generated: str                 # module under usermode.syscalls.generated
    word_size: int
    nr_reg: str
    arg_regs: tuple[str, ...]
    ret_reg: str
    layout: AddressLayout
    structs: dict[str, list[tuple[str, str]]]
    error_flag_reg: str | None = None   # MIPS: a3 = 1 on error, v0 = positive errno
    ret2_reg: str | None = None         # second result register (MIPS pipe)
    stack_arg_offset: int | None = None  # o32: arguments past the registers live at sp+16...
    stack_args: int = 0
    pair_align: bool = False            # 64-bit arguments start at an even slot
    mmap2_shift: int = 12               # mmap2 offsets are in 4096-byte units
    sigset_words: int = 2               # u32 words in the kernel sigset_t
    # SysV IPC: a *ctl command without IPC_64 means the old structs (the kernel's
    # ipc_parse_version, ARCH_WANT_IPC_PARSE_VERSION); shmat's alignment is SHMLBA
    # (arch/*/include/asm/shmparam.h), enforced for every address where it exceeds a page
    ipc_old_structs: bool = False
    shmlba: int = 4096
    sigframe: FrameSpec = sigframe.ARM
    # rt_sigreturn trampoline (instruction words) for handlers without SA_RESTORER; it lives on
    # a page pyemu maps at layout.mmap_base (tests check the syscall number it encodes)
    sigreturn_code: tuple[int, ...] = ()
    # sizes statfs64/fstatfs64 take besides sizeof(struct statfs64): ARM's entry wrappers turn
    # 88 (EABI user space's struct, unpacked) into the kernel's packed 84
    statfs64_sizes: tuple[int, ...] = ()


ARM_EABI = AbiSpec(
    name="arm_eabi", generated="arm_eabi", word_size=4, nr_reg="r7",
    arg_regs=("r0", "r1", "r2", "r3", "r4", "r5", "r6"), ret_reg="r0",
    layout=AddressLayout(limit=1 << 32, stack_top=0xBF000000, mmap_base=0xB6FFF000,
                         dyn_base=0x7F555000),
    ipc_old_structs=True, shmlba=4 * 4096,
    structs=layouts.ARM_EABI, pair_align=True, sigframe=sigframe.ARM, statfs64_sizes=(88,),
    sigreturn_code=(0xE3A070AD, 0xEF000000),      # mov r7, #173 (rt_sigreturn); svc #0
)

AARCH64 = AbiSpec(
    name="aarch64", generated="aarch64", word_size=8, nr_reg="x8",
    arg_regs=("x0", "x1", "x2", "x3", "x4", "x5"), ret_reg="x0",
    layout=AddressLayout(limit=1 << 48, stack_top=0xFFFFFFFFF000, mmap_base=0xFFFFF7FFF000,
                         dyn_base=0xAAAAAAAAA000),
    structs=layouts.AARCH64, sigframe=sigframe.AARCH64,
    sigreturn_code=(0xD2801168, 0xD4000001),      # mov x8, #139 (rt_sigreturn); svc #0
)

MIPS_O32 = AbiSpec(
    name="mips_o32", generated="mips_o32", word_size=4, nr_reg="v0",
    arg_regs=("a0", "a1", "a2", "a3"), ret_reg="v0",
    layout=AddressLayout(limit=0x80000000, stack_top=0x7FFF0000, mmap_base=0x77FEF000,
                         dyn_base=0x55550000),
    ipc_old_structs=True, shmlba=0x40000,
    structs=layouts.MIPS_O32, error_flag_reg="a3", ret2_reg="v1", stack_arg_offset=16,
    stack_args=4, pair_align=True, sigset_words=4, sigframe=sigframe.MIPS_O32,
    sigreturn_code=(0x24021061, 0x0000000C),      # li v0, 4193 (rt_sigreturn); syscall
)

ABI_FOR_ARCH = {"arm": ARM_EABI, "aarch64": AARCH64, "mips": MIPS_O32, "mipsel": MIPS_O32}

# open(2) flags translated by name; O_ACCMODE values are the same everywhere.
_OPEN_FLAGS = ("O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND", "O_NONBLOCK", "O_DSYNC",
               "O_SYNC", "O_DIRECT", "O_DIRECTORY", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC",
               "O_PATH", "O_TMPFILE", "FASYNC", "O_LARGEFILE")
# uapi spells O_ASYNC (libc's name) FASYNC
_HOST_OPEN_FLAGS = {**vars(os), "FASYNC": os.O_ASYNC}


class Abi:
    """One ABI in one byte order, with every table a handler needs."""

    def __init__(self, spec: AbiSpec, byteorder: str):
        gen = importlib.import_module(f"{__package__}.generated.{spec.generated}")
        self.spec = spec
        self.name = spec.name
        self.byteorder = byteorder
        self.word_size = spec.word_size
        self.word_mask = (1 << (8 * spec.word_size)) - 1
        self.syscalls: dict[int, str] = gen.SYSCALLS
        self.const: dict[str, int] = gen.CONSTANTS
        self.errno: dict[str, int] = gen.ERRNO
        self.signals: dict[str, int] = gen.SIGNALS
        self.nsig: int = gen.NSIG
        self.signal_names = {num: name for name, num in sorted(self.signals.items(), reverse=True)}
        self.structs = LayoutSet({**layouts.common(spec.word_size), **spec.structs},
                                 spec.word_size, byteorder)
        self.errno_from_host = _errno_map(self.errno)
        self.open_flags = FlagTable.by_name(self.const, _HOST_OPEN_FLAGS, _OPEN_FLAGS)

    def guest_errno(self, host: int) -> int:
        return self.errno_from_host.get(host, self.errno["EINVAL"])

    def signal_to_host(self, guest: int) -> int | None:
        name = self.signal_names.get(guest)
        return getattr(host_signal, name, None) if name else None

    def signal_from_host(self, host: int) -> int | None:
        try:
            name = host_signal.Signals(host).name
        except ValueError:
            return None
        return self.signals.get(name)

    def int32(self, value: int) -> int:
        value &= 0xFFFFFFFF
        return value - (1 << 32) if value & 0x80000000 else value


def _errno_map(guest: dict[str, int]) -> dict[int, int]:
    table: dict[int, int] = {}
    for name, number in guest.items():
        host = getattr(host_errno, name, None)
        if host is not None:
            table.setdefault(host, number)
    return table
