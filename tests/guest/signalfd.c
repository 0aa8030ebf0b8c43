/* signalfd: records of blocked pending signals (kill, raise, sigqueue), poll/select readiness,
 * EAGAIN when empty, changing the mask, a blocking read woken by a signal from another thread,
 * and the argument errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const char *name(int sig) {
    return sig == SIGUSR1 ? "SIGUSR1" : sig == SIGUSR2 ? "SIGUSR2"
         : sig == SIGRTMIN ? "SIGRTMIN" : "?";
}

static const char *code(int c) {
    return c == SI_USER ? "SI_USER" : c == SI_TKILL ? "SI_TKILL" : c == SI_QUEUE ? "SI_QUEUE"
         : "?";
}

static int readable(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void *sender(void *arg) {
    (void)arg;
    usleep(200000);
    kill(getpid(), SIGUSR2);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigaddset(&mask, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("created: %d cloexec=%d\n", fd >= 0, fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));

    struct signalfd_siginfo si[4];
    ssize_t n = read(fd, si, sizeof si);
    printf("empty: n=%zd %s readable=%d\n", n, n < 0 && errno == EAGAIN ? "EAGAIN" : "?",
           readable(fd));

    raise(SIGUSR1);
    kill(getpid(), SIGUSR2);
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN, v);
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    struct timeval tv = {0, 0};
    printf("pending: readable=%d select=%d\n", readable(fd), select(fd + 1, &set, 0, 0, &tv));
    n = read(fd, si, 100);
    printf("short read: %s\n", n < 0 && errno == EINVAL ? "EINVAL" : "?");
    n = read(fd, si, sizeof si);
    printf("read %zd bytes\n", n);
    for (int i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        printf("  %s %s pid_ok=%d uid_ok=%d int=%d\n", name(si[i].ssi_signo),
               code(si[i].ssi_code), si[i].ssi_pid == (unsigned)getpid(),
               si[i].ssi_uid == getuid(), si[i].ssi_code == SI_QUEUE ? si[i].ssi_int : 0);
    printf("drained: readable=%d\n", readable(fd));

    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    printf("new mask: %d\n", signalfd(fd, &only2, 0) == fd);
    raise(SIGUSR1);
    n = read(fd, si, sizeof si);
    sigset_t pend;
    sigpending(&pend);
    printf("other signal: n=%zd %s readable=%d still pending=%d\n", n,
           n < 0 && errno == EAGAIN ? "EAGAIN" : "?", readable(fd), sigismember(&pend, SIGUSR1));
    int sig;
    sigwait(&mask, &sig);
    printf("sigwait took %s\n", name(sig));

    int blocking = signalfd(-1, &mask, 0);
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);
    n = read(blocking, si, sizeof si);
    pthread_join(t, NULL);
    printf("blocking read: n=%zd %s %s\n", n, name(si[0].ssi_signo), code(si[0].ssi_code));

    int pipefd[2];
    pipe(pipefd);
    n = signalfd(pipefd[0], &mask, 0);
    printf("not a signalfd: %s\n", n < 0 && errno == EINVAL ? "EINVAL" : "?");
    n = signalfd(-1, &mask, 0x7);
    printf("bad flags: %s\n", n < 0 && errno == EINVAL ? "EINVAL" : "?");
    n = signalfd(1000, &mask, 0);
    printf("bad fd: %s\n", n < 0 && errno == EBADF ? "EBADF" : "?");
    close(fd);
    close(blocking);
    return 0;
}
