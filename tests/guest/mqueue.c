/*
 * POSIX message queues: open/unlink, priorities, attributes, non-blocking and timed operations,
 * notification (SIGEV_NONE and SIGEV_SIGNAL to a handler), the old 32-bit timed calls.  The
 * queue's name carries the pid (runs happen side by side); the pid is never printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static void attrs(mqd_t q)
{
    struct mq_attr a;
    if (mq_getattr(q, &a) == 0)
        printf("  attr: maxmsg=%ld msgsize=%ld curmsgs=%ld\n", a.mq_maxmsg, a.mq_msgsize,
               a.mq_curmsgs);
    else
        printf("  attr: %s\n", strerror(errno));
}

static struct timespec in_ms(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* Where qemu-user 7.2 differs: it has no mq_notify, and passes a MIPS guest's O_NONBLOCK in
 * mq_flags to the host untranslated (EINVAL, as it is the host's O_EXCL).  Checked against
 * pyemu alone.  (A SIGEV_SIGNAL notification is not checked here: it is signal delivery.) */
static void qemu_differs(const char *name)
{
    struct mq_attr attr = {0, 2, 16, 0}, set = {O_NONBLOCK, 0, 0, 0}, old;
    struct sigevent ev;
    char buf[16];
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);

    printf("-- where qemu differs\n");
    SHOW(mq_setattr(q, &set, &old));
    printf("  old nonblock=%d\n", (old.mq_flags & O_NONBLOCK) != 0);
    SHOW(mq_getattr(q, &old));
    printf("  nonblock=%d\n", (old.mq_flags & O_NONBLOCK) != 0);
    SHOW(mq_receive(q, buf, sizeof buf, NULL));
    set.mq_flags = O_APPEND;
    SHOW(mq_setattr(q, &set, NULL));
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    SHOW(mq_notify(q, &ev));
    SHOW(mq_notify(q, &ev));
    SHOW(mq_notify(q, NULL));
    SHOW(mq_notify(q, NULL));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 1000;
    SHOW(mq_notify(q, &ev));
    ev.sigev_notify = 77;
    SHOW(mq_notify(q, &ev));
    SHOW(mq_notify(-1, NULL));
    close(q);
    mq_unlink(name);
}

int main(int argc, char **argv)
{
    char name[64], buf[128];
    struct mq_attr attr = {0, 4, 64, 0}, old;
    struct timespec t;
    unsigned prio = 0;
    mqd_t q, nb;
    ssize_t n;

    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(name, sizeof name, "/pyemu-test-%d", getpid());
    if (argc > 1) {
        qemu_differs(name);
        return 0;
    }
    q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
    printf("mq_open: %d cloexec=%d\n", q >= 0, (fcntl(q, F_GETFD) & FD_CLOEXEC) != 0);
    SHOW(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr));
    SHOW(mq_open("/pyemu-test-missing-queue", O_RDWR));
    SHOW(mq_open("/pyemu/test", O_CREAT | O_RDWR, 0600, NULL));
    attr.mq_maxmsg = 0;
    SHOW(mq_open("/pyemu-test-bad", O_CREAT | O_RDWR, 0600, &attr));
    attrs(q);
    SHOW(mq_send(q, "low", 4, 5));
    SHOW(mq_send(q, "high", 5, 9));
    SHOW(mq_send(q, "middle", 7, 7));
    attrs(q);
    n = mq_receive(q, buf, sizeof buf, &prio);
    printf("received %zd [%s] prio %u\n", n, buf, prio);
    n = mq_receive(q, buf, sizeof buf, NULL);
    printf("received %zd [%s]\n", n, buf);
    SHOW(mq_receive(q, buf, 10, &prio));
    SHOW(mq_send(q, buf, 65, 1));
    SHOW(mq_send(q, "x", 2, 40000));
    n = mq_receive(q, buf, sizeof buf, &prio);
    printf("received %zd [%s] prio %u\n", n, buf, prio);
    nb = mq_open(name, O_RDONLY | O_NONBLOCK);
    SHOW(mq_receive(nb, buf, sizeof buf, &prio));
    close(nb);
    t = in_ms(20);
    SHOW(mq_timedreceive(q, buf, sizeof buf, &prio, &t));
    for (int i = 0; i < 4; i++)
        mq_send(q, "fill", 5, 1);
    t = in_ms(-1000);
    SHOW(mq_timedsend(q, "full", 5, 1, &t));
    t.tv_nsec = 2000000000;
    SHOW(mq_timedsend(q, "full", 5, 1, &t));
#ifdef SYS_mq_timedsend_time64
    {   /* 32-bit ABIs: the old timed calls take two-long timespecs */
        long old_t[2] = {1, 0};
        SHOW(syscall(SYS_mq_timedsend, q, "old", 4, 1, old_t));
        SHOW(syscall(SYS_mq_timedreceive, q, buf, sizeof buf, &prio, old_t));
        printf("  [%s] prio %u\n", buf, prio);
    }
#endif
    while (mq_receive(q, buf, sizeof buf, NULL) >= 0 && mq_getattr(q, &old) == 0 &&
           old.mq_curmsgs > 0)
        ;
    attrs(q);

    SHOW(close(q));
    SHOW(mq_unlink(name));
    SHOW(mq_unlink(name));
    return 0;
}
