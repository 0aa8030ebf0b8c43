/* Never ends by itself: a counting loop (argument "fork": after starting a child that loops
 * too). For the run limits: --timeout and --max-insns. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    volatile unsigned long n = 0;
    if (argc > 1 && strcmp(argv[1], "fork") == 0 && fork() == 0)
        for (;;)
            n++;
    printf("looping\n");
    fflush(stdout);
    for (;;)
        n++;
}
