/* Print a line, flush it, then store through a NULL pointer (SIGSEGV). */
#include <stdio.h>

int main(void)
{
    volatile int *volatile p = 0;

    printf("about to write through NULL\n");
    fflush(stdout);
    *p = 42;
    printf("still alive?\n");
    return 0;
}
