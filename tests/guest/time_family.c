/*
 * Timer descriptors (timerfd_create/settime/gettime, the old 32-bit forms next to the _time64
 * ones), adjtimex/clock_adjtime read-only.  Counts and remaining times are printed as ranges.
 * Calls that would set the host's clock are never made here (qemu runs them for real as root).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static void print_its(const char *what, const struct itimerspec *its, long max_value_ns)
{
    long long value = its->it_value.tv_sec * 1000000000LL + its->it_value.tv_nsec;
    printf("%s: interval=%lld.%09ld value %s\n", what, (long long)its->it_interval.tv_sec,
           its->it_interval.tv_nsec,
           value == 0 ? "zero" : value > 0 && value <= max_value_ns ? "in range" : "OUT OF RANGE");
}

static void timerfds(void)
{
    struct itimerspec its, old;
    uint64_t count = 0;
    uint32_t small;
    int fd, blocking, dup_fd;

    printf("-- timerfd\n");
    fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    printf("created: %d cloexec=%d nonblock=%d\n", fd >= 0, fcntl(fd, F_GETFD) & FD_CLOEXEC,
           (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    SHOW(read(fd, &count, sizeof count));
    SHOW(timerfd_gettime(fd, &its));
    print_its("unarmed", &its, 0);
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 10000000;
    its.it_interval.tv_nsec = 10000000;
    SHOW(timerfd_settime(fd, 0, &its, &old));
    print_its("old", &old, 0);
    SHOW(timerfd_gettime(fd, &its));
    print_its("armed", &its, 10000000);
    usleep(50000);
    SHOW(read(fd, &small, sizeof small));
    SHOW(read(fd, &count, sizeof count));
    printf("expirations in range: %d\n", count >= 1 && count < 100000);
    memset(&its, 0, sizeof its);
    SHOW(timerfd_settime(fd, 0, &its, &old));
    print_its("old", &old, 10000000);
    SHOW(timerfd_gettime(fd, &its));
    print_its("disarmed", &its, 0);
    its.it_value.tv_nsec = 2000000000;
    SHOW(timerfd_settime(fd, 0, &its, NULL));
    SHOW(timerfd_settime(fd, 0x100, &its, NULL));

    blocking = timerfd_create(CLOCK_REALTIME, 0);
    clock_gettime(CLOCK_REALTIME, &its.it_value);
    its.it_value.tv_nsec += 20000000;
    if (its.it_value.tv_nsec >= 1000000000) {
        its.it_value.tv_nsec -= 1000000000;
        its.it_value.tv_sec++;
    }
    its.it_interval.tv_sec = its.it_interval.tv_nsec = 0;
    SHOW(timerfd_settime(blocking, TFD_TIMER_ABSTIME, &its, NULL));
    dup_fd = dup(blocking);
    close(blocking);
    SHOW(read(dup_fd, &count, sizeof count));
    printf("absolute timer fired: %llu\n", (unsigned long long)count);
    close(dup_fd);

    SHOW(timerfd_create(99, 0));
    SHOW(timerfd_gettime(0, &its));
    SHOW(timerfd_gettime(-1, &its));
#ifdef SYS_timerfd_settime64
    {   /* 32-bit ABIs: the old calls take two-long timespecs */
        long old_its[4] = {0, 0, 1, 0}, back[4] = {9, 9, 9, 9};
        SHOW(syscall(SYS_timerfd_settime, fd, 0, old_its, NULL));
        SHOW(syscall(SYS_timerfd_gettime, fd, back));
        printf("old gettime: interval=%ld.%09ld value %s\n", back[0], back[1],
               back[2] * 1000000000LL + back[3] > 0 && back[2] <= 1 ? "in range" : "OUT");
        old_its[2] = 0;
        SHOW(syscall(SYS_timerfd_settime, fd, 0, old_its, back));
        printf("old value back %s\n", back[2] <= 1 ? "in range" : "OUT");
    }
#endif
    close(fd);
}

static void clock_discipline(void)
{
    struct timex tx;
    int r;

    printf("-- adjtimex (read-only)\n");
    memset(&tx, 0, sizeof tx);
    r = adjtimex(&tx);
    printf("adjtimex: state ok=%d tick>0=%d modes=%u\n", r >= 0, tx.tick > 0, tx.modes);
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_OFFSET_SS_READ;
    r = adjtimex(&tx);
    printf("adjtimex SS_READ: ok=%d modes=%#x\n", r >= 0, tx.modes);
    memset(&tx, 0, sizeof tx);
    r = clock_adjtime(CLOCK_REALTIME, &tx);
    printf("clock_adjtime REALTIME: ok=%d tick>0=%d\n", r >= 0, tx.tick > 0);
    memset(&tx, 0, sizeof tx);
    SHOW(clock_adjtime(CLOCK_MONOTONIC, &tx));
    SHOW(clock_adjtime(99, &tx));
}

/* qemu-user 7.2 drops unknown timerfd_create flags (the kernel says EINVAL) and translates the
 * count of a big-endian guest's read() but not of its readv(): checked against pyemu alone. */
static void qemu_differs(void)
{
    struct itimerspec its = {{0, 5000000}, {0, 5000000}};
    uint64_t count = 0;
    struct iovec iov = {&count, sizeof count};
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);

    printf("-- timerfd where qemu differs\n");
    SHOW(timerfd_create(CLOCK_MONOTONIC, 0x4));
    SHOW(timerfd_settime(fd, 0, &its, NULL));
    usleep(20000);
    SHOW(readv(fd, &iov, 1));
    printf("readv expirations in range: %d\n", count >= 1 && count < 100000);
    close(fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) {
        qemu_differs();
        return 0;
    }
    timerfds();
    clock_discipline();
    return 0;
}
