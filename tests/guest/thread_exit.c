/* The process ends while other threads run: exit_group (or a return from main) must stop every
 * thread, flush the output and give the exact status, whatever the other threads are doing.
 *   thread_exit SCENARIO
 * created   main starts detached threads (each calls pthread_once) and returns at once, while
 *           a creator thread keeps starting more
 * spin      threads spin in guest code (no syscalls); main exits
 * spinsys   threads spin with a syscall now and then; main exits
 * blocked   threads blocked in read, futex (a condition variable), nanosleep and poll
 * fromthread  exit() from a thread that is not the main one while main waits in join
 * exec      execve of this program from one thread while others run
 * signal    a fatal signal (SIGTERM, default action) sent while several threads run
 * fault     a thread dies of SIGSEGV while others run
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile unsigned long sink;

static void init_once(void) { sink++; }

static void *once_body(void *arg) {
    (void)arg;
    pthread_once(&once, init_once);
    return NULL;
}

static void detached(void *(*body)(void *), void *arg) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, body, arg) != 0) {
        puts("pthread_create failed");
        exit(1);
    }
    pthread_attr_destroy(&attr);
}

static void *creator(void *arg) {
    (void)arg;
    for (;;)
        detached(once_body, NULL);
    return NULL;
}

static void *spinner(void *arg) {
    volatile unsigned long *n = arg;
    for (;;)
        (*n)++;
    return NULL;
}

static void *spinner_sys(void *arg) {
    volatile unsigned long *n = arg;
    for (;;) {
        (*n)++;
        if ((*n & 0xffff) == 0)
            getppid();
    }
    return NULL;
}

static int pipefd[2];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *reader(void *arg) {
    (void)arg;
    char c;
    read(pipefd[0], &c, 1);
    return NULL;
}

static void *waiter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    for (;;)
        pthread_cond_wait(&never, &m);
    return NULL;
}

static void *sleeper(void *arg) {
    (void)arg;
    struct timespec ts = {1000, 0};
    nanosleep(&ts, NULL);
    return NULL;
}

static void *poller(void *arg) {
    (void)arg;
    struct pollfd p = {pipefd[0], POLLIN, 0};
    poll(&p, 1, -1);
    return NULL;
}

static void *exiter(void *arg) {
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("exit from a thread\n");
    exit(7);
}

static void *execer(void *arg) {
    char *self = arg;
    char *argv[] = {self, "child", NULL};
    execv("/proc/self/exe", argv);
    perror("execv");
    exit(1);
}

static void *faulter(void *arg) {
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    *(volatile int *)16 = 1;
    return NULL;
}

static unsigned long counters[4];

static void start_blocked(void) {
    if (pipe(pipefd) != 0) {
        perror("pipe");
        exit(1);
    }
    detached(reader, NULL);
    detached(waiter, NULL);
    detached(sleeper, NULL);
    detached(poller, NULL);
}

static void pause_briefly(void) {
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    printf("scenario %s\n", what);
    if (!strcmp(what, "created")) {
        detached(creator, NULL);
        for (int i = 0; i < 8; i++)
            detached(once_body, NULL);
        return 3;
    }
    if (!strcmp(what, "spin") || !strcmp(what, "spinsys")) {
        for (int i = 0; i < 3; i++)
            detached(what[4] ? spinner_sys : spinner, &counters[i]);
        pause_briefly();
        printf("main exits\n");
        exit(4);
    }
    if (!strcmp(what, "blocked")) {
        start_blocked();
        pause_briefly();
        printf("main exits\n");
        exit(5);
    }
    if (!strcmp(what, "fromthread")) {
        pthread_t t;
        start_blocked();
        pthread_create(&t, NULL, exiter, NULL);
        pthread_join(t, NULL);
        printf("not reached\n");
        return 1;
    }
    if (!strcmp(what, "exec")) {
        start_blocked();
        detached(spinner_sys, &counters[0]);
        fflush(stdout);
        detached(execer, argv[0]);
        for (;;)
            pause();
    }
    if (!strcmp(what, "child")) {
        printf("exec'd child\n");
        return 6;
    }
    if (!strcmp(what, "signal")) {
        start_blocked();
        detached(spinner_sys, &counters[0]);
        pause_briefly();
        fflush(stdout);
        kill(getpid(), SIGTERM);
        for (;;)
            pause();
    }
    if (!strcmp(what, "fault")) {
        pthread_t t;
        start_blocked();
        detached(spinner_sys, &counters[0]);
        fflush(stdout);
        pthread_create(&t, NULL, faulter, NULL);
        pthread_join(t, NULL);
        return 1;
    }
    printf("unknown scenario\n");
    return 2;
}
