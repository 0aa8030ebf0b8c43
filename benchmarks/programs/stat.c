/* N stat(2) calls on one existing file (a syscall that converts a struct).
 * usage: stat PATH [n]   (default 50000); prints n and the file's size. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 50000, i, ok = 0;
    struct stat st;

    if (argc < 2) {
        fprintf(stderr, "usage: stat PATH [n]\n");
        return 2;
    }
    for (i = 0; i < n; i++)
        ok += stat(argv[1], &st) == 0;
    printf("%ld %lld\n", ok, (long long)st.st_size);
    return 0;
}
