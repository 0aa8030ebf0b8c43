/* qsort(3) of N pseudo-random ints from an own LCG.
 * usage: qsort [n]   (default 2000000); prints n, whether sorted, and a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000, i;
    int *a = malloc((size_t)n * sizeof *a);
    uint32_t x = 2463534242u, sum = 0;
    int sorted = 1;

    if (!a) {
        perror("malloc");
        return 1;
    }
    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (int)(x >> 1);
    }
    qsort(a, (size_t)n, sizeof *a, cmp_int);
    for (i = 0; i < n; i++) {
        if (i && a[i - 1] > a[i])
            sorted = 0;
        sum = sum * 31u + (uint32_t)a[i];
    }
    printf("%ld %s %08x\n", n, sorted ? "sorted" : "UNSORTED", sum);
    return 0;
}
