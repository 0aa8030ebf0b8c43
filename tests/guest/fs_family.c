/*
 * File-system family: links, nodes, modes, owners, timestamps, file space, data between
 * descriptors, old getdents.  Runs in a fresh empty cwd; prints only deterministic facts
 * (no inode numbers, no times but the ones it sets).  Old syscalls that only some ABIs have are
 * called directly under #ifdef SYS_xxx.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "show.h"

static void stat_of(const char *path, int follow)
{
    struct stat st;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    if (r < 0) {
        printf("  %s: stat failed: %s\n", path, strerror(errno));
        return;
    }
    printf("  %s: type=%o perm=%04o nlink=%ld uid=%ld gid=%ld size=%lld\n", path,
           (unsigned)(st.st_mode & S_IFMT) >> 12, (unsigned)(st.st_mode & 07777),
           (long)st.st_nlink, (long)st.st_uid, (long)st.st_gid, (long long)st.st_size);
}

static void times_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        printf("  %s: atime=%lld.%09ld mtime=%lld.%09ld\n", path, (long long)st.st_atim.tv_sec,
               st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return -1;
    write(fd, text, strlen(text));
    close(fd);
    return 0;
}

static void links(void)
{
    char buf[64];
    ssize_t n;
    int dfd;

    printf("-- links\n");
    write_file("target", "hello links\n");
    SHOW(symlink("target", "sym"));
    SHOW(symlink("target", "sym"));
    SHOW(symlink("", "empty"));
    n = readlink("sym", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("readlink sym: %zd [%s]\n", n, buf);
    mkdir("d", 0755);
    dfd = open("d", O_RDONLY | O_DIRECTORY);
    SHOW(symlinkat("../target", dfd, "up"));
    n = readlinkat(dfd, "up", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("readlinkat d/up: %zd [%s]\n", n, buf);
    SHOW(link("target", "hard"));
    SHOW(link("target", "hard"));
    SHOW(link("missing", "hard2"));
    SHOW(linkat(AT_FDCWD, "sym", dfd, "hardsym", 0));
    SHOW(linkat(AT_FDCWD, "sym", dfd, "hardfollow", AT_SYMLINK_FOLLOW));
    SHOW(linkat(AT_FDCWD, "sym", dfd, "bad", 0x12345));
    stat_of("target", 1);
    stat_of("d/hardsym", 0);
    stat_of("d/hardfollow", 0);
    stat_of("sym", 0);
#ifdef SYS_symlink
    SHOW(syscall(SYS_symlink, "target", "oldsym"));
    stat_of("oldsym", 0);
#endif
#ifdef SYS_link
    SHOW(syscall(SYS_link, "target", "oldhard"));
    stat_of("target", 1);
#endif
    close(dfd);
}

static void nodes(void)
{
    printf("-- nodes\n");
    SHOW(mknod("fifo", S_IFIFO | 0640, 0));
    SHOW(mknod("fifo", S_IFIFO | 0640, 0));
    SHOW(mknodat(AT_FDCWD, "plain", S_IFREG | 0600, 0));
    SHOW(mknodat(AT_FDCWD, "nodir/x", S_IFIFO | 0600, 0));
    SHOW(mknod("badtype", 0170000 | 0600, 0));
    stat_of("fifo", 1);
    stat_of("plain", 1);
#ifdef SYS_mknod
    SHOW(syscall(SYS_mknod, "oldfifo", S_IFIFO | 0604, 0));
    stat_of("oldfifo", 1);
#endif
}

static void modes_and_owners(void)
{
    int fd;

    printf("-- modes and owners\n");
    umask(022);
    write_file("m", "mode\n");
    fd = open("m", O_RDONLY);
    SHOW(fchmod(fd, 0604));
    stat_of("m", 1);
    SHOW(fchmodat(AT_FDCWD, "m", 04751, 0));
    stat_of("m", 1);
    SHOW(chmod("sym", 0640));
    stat_of("target", 1);
    SHOW(chmod("missing", 0640));
    SHOW(fchmod(-1, 0600));
#ifdef SYS_chmod
    SHOW(syscall(SYS_chmod, "m", 0600));
    stat_of("m", 1);
#endif
    SHOW(fchown(fd, 1234, 5678));
    stat_of("m", 1);
    SHOW(fchown(fd, -1, 42));
    stat_of("m", 1);
    SHOW(chown("sym", 11, 12));
    stat_of("target", 1);
    SHOW(lchown("sym", 21, 22));
    stat_of("sym", 0);
    stat_of("target", 1);
    SHOW(fchownat(AT_FDCWD, "sym", 31, 32, AT_SYMLINK_NOFOLLOW));
    stat_of("sym", 0);
    SHOW(fchownat(fd, "", 41, 42, AT_EMPTY_PATH));
    stat_of("m", 1);
    SHOW(fchownat(AT_FDCWD, "m", 1, 1, 0x4));
#ifdef SYS_chown32
    /* ARM: the 16-bit calls (uid16 -1 = 0xffff keeps) next to the 32-bit ones */
    SHOW(syscall(SYS_chown, "m", 0xffff, 77));
    stat_of("m", 1);
    SHOW(syscall(SYS_fchown, fd, 88, 0xffff));
    stat_of("m", 1);
    SHOW(syscall(SYS_lchown, "sym", 99, 0xffff));
    stat_of("sym", 0);
    SHOW(syscall(SYS_chown32, "m", 70000, 70001));
    stat_of("m", 1);
    SHOW(syscall(SYS_fchown32, fd, 0xffffffff, 3));
    stat_of("m", 1);
    SHOW(syscall(SYS_lchown32, "sym", 5, 6));
    stat_of("sym", 0);
