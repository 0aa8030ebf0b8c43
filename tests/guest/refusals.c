/*
 * Calls pyemu refuses as the kernel does for an unprivileged user (EPERM after the kernel's
 * earlier checks), and calls where qemu-user 7.2 answers differently from the kernel
 * (ARM_cacheflush/MIPS cacheflush checks, MIPS readdir, adjtimex adjustments, openat2).  Never run under
 * qemu: as root it would reboot, mount or set the clock for real.  Each line says what was
 * expected and what came back; the test wants every line to end in "ok".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static int checked;

static void expect(const char *what, long r, int want_errno)
{
    int got = r < 0 ? errno : 0;
    checked++;
    printf("%s: %ld %s (errno %d) %s\n", what, r, r < 0 ? strerror(errno) : "", got,
           got == want_errno ? "ok" : "UNEXPECTED");
}

#define EXPECT(call, want) (errno = 0, expect(#call, (long)(call), want))

int main(void)
{
    struct timespec ts = {1, 0};
    struct timeval tv = {1, 0};
    struct timex tx;

    setvbuf(stdout, NULL, _IOLBF, 0);
    mkdir("dir", 0755);
    close(open("file", O_CREAT | O_WRONLY, 0644));

    EXPECT(syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL), EPERM);
    EXPECT(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
#ifdef SYS_kexec_file_load
    EXPECT(syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0), EPERM);
#endif
    EXPECT(syscall(SYS_init_module, NULL, 0, ""), EPERM);
    EXPECT(syscall(SYS_finit_module, 0, "", 0), EPERM);
    EXPECT(syscall(SYS_delete_module, "nothing", 0), EPERM);
    EXPECT(syscall(SYS_mount, "none", "dir", "tmpfs", 0, NULL), EPERM);
    EXPECT(syscall(SYS_mount, "none", (char *)8, "tmpfs", 0, NULL), EFAULT);
    EXPECT(syscall(SYS_umount2, "dir", 0), EPERM);
    EXPECT(syscall(SYS_umount2, "missing", 0), ENOENT);
#ifdef SYS_umount
    EXPECT(syscall(SYS_umount, "dir"), EPERM);
#endif
    EXPECT(syscall(SYS_pivot_root, "dir", "dir"), EPERM);
    EXPECT(syscall(SYS_swapon, "file", 0), EPERM);
    EXPECT(syscall(SYS_swapoff, "file"), EPERM);
    EXPECT(syscall(SYS_acct, "file"), EPERM);
    EXPECT(syscall(SYS_chroot, "dir"), EPERM);
    EXPECT(syscall(SYS_chroot, "missing"), ENOENT);
    EXPECT(syscall(SYS_chroot, "file"), ENOTDIR);
    EXPECT(syscall(SYS_vhangup), EPERM);
    EXPECT(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0), EPERM);
    EXPECT(syscall(SYS_sethostname, "guest", 5), EPERM);
    EXPECT(syscall(SYS_setdomainname, "guest", 5), EPERM);
    EXPECT(syscall(SYS_fsopen, "tmpfs", 0), EPERM);
    EXPECT(syscall(SYS_move_mount, AT_FDCWD, "dir", AT_FDCWD, "dir", 0), EPERM);
    EXPECT(syscall(SYS_bpf, 0, NULL, 0), EPERM);
    EXPECT(syscall(SYS_syslog, 10, NULL, 0), EPERM);
    EXPECT(clock_settime(CLOCK_REALTIME, &ts), EPERM);
    EXPECT(clock_settime(CLOCK_MONOTONIC, &ts), EINVAL);
    ts.tv_nsec = -1;
    EXPECT(clock_settime(CLOCK_REALTIME, &ts), EINVAL);
    EXPECT(syscall(SYS_settimeofday, &tv, NULL), EPERM);
    tv.tv_usec = 1000000;
    EXPECT(syscall(SYS_settimeofday, &tv, NULL), EINVAL);
#ifdef SYS_stime
    {
        long t = 1;
        EXPECT(syscall(SYS_stime, &t), EPERM);
    }
#endif
#ifdef SYS_clock_settime64
    {
        long long t64[2] = {1, 0};
        EXPECT(syscall(SYS_clock_settime64, CLOCK_REALTIME, t64), EPERM);
    }
#endif
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_OFFSET;
    EXPECT(adjtimex(&tx), EPERM);
    tx.modes = ADJ_OFFSET_SINGLESHOT;
    EXPECT(adjtimex(&tx), EPERM);
    tx.modes = ADJ_OFFSET_SS_READ;
    EXPECT(adjtimex(&tx) < 0 ? -1 : 0, 0);

#ifdef __arm__
    {
        static char code[64];
        EXPECT(syscall(0xf0002, code, code + 64, 0), 0);
        EXPECT(syscall(0xf0002, code + 64, code, 0), EINVAL);
        EXPECT(syscall(0xf0002, code, code + 64, 1), EINVAL);
        EXPECT(syscall(0xf0002, 0x1000, 0x2000, 0), EFAULT);
    }
#endif
#ifdef SYS_cacheflush
    {
        static char code[64];
        EXPECT(syscall(SYS_cacheflush, code, 64, 3), 0);
        EXPECT(syscall(SYS_cacheflush, 0x7ffffff0, 0x100, 3), EFAULT);
    }
#endif
#ifdef SYS_readdir
    {
        struct { unsigned long ino, off; unsigned short len; char name[256]; } d;
        int fd = open("dir", O_RDONLY | O_DIRECTORY), seen = 0;
        long r;
        close(open("dir/entry", O_CREAT | O_WRONLY, 0644));
        while ((r = syscall(SYS_readdir, fd, &d, 1)) == 1)
            seen += (d.len == strlen(d.name)) + 10 * (strcmp(d.name, "entry") == 0);
        EXPECT(r, 0);
        EXPECT(seen == 13 ? 0 : -1, 0);
        EXPECT(syscall(SYS_readdir, -1, &d, 1), EBADF);
        close(fd);
    }
#endif
    {   /* openat2: qemu 7.2 has none */
        struct open_how how = {O_RDONLY, 0, 0};
        struct { struct open_how h; uint64_t more; } big = {{O_RDONLY, 0, 0}, 0};
        long fd;
        symlink("file", "link");
        fd = syscall(SYS_openat2, AT_FDCWD, "file", &how, sizeof how);
        EXPECT(fd >= 0 ? 0 : -1, 0);
        close(fd);
        fd = syscall(SYS_openat2, AT_FDCWD, "/proc/self/cmdline", &how, sizeof how);
        EXPECT(fd >= 0 ? 0 : -1, 0);
        close(fd);
        how.resolve = RESOLVE_NO_SYMLINKS;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "link", &how, sizeof how), ELOOP);
        how.resolve = RESOLVE_BENEATH;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "../file", &how, sizeof how), EXDEV);
        fd = syscall(SYS_openat2, AT_FDCWD, "dir/../file", &how, sizeof how);
        EXPECT(fd >= 0 ? 0 : -1, 0);
        close(fd);
        how.resolve = 0x10000;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "file", &how, sizeof how), EINVAL);
        how.resolve = 0;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "file", &how, 16), EINVAL);
        fd = syscall(SYS_openat2, AT_FDCWD, "file", &big, sizeof big);
        EXPECT(fd >= 0 ? 0 : -1, 0);
        close(fd);
        big.more = 1;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "file", &big, sizeof big), E2BIG);
        how.mode = 0600;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "file", &how, sizeof how), EINVAL);
        how.mode = 0;
        how.flags = (uint64_t)1 << 40;
        EXPECT(syscall(SYS_openat2, AT_FDCWD, "file", &how, sizeof how), EINVAL);
        how.flags = O_CREAT | O_EXCL | O_WRONLY;
        how.mode = 0640;
        how.resolve = RESOLVE_IN_ROOT;
        fd = syscall(SYS_openat2, AT_FDCWD, "/created", &how, sizeof how);
        EXPECT(fd >= 0 ? 0 : -1, 0);
        close(fd);
        EXPECT(access("created", F_OK), 0);
    }
    printf("checked %d\n", checked);
    return 0;
}
