/* Self-modifying code: write a function, call it, rewrite it in place, call it again; also
   the W^X way (write while RW, mprotect to RX). Every result must be the new code's. Data
   next to code on one writable page: stores and the kernel's writes (read()) land, and the
   code still runs. */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
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

    /* code at the start of a writable page, data in the rest of it */
    char *page = again;
    volatile unsigned *data = (volatile unsigned *)(page + 1024);
    printf("shared page %d -> %d\n", 7, call(page, 7));
    unsigned sum = 0;
    for (unsigned i = 0; i < 100000; i++) {
        data[i % 64] = i;
        sum += data[(i * 7) % 64];
    }
    printf("data stores next to code: sum %u; code still %d\n", sum, ((fn_t)page)());
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); return 1; }
    write(fds[1], "from the kernel", 15);
    ssize_t got = read(fds[0], page + 2048, 15);
    printf("read() into the page: %zd [%.15s]; code still %d\n", got, page + 2048,
           ((fn_t)page)());
    printf("rewritten after that %d -> %d\n", 9, call(page, 9));

    /* a writable page with code, unmapped and mapped again: new code, rewritten in place */
    munmap(page, 4096);
    page = mmap(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mapped again %d -> %d\n", 21, call(page, 21));
    printf("and rewritten %d -> %d\n", 22, call(page, 22));
    /* the same without a cache flush: qemu-user sees stores to code pages by itself */
    emit((uint32_t *)page, 23);
    printf("rewritten, no cache flush %d -> %d\n", 23, ((fn_t)page)());
    munmap(page, 4096);
    page = mmap(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    emit((uint32_t *)page, 24);
    printf("mapped again, no cache flush %d -> %d\n", 24, ((fn_t)page)());
    emit((uint32_t *)page, 25);
    printf("and rewritten %d -> %d\n", 25, ((fn_t)page)());
    return 0;
}
