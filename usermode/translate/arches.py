"""CPU descriptors: everything pyemu needs to know about a guest CPU, as frozen data.

Only CPU facts live here (engine arch/mode, registers, ELF identification, hwcaps, trap numbers).
Linux ABI facts (syscall registers, numbers, struct layouts) live in ``usermode.syscalls.abi``.
Register names are strings; ``usermode.translate.cpu`` maps them to engine ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

# ELF e_machine values (ELF gABI / linux/elf-em.h)
EM_MIPS = 8
EM_ARM = 40
EM_AARCH64 = 183

# AT_HWCAP bits (arch/arm/include/uapi/asm/hwcap.h)
_ARM_HWCAP = {
    "swp": 1 << 0, "half": 1 << 1, "thumb": 1 << 2, "fast_mult": 1 << 4, "vfp": 1 << 6,
    "edsp": 1 << 7, "neon": 1 << 12, "vfpv3": 1 << 13, "tls": 1 << 15, "vfpv4": 1 << 16,
    "idiva": 1 << 17, "idivt": 1 << 18, "lpae": 1 << 20, "evtstrm": 1 << 21,
}
# arch/arm64/include/uapi/asm/hwcap.h
_ARM64_HWCAP = {
    "fp": 1 << 0, "asimd": 1 << 1, "evtstrm": 1 << 2, "aes": 1 << 3, "pmull": 1 << 4,
    "sha1": 1 << 5, "sha2": 1 << 6, "crc32": 1 << 7,
}


def _bits(table: dict[str, int], *names: str) -> int:
    value = 0
    for name in names:
        value |= table[name]
    return value


@dataclass(frozen=True)
class CpuModel:
    """One selectable CPU model (``-cpu NAME``) with the hwcaps Linux reports for it."""

    name: str
    engine_model: str  # name of the UC_CPU_* constant (without the prefix)
    hwcap: int = 0
    hwcap2: int = 0
    cpuinfo: str = ""  # /proc/cpuinfo block for one processor ({n} is its number)


@dataclass(frozen=True)
class CpuSpec:
    """Facts about one guest CPU architecture."""

    name: str                 # "arm", "aarch64", "mips", "mipsel"
    engine_arch: str          # UC_ARCH_* suffix
    engine_mode: tuple[str, ...]  # UC_MODE_* suffixes, or-ed together
    reg_prefix: str           # module of register constants: arm, arm64, mips
    elf_machine: int
    elf_class: int            # 32 or 64
    byteorder: str            # "little" or "big"
    pc: str
    sp: str
    link: str | None
    tls: str                  # register holding the thread pointer
    syscall_intno: int        # UC_HOOK_INTR number of the syscall instruction
    syscall_insn_size: int = 4   # bytes of that instruction (Thumb's svc: 2, from the mode)
    trap_signals: dict[int, str] = field(default_factory=dict)  # other intno -> signal name
    models: tuple[CpuModel, ...] = ()
    platform: str | None = None   # AT_PLATFORM string
    uname_machine: str = ""
    mode_flag: tuple[str, int] | None = None  # (register, bit) that pc bit 0 stands for (Thumb)
    fpu_enable: tuple[tuple[str, int], ...] = ()  # registers to OR at reset so hard-float runs
    kuser_helpers: bool = False  # map the ARM kernel user helpers page
    # e_flags checks: (mask, accepted values of flags & mask, what is refused otherwise)
    elf_flag_checks: tuple[tuple[int, tuple[int, ...], str], ...] = ()
    # EI_ABIVERSION values this arch's programs carry (MIPS: 1 in non-PIC executables with
    # PLTs, gcc -mplt); binfmt_misc's mask lets these through (usermode/binfmt/magic.py)
    elf_abiversions: tuple[int, ...] = (0,)
    # (mask, value) of the e_flags bits binfmt_misc must test to tell this ABI from another of
    # the same ELF class and machine that another emulator claims (MIPS o32 from n32, which
    # qemu-binfmt-conf.sh gives to qemu-mipsn32); (0, 0): e_machine is enough
    binfmt_flags: tuple[int, int] = (0, 0)
    cpuinfo_tail: str = ""   # /proc/cpuinfo lines after the per-processor blocks
    # Run with the engine's virtual TLB (page rights from pyemu): fast guest stores. Off where
    # Unicorn 2.1.4 mis-executes in that mode after the map changes: MIPS (Reserved Instruction
    # on a branch whose delay slot starts a new block) and 32-bit ARM (Debian's python3.11
    # reads stale data in ld.so after mprotect); see docs/ARCHITECTURE.md.
    virtual_tlb: bool = False
    # capstone's arch and mode names for disassembly (-d in_asm); Thumb's mode where there is one
    disasm: tuple[str, tuple[str, ...]] = ("ARM", ("ARM",))
    disasm_thumb: tuple[str, ...] = ()
    # Straight-line runs longer than this get a native no-op code hook so the stock engine
    # ends its blocks sooner: its MIPS translator leaks a temp per instruction and dies on
    # blocks of about 380 instructions (see translate/blocksplit.py).
    block_split_limit: int | None = None
    # The engine's page size where it can be chosen (ARM and AArch64 default to 1 KiB pages,
    # the ARMv5 minimum): Linux's 4 KiB pages make each TLB entry cover four times as much.
    engine_page_size: int | None = None
    # Branches have delay slots, and a block can start inside one (after a branch that ends
    # a page): the branch is pending in engine state no register shows.
    delay_slots: bool = False
    # The engine's end address for a run, where guest code never executes; None: the top of
    # the address space. When a run stops early, Unicorn drops the code cached just below
    # it, and on MIPS looking up the top address (kseg2) from user mode fails: every stop
    # (a preemption, an instruction count) then came back as an unmapped read.
    run_until: int | None = None
    # Thumb: the top five bits of a halfword that starts a 32-bit instruction
    thumb_wide_prefixes: tuple[int, ...] = ()
    # Hint instructions (YIELD, WFE, WFI, SEV) the engine refuses as invalid, with the pc
    # already past them: for a user process they do nothing. (width, mask, value) of the
    # instruction before the pc; Thumb's 32-bit ones as first halfword << 16 | second.
    hints: tuple[tuple[int, int, int], ...] = ()
    thumb_hints: tuple[tuple[int, int, int], ...] = ()

    @property
    def word_size(self) -> int:
        return self.elf_class // 8

    @property
    def default_model(self) -> CpuModel:
        return self.models[0]

    def cpuinfo(self, model: CpuModel, ncpus: int) -> str:
        """/proc/cpuinfo as Linux on this CPU prints it."""
        blocks = "".join(model.cpuinfo.format(n=n) + "\n" for n in range(ncpus))
        return blocks + self.cpuinfo_tail

    def model(self, name: str | None) -> CpuModel | None:
        """The model called ``name`` (case-insensitive), the default for None, else None."""
        if name is None:
            return self.default_model
        for model in self.models:
            if model.name.lower() == name.lower():
                return model
        return None


_ARM_CPUINFO = ("processor\t: {{n}}\nmodel name\t: ARMv7 Processor rev {rev} (v7l)\n"
                "BogoMIPS\t: 48.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
                "CPU architecture: 7\nCPU variant\t: {variant}\nCPU part\t: {part}\n"
                "CPU revision\t: {rev}\n")
_ARM_FEATURES = "half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae"
_ARM64_CPUINFO = ("processor\t: {{n}}\nBogoMIPS\t: 50.00\n"
                  "Features\t: fp asimd aes pmull sha1 sha2 crc32\n"
                  "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {variant}\n"
                  "CPU part\t: {part}\nCPU revision\t: {rev}\n")
_MIPS_CPUINFO = ("system type\t\t: pyemu MIPS\nmachine\t\t\t: Unknown\nprocessor\t\t: {{n}}\n"
                 "cpu model\t\t: MIPS {name} V0.0  FPU V0.0\nBogoMIPS\t\t: 100.00\n"
                 "wait instruction\t: yes\nmicrosecond timers\t: yes\ntlb_entries\t\t: 16\n"
                 "isa\t\t\t: mips1 mips2 mips32r1 mips32r2\nASEs implemented\t: mips16\n"
                 "shadow register sets\t: 1\n")

_ARM_A15 = _bits(_ARM_HWCAP, "swp", "half", "thumb", "fast_mult", "vfp", "edsp", "neon", "vfpv3",
                 "tls", "vfpv4", "idiva", "idivt", "lpae")
_ARM64_BASE = _bits(_ARM64_HWCAP, "fp", "asimd", "aes", "pmull", "sha1", "sha2", "crc32")

ARM = CpuSpec(
    name="arm", engine_arch="ARM", engine_mode=("ARM",), reg_prefix="arm",
    elf_machine=EM_ARM, elf_class=32, byteorder="little",
    pc="pc", sp="sp", link="lr", tls="c13_c0_3", syscall_intno=2,
    disasm=("ARM", ("ARM",)), disasm_thumb=("THUMB",),
    thumb_wide_prefixes=(0b11101, 0b11110, 0b11111),
    hints=((4, 0x0FFFFFF8, 0x0320F000),),                              # A32 NOP..SEVL
    thumb_hints=((2, 0xFF0F, 0xBF00), (4, 0xFFFFFFF8, 0xF3AF8000)),    # T16 and T32 hints
    trap_signals={1: "SIGILL", 7: "SIGTRAP", 3: "SIGSEGV", 4: "SIGSEGV"},
    models=(
        CpuModel("cortex-a15", "ARM_CORTEX_A15", _ARM_A15, cpuinfo=_ARM_CPUINFO.format(
            rev=3, variant="0x2", part="0xc0f", features=_ARM_FEATURES)),
        CpuModel("cortex-a7", "ARM_CORTEX_A7", _ARM_A15, cpuinfo=_ARM_CPUINFO.format(
            rev=5, variant="0x0", part="0xc07", features=_ARM_FEATURES)),
        CpuModel("cortex-a9", "ARM_CORTEX_A9",
                 _bits(_ARM_HWCAP, "swp", "half", "thumb", "fast_mult", "vfp", "edsp", "neon",
                       "vfpv3", "tls"),
                 cpuinfo=_ARM_CPUINFO.format(rev=0, variant="0x2", part="0xc09",
                                             features="half thumb fastmult vfp edsp neon vfpv3 "
                                                      "tls vfpd32")),
        CpuModel("max", "ARM_MAX", _ARM_A15, cpuinfo=_ARM_CPUINFO.format(
            rev=3, variant="0x2", part="0xc0f", features=_ARM_FEATURES)),
    ),
    platform="v7l", uname_machine="armv7l", kuser_helpers=True,
    cpuinfo_tail="Hardware\t: Generic DT based system\nRevision\t: 0000\n"
                 "Serial\t\t: 0000000000000000\n",
    elf_flag_checks=((0xFF000000, (0x04000000, 0x05000000), "ARM OABI or pre-EABI4 binaries"),),
    mode_flag=("cpsr", 1 << 5),
    fpu_enable=(("c1_c0_2", 0xF << 20), ("fpexc", 0x40000000)),  # CPACR cp10/cp11, FPEXC.EN
    engine_page_size=0x1000,
)

AARCH64 = CpuSpec(
    name="aarch64", engine_arch="ARM64", engine_mode=("ARM",), reg_prefix="arm64",
    elf_machine=EM_AARCH64, elf_class=64, byteorder="little",
    pc="pc", sp="sp", link="x30", tls="tpidr_el0", syscall_intno=2,
    disasm=("ARM64", ("ARM",)),
    trap_signals={1: "SIGILL", 7: "SIGTRAP"},
    models=(
        CpuModel("cortex-a72", "ARM64_A72", _ARM64_BASE,
                 cpuinfo=_ARM64_CPUINFO.format(variant="0x0", part="0xd08", rev=3)),
        CpuModel("cortex-a57", "ARM64_A57", _ARM64_BASE,
                 cpuinfo=_ARM64_CPUINFO.format(variant="0x1", part="0xd07", rev=0)),
        CpuModel("cortex-a53", "ARM64_A53", _ARM64_BASE,
                 cpuinfo=_ARM64_CPUINFO.format(variant="0x0", part="0xd03", rev=4)),
        CpuModel("max", "ARM64_MAX", _ARM64_BASE,
                 cpuinfo=_ARM64_CPUINFO.format(variant="0x0", part="0xd08", rev=3)),
    ),
    platform="aarch64", uname_machine="aarch64", virtual_tlb=True,
    fpu_enable=(("cpacr_el1", 0x3 << 20),),  # CPACR_EL1.FPEN
    engine_page_size=0x1000,
)

EF_MIPS_ABI2 = 0x20     # e_flags bit of n32 programs (arch/mips/include/asm/elf.h)

# EF_MIPS_ABI2 (n32) must be clear; EF_MIPS_ABI must be none or o32 (not o64, EABI32/64).
_MIPS_FLAG_CHECKS = ((EF_MIPS_ABI2, (0,), "MIPS n32 binaries"),
                     (0xF000, (0, 0x1000), "MIPS o64 and EABI binaries"))

_MIPS_MODELS = (
    CpuModel("24Kf", "MIPS32_24KF", cpuinfo=_MIPS_CPUINFO.format(name="24Kf")),
    CpuModel("74Kf", "MIPS32_74KF", cpuinfo=_MIPS_CPUINFO.format(name="74Kf")),
    CpuModel("34Kf", "MIPS32_34KF", cpuinfo=_MIPS_CPUINFO.format(name="34Kf")),
    CpuModel("P5600", "MIPS32_P5600", cpuinfo=_MIPS_CPUINFO.format(name="P5600")),
)

MIPS = CpuSpec(
    name="mips", engine_arch="MIPS", engine_mode=("MIPS32", "BIG_ENDIAN"), reg_prefix="mips",
    elf_machine=EM_MIPS, elf_class=32, byteorder="big",
    pc="pc", sp="sp", link="ra", tls="cp0_userlocal", syscall_intno=17,
    # QEMU's EXCP_* numbers: BREAK, RI, CpU, OVERFLOW, TRAP (gcc's divide-by-zero teq), FPE, AdEL/S
    trap_signals={18: "SIGTRAP", 20: "SIGILL", 19: "SIGILL", 21: "SIGFPE", 22: "SIGFPE",
                  23: "SIGFPE", 12: "SIGBUS", 13: "SIGBUS"},
    fpu_enable=(("cp0_status", 1 << 29),),  # Status.CU1
    elf_flag_checks=_MIPS_FLAG_CHECKS, elf_abiversions=(0, 1), binfmt_flags=(EF_MIPS_ABI2, 0),
    models=_MIPS_MODELS, platform=None, uname_machine="mips", block_split_limit=256,
    disasm=("MIPS", ("MIPS32", "BIG_ENDIAN")), delay_slots=True,
    run_until=0x80000000,       # kseg0: never user code
)

MIPSEL = replace(MIPS, name="mipsel", engine_mode=("MIPS32", "LITTLE_ENDIAN"),
                 byteorder="little", disasm=("MIPS", ("MIPS32", "LITTLE_ENDIAN")))

ARCHES: dict[str, CpuSpec] = {spec.name: spec for spec in (ARM, AARCH64, MIPS, MIPSEL)}


def spec_for_elf(machine: int, elf_class: int, byteorder: str) -> CpuSpec | None:
    """The CPU that runs an ELF file with this identification, if pyemu has one."""
    for spec in ARCHES.values():
        if (spec.elf_machine, spec.elf_class, spec.byteorder) == (machine, elf_class, byteorder):
            return spec
    return None
