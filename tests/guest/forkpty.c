/* A child on a new pseudo-terminal (forkpty: openpty through TIOCGPTPEER, then setsid,
 * TIOCSCTTY and the slave as stdio), as CPython's pty.fork does: the child is a session
 * leader whose controlling terminal is the pty, and what it prints reaches the parent. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

int main(void)
{
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    if (pid < 0) {
        perror("forkpty");
        return 1;
    }
    if (pid == 0) {
        int sid_again = setsid();           /* already a session leader: EPERM */
        int queued;
        printf("child: leader %d, setsid again %d, tty foreground is mine %d, outq %d\n",
               getsid(0) == getpid(), sid_again, tcgetpgrp(0) == getpgrp(),
               ioctl(1, TIOCOUTQ, &queued) == 0);
        fflush(stdout);
        tcdrain(1);
        return 7;
    }
    char buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(master, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    for (char *p = buf; *p; p++)
        if (*p == '\r')
            *p = ' ';
    int status;
    waitpid(pid, &status, 0);
    printf("parent read: %s", buf);
    printf("child status %d\n", WEXITSTATUS(status));
    int m2 = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m2);
    unlockpt(m2);
    int peer = ioctl(m2, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    SHOW(peer >= 0);
    SHOW(write(peer, "ok", 2));
    SHOW(read(m2, buf, 2));
    return 0;
}
