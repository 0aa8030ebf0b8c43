/* Sieve of Eratosthenes (one byte per number).
 * usage: sieve [limit]   (default 50000000); prints the number of primes <= limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50000000, i, j, count = 0;
    unsigned char *composite = malloc((size_t)n + 1);

    if (!composite) {
        perror("malloc");
        return 1;
    }
    memset(composite, 0, (size_t)n + 1);
    for (i = 2; i * i <= n; i++)
        if (!composite[i])
            for (j = i * i; j <= n; j += i)
                composite[j] = 1;
    for (i = 2; i <= n; i++)
        count += !composite[i];
    printf("%ld\n", count);
    return 0;
}
