/*
 * Record locks (fcntl F_GETLK/F_SETLK/F_SETLKW, their 64-bit forms and OFD locks), flock, and
 * the other fcntl commands with an integer argument.  A forked child tests the parent's locks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static const char *type_name(int t)
{
    return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

static int lock(int fd, int cmd, int type, off_t start, off_t len)
{
    struct flock fl = {0};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

static void probe(const char *who, int fd, int cmd, int type, off_t start, off_t len,
                  pid_t owner)
{
    struct flock fl = {0};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    fl.l_pid = cmd == F_OFD_GETLK ? 0 : 12345;
    if (fcntl(fd, cmd, &fl) < 0) {
        printf("%s GETLK %lld+%lld: -1 %s\n", who, (long long)start, (long long)len,
               strerror(errno));
        return;
    }
    printf("%s GETLK %lld+%lld: %s", who, (long long)start, (long long)len,
           type_name(fl.l_type));
    if (fl.l_type != F_UNLCK)
        printf(" at %lld+%lld pid=%s", (long long)fl.l_start, (long long)fl.l_len,
               fl.l_pid == owner ? "owner" : fl.l_pid == -1 ? "-1" : "other");
    printf("\n");
}

static void posix_locks(void)
{
    int fd = open("lockfile", O_CREAT | O_RDWR, 0644);
    pid_t child, me = getpid();
    int status;

    printf("-- POSIX record locks\n");
    write(fd, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    SHOW(lock(fd, F_SETLK, F_WRLCK, 0, 10));
    SHOW(lock(fd, F_SETLK, F_RDLCK, 20, 10));
    SHOW(lock(fd, F_SETLK, 7, 0, 10));
    SHOW(lock(fd, F_SETLK, F_WRLCK, -5, 10));
    SHOW(lock(-1, F_SETLK, F_WRLCK, 0, 10));
    probe("parent", fd, F_GETLK, F_WRLCK, 0, 100, me);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        int cfd = open("lockfile", O_RDWR);
        probe("child", cfd, F_GETLK, F_WRLCK, 0, 100, getppid());
        probe("child", cfd, F_GETLK, F_WRLCK, 15, 100, getppid());
        probe("child", cfd, F_GETLK, F_RDLCK, 15, 100, getppid());
        probe("child", cfd, F_GETLK, F_WRLCK, 30, 0, getppid());
        SHOW(lock(cfd, F_SETLK, F_WRLCK, 5, 2) < 0 && (errno == EAGAIN || errno == EACCES));
        SHOW(lock(cfd, F_SETLK, F_RDLCK, 20, 5));
        SHOW(lock(cfd, F_SETLKW, F_WRLCK, 100, 10));
#ifdef SYS_fcntl64
        {
            struct flock64 fl64 = {0};
            fl64.l_type = F_WRLCK;
            fl64.l_whence = SEEK_SET;
            fl64.l_start = 0;
            fl64.l_len = 0;
            SHOW(syscall(SYS_fcntl64, cfd, F_GETLK64, &fl64));
            printf("child GETLK64: %s at %lld+%lld pid=%s\n", type_name(fl64.l_type),
                   (long long)fl64.l_start, (long long)fl64.l_len,
                   fl64.l_pid == getppid() ? "owner" : "other");
            fl64.l_type = F_WRLCK;
            fl64.l_start = 200;
            fl64.l_len = 5;
            SHOW(syscall(SYS_fcntl64, cfd, F_SETLK64, &fl64));
        }
#endif
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    SHOW(lock(fd, F_SETLK, F_UNLCK, 0, 0));
    probe("parent", fd, F_GETLK, F_WRLCK, 0, 0, me);
    close(fd);
}

static void ofd_locks(void)
{
    int a = open("lockfile", O_RDWR), b = open("lockfile", O_RDWR);

    printf("-- OFD locks\n");
    SHOW(lock(a, F_OFD_SETLK, F_WRLCK, 0, 10));
    SHOW(lock(b, F_OFD_SETLK, F_WRLCK, 5, 10) < 0 && errno == EAGAIN);
    SHOW(lock(b, F_OFD_SETLK, F_RDLCK, 10, 10));
    probe("b", b, F_OFD_GETLK, F_WRLCK, 0, 0, 0);
    probe("a", a, F_OFD_GETLK, F_WRLCK, 0, 0, 0);
    SHOW(lock(a, F_OFD_SETLK, F_UNLCK, 0, 0));
    probe("b", b, F_OFD_GETLK, F_WRLCK, 0, 0, 0);
    {
        struct flock fl = {0};
        fl.l_type = F_RDLCK;
        fl.l_pid = 1;
        SHOW(fcntl(a, F_OFD_SETLK, &fl));
    }
    close(a);
    close(b);
}

static void bsd_locks(void)
{
    int a = open("lockfile", O_RDWR), b = open("lockfile", O_RDWR);

    printf("-- flock\n");
    SHOW(flock(a, LOCK_EX));
    SHOW(flock(b, LOCK_EX | LOCK_NB));
    SHOW(flock(b, LOCK_SH | LOCK_NB));
    SHOW(flock(a, LOCK_SH));
    SHOW(flock(b, LOCK_SH | LOCK_NB));
    SHOW(flock(a, LOCK_UN));
    SHOW(flock(b, LOCK_EX | LOCK_NB));
    SHOW(flock(b, LOCK_UN));
    SHOW(flock(a, 0));
    SHOW(flock(a, LOCK_SH | LOCK_EX));
    SHOW(flock(-1, LOCK_SH));
    close(a);
    close(b);
}

static void other_commands(void)
{
    int p[2], fd = open("lockfile", O_RDONLY);

    printf("-- other fcntl commands\n");
    SHOW(fcntl(fd, F_GETLEASE));
    SHOW(fcntl(fd, F_SETLEASE, F_RDLCK));
    SHOW(fcntl(fd, F_GETLEASE) == F_RDLCK);
    SHOW(fcntl(fd, F_SETLEASE, F_UNLCK));
    SHOW(fcntl(fd, F_GETLEASE) == F_UNLCK);
    SHOW(fcntl(fd, F_SETLEASE, 99));
    SHOW(fcntl(fd, F_GETSIG));
    SHOW(fcntl(fd, F_SETSIG, SIGUSR1));
    SHOW(fcntl(fd, F_GETSIG) == SIGUSR1);
    SHOW(fcntl(fd, F_SETSIG, 0));
    SHOW(fcntl(fd, F_SETSIG, 1000));
    SHOW(fcntl(fd, F_GETOWN));
    SHOW(fcntl(fd, F_SETOWN, getpid()));
    SHOW(fcntl(fd, F_GETOWN) == getpid());
    {
        struct f_owner_ex ex = {F_OWNER_PGRP, 0};
        SHOW(fcntl(fd, F_GETOWN_EX, &ex));
        printf("  owner type=%d is me=%d\n", ex.type, ex.pid == getpid());
        ex.type = F_OWNER_TID;
        ex.pid = gettid();
        SHOW(fcntl(fd, F_SETOWN_EX, &ex));
        ex.type = 99;
        SHOW(fcntl(fd, F_GETOWN_EX, &ex));
        printf("  owner type=%d is me=%d\n", ex.type, ex.pid == getpid());
        ex.type = 99;
        SHOW(fcntl(fd, F_SETOWN_EX, &ex));
    }
    pipe(p);
    SHOW(fcntl(p[0], F_SETPIPE_SZ, 65536));
    SHOW(fcntl(p[0], F_GETPIPE_SZ));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 8192));
    SHOW(fcntl(p[1], F_GETPIPE_SZ));
    SHOW(fcntl(fd, F_GETPIPE_SZ));
    SHOW(fcntl(fd, F_GET_SEALS));
    SHOW(fcntl(fd, 12345));
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    posix_locks();
    ofd_locks();
    bsd_locks();
    other_commands();
    return 0;
}