#elif defined(SYS_chown)
    SHOW(syscall(SYS_chown, "m", 70000, 70001));
    stat_of("m", 1);
    SHOW(syscall(SYS_lchown, "sym", 5, 6));
    stat_of("sym", 0);
#endif
    close(fd);
}

struct oldts { long sec, nsec; };

static void timestamps(void)
{
    struct timespec ts[2];
    struct timeval tv[2];
    int fd;

    printf("-- timestamps\n");
    write_file("t", "time\n");
    ts[0].tv_sec = 1000000000; ts[0].tv_nsec = 123456789;
    ts[1].tv_sec = 1100000000; ts[1].tv_nsec = 987654321;
    SHOW(utimensat(AT_FDCWD, "t", ts, 0));
    times_of("t");
    ts[0].tv_nsec = UTIME_OMIT; ts[1].tv_sec = 1200000000; ts[1].tv_nsec = 5;
    SHOW(utimensat(AT_FDCWD, "t", ts, 0));
    times_of("t");
    ts[0].tv_nsec = 1000000000;
    SHOW(utimensat(AT_FDCWD, "t", ts, 0));
    SHOW(utimensat(AT_FDCWD, "missing", NULL, 0));
    SHOW(utimensat(AT_FDCWD, "t", NULL, 0x8000));
    ts[0].tv_sec = 1300000000; ts[0].tv_nsec = 0; ts[1].tv_sec = 1300000001; ts[1].tv_nsec = 0;
    SHOW(utimensat(AT_FDCWD, "sym", ts, AT_SYMLINK_NOFOLLOW));
    fd = open("t", O_RDONLY);
    ts[0].tv_sec = 1400000000; ts[1].tv_sec = 1400000001;
    SHOW(futimens(fd, ts));
    times_of("t");
    SHOW(syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW));
    tv[0].tv_sec = 1500000000; tv[0].tv_usec = 250000;
    tv[1].tv_sec = 1500000001; tv[1].tv_usec = 750000;
    SHOW(utimes("t", tv));
    times_of("t");
    tv[0].tv_usec = 1000000;
    SHOW(utimes("t", tv));
#ifdef SYS_utimes
    tv[0].tv_usec = 1;
    SHOW(syscall(SYS_utimes, "t", tv));
    times_of("t");
#endif
#ifdef SYS_futimesat
    tv[0].tv_sec = 1600000000;
    SHOW(syscall(SYS_futimesat, AT_FDCWD, "t", tv));
    times_of("t");
#endif
#if defined(SYS_utimensat_time64) && defined(SYS_utimes)
    {   /* 32-bit ABIs: the old utimensat takes two-long timespecs */
        struct oldts old[2] = {{1700000000, 7}, {1700000001, 8}};
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "t", old, 0));
        times_of("t");
    }
#endif
#if defined(SYS_utimensat_time64)
    {   /* __kernel_timespec on a 32-bit ABI: the upper half of tv_nsec is padding */
        long long t64[4] = {1750000000, 0x7eadbeef00000009LL, 1750000001,
                            (long long)0xffffffff00000010ULL};
        SHOW(syscall(SYS_utimensat_time64, AT_FDCWD, "t", t64, 0));
        times_of("t");
    }
#endif
#ifdef SYS_utime
    {
        long buf[2] = {1800000000, 1800000002};
        SHOW(syscall(SYS_utime, "t", buf));
        times_of("t");
    }
