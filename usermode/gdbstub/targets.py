"""What gdb is told about each guest CPU: registers, target description features, breakpoints.

One table per architecture is the single source of truth: the register numbers of the ``g``,
``p`` and ``P`` packets are positions in ``GdbTarget.registers``, and the target description
XML (``target_xml``) is generated from the same rows, with explicit ``regnum`` attributes.
Feature and register names are the ones gdb's own descriptions use (gdb/features/arm-core.xml,
arm-vfpv3.xml, aarch64-core.xml, aarch64-fpu.xml, mips-cpu.xml, mips-cp0.xml, mips-fpu.xml),
which is what gdb checks when it validates a description. Values travel in the guest's byte
order, each register at its own size.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr


UNMODELED = ""


@dataclass(frozen=True)
class GdbReg:
    name: str                    # gdb's name
    bits: int
    type: str = "int"
    source: str | None = None    # the Cpu register holding it (default: the same name);
                                 # UNMODELED for one the engine lacks (reads as zero)
    group: str | None = None

    @property
    def size(self) -> int:
        return self.bits // 8

    @property
    def cpu_name(self) -> str:
        return self.name if self.source is None else self.source


@dataclass(frozen=True)
class Feature:
    name: str
    regs: tuple[GdbReg, ...]
    types: str = ""              # XML type definitions the registers use


@dataclass(frozen=True)
class GdbTarget:
    architecture: str            # gdb's name (the <architecture> element)
    features: tuple[Feature, ...]
    order: tuple[str, ...] = ()  # register names in number order (default: feature order)
    breakpoint_kinds: frozenset[int] = frozenset({4})   # Z0/Z1 "kind": instruction sizes
    # dynamic section tags whose value leads to the dynamic linker's r_debug, besides
    # DT_DEBUG: (tag, how) with how "pointer" (address of a word holding it) or "relative"
    # (that address relative to the tag's own entry), as MIPS's read-only .dynamic has
    r_debug_tags: tuple[tuple[int, str], ...] = ()

    @property
    def registers(self) -> tuple[GdbReg, ...]:
        regs = [r for f in self.features for r in f.regs]
        if not self.order:
            return tuple(regs)
        by_name = {r.name: r for r in regs}
        return tuple(by_name[n] for n in self.order)


def _regs(prefix: str, count: int, bits: int, type_: str = "int",
          cpu_prefix: str | None = None, group: str | None = None) -> tuple[GdbReg, ...]:
    """``count`` registers named prefix0..prefixN (the Cpu's names cpu_prefixN if given)."""
    return tuple(GdbReg(f"{prefix}{i}", bits, type_,
                        None if cpu_prefix is None else f"{cpu_prefix}{i}", group)
                 for i in range(count))


_ARM_CORE = Feature("org.gnu.gdb.arm.core", (
    *_regs("r", 13, 32, "uint32"),
    GdbReg("sp", 32, "data_ptr"), GdbReg("lr", 32), GdbReg("pc", 32, "code_ptr"),
    GdbReg("cpsr", 32)))
_ARM_VFP = Feature("org.gnu.gdb.arm.vfp", (
    *_regs("d", 32, 64, "ieee_double", group="float"),
    GdbReg("fpscr", 32, group="float")))

ARM = GdbTarget("arm", (_ARM_CORE, _ARM_VFP), breakpoint_kinds=frozenset({2, 3, 4}))

_AARCH64_VECTOR_TYPES = "".join((
    '<vector id="v2d" type="ieee_double" count="2"/>',
    '<vector id="v2u" type="uint64" count="2"/>',
    '<vector id="v4f" type="ieee_single" count="4"/>',
    '<vector id="v4u" type="uint32" count="4"/>',
    '<vector id="v8u" type="uint16" count="8"/>',
    '<vector id="v16u" type="uint8" count="16"/>',
    '<union id="vreg"><field name="d" type="v2d"/><field name="s" type="v4f"/>'
    '<field name="ud" type="v2u"/><field name="us" type="v4u"/><field name="h" type="v8u"/>'
    '<field name="b" type="v16u"/><field name="q" type="uint128"/></union>'))

AARCH64 = GdbTarget("aarch64", (
    Feature("org.gnu.gdb.aarch64.core", (
        *_regs("x", 31, 64),
        GdbReg("sp", 64, "data_ptr"), GdbReg("pc", 64, "code_ptr"),
        GdbReg("cpsr", 32, source="pstate"))),
    Feature("org.gnu.gdb.aarch64.fpu", (
        *_regs("v", 32, 128, "vreg"),
        GdbReg("fpsr", 32), GdbReg("fpcr", 32)), types=_AARCH64_VECTOR_TYPES),
))

# MIPS o32: 32-bit registers. The numbering is gdb's traditional one (status between the
# general registers and lo; the fpu after pc), which mips-tdep.c expects of a description.
DT_MIPS_RLD_MAP = 0x70000016
DT_MIPS_RLD_MAP_REL = 0x70000035

MIPS = GdbTarget("mips:isa32", (
    Feature("org.gnu.gdb.mips.cpu", (
        *_regs("r", 32, 32, cpu_prefix=""), GdbReg("lo", 32), GdbReg("hi", 32),
        GdbReg("pc", 32, "code_ptr"))),
    Feature("org.gnu.gdb.mips.cp0", (
        GdbReg("status", 32, source="cp0_status"), GdbReg("badvaddr", 32, source=UNMODELED),
        GdbReg("cause", 32, source=UNMODELED))),
    Feature("org.gnu.gdb.mips.fpu", (
        *_regs("f", 32, 32, "ieee_single", group="float"),
        GdbReg("fcsr", 32, group="float"), GdbReg("fir", 32, group="float"))),
), order=(*(f"r{i}" for i in range(32)), "status", "lo", "hi", "badvaddr", "cause", "pc",
          *(f"f{i}" for i in range(32)), "fcsr", "fir"),
    r_debug_tags=((DT_MIPS_RLD_MAP, "pointer"), (DT_MIPS_RLD_MAP_REL, "relative")))

TARGETS: dict[str, GdbTarget] = {"arm": ARM, "aarch64": AARCH64, "mips": MIPS, "mipsel": MIPS}


def target_xml(target: GdbTarget) -> str:
    """The target description gdb reads with ``qXfer:features:read:target.xml``."""
    number = {r.name: i for i, r in enumerate(target.registers)}
    parts = ['<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">',
             f"<target><architecture>{target.architecture}</architecture>",
             "<osabi>GNU/Linux</osabi>"]
    for feature in target.features:
        parts.append(f"<feature name={quoteattr(feature.name)}>{feature.types}")
        for reg in feature.regs:
            group = f" group={quoteattr(reg.group)}" if reg.group else ""
            parts.append(f"<reg name={quoteattr(reg.name)} bitsize=\"{reg.bits}\" "
                         f"type={quoteattr(reg.type)} regnum=\"{number[reg.name]}\"{group}/>")
        parts.append("</feature>")
    parts.append("</target>")
    return "".join(parts)
