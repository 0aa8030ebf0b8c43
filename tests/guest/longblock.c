/* A long run of straight-line code (like unrolled hash rounds): a mixing function of 1024
   unrolled steps with no branch, called for several inputs. Unicorn 2.1.4 translated such
   code on MIPS into one block that overflowed its temps (host SIGSEGV).
   -DMIX_LIB builds only mix() (for a shared library), -DMIX_EXTERN only main() (linked with
   that library, so the dynamic loader maps the long code). */
#include <stdio.h>
#include <stdint.h>

uint32_t mix(uint32_t x, uint32_t y);

#ifndef MIX_EXTERN
#define STEP(k) x = (x ^ (x >> 7)) * 0x9E3779B1u + (uint32_t)(k) * 0x85EBCA77u; \
                y += x ^ (y << 3);
#define STEP4(k) STEP(k) STEP((k) + 1) STEP((k) + 2) STEP((k) + 3)
#define STEP16(k) STEP4(k) STEP4((k) + 4) STEP4((k) + 8) STEP4((k) + 12)
#define STEP64(k) STEP16(k) STEP16((k) + 16) STEP16((k) + 32) STEP16((k) + 48)
#define STEP256(k) STEP64(k) STEP64((k) + 64) STEP64((k) + 128) STEP64((k) + 192)

__attribute__((noinline)) uint32_t mix(uint32_t x, uint32_t y) {
    STEP256(0) STEP256(256) STEP256(512) STEP256(768)
    return x ^ y;
}
#endif

#ifndef MIX_LIB
int main(void) {
    uint32_t acc = 1;
    for (uint32_t i = 0; i < 1000; i++)
        acc = mix(acc, i);
    printf("%08x\n", acc);
    return 0;
}
#endif
