/* Hint instructions a spin loop uses (Rust's spin_loop, glibc's and the kernel's cpu_relax):
 * YIELD, WFE, SEV, NOP, in ARM and in Thumb code on 32-bit ARM, YIELD and friends elsewhere.
 * The engine refused AArch32 YIELD and WFE as invalid instructions: SIGILL in Rust's test
 * harness, whose contended mutex spins with YIELD. */
#include <stdio.h>

#if defined(__arm__)
__attribute__((target("arm"), noinline)) static int arm_state(int n)
{
    for (int i = 0; i < n; i++)
        __asm__ volatile("yield\n\tsev\n\twfe\n\tnop" ::: "memory");
    return n;
}
__attribute__((target("thumb"), noinline)) static int thumb_state(int n)
{
    for (int i = 0; i < n; i++)
        __asm__ volatile("yield\n\tsev\n\twfe\n\tnop\n\tyield.w\n\tnop.w" ::: "memory");
    return n;
}
#define SPIN(n) (arm_state(n) + thumb_state(n))
#elif defined(__aarch64__)
#define SPIN(n) ({ for (int i = 0; i < (n); i++) __asm__ volatile("yield\n\tsev\n\twfe\n\tnop"); 2 * (n); })
#else
#define SPIN(n) ({ for (int i = 0; i < (n); i++) __asm__ volatile("pause\n\tnop"); 2 * (n); })
#endif

int main(void)
{
    printf("hints done: %d\n", SPIN(1000));
    return 0;
}