#endif
    close(fd);
}

static void file_space(void)
{
    struct stat st;
    int fd;

    printf("-- file space\n");
    fd = open("space", O_CREAT | O_RDWR, 0644);
    SHOW(fallocate(fd, 0, 0, 10000));
    fstat(fd, &st);
    printf("  size after fallocate: %lld\n", (long long)st.st_size);
    SHOW(fallocate(fd, FALLOC_FL_KEEP_SIZE, 10000, 5000));
    fstat(fd, &st);
    printf("  size after KEEP_SIZE: %lld\n", (long long)st.st_size);
    SHOW(fallocate(fd, 0, -1, 10));
    SHOW(fallocate(fd, 0, 0, 0));
    SHOW(posix_fadvise(fd, 0, 100, POSIX_FADV_SEQUENTIAL));
    SHOW(posix_fadvise(fd, 0, 100, POSIX_FADV_DONTNEED));
    printf("posix_fadvise bad advice: %d\n", posix_fadvise(fd, 0, 100, 99));
    printf("posix_fadvise bad fd: %d\n", posix_fadvise(-1, 0, 100, POSIX_FADV_NORMAL));
    SHOW(readahead(fd, 0, 4096));
    sync();
    printf("sync done\n");
    SHOW(syncfs(fd));
    SHOW(syncfs(-1));
    SHOW(sync_file_range(fd, 0, 100, SYNC_FILE_RANGE_WRITE));
    SHOW(sync_file_range(fd, 0, 100, 0x80));
    SHOW(fsync(fd));
    close(fd);
}

static void data_between_fds(void)
{
    char buf[128];
    int src, dst, p[2], q[2];
    off_t off;
    loff_t lo_in, lo_out;
    ssize_t n;
    struct iovec iov[2];
    char a[5], b[7];

    printf("-- data between descriptors\n");
    write_file("src", "0123456789abcdefghijklmnopqrstuvwxyz");
    src = open("src", O_RDONLY);
    dst = open("dst", O_CREAT | O_RDWR | O_TRUNC, 0644);
    off = 10;
    SHOW(sendfile(dst, src, &off, 5));
    printf("  offset now %lld, src position %lld\n", (long long)off,
           (long long)lseek(src, 0, SEEK_CUR));
    SHOW(sendfile(dst, src, NULL, 4));
    printf("  src position %lld\n", (long long)lseek(src, 0, SEEK_CUR));
    SHOW(sendfile(dst, -1, NULL, 4));
#ifdef SYS_sendfile64
    {
        long long off64 = 20;
        SHOW(syscall(SYS_sendfile64, dst, src, &off64, 3));
        printf("  offset64 now %lld\n", off64);
    }
#endif
#if defined(SYS_sendfile) && defined(SYS_sendfile64)
    {
        long offw = 30;
        SHOW(syscall(SYS_sendfile, dst, src, &offw, 2));
        printf("  word offset now %ld\n", offw);
    }
#endif
    lo_in = 2; lo_out = 100;
    SHOW(copy_file_range(src, &lo_in, dst, &lo_out, 6, 0));
    printf("  offsets now %lld %lld\n", (long long)lo_in, (long long)lo_out);
    SHOW(copy_file_range(src, &lo_in, dst, &lo_out, 6, 1));
    n = pread(dst, buf, sizeof buf, 0);
    printf("  dst has %zd bytes:", n);
    for (ssize_t i = 0; i < n; i++)
        putchar(buf[i] ? buf[i] : '.');
    putchar('\n');

    pipe(p);
    pipe(q);
    lo_in = 26;
    SHOW(splice(src, &lo_in, p[1], NULL, 8, 0));
    printf("  splice offset now %lld\n", (long long)lo_in);
    SHOW(tee(p[0], q[1], 100, 0));
    n = read(q[0], buf, sizeof buf);
    printf("  tee copy: %.*s\n", (int)n, buf);
    lo_out = 0;
    SHOW(splice(p[0], NULL, dst, &lo_out, 100, 0));
    n = pread(dst, buf, 8, 0);
    printf("  dst starts: %.*s\n", (int)n, buf);
    SHOW(splice(src, NULL, dst, NULL, 4, 0));
    SHOW(tee(src, q[1], 4, 0));
    iov[0].iov_base = "vmspl"; iov[0].iov_len = 5;
    iov[1].iov_base = "iced!"; iov[1].iov_len = 5;
    SHOW(vmsplice(p[1], iov, 2, 0));
    n = read(p[0], buf, sizeof buf);
    printf("  vmsplice gave: %.*s\n", (int)n, buf);

    iov[0].iov_base = a; iov[0].iov_len = sizeof a;
    iov[1].iov_base = b; iov[1].iov_len = sizeof b;
    SHOW(preadv(src, iov, 2, 3));
    printf("  preadv: %.5s|%.7s\n", a, b);
    SHOW(preadv(src, iov, 2, -1));
    lseek(src, 20, SEEK_SET);
    SHOW(preadv2(src, iov, 2, -1, 0));
    printf("  preadv2 at file position: %.5s|%.7s, position %lld\n", a, b,
           (long long)lseek(src, 0, SEEK_CUR));
    iov[0].iov_base = "WRITE"; iov[0].iov_len = 5;
    iov[1].iov_base = "VECTOR!"; iov[1].iov_len = 7;
    SHOW(pwritev(dst, iov, 2, 200));
    SHOW(pwritev(dst, iov, 2, -5));
    n = pread(dst, buf, 16, 0);
    printf("  dst now starts: %.*s\n", (int)n, buf);
    n = pread(dst, buf, 16, 200);
    printf("  dst at 200: %.*s\n", (int)n, buf);
    close(src);
    close(dst);
    close(p[0]); close(p[1]); close(q[0]); close(q[1]);
}

