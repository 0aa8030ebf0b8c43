/*
 * Memory calls beyond mmap: mincore, msync, mlock/mlock2/munlock, mlockall/munlockall, and
 * MAP_SHARED: a file's pages shared with the file (both ways), anonymous ones with a child.
 * Residency is printed only for anonymous pages the program touched (or locked) itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void residency(const char *when, char *base, long page, int pages)
{
    unsigned char vec[16];
    memset(vec, 0xee, sizeof vec);
    if (mincore(base, pages * page, vec) < 0) {
        printf("%s: mincore: %s\n", when, strerror(errno));
        return;
    }
    printf("%s:", when);
    for (int i = 0; i < pages; i++)
        printf(" %d", vec[i] & 1);
    printf("\n");
}

/* Where qemu-user 7.2 differs from the kernel: a 32-bit guest's unmapped pages stay mapped in
 * qemu's reserved host range, so msync/mlock/munlock there succeed instead of ENOMEM; and qemu
 * has no mlock2 (glibc then says EINVAL for any flag). Checked against pyemu alone. */
static void unmapped_and_mlock2(char *base, long page)
{
    munmap(base + 6 * page, 2 * page);
    printf("-- unmapped ranges, mlock2 flags\n");
    SHOW(msync(base + 5 * page, 2 * page, MS_SYNC));
    SHOW(mlock(base + 5 * page, 2 * page));
    SHOW(munlock(base + 5 * page, 2 * page));
    SHOW(mlock2(base + 6 * page, page, 0));
    SHOW(mlock2(base + 5 * page, page, MLOCK_ONFAULT));
    residency("mlock2 ONFAULT 5", base, page, 6);
    base[5 * page] = 1;
    residency("touched 5", base, page, 6);
    SHOW(munlock(base, 6 * page));
}

static void shared(long page)
{
    printf("-- MAP_SHARED\n");
    char name[] = "shared-XXXXXX";
    int fd = mkstemp(name);
    unlink(name);
    char text[64];
    memset(text, '.', sizeof text);
    write(fd, text, sizeof text);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mapped: %d\n", m != MAP_FAILED);
    memcpy(m + 4, "through the map", 15);
    SHOW(msync(m, page, MS_SYNC));
    char back[32] = {0};
    SHOW(pread(fd, back, 19, 0));
    printf("file has '%s'\n", back);
    SHOW(pwrite(fd, "FILE", 4, 40));
    printf("map has '%.4s'\n", m + 40);
    munmap(m, 2 * page);
    int ro = open("/proc/self/exe", O_RDONLY);
    SHOW(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED ? -1 : 0);
    char *r = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
    printf("read-only shared map of the program: %.4s\n", r == MAP_FAILED ? "fail" : r + 1);
    close(ro);
    close(fd);

    int *counter = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *counter = 1;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        *counter += 41;
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("anonymous shared after the child: %d\n", *counter);
    int *private = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *private = 1;
    fflush(stdout);
    child = fork();
    if (child == 0) {
        *private += 41;
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("anonymous private after the child: %d\n", *private);
}

int main(int argc, char **argv)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char vec[4];
    char *base = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) {
        unmapped_and_mlock2(base, page);
        return 0;
    }
    printf("-- mincore\n");
    base[0] = 1;
    base[2 * page + 5] = 1;
    residency("touched 0 and 2", base, page, 4);
    SHOW(mincore(base + 1, page, vec));
    SHOW(mincore(base, 0, vec));
    munmap(base + 6 * page, 2 * page);
    SHOW(mincore(base + 5 * page, 2 * page, vec));
    SHOW(mincore(base, page, (unsigned char *)8));

    printf("-- msync\n");
    SHOW(msync(base, page, MS_SYNC));
    SHOW(msync(base, 3 * page, MS_ASYNC | MS_INVALIDATE));
    SHOW(msync(base, page, MS_SYNC | MS_ASYNC));
    SHOW(msync(base, page, 0x40));
    SHOW(msync(base + 1, page, MS_SYNC));
    SHOW(msync(base, 0, MS_SYNC));

    printf("-- mlock\n");
    SHOW(mlock(base + page, page));
    residency("locked 1", base, page, 4);
    SHOW(munlock(base + page, page));
    SHOW(mlock(base + 3 * page + 100, 10));
    residency("locked 3 (unaligned)", base, page, 4);
    SHOW(munlock(base, 4 * page));
    SHOW(mlock(base, 0));
    SHOW(mlock2(base + 4 * page, page, 0));
    residency("mlock2 4", base, page, 6);
    SHOW(mlock2(base, page, 2));
    SHOW(munlock(base, 6 * page));

    printf("-- mlockall\n");
    SHOW(mlockall(0));
    SHOW(mlockall(MCL_ONFAULT));
    SHOW(mlockall(0x100));
    SHOW(mlockall(MCL_CURRENT));
    SHOW(munlockall());
    SHOW(mlockall(MCL_CURRENT | MCL_ONFAULT));
    SHOW(munlockall());
    shared(page);
    return 0;
}
