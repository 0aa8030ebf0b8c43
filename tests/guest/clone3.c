/* clone3 (struct clone_args) used like fork: exit status, CLONE_PIDFD, CLONE_PARENT_SETTID /
 * CLONE_CHILD_SETTID, CLONE_CLEAR_SIGHAND, the argument checks; pthreads (glibc 2.36 makes them
 * with clone3 when the kernel has it) and a thread made with glibc's clone() wrapper (the
 * legacy clone syscall, glibc's fallback); posix_spawn of the program itself (clone3 with
 * CLONE_VM|CLONE_VFORK on a stack of its own, then execve). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static long clone3(struct clone_args *args, size_t size) {
    return syscall(SYS_clone3, args, size);
}

static const char *err(long rc) { return rc >= 0 ? "ok" : strerror(errno); }

static void as_fork(void) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    long pid = clone3(&a, sizeof a);
    if (pid == 0) _exit(5);
    int st;
    waitpid(pid, &st, 0);
    printf("fork-like: status %d\n", WEXITSTATUS(st));

    int pidfd = -1;
    pid_t ptid = 0, ctid = 0;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID;
    a.pidfd = (uintptr_t)&pidfd;
    a.parent_tid = (uintptr_t)&ptid;
    a.child_tid = (uintptr_t)&ctid;
    a.exit_signal = SIGCHLD;
    pid = clone3(&a, CLONE_ARGS_SIZE_VER0);
    if (pid == 0) _exit(ctid == getpid() ? 6 : 1);
    struct pollfd p = {pidfd, POLLIN, 0};
    int ready = poll(&p, 1, 10000);
    waitpid(pid, &st, 0);
    printf("pidfd: valid=%d ready=%d parent_tid=%d child status %d\n", pidfd >= 0, ready,
           ptid == pid, WEXITSTATUS(st));
    close(pidfd);
}

static volatile int got;
static void on_usr1(int sig) { got = sig; }

static void clear_sighand(void) {
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, SIG_IGN);
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_CLEAR_SIGHAND;
    a.exit_signal = SIGCHLD;
    long pid = clone3(&a, sizeof a);
    if (pid == 0) {
        struct sigaction usr1, usr2;
        sigaction(SIGUSR1, NULL, &usr1);
        sigaction(SIGUSR2, NULL, &usr2);
        _exit((usr1.sa_handler == SIG_DFL) + 2 * (usr2.sa_handler == SIG_IGN));
    }
    int st;
    waitpid(pid, &st, 0);
    printf("CLONE_CLEAR_SIGHAND: handler reset=%d ignored kept=%d\n", WEXITSTATUS(st) & 1,
           WEXITSTATUS(st) >> 1);
}

static void errors(void) {
    struct clone_args a;
    unsigned char big[4096 + 64];
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    printf("size 32: %s\n", err(clone3(&a, 32)));
    memset(big, 0, sizeof big);
    memcpy(big, &a, sizeof a);
    printf("size past a page: %s\n", err(clone3((struct clone_args *)big, sizeof big)));
    big[sizeof a + 3] = 1;
    printf("unknown field set: %s\n", err(clone3((struct clone_args *)big, sizeof a + 8)));
    a.flags = SIGCHLD;
    printf("signal in flags: %s\n", err(clone3(&a, sizeof a)));
    a.flags = 0;
    a.exit_signal = 1000;
    printf("bad exit_signal: %s\n", err(clone3(&a, sizeof a)));
    a.exit_signal = SIGCHLD;
    a.stack = (uintptr_t)big;
    printf("stack without size: %s\n", err(clone3(&a, sizeof a)));
    a.stack = 0;
    a.flags = CLONE_THREAD | CLONE_SIGHAND;
    a.exit_signal = 0;
    printf("thread without CLONE_VM: %s\n", err(clone3(&a, sizeof a)));
    a.flags = CLONE_SIGHAND | CLONE_CLEAR_SIGHAND | CLONE_VM;
    printf("CLEAR_SIGHAND with SIGHAND: %s\n", err(clone3(&a, sizeof a)));
}

static void *square(void *arg) { return (void *)((intptr_t)arg * (intptr_t)arg); }

static volatile int legacy_ran;
static int legacy_thread(void *arg) {
    legacy_ran = *(int *)arg;
    return 0;
}

static void threads(void) {
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++) pthread_create(&t[i], NULL, square, (void *)(i + 1));
    intptr_t sum = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (intptr_t)r;
    }
    printf("pthreads: sum of squares %ld\n", (long)sum);

    size_t size = 256 * 1024;
    char *stack = malloc(size);
    static pid_t tid = -1;
    int value = 17;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    long r = clone(legacy_thread, stack + size, flags, &value, &tid, NULL, &tid);
    while (r > 0 && tid != 0) syscall(SYS_futex, &tid, FUTEX_WAIT, tid, NULL, NULL, 0);
    printf("legacy clone thread: created=%d ran=%d tid cleared=%d\n", r > 0, legacy_ran, tid == 0);
}

static void spawn(const char *self) {
    pid_t pid;
    char *argv[] = {(char *)self, "child", NULL};
    int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
    int st = 0;
    if (rc == 0) waitpid(pid, &st, 0);
    printf("posix_spawn: rc=%d child status %d\n", rc, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("spawned child\n");
        return 3;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    as_fork();
    clear_sighand();
    errors();
    threads();
    spawn(argv[0]);
    return 0;
}
