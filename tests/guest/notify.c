/*
 * eventfd (counter and semaphore modes), inotify (events with names and cookies, the old
 * inotify_init), memfd_create with seals.  The events a program causes itself are printed in
 * order; wd numbers and cookies only as comparisons.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "show.h"

static void eventfds(void)
{
    uint64_t v = 0;
    int fd, sem;

    printf("-- eventfd\n");
    fd = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
    printf("cloexec=%d nonblock=%d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC,
           (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    SHOW(read(fd, &v, sizeof v));
    printf("  value %llu\n", (unsigned long long)v);
    SHOW(read(fd, &v, sizeof v));
    v = 0x0102030405060708ULL;
    SHOW(write(fd, &v, sizeof v));
    v = 3;
    SHOW(write(fd, &v, sizeof v));
    v = 0;
    SHOW(read(fd, &v, sizeof v));
    printf("  value %#llx\n", (unsigned long long)v);
    v = 0xffffffffffffffffULL;
    SHOW(write(fd, &v, sizeof v));
    SHOW(write(fd, &v, 4));
    SHOW(read(fd, &v, 4));
    SHOW(eventfd_write(fd, 40));
    SHOW(eventfd_read(fd, (eventfd_t *)&v));
    printf("  value %llu\n", (unsigned long long)v);
    close(fd);

    sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    SHOW(read(sem, &v, sizeof v));
    printf("  value %llu\n", (unsigned long long)v);
    SHOW(read(sem, &v, sizeof v));
    SHOW(read(sem, &v, sizeof v));
    close(sem);
    SHOW(eventfd(0, 0x4000000));
#ifdef SYS_eventfd
    fd = syscall(SYS_eventfd, 7);
    v = 0;
    SHOW(read(fd, &v, sizeof v));
    printf("  old eventfd value %llu\n", (unsigned long long)v);
    close(fd);
#endif
}

static const char *mask_name(uint32_t m)
{
    static char buf[128];
    buf[0] = 0;
#define N(x) if (m & x) strcat(buf, #x " ");
    N(IN_CREATE) N(IN_DELETE) N(IN_MODIFY) N(IN_CLOSE_WRITE) N(IN_MOVED_FROM) N(IN_MOVED_TO)
    N(IN_IGNORED) N(IN_ISDIR) N(IN_ATTRIB) N(IN_OPEN) N(IN_DELETE_SELF)
#undef N
    return buf;
}

static void drain(int fd, int wd)
{
    char buf[4096] __attribute__((aligned(8)));
    uint32_t cookie = 0;
    ssize_t n;

    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            printf("  event %s[%s] wd=%s", mask_name(ev->mask), ev->len ? ev->name : "",
                   ev->wd == wd ? "ok" : "other");
            if (ev->mask & (IN_MOVED_FROM | IN_MOVED_TO)) {
                printf(" cookie %s", ev->cookie == 0 ? "zero" : cookie == 0 ? "set"
                       : cookie == ev->cookie ? "matches" : "differs");
                cookie = ev->cookie;
            } else {
                printf(" cookie=%u", ev->cookie);
            }
            printf(" len%%4=%u\n", ev->len % 4);
            p += sizeof *ev + ev->len;
        }
    }
    printf("  drained: %s\n", strerror(errno));
}

static void inotify(void)
{
    int fd, wd, f;

    printf("-- inotify\n");
    mkdir("watched", 0755);
    fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    printf("cloexec=%d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    wd = inotify_add_watch(fd, "watched", IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
                                           IN_MOVED_FROM | IN_MOVED_TO);
    printf("wd positive: %d\n", wd > 0);
    f = open("watched/file_one", O_CREAT | O_WRONLY, 0644);
    write(f, "x", 1);
    close(f);
    rename("watched/file_one", "watched/renamed_file");
    mkdir("watched/sub", 0755);
    unlink("watched/renamed_file");
    drain(fd, wd);
    SHOW(inotify_add_watch(fd, "watched", IN_ATTRIB) == wd);
    chmod("watched", 0700);
    f = open("watched/x", O_CREAT | O_WRONLY, 0644);
    close(f);
    SHOW(inotify_rm_watch(fd, wd));
    drain(fd, wd);
    SHOW(inotify_rm_watch(fd, wd));
    SHOW(inotify_add_watch(fd, "missing", IN_CREATE));
    SHOW(inotify_add_watch(fd, "watched", 0));
    close(fd);
#ifdef SYS_inotify_init
    fd = syscall(SYS_inotify_init);
    printf("old inotify_init: %d cloexec=%d\n", fd > 2, fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
#endif
}

static void memfds(void)
{
    char name[300], link[300], *map;
    struct stat st;
    int fd, plain;
    ssize_t n;

    printf("-- memfd\n");
    fd = memfd_create("pyemu test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    printf("cloexec=%d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
    n = readlink(name, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("link: %s\n", link);
    SHOW(write(fd, "sealed contents", 15));
    fstat(fd, &st);
    printf("size %lld mode %o\n", (long long)st.st_size, (unsigned)st.st_mode & 0777);
    map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("mapped: %.15s\n", map);
    SHOW(fcntl(fd, F_GET_SEALS));
    SHOW(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
    SHOW(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW));
    SHOW(ftruncate(fd, 4));
    SHOW(write(fd, "more", 4));
    SHOW(pwrite(fd, "SEAL", 4, 0));
    SHOW(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    SHOW(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    n = pread(fd, name, 15, 0);
    printf("contents: %.*s\n", (int)n, name);
    plain = memfd_create("plain", 0);
    printf("plain cloexec=%d\n", fcntl(plain, F_GETFD) & FD_CLOEXEC);
    SHOW(fcntl(plain, F_GET_SEALS));
    SHOW(fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
    memset(name, 'n', 249);
    name[249] = 0;
    SHOW(memfd_create(name, 0) >= 0);
    name[249] = 'n';
    name[250] = 0;
    SHOW(memfd_create(name, 0));
    SHOW(memfd_create("bad", 0x100));
    SHOW(memfd_create(NULL, 0));
    close(fd);
    close(plain);
}

/* fanotify, which qemu-user 7.2 does not have: FAN_REPORT_FID (allowed unprivileged), events on
 * a directory's children; the fid info record follows each event's metadata. */
