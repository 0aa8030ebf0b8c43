/* Loads and stores to memory whose mapping changes: protections, unmapping, remapping,
 * faults in hot loops, misaligned accesses. pyemu's patched engine compiles guest loads and
 * stores to direct host accesses on 32-bit guests and learns of bad ones from the host
 * fault; every line here must match qemu-user. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf jump;
static volatile uintptr_t fault_addr;
static volatile int fault_sig;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_sig = sig;
    fault_addr = (uintptr_t)si->si_addr;
    siglongjmp(jump, 1);
}

/* Sum n bytes from p, or report where it faulted (relative to base). */
static void sum_bytes(const char *what, const volatile unsigned char *p, size_t n,
                      const volatile unsigned char *base)
{
    static volatile size_t i;
    unsigned sum = 0;

    fault_sig = 0;
    if (sigsetjmp(jump, 1) == 0) {
        for (i = 0; i < n; i++)
            sum += p[i];
        printf("%s: sum %u\n", what, sum);
    } else {
        printf("%s: signal %d at +%#lx after %zu bytes\n", what, fault_sig,
               (unsigned long)(fault_addr - (uintptr_t)base), (size_t)i);
    }
}

static void read_word(const char *what, const volatile uint32_t *p)
{
    fault_sig = 0;
    if (sigsetjmp(jump, 1) == 0) {
        uint32_t v = *p;
        printf("%s: %#x\n", what, v);
    } else {
        printf("%s: signal %d\n", what, fault_sig);
    }
}

/* Store n bytes from p on, or report where it faulted (relative to base). */
static void fill_bytes(const char *what, volatile unsigned char *p, size_t n,
                       const volatile unsigned char *base)
{
    static volatile size_t i;

    fault_sig = 0;
    if (sigsetjmp(jump, 1) == 0) {
        for (i = 0; i < n; i++)
            p[i] = (unsigned char)i;
        printf("%s: stored %zu bytes\n", what, n);
    } else {
        printf("%s: signal %d at +%#lx after %zu bytes\n", what, fault_sig,
               (unsigned long)(fault_addr - (uintptr_t)base), (size_t)i);
    }
}

static void write_word(const char *what, volatile uint32_t *p, uint32_t v)
{
    fault_sig = 0;
    if (sigsetjmp(jump, 1) == 0) {
        *p = v;
        printf("%s: stored\n", what);
    } else {
        printf("%s: signal %d\n", what, fault_sig);
    }
}

static void stores(void)
{
    unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fill_bytes("stores to four writable pages", p, 4 * PAGE, p);
    mprotect(p + PAGE, PAGE, PROT_READ);
    fill_bytes("into a read-only page", p, 4 * PAGE, p);
    fill_bytes("again (block already translated)", p, 4 * PAGE, p);
    sum_bytes("the read-only page kept its bytes", p + PAGE, PAGE, p);
    mprotect(p + PAGE, PAGE, PROT_NONE);
    fill_bytes("into a PROT_NONE page", p, 4 * PAGE, p);
    mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE);
    fill_bytes("writable again", p, 4 * PAGE, p);
    sum_bytes("and it took the stores", p, 4 * PAGE, p);
    munmap(p + 2 * PAGE, PAGE);
    fill_bytes("into an unmapped page", p + PAGE, 3 * PAGE, p);

    /* a hot store loop meeting a read-only page at a different place each time */
    unsigned char *big = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int k = 62; k > 50; k -= 4) {
        char what[64];
        mprotect(big + k * PAGE, (64 - k) * PAGE, PROT_READ);
        snprintf(what, sizeof what, "hot store loop, read-only from page %d", k);
        fill_bytes(what, big, 64 * PAGE, big);
    }

    /* misaligned word accesses (allowed on ARMv7 and AArch64, SIGBUS on MIPS) */
    uint32_t words[4] = {0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00};
    read_word("misaligned load", (uint32_t *)((char *)words + 1));
    write_word("misaligned store", (uint32_t *)((char *)words + 2), 0xa5a5a5a5);
    printf("words after: %08x %08x %08x %08x\n", words[0], words[1], words[2], words[3]);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4 * PAGE; i++)
        p[i] = (unsigned char)(i * 7 + 3);
    sum_bytes("all four pages", p, 4 * PAGE, p);

    mprotect(p + 2 * PAGE, PAGE, PROT_NONE);
    sum_bytes("into a PROT_NONE page", p, 4 * PAGE, p);
    sum_bytes("again (block already translated)", p, 4 * PAGE, p);
    mprotect(p + 2 * PAGE, PAGE, PROT_READ);
    sum_bytes("read-only again, contents kept", p, 4 * PAGE, p);
    mprotect(p + 2 * PAGE, PAGE, PROT_WRITE | PROT_READ);
    p[2 * PAGE] = 1;
    sum_bytes("written again", p + 2 * PAGE, PAGE, p);

    munmap(p + PAGE, PAGE);
    sum_bytes("into an unmapped page", p, 2 * PAGE, p);
    unsigned char *q = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("remapped in place: %d\n", q == p + PAGE);
    sum_bytes("fresh page reads zeros", q, PAGE, p);

    /* a word load straddling a page boundary into inaccessible memory */
    mprotect(p + 3 * PAGE, PAGE, PROT_NONE);
    read_word("aligned word before the boundary", (uint32_t *)(p + 3 * PAGE - 4));
    read_word("aligned word after the boundary", (uint32_t *)(p + 3 * PAGE));

    /* mremap moves the data; the old address is gone */
    unsigned char *r = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    memset(r, 5, 2 * PAGE);
    unsigned char *moved = mremap(r, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    sum_bytes("mremap kept the data", moved, 2 * PAGE, moved);
    sum_bytes("mremap grew with zeros", moved + 2 * PAGE, 6 * PAGE, moved);
    if (moved != r)
        sum_bytes("old address after the move", r, PAGE, r);
    else
        printf("old address after the move: not moved\n");

    /* a PROT_NONE mapping moved by mremap keeps its contents */
    unsigned char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(s, 9, PAGE);
    mprotect(s, PAGE, PROT_NONE);
    unsigned char *s2 = mremap(s, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
    mprotect(s2, 2 * PAGE, PROT_READ);
    sum_bytes("PROT_NONE mapping moved and reopened", s2, 2 * PAGE, s2);

    /* shared anonymous memory */
    unsigned char *sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                             -1, 0);
    memset(sh, 2, PAGE);
    sum_bytes("shared anonymous page", sh, PAGE, sh);
    mprotect(sh, PAGE, PROT_NONE);
    sum_bytes("shared page made PROT_NONE", sh, PAGE, sh);

    /* the same hot loop, faulting at a different place each time */
    unsigned char *big = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(big, 1, 64 * PAGE);
    for (int k = 60; k > 50; k -= 3) {
        char what[64];
        mprotect(big + k * PAGE, (64 - k) * PAGE, PROT_NONE);
        snprintf(what, sizeof what, "hot loop, PROT_NONE from page %d", k);
        sum_bytes(what, big, 64 * PAGE, big);
    }
    stores();
    printf("done\n");
    return 0;
}