static void old_getdents(void)
{
#ifdef SYS_getdents
    char buf[4096], *names[64];
    int fd, count = 0;
    long n;

    printf("-- old getdents\n");
    mkdir("dir", 0755);
    write_file("dir/file_a", "a");
    write_file("dir/file_bb", "b");
    mkdir("dir/sub", 0755);
    symlink("file_a", "dir/link");
    fd = open("dir", O_RDONLY | O_DIRECTORY);
    while ((n = syscall(SYS_getdents, fd, buf, sizeof buf)) > 0) {
        for (long pos = 0; pos < n;) {
            unsigned short reclen = *(unsigned short *)(buf + pos + 2 * sizeof(long));
            char *name = buf + pos + 2 * sizeof(long) + 2;
            char type = buf[pos + reclen - 1];
            char *line = malloc(300);
            snprintf(line, 300, "%s type=%d reclen_ok=%d", name, type,
                     reclen % sizeof(long) == 0 && reclen >= strlen(name) + 2 * sizeof(long) + 4);
            names[count++] = line;
            pos += reclen;
        }
    }
    printf("getdents end: %ld\n", n);
    for (int i = 0; i < count; i++)     /* directory order is the file system's: sort */
        for (int j = i + 1; j < count; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i]; names[i] = names[j]; names[j] = t;
            }
    for (int i = 0; i < count; i++)
        printf("  %s\n", names[i]);
    SHOW(syscall(SYS_getdents, fd, buf, 4));
    lseek(fd, 0, SEEK_SET);
    SHOW(syscall(SYS_getdents, fd, buf, 4));
    SHOW(syscall(SYS_getdents, -1, buf, sizeof buf));
    close(fd);
#endif
}

/* qemu-user 7.2 has no preadv2/pwritev2 (glibc then falls back to preadv/pwritev when the flags
 * are 0 and says EOPNOTSUPP otherwise): the flag cases are checked against pyemu alone. */
static void rwf_flags(void)
{
    char buf[32] = {0};
    struct iovec iov[1] = {{buf, 6}};
    int fd = open("rwf", O_CREAT | O_RDWR | O_TRUNC, 0644);

    printf("-- preadv2/pwritev2 flags\n");
    iov[0].iov_base = "dsync!";
    SHOW(pwritev2(fd, iov, 1, 0, RWF_DSYNC));
    iov[0].iov_base = "append";
    SHOW(pwritev2(fd, iov, 1, 0, RWF_APPEND));
    iov[0].iov_base = "synced";
    SHOW(pwritev2(fd, iov, 1, -1, RWF_SYNC));
    iov[0].iov_base = buf;
    iov[0].iov_len = sizeof buf - 1;
    SHOW(preadv2(fd, iov, 1, 0, RWF_NOWAIT));
    printf("  file: %s\n", buf);
    SHOW(preadv2(fd, iov, 1, 0, 0x10000));
    SHOW(pwritev2(fd, iov, 1, 0, 0x10000));
    close(fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "rwf") == 0) {
        rwf_flags();
        return 0;
    }
    links();
    nodes();
    modes_and_owners();
    timestamps();
    file_space();
    data_between_fds();
    old_getdents();
    return 0;
}