static void fanotify(void)
{
    char buf[4096] __attribute__((aligned(8)));
    int fd, f;
    ssize_t n;

    printf("-- fanotify\n");
    fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
    printf("init: %d cloexec=%d\n", fd >= 0, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    mkdir("fan", 0755);
    SHOW(fanotify_mark(fd, FAN_MARK_ADD, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, "fan"));
    SHOW(fanotify_mark(fd, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, "missing"));
    SHOW(fanotify_mark(fd, 0x40000000, FAN_CLOSE_WRITE, AT_FDCWD, "fan"));
    SHOW(read(fd, buf, sizeof buf));
    f = open("fan/written", O_CREAT | O_WRONLY, 0644);
    write(f, "x", 1);
    close(f);
    n = read(fd, buf, sizeof buf);
    printf("read: %d\n", n > 0);
    for (char *p = buf; n > 0 && p < buf + n;) {
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)p;
        struct fanotify_event_info_fid *fid = (struct fanotify_event_info_fid *)(p + m->metadata_len);
        struct file_handle *h = (struct file_handle *)fid->handle;
        printf("event: len_ok=%d vers_ok=%d metadata_len=%u mask=%#llx fd=%d pid_is_me=%d\n",
               m->event_len > m->metadata_len, m->vers == FANOTIFY_METADATA_VERSION,
               m->metadata_len, (unsigned long long)m->mask, m->fd, m->pid == getpid());
        printf("  info: type=%u len_ok=%d handle_bytes_ok=%d\n", fid->hdr.info_type,
               fid->hdr.len == m->event_len - m->metadata_len,
               h->handle_bytes > 0 && h->handle_bytes < 128);
        p += m->event_len;
    }
    SHOW(fanotify_mark(fd, FAN_MARK_REMOVE, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD,
                       "fan"));
    SHOW(fanotify_init(0x80000000, O_RDONLY));
    close(fd);
}

/* qemu-user 7.2 drops unknown inotify_init1 flags (the kernel: EINVAL) and translates a
 * big-endian guest's inotify events on read() but not on readv(): checked against pyemu alone. */
static void qemu_differs(void)
{
    char buf[256] __attribute__((aligned(8)));
    struct iovec iov = {buf, sizeof buf};
    struct inotify_event *ev = (struct inotify_event *)buf;
    int fd = inotify_init1(IN_NONBLOCK), wd;

    printf("-- where qemu differs\n");
    SHOW(inotify_init1(0x10));
    mkdir("w", 0755);
    wd = inotify_add_watch(fd, "w", IN_CREATE);
    mkdir("w/sub", 0755);
    SHOW(readv(fd, &iov, 1));
    printf("  readv event %s[%s] wd=%s len=%u\n", mask_name(ev->mask), ev->name,
           ev->wd == wd ? "ok" : "other", ev->len);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) {
        qemu_differs();
        fanotify();
        return 0;
    }
    eventfds();
    inotify();
    memfds();
    return 0;
}
