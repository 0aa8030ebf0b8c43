/* A signal whose disposition ignores it is dropped when sent (unless blocked), so it never
 * interrupts a syscall: a child's SIGCHLD during nanosleep and during a read on a pipe, a
 * SIGWINCH sent to oneself; a blocked one stays pending. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child(int delay_ms, int fd) {
    pid_t pid = fork();
    if (pid == 0) {
        usleep(delay_ms * 1000);
        if (fd >= 0)
            write(fd, "x", 1);
        _exit(0);
    }
    return pid;
}

int main(void) {
    pid_t a = child(30, -1);
    struct timespec ts = {0, 300000000};
    int rc = nanosleep(&ts, &ts);
    printf("nanosleep: rc=%d errno=%s\n", rc, rc ? strerror(errno) : "none");
    waitpid(a, NULL, 0);

    int fds[2];
    pipe(fds);
    a = child(30, -1);
    pid_t b = child(200, fds[1]);
    char c = 0;
    ssize_t n = read(fds[0], &c, 1);
    printf("read: n=%zd errno=%s byte=%c\n", n, n < 0 ? strerror(errno) : "none", c);
    waitpid(a, NULL, 0);
    waitpid(b, NULL, 0);

    sigset_t set;
    kill(getpid(), SIGWINCH);
    sigpending(&set);
    printf("SIGWINCH pending: %d\n", sigismember(&set, SIGWINCH));
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGWINCH);
    a = child(0, -1);
    waitpid(a, NULL, 0);
    sigpending(&set);
    printf("blocked: SIGWINCH pending %d, SIGCHLD pending %d\n", sigismember(&set, SIGWINCH),
           sigismember(&set, SIGCHLD));
    return 0;
}
