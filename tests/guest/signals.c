/* Signal delivery: handlers, siginfo, masks, alternate stack, faults, registers preserved. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static volatile int last_sig, last_code, pid_ok;
static volatile uintptr_t fault_addr, handler_sp;
static sigjmp_buf jump;
static char altstack[65536];

static void count(int sig) { hits++; last_sig = sig; }

static void info_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    hits++; last_sig = si->si_signo; last_code = si->si_code; pid_ok = si->si_pid == getpid();
}

static void fp_clobber(int sig) {
    volatile double x = sig;
    for (int i = 0; i < 10; i++) x = x * 1.25 + 3.0;
    hits += (int)x > 0;
}

static void on_alt(int sig) { int local; (void)sig; handler_sp = (uintptr_t)&local; hits++; }

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc; fault_addr = (uintptr_t)si->si_addr; siglongjmp(jump, 1);
}

static double fp_work(double seed) {
    double a = seed * 1.5, b = seed + 2.25, c = seed * seed, d = seed - 0.5;
    double e = a * b, f = c + d, g = a - c, h = b * d;
    raise(SIGUSR2);
    return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("raise: hits=%d sig=%s\n", hits, last_sig == SIGUSR1 ? "SIGUSR1" : "?");
    kill(getpid(), SIGUSR1);
    printf("kill: hits=%d\n", hits);

    sa.sa_handler = NULL;
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    kill(getpid(), SIGUSR1);
    printf("siginfo: signo=%d code=%s pid_ok=%d\n", last_sig == SIGUSR1,
           last_code == SI_USER ? "SI_USER" : "other", pid_ok);
    raise(SIGUSR1);
    printf("raise siginfo: code=%s\n", last_code == SI_TKILL ? "SI_TKILL" : "other");

    sigset_t block, pend;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    int before = hits;
    raise(SIGUSR1);
    sigpending(&pend);
    printf("blocked: delivered=%d pending=%d\n", hits != before, sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("unblocked: delivered=%d\n", hits != before);

    sa.sa_flags = 0;
    sa.sa_handler = count;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    int r = pause();
    printf("pause: r=%d errno=%s sig=%s\n", r, errno == EINTR ? "EINTR" : "?",
           last_sig == SIGALRM ? "SIGALRM" : "?");

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sa.sa_handler = on_alt;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGWINCH, &sa, NULL);
    raise(SIGWINCH);
    printf("altstack: on=%d\n", handler_sp >= (uintptr_t)altstack &&
           handler_sp < (uintptr_t)altstack + sizeof altstack);

    sa.sa_handler = fp_clobber;
    sa.sa_flags = 0;
    sigaction(SIGUSR2, &sa, NULL);
    printf("fp: %.6f %.6f\n", fp_work(3.0), fp_work(-7.5));

    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    volatile int *bad = (int *)(uintptr_t)0x1230;
    if (sigsetjmp(jump, 1) == 0) {
        *bad = 1;
        puts("segv: not reached");
    } else {
        printf("segv: si_addr=%#lx\n", (unsigned long)fault_addr);
    }
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    printf("done hits=%d\n", hits);
    fflush(stdout);
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    return 0;
}
