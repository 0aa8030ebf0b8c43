/* Loads from memory whose mapping changes: protections, unmapping, remapping, faults in hot
 * loops. pyemu's patched engine compiles guest loads to direct host loads on 32-bit guests
 * and learns of bad ones from the host fault; every line here must match qemu-user. */
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
    printf("done\n");
    return 0;
}
