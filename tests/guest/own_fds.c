/* pyemu's own descriptors are none of the guest's business: /proc/self/fd lists only the
 * guest's, close_range and a close() of every number up to the limit leave the emulator
 * working (its signal wake-up pipe among them), dup2 and F_DUPFD at the limit fail as the
 * kernel's do, and a fatal signal afterwards still ends the process by that signal. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static volatile int handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static void list_fds(const char *when)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    printf("%s:", when);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            printf(" %s", e->d_name);
    printf("\n");
    closedir(d);
}

int main(void)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    int limit = (int)r.rlim_cur;
    list_fds("at start");
    int extra = open("/dev/null", O_RDONLY);
    list_fds("one more");
    SHOW(syscall(SYS_close_range, 3, ~0U, 0));
    list_fds("after close_range");
    int closed = 0;
    for (int fd = 3; fd < limit; fd++)
        closed += close(fd) == 0;
    printf("closed %d more (fd %d was open)\n", closed, extra);
    SHOW(dup2(1, limit));
    SHOW(fcntl(1, F_DUPFD, limit));
    printf("dup2 just below the limit: %d\n", dup2(1, limit - 1) == limit - 1);
    SHOW(close(limit - 1));
    signal(SIGUSR1, on_usr1);
    kill(getpid(), SIGUSR1);
    printf("SIGUSR1 handled %d\n", handled);
    pid_t child = fork();
    if (child == 0) {
        list_fds("child");
        _exit(3);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    fflush(stdout);
    kill(getpid(), SIGTERM);
    pause();
    return 1;
}
