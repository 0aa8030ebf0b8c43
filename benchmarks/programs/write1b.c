/* N one-byte write(2) calls to /dev/null: the cost of one trip through the syscall layer.
 * usage: write1b [n]   (default 200000); prints how many bytes were written. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000, i, total = 0;
    int fd = open("/dev/null", O_WRONLY);
    char c = 'x';

    if (fd < 0) {
        perror("/dev/null");
        return 1;
    }
    for (i = 0; i < n; i++)
        total += write(fd, &c, 1);
    close(fd);
    printf("%ld\n", total);
    return 0;
}
