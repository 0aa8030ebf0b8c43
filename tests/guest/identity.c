/*
 * Identity, scheduling and limits: getrusage, the scheduler calls, affinity and getcpu,
 * priorities and nice, fs ids, supplementary groups (16-bit ARM forms too), capabilities, prctl.
 * Everything printed is either a value the program set or a yes/no fact.  Nothing here changes
 * the host beyond this process (sethostname and the like are never called: qemu would run them
 * for real as root).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static void usage(void)
{
    struct rusage ru;

    printf("-- getrusage\n");
    memset(&ru, 0xff, sizeof ru);
    SHOW(getrusage(RUSAGE_SELF, &ru));
    printf("  maxrss>0=%d utime sane=%d\n", ru.ru_maxrss > 0,
           ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
    SHOW(getrusage(RUSAGE_CHILDREN, &ru));
    printf("  children maxrss=%ld\n", ru.ru_maxrss);
    SHOW(getrusage(RUSAGE_THREAD, &ru));
    SHOW(getrusage(7, &ru));
}

static void scheduler(void)
{
    struct sched_param sp = {0};
    struct timespec ts;
    cpu_set_t saved, one;
    unsigned cpu = 99, node = 99;

    printf("-- scheduler\n");
    SHOW(sched_getscheduler(0));
    SHOW(sched_getparam(0, &sp));
    printf("  priority %d\n", sp.sched_priority);
    SHOW(sched_get_priority_max(SCHED_FIFO));
    SHOW(sched_get_priority_min(SCHED_FIFO));
    SHOW(sched_get_priority_max(SCHED_OTHER));
    SHOW(sched_get_priority_min(SCHED_RR));
    SHOW(sched_get_priority_max(42));
    SHOW(sched_setscheduler(0, SCHED_BATCH, &sp));
    SHOW(sched_getscheduler(0));
    SHOW(sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &sp));
    SHOW(sched_getscheduler(0) == (SCHED_IDLE | SCHED_RESET_ON_FORK));
    SHOW(sched_setscheduler(0, SCHED_OTHER, &sp));
    SHOW(sched_setscheduler(0, 42, &sp));
    SHOW(sched_setscheduler(-1, SCHED_OTHER, &sp));
    sp.sched_priority = 5;
    SHOW(sched_setparam(0, &sp));
    SHOW(sched_setscheduler(0, SCHED_OTHER, &sp));
    sp.sched_priority = 0;
    SHOW(sched_setparam(0, &sp));
    SHOW(sched_getparam(-5, &sp));
    SHOW(sched_rr_get_interval(0, &ts));
#if defined(SYS_sched_rr_get_interval_time64)
    {
        long old[2] = {-1, -1};
        SHOW(syscall(SYS_sched_rr_get_interval, 0, old));
        printf("  old timespec sane=%d\n", old[0] >= 0 && old[1] >= 0 && old[1] < 1000000000);
    }
#endif
    SHOW(sched_getaffinity(0, sizeof saved, &saved));
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    SHOW(sched_setaffinity(0, sizeof one, &one));
    CPU_ZERO(&one);
    SHOW(sched_getaffinity(0, sizeof one, &one));
    printf("  cpus=%d cpu0=%d\n", CPU_COUNT(&one), CPU_ISSET(0, &one));
    SHOW(syscall(SYS_getcpu, &cpu, &node, NULL));
    printf("  cpu=%u node=%u\n", cpu, node);
    CPU_ZERO(&one);
    CPU_SET(CPU_SETSIZE - 1, &one);
    SHOW(sched_setaffinity(0, sizeof one, &one));
    SHOW(sched_setaffinity(0, sizeof saved, &saved));
}

static void priorities(void)
{
    printf("-- priorities\n");
    errno = 0;
    printf("getpriority: %d errno=%d\n", getpriority(PRIO_PROCESS, 0), errno);
    SHOW(setpriority(PRIO_PROCESS, 0, 5));
    printf("getpriority: %d\n", getpriority(PRIO_PROCESS, 0));
    printf("raw getpriority: %ld\n", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    SHOW(setpriority(PRIO_PROCESS, 0, 100));
    printf("getpriority after 100: %d\n", getpriority(PRIO_PROCESS, 0));
    SHOW(setpriority(9, 0, 1));
    SHOW(setpriority(PRIO_PROCESS, 0, 3));
#ifdef SYS_nice
    /* the syscall returns 0; qemu 7.2 returns the new nice value: print success only */
    printf("nice(2) ok: %d\n", syscall(SYS_nice, 2) >= 0);
    printf("after nice(2): %d\n", getpriority(PRIO_PROCESS, 0));
    printf("nice(-1) ok: %d\n", syscall(SYS_nice, -1) >= 0);
    printf("after nice(-1): %d\n", getpriority(PRIO_PROCESS, 0));
