/* Real-time signals queue every instance (with its value); a standard signal is pending once. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile int got[3];
static void h(int s, siginfo_t *si, void *c) { got[si->si_value.sival_int]++; }
int main(void) {
    struct sigaction sa = {0}; sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, 0); sigaction(SIGUSR1, &sa, 0);
    sigset_t set; sigemptyset(&set); sigaddset(&set, SIGRTMIN + 1); sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, 0);
    for (int i = 0; i < 3; i++) sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i});
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 0});
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 0});
    sigprocmask(SIG_UNBLOCK, &set, 0);
    printf("rt: %d %d %d\n", got[0] - 2, got[1], got[2]);
    return 0;
}
