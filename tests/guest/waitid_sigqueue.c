/* waitid on exited and killed children, sigqueue to oneself with a value, get_robust_list. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int got_value, got_code;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc; got_value = si->si_value.sival_int; got_code = si->si_code;
}

int main(int argc, char **argv) {
    (void)argv;
    pid_t p = fork();
    if (p == 0) _exit(5);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, p, &si, WEXITED);
    printf("waitid=%d signo=%d code=%s status=%d pid_ok=%d\n", r, si.si_signo == SIGCHLD,
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_status, si.si_pid == p);
    p = fork();
    if (p == 0) { raise(SIGTERM); _exit(0); }
    memset(&si, 0, sizeof si);
    waitid(P_ALL, 0, &si, WEXITED);
    printf("killed: code=%s status=%s\n", si.si_code == CLD_KILLED ? "CLD_KILLED" : "?",
           si.si_status == SIGTERM ? "SIGTERM" : "?");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    union sigval v = {.sival_int = 1234};
    sigqueue(getpid(), SIGUSR1, v);
    printf("sigqueue: value=%d code=%s\n", got_value, got_code == SI_QUEUE ? "SI_QUEUE" : "?");
    if (argc < 2) return 0;   /* qemu 7.2 has no get_robust_list: checked on pyemu alone */
    void *head = 0;
    size_t len = 0;
    long rc = syscall(SYS_get_robust_list, 0, &head, &len);
    printf("robust: rc=%ld head_set=%d len=%zu\n", rc, head != 0, len);
    return 0;
}
