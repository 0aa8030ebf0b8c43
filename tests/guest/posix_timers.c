/* POSIX timers: a one-shot SIGEV_SIGNAL timer run by a handler (si_code, si_value, si_timerid),
 * a periodic timer whose signal stays blocked (overruns), timer_gettime, SIGEV_NONE,
 * SIGEV_THREAD_ID to one thread, glibc's SIGEV_THREAD, TIMER_ABSTIME on CLOCK_REALTIME, timers
 * not inherited by fork, and the argument errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits, code, value, timerid_ok;
static timer_t expected_id;

static void on_timer(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    hits++;
    code = si->si_code;
    value = si->si_value.sival_int;
    timerid_ok = si->si_timerid == (int)(long)expected_id;
}

static void arm(timer_t t, long value_ns, long interval_ns, int flags) {
    struct itimerspec its = {{interval_ns / 1000000000, interval_ns % 1000000000},
                             {value_ns / 1000000000, value_ns % 1000000000}};
    if (timer_settime(t, flags, &its, NULL) != 0) printf("settime failed: %s\n", strerror(errno));
}

static const char *err(int rc) { return rc == 0 ? "ok" : strerror(errno); }

/* timer_create with SIGEV_SIGNAL: signal signo carrying value */
static int signal_timer(clockid_t clock, int signo, int value, timer_t *t) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = signo;
    ev.sigev_value.sival_int = value;
    return timer_create(clock, &ev, t);
}

static void one_shot(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    timer_t t;
    printf("create: %s\n", err(signal_timer(CLOCK_MONOTONIC, SIGUSR1, 77, &t)));
    expected_id = t;
    arm(t, 300000000, 0, 0);
    struct itimerspec cur;
    timer_gettime(t, &cur);
    printf("armed: remaining_ok=%d interval=%ld\n",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 300000000,
           (long)cur.it_interval.tv_nsec);
    while (!hits) pause();
    printf("fired: hits=%d code=%s value=%d timerid_ok=%d overrun=%d\n", hits,
           code == SI_TIMER ? "SI_TIMER" : "?", value, timerid_ok, timer_getoverrun(t));
    timer_gettime(t, &cur);
    printf("after: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
    const char *first = err(timer_delete(t));
    printf("delete: %s, again: %s\n", first, err(timer_delete(t)));
}

static void periodic_blocked(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    timer_t t;
    signal_timer(CLOCK_REALTIME, SIGUSR2, 5, &t);
    arm(t, 10000000, 10000000, 0);
    struct timespec nap = {0, 150000000};
    int rc = nanosleep(&nap, NULL);            /* the signal is blocked: no EINTR */
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    printf("periodic: sleep=%d sig=%s code=%s value=%d overrun>=5: %d getoverrun same: %d\n", rc,
           sig == SIGUSR2 ? "SIGUSR2" : "?", si.si_code == SI_TIMER ? "SI_TIMER" : "?",
           si.si_value.sival_int, si.si_overrun >= 5, timer_getoverrun(t) == si.si_overrun);
    struct itimerspec off = {{0, 0}, {0, 0}}, old;
    timer_settime(t, 0, &off, &old);
    printf("disarmed: old interval=%ld\n", (long)old.it_interval.tv_nsec);
    timer_delete(t);
    struct timespec none = {0, 0};
    sigtimedwait(&set, &si, &none);   /* one more expiry may have come before the disarm */
}

static void none_and_absolute(void) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    timer_t t;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    arm(t, 1000000000, 0, 0);
    struct itimerspec cur;
    timer_gettime(t, &cur);
    long left = cur.it_value.tv_sec * 1000000000L + cur.it_value.tv_nsec;
    printf("SIGEV_NONE: remaining_ok=%d\n", left > 500000000 && left <= 1000000000);
    timer_delete(t);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal_timer(CLOCK_REALTIME, SIGRTMIN, 9, &t);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long at = now.tv_nsec + 50000000;
    struct itimerspec its = {{0, 0}, {now.tv_sec + at / 1000000000, at % 1000000000}};
    timer_settime(t, TIMER_ABSTIME, &its, NULL);
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    clock_gettime(CLOCK_REALTIME, &its.it_interval);
    printf("absolute: sig_ok=%d value=%d not early=%d\n", sig == SIGRTMIN, si.si_value.sival_int,
           its.it_interval.tv_sec * 1000000000L + its.it_interval.tv_nsec
               >= now.tv_sec * 1000000000L + at - 1000000);
    timer_delete(t);
}

static volatile pid_t worker_tid;
static volatile int worker_got;

static void *worker(void *arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    worker_tid = syscall(SYS_gettid);
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    worker_got = sig == SIGRTMIN + 1 && si.si_code == SI_TIMER ? si.si_value.sival_int : -1;
    return NULL;
}

static volatile int thread_callback;
static void callback(union sigval v) { thread_callback = v.sival_int; }

static void threads(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    while (!worker_tid) usleep(1000);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN + 1;
    ev.sigev_value.sival_int = 31;
    ev._sigev_un._tid = worker_tid;
    timer_t t;
    printf("thread id timer: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    arm(t, 30000000, 0, 0);
    pthread_join(th, NULL);
    printf("worker got value %d\n", worker_got);
    timer_delete(t);
    ev._sigev_un._tid = 999999;
    printf("unknown thread: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));

    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = callback;
    ev.sigev_value.sival_int = 44;
    printf("SIGEV_THREAD: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    arm(t, 30000000, 0, 0);
    for (int i = 0; i < 500 && !thread_callback; i++) usleep(10000);
    printf("callback got %d\n", thread_callback);
    timer_delete(t);
}

static void errors_and_fork(void) {
    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = 99;
    printf("bad notify: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 0;
    printf("bad signal: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    printf("bad clock: %s\n", err(timer_create(99, NULL, &t)));
    printf("NULL event: %s\n", err(timer_create(CLOCK_MONOTONIC, NULL, &t)));
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    printf("bad nsec: %s\n", err(timer_settime(t, 0, &bad, NULL)));
    arm(t, 2000000000L, 0, 0);
    pid_t p = fork();
    if (p == 0) {
        struct itimerspec cur;
        _exit(timer_gettime(t, &cur) == -1 && errno == EINVAL ? 0 : 1);
    }
    int st;
    waitpid(p, &st, 0);
    printf("not inherited: %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    timer_delete(t);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    one_shot();
    periodic_blocked();
    none_and_absolute();
    threads();
    errors_and_fork();
    return 0;
}
