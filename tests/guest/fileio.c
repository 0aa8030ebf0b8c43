/*
 * File-system calls, all relative to the current directory (the test runs
 * this in a fresh empty directory).  Prints only deterministic facts.
 *
 * _FILE_OFFSET_BITS=64: under a user-mode emulator on a 64-bit host, ext4
 * hands the (64-bit) emulator process 64-bit directory offsets, and a 32-bit
 * guest's plain readdir() then fails with EOVERFLOW (seen with qemu-arm/mips).
 */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CHECK(expr)                                                           \
    do {                                                                      \
        if (!(expr)) {                                                        \
            printf("FAILED: %s (line %d): %s\n", #expr, __LINE__,             \
                   strerror(errno));                                          \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void)
{
    unsigned char buf[8192], back[8192];
    struct stat st;
    char cwd[4096];
    int fd;
    ssize_t n;
    off_t off;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)((i * 7 + 3) & 0xff);

    /* create, write, close */
    fd = open("data.bin", O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    n = write(fd, buf, 5000);
    printf("write returned %zd\n", n);
    CHECK(close(fd) == 0);

    /* O_EXCL on an existing file */
    fd = open("data.bin", O_CREAT | O_EXCL | O_WRONLY, 0644);
    printf("O_EXCL again: %d %s (errno %d)\n", fd, strerror(errno), errno);

    /* stat */
    CHECK(stat("data.bin", &st) == 0);
    printf("stat size=%lld regular=%d mode=%o\n", (long long)st.st_size,
           S_ISREG(st.st_mode), (unsigned)(st.st_mode & 0777) & ~0022u);

    /* read back */
    fd = open("data.bin", O_RDWR);
    CHECK(fd >= 0);
    memset(back, 0, sizeof(back));
    n = read(fd, back, sizeof(back));
    printf("read returned %zd, match=%d\n", n, memcmp(buf, back, 5000) == 0);
    n = read(fd, back, sizeof(back));
    printf("read at EOF returned %zd\n", n);

    /* lseek */
    off = lseek(fd, 1000, SEEK_SET);
    printf("lseek SEEK_SET -> %lld\n", (long long)off);
    n = read(fd, back, 10);
    printf("read 10 at 1000: %zd match=%d\n", n, memcmp(buf + 1000, back, 10) == 0);
    off = lseek(fd, -20, SEEK_END);
    printf("lseek SEEK_END-20 -> %lld\n", (long long)off);
    off = lseek(fd, 5, SEEK_CUR);
    printf("lseek SEEK_CUR+5 -> %lld\n", (long long)off);
    off = lseek(fd, -1, SEEK_SET);
    printf("lseek to -1 -> %lld %s\n", (long long)off, off < 0 ? strerror(errno) : "");

    /* write past EOF leaves a hole, then ftruncate */
    off = lseek(fd, 6000, SEEK_SET);
    n = write(fd, "END", 3);
    printf("write at 6000 -> %zd\n", n);
    CHECK(fstat(fd, &st) == 0);
    printf("fstat size=%lld\n", (long long)st.st_size);
    CHECK(pread(fd, back, 4, 5500) == 4);
    printf("hole bytes: %d %d %d %d\n", back[0], back[1], back[2], back[3]);
    CHECK(ftruncate(fd, 1234) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("after ftruncate fstat size=%lld\n", (long long)st.st_size);
    CHECK(close(fd) == 0);

    /* rename */
    CHECK(rename("data.bin", "renamed.bin") == 0);
    printf("stat old name: %d\n", stat("data.bin", &st));
    CHECK(stat("renamed.bin", &st) == 0);
    printf("stat new name size=%lld\n", (long long)st.st_size);

    /* directories */
    CHECK(mkdir("sub", 0755) == 0);
    printf("mkdir again: %d %s\n", mkdir("sub", 0755), strerror(errno));
    {
        static const char *names[] = {"zeta", "alpha", "mid.txt", "Beta", "_under"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            char path[64];
            snprintf(path, sizeof(path), "sub/%s", names[i]);
            fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
            CHECK(fd >= 0);
            CHECK(write(fd, names[i], strlen(names[i])) == (ssize_t)strlen(names[i]));
            CHECK(close(fd) == 0);
        }
        CHECK(mkdir("sub/nested", 0755) == 0);
    }
    {
        char *entries[64];
        int count = 0;
        DIR *d = opendir("sub");
        struct dirent *de;

        CHECK(d != NULL);
        errno = 0;
        while ((de = readdir(d)) != NULL && count < 64)
            entries[count++] = strdup(de->d_name);
        if (errno != 0)
            printf("readdir failed: %s\n", strerror(errno));
        closedir(d);
        qsort(entries, count, sizeof(entries[0]), cmp);
        printf("readdir sub: %d entries\n", count);
        for (int i = 0; i < count; i++) {
            char path[300];
            snprintf(path, sizeof(path), "sub/%s", entries[i]);
            CHECK(lstat(path, &st) == 0);
            printf("  %s %s %lld\n", entries[i], S_ISDIR(st.st_mode) ? "dir" : "file",
                   S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
            free(entries[i]);
        }
    }
    printf("rmdir non-empty: %d %s\n", rmdir("sub"), strerror(errno));

    /* unlink */
    CHECK(unlink("renamed.bin") == 0);
    printf("unlink again: %d %s\n", unlink("renamed.bin"), strerror(errno));

    /* getcwd works (the path itself differs between runs and is not printed) */
    printf("getcwd ok=%d absolute=%d\n", getcwd(cwd, sizeof(cwd)) != NULL, cwd[0] == '/');

    /* missing file */
    errno = 0;
    fd = open("no/such/file", O_RDONLY);
    printf("open missing: fd=%d errno=%d %s\n", fd, errno, strerror(errno));
    errno = 0;
    fd = open("sub", O_WRONLY);
    printf("open dir for writing: fd=%d errno=%d %s\n", fd, errno, strerror(errno));
    return 0;
}
