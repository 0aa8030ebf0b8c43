/* Self-modifying code: write a function, call it, rewrite it in place, call it again; also
   the W^X way (write while RW, mprotect to RX). Every result must be the new code's. */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

typedef int (*fn_t)(void);

static size_t emit(uint32_t *p, int value) {
#if defined(__aarch64__)
    p[0] = 0x52800000u | ((uint32_t)value << 5);   /* mov w0, #value */
    p[1] = 0xd65f03c0u;                             /* ret */
    return 2;
#elif defined(__arm__)
    p[0] = 0xe3a00000u | (uint32_t)value;           /* mov r0, #value (value < 256) */
    p[1] = 0xe12fff1eu;                             /* bx lr */
    return 2;
#elif defined(__mips__)
    p[0] = 0x03e00008u;                             /* jr ra */
    p[1] = 0x24020000u | (uint32_t)value;           /* addiu v0, zero, value (delay slot) */
    return 2;
#endif
}

static int call(void *code, int value) {
    size_t n = emit(code, value);
    __builtin___clear_cache((char *)code, (char *)code + 4 * n);
    return ((fn_t)code)();
}

int main(void) {
    void *rwx = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED) { perror("mmap"); return 1; }
    for (int v = 1; v <= 5; v++) printf("rwx %d -> %d\n", v, call(rwx, v));
    void *wx = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int v = 10; v <= 12; v++) {
        mprotect(wx, 4096, PROT_READ | PROT_WRITE);
        size_t n = emit(wx, v);
        mprotect(wx, 4096, PROT_READ | PROT_EXEC);
        __builtin___clear_cache((char *)wx, (char *)wx + 4 * n);
        printf("w^x %d -> %d\n", v, ((fn_t)wx)());
    }
    /* the same address, unmapped and mapped again with new code */
    munmap(wx, 4096);
    void *again = mmap(wx, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("remap %d -> %d\n", 42, call(again, 42));
    return 0;
}
