"""The ARM Linux kernel user helpers page (Documentation/arch/arm/kernel_user_helpers.rst).

Linux maps a page at 0xffff0000 whose top holds small routines that old ARM code (and glibc built
for ARMv5/v6) calls directly. The engine does not provide it, so pyemu maps the page with the same
entry points. The words below were produced by ``arm-linux-gnueabihf-as -march=armv7-a`` from the
assembly in the comments; ldrex/strex keep cmpxchg atomic under any thread model.
"""
from __future__ import annotations

KUSER_PAGE = 0xFFFF0000
KUSER_PAGE_SIZE = 0x1000

_HELPERS: dict[int, tuple[int, ...]] = {
    # __kuser_cmpxchg64(const s64 *old, const s64 *new, volatile s64 *ptr) -> 0 on success
    0xF60: (
        0xE92D00F0,  # push    {r4, r5, r6, r7}
        0xE1C040D0,  # ldrd    r4, r5, [r0]
        0xE1C160D0,  # ldrd    r6, r7, [r1]
        0xE1B20F9F,  # 1: ldrexd r0, r1, [r2]
        0xE0303004,  # eors    r3, r0, r4
        0x00313005,  # eorseq  r3, r1, r5
        0x01A23F96,  # strexdeq r3, r6, r7, [r2]
        0x03330001,  # teqeq   r3, #1
        0x0AFFFFF9,  # beq     1b
        0xE8BD00F0,  # pop     {r4, r5, r6, r7}
        0xE2730000,  # rsbs    r0, r3, #0
        0xE12FFF1E,  # bx      lr
    ),
    # __kuser_memory_barrier(void)
    0xFA0: (0xF57FF05B, 0xE12FFF1E),  # dmb ish; bx lr
    # __kuser_cmpxchg(s32 old, s32 new, volatile s32 *ptr) -> 0 on success, C flag set
    0xFC0: (
        0xE1923F9F,  # 1: ldrex r3, [r2]
        0xE0533000,  # subs    r3, r3, r0
        0x01823F91,  # strexeq r3, r1, [r2]
        0x03330001,  # teqeq   r3, #1
        0x0AFFFFFA,  # beq     1b
        0xE2730000,  # rsbs    r0, r3, #0
        0xE12FFF1E,  # bx      lr
    ),
    # __kuser_get_tls(void) -> TPIDRURO
    0xFE0: (0xEE1D0F70, 0xE12FFF1E),  # mrc p15, 0, r0, c13, c0, 3; bx lr
    # __kuser_helper_version: number of 32-byte helper slots
    0xFFC: (5,),
}


def kuser_page(byteorder: str = "little") -> bytes:
    """The contents of the helpers page."""
    page = bytearray(KUSER_PAGE_SIZE)
    for offset, words in _HELPERS.items():
        for i, word in enumerate(words):
            page[offset + 4 * i: offset + 4 * i + 4] = word.to_bytes(4, byteorder)
    return bytes(page)
