"""binfmt_misc magic and mask for a guest CPU, derived from its ``CpuSpec``.

The kernel runs an interpreter for a file when ``(header[i] ^ magic[i]) & mask[i] == 0`` for
every byte of the magic (Documentation/admin-guide/binfmt-misc.rst). The bytes tested are the
ELF header fields that identify the CPU (ELF gABI, "ELF Header"): the ident (class, byte order,
version, padding), e_type, e_machine and, where two ABIs share those, some e_flags bits. The
choices follow qemu's scripts/qemu-binfmt-conf.sh, so pyemu and qemu claim the same programs:

* EI_OSABI is ignored (Linux runs SYSV and GNU programs alike);
* EI_ABIVERSION accepts the values the arch's programs carry (``CpuSpec.elf_abiversions``);
* e_type accepts ET_EXEC and ET_DYN (PIE), which differ only in the lowest bit;
* e_flags bits are tested only where another emulator claims an ABI of the same class and
  machine (``CpuSpec.binfmt_flags``: MIPS o32 against n32);
* the magic ends at the last byte the mask tests.
"""
from __future__ import annotations

from ..translate.arches import CpuSpec

ELF_MAGIC = b"\x7fELF"
EV_CURRENT = 1
ET_EXEC = 2
ET_DYN = 3
_CLASS = {32: 1, 64: 2}                 # EI_CLASS: ELFCLASS32, ELFCLASS64
_DATA = {"little": 1, "big": 2}         # EI_DATA: ELFDATA2LSB, ELFDATA2MSB
_IDENT_SIZE = 16
_E_TYPE, _E_MACHINE, _E_VERSION = 16, 18, 20


def accepting(values: tuple[int, ...], size: int) -> tuple[int, int]:
    """(value, mask) of a ``size``-byte field that accepts every one of ``values``: the mask
    keeps the bits on which all of them agree (ET_EXEC 2 and ET_DYN 3 -> value 2, mask ~1)."""
    full = (1 << (8 * size)) - 1
    differ = 0
    for v in values:
        differ |= v ^ values[0]
    mask = full & ~differ
    return values[0] & mask, mask


def _e_flags_offset(spec: CpuSpec) -> int:
    """e_flags follows e_version and three word-sized fields (e_entry, e_phoff, e_shoff)."""
    return _E_VERSION + 4 + 3 * spec.word_size


def _fields(spec: CpuSpec) -> list[tuple[int, int, int, int]]:
    """(offset, size, value, mask) of every header field the magic tests."""
    abiversion, abiversion_mask = accepting(spec.elf_abiversions, 1)
    e_type, e_type_mask = accepting((ET_EXEC, ET_DYN), 2)
    flags_mask = spec.binfmt_flags[0]
    return [
        (0, 4, int.from_bytes(ELF_MAGIC, "big"), 0xFFFFFFFF),
        (4, 1, _CLASS[spec.elf_class], 0xFF),
        (5, 1, _DATA[spec.byteorder], 0xFF),
        (6, 1, EV_CURRENT, 0xFF),
        (7, 1, 0, 0),                                   # EI_OSABI: any
        (8, 1, abiversion, abiversion_mask),
        (9, _IDENT_SIZE - 9, 0, (1 << 8 * (_IDENT_SIZE - 9)) - 1),   # padding: zero
        (_E_TYPE, 2, e_type, e_type_mask),
        (_E_MACHINE, 2, spec.elf_machine, 0xFFFF),
        (_e_flags_offset(spec), 4, spec.binfmt_flags[1] & flags_mask, flags_mask),
    ]


def magic_and_mask(spec: CpuSpec) -> tuple[bytes, bytes]:
    """The binfmt_misc magic and mask (offset 0) that claim ``spec``'s Linux programs."""
    size = _e_flags_offset(spec) + 4
    magic, mask = bytearray(size), bytearray(size)
    for offset, width, value, field_mask in _fields(spec):
        # the ident's multi-byte fields are byte strings; the rest follow the file's byte order
        order = "big" if offset < _IDENT_SIZE else spec.byteorder
        magic[offset:offset + width] = value.to_bytes(width, order)
        mask[offset:offset + width] = field_mask.to_bytes(width, order)
    end = max(i for i, m in enumerate(mask) if m) + 1
    return bytes(magic[:end]), bytes(mask[:end])


def sample_header(spec: CpuSpec, e_type: int = ET_EXEC, osabi: int = 0, abiversion: int = 0,
                  flags: int = 0) -> bytes:
    """The first bytes of a typical ``spec`` program (to ask which entries would claim it)."""
    size = _e_flags_offset(spec) + 4
    header = bytearray(size)
    header[0:4] = ELF_MAGIC
    header[4:9] = bytes((_CLASS[spec.elf_class], _DATA[spec.byteorder], EV_CURRENT, osabi,
                         abiversion))
    for offset, width, value in ((_E_TYPE, 2, e_type), (_E_MACHINE, 2, spec.elf_machine),
                                 (_E_VERSION, 4, EV_CURRENT),
                                 (_e_flags_offset(spec), 4, flags)):
        header[offset:offset + width] = value.to_bytes(width, spec.byteorder)
    return bytes(header)


def matches(magic: bytes, mask: bytes, header: bytes, offset: int = 0) -> bool:
    """Whether binfmt_misc's test of (offset, magic, mask) accepts a file starting ``header``."""
    window = header[offset:offset + len(magic)]
    if len(window) < len(magic):
        return False
    return all((h ^ m) & k == 0 for h, m, k in zip(window, magic, mask))


def escape(data: bytes) -> str:
    r"""``\xHH`` for every byte: the kernel unescapes it, and no byte can be read as the
    register string's ``:`` separator."""
    return "".join(f"\\x{b:02x}" for b in data)