#endif
    SHOW(setpriority(PRIO_PROCESS, 0, 0));
}

static void ids(void)
{
    gid_t list[8];
    int n;

    printf("-- fs ids and groups\n");
    printf("setfsuid(-1): %d\n", setfsuid(-1));
    printf("setfsuid(1234): %d\n", setfsuid(1234));
    printf("setfsuid(-1): %d\n", setfsuid(-1));
    printf("setfsuid(0): %d\n", setfsuid(0));
    printf("setfsgid(77): %d\n", setfsgid(77));
    printf("setfsgid(0): %d\n", setfsgid(0));
#ifdef SYS_setfsuid32
    /* qemu 7.2 passes the 16-bit (uid16_t)-1 on as 65535 and returns an old fsuid above 65535
     * unchanged: the kernel's answers are checked by tests/test_syscall_families.py */
    printf("setfsuid16(4321): %ld\n", syscall(SYS_setfsuid, 4321));
    printf("setfsuid32(-1): %ld\n", syscall(SYS_setfsuid32, -1));
    printf("setfsuid16(0): %ld\n", syscall(SYS_setfsuid, 0));
#endif
    list[0] = 5;
    list[1] = 600;
    list[2] = 70000;
    SHOW(setgroups(3, list));
    n = getgroups(8, list);
    printf("getgroups: %d:", n);
    for (int i = 0; i < n; i++)
        printf(" %u", (unsigned)list[i]);
    printf("\n");
    SHOW(getgroups(0, NULL));
    SHOW(getgroups(1, list));
    SHOW(setgroups(100000, list));
#ifdef SYS_setgroups32
    {
        unsigned short g16[4] = {9, 10, 0, 0};
        SHOW(syscall(SYS_getgroups, 4, g16));
        printf("getgroups16: %u %u %u\n", g16[0], g16[1], g16[2]);
        g16[0] = 11;
        g16[1] = 12;
        SHOW(syscall(SYS_setgroups, 2, g16));
        n = getgroups(8, list);
        printf("getgroups after setgroups16: %d: %u %u\n", n, (unsigned)list[0],
               (unsigned)list[1]);
    }
#endif
    SHOW(setgroups(0, NULL));
    SHOW(getgroups(0, NULL));
}

