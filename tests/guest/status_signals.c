/* /proc/self/status shows the guest's signal sets (in its own numbering and sigset width) and
 * its thread count, not the emulator's: CPython's test_restore_signals reads SigIgn there. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
static void h(int s) { (void)s; }
int main(void) {
    signal(SIGPIPE, SIG_IGN); signal(SIGUSR1, h);
    sigset_t b; sigemptyset(&b); sigaddset(&b, SIGUSR2); sigprocmask(SIG_BLOCK, &b, 0); raise(SIGUSR2);
    FILE *f = fopen("/proc/self/status", "r"); char line[256];
    while (fgets(line, sizeof line, f)) if (!strncmp(line, "Sig", 3) || !strncmp(line, "ShdPnd", 6) || !strncmp(line, "Threads", 7)) fputs(line, stdout);
    return 0;
}
