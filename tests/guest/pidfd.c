/* pidfds: pidfd_open of a child and of oneself, pidfd_send_signal to each (to oneself it is
 * delivered like kill), poll on a pidfd for the child's exit, pidfd_getfd of one's own fd. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static volatile int got;
static void on_usr1(int sig) { (void)sig; got++; }

int main(void)
{
    signal(SIGUSR1, on_usr1);
    int self = syscall(SYS_pidfd_open, getpid(), 0);
    SHOW(self >= 0);
    SHOW(syscall(SYS_pidfd_send_signal, self, SIGUSR1, NULL, 0));
    printf("handled %d\n", got);
    SHOW(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0));
    SHOW(syscall(SYS_pidfd_send_signal, self, SIGUSR1, NULL, 1));
    int copy = syscall(SYS_pidfd_getfd, self, 1, 0);
    SHOW(copy >= 0);
    SHOW(write(copy, "via the copy\n", 13));
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    int pfd = syscall(SYS_pidfd_open, child, 0);
    SHOW(pfd >= 0);
    struct pollfd p = {pfd, POLLIN, 0};
    SHOW(poll(&p, 1, 0));
    SHOW(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
    SHOW(poll(&p, 1, 5000));
    int status;
    waitpid(child, &status, 0);
    printf("child killed by %s\n", WTERMSIG(status) == SIGTERM ? "SIGTERM" : "?");
    SHOW(syscall(SYS_pidfd_open, getpid(), 12345));
    return 0;
}