static void capabilities(void)
{
    struct __user_cap_header_struct hdr = {0, 0};
    struct __user_cap_data_struct data[2];

    printf("-- capabilities\n");
    SHOW(syscall(SYS_capget, &hdr, NULL));
    printf("  version now %#x\n", hdr.version);
    SHOW(syscall(SYS_capget, &hdr, NULL));
    memset(data, 0, sizeof data);
    SHOW(syscall(SYS_capget, &hdr, data));
    printf("  chown effective=%d permitted=%d sys_admin=%d\n", data[0].effective & 1,
           data[0].permitted & 1, (data[0].effective >> CAP_SYS_ADMIN) & 1);
    hdr.version = _LINUX_CAPABILITY_VERSION_1;
    memset(data, 0, sizeof data);
    SHOW(syscall(SYS_capget, &hdr, data));
    printf("  v1 second word untouched=%d\n", data[1].effective == 0);
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = -3;
    SHOW(syscall(SYS_capget, &hdr, data));
    hdr.pid = 0;
    SHOW(syscall(SYS_capget, &hdr, data));
    SHOW(syscall(SYS_capset, &hdr, data));
    data[0].effective &= ~(1u << CAP_CHOWN);
    SHOW(syscall(SYS_capset, &hdr, data));
    SHOW(syscall(SYS_capget, &hdr, data));
    printf("  chown effective now=%d permitted=%d\n", data[0].effective & 1,
           data[0].permitted & 1);
    SHOW(chown(".", 1, 1));
    data[0].effective |= 1u << CAP_CHOWN;
    SHOW(syscall(SYS_capset, &hdr, data));
    hdr.pid = 1;
    SHOW(syscall(SYS_capset, &hdr, data));
}

static void prctls(void)
{
    char name[32];
    int sig = -1;

    printf("-- prctl\n");
    SHOW(prctl(PR_SET_NAME, "a-rather-long-task-name"));
    memset(name, 'x', sizeof name);
    SHOW(prctl(PR_GET_NAME, name));
    printf("  name [%s] byte15=%d\n", name, name[15]);
    SHOW(prctl(PR_SET_NAME, "short"));
    SHOW(prctl(PR_GET_NAME, name));
    printf("  name [%s]\n", name);
    SHOW(prctl(PR_GET_DUMPABLE));
    SHOW(prctl(PR_SET_DUMPABLE, 0));
    SHOW(prctl(PR_GET_DUMPABLE));
    SHOW(prctl(PR_SET_DUMPABLE, 2));
    SHOW(prctl(PR_SET_DUMPABLE, 1));
    SHOW(prctl(PR_GET_DUMPABLE));
    SHOW(prctl(PR_GET_PDEATHSIG, &sig));
    printf("  pdeathsig %d\n", sig);
    SHOW(prctl(PR_SET_PDEATHSIG, SIGUSR2));
    SHOW(prctl(PR_GET_PDEATHSIG, &sig));
    printf("  pdeathsig is SIGUSR2: %d\n", sig == SIGUSR2);
    SHOW(prctl(PR_SET_PDEATHSIG, 1000));
    SHOW(prctl(PR_SET_PDEATHSIG, 0));
    SHOW(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    SHOW(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    SHOW(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    SHOW(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    SHOW(prctl(PR_GET_KEEPCAPS));
    SHOW(prctl(PR_CAPBSET_READ, CAP_CHOWN));
    SHOW(prctl(PR_CAPBSET_READ, 1000));
    SHOW(prctl(9999, 0, 0, 0, 0));
}

/* Where qemu-user 7.2 differs from the kernel: the 16-bit setfsuid (ARM), the child subreaper
 * (qemu says EINVAL). Checked against pyemu alone. */
static void qemu_differs(void)
{
    int flag = -1;

    printf("-- where qemu differs\n");
#ifdef SYS_setfsuid32
    printf("setfsuid16(4321): %ld\n", syscall(SYS_setfsuid, 4321));
    printf("setfsuid16(0xffff): %ld\n", syscall(SYS_setfsuid, 0xffff));
    printf("setfsuid32(70000): %ld\n", syscall(SYS_setfsuid32, 70000));
    printf("setfsuid16(0): %ld\n", syscall(SYS_setfsuid, 0));
#endif
    SHOW(prctl(PR_SET_CHILD_SUBREAPER, 1));
    SHOW(prctl(PR_GET_CHILD_SUBREAPER, &flag));
    printf("  subreaper %d\n", flag);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) {
        qemu_differs();
        return 0;
    }
    usage();
    scheduler();
    priorities();
    ids();
    capabilities();
    prctls();
    return 0;
}
