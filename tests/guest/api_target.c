/* A small program for the Python API's tests: its pid as it sees it, a counter it stores to
 * memory in a loop (a memory hook sees the stores), and a named function to stop at. */
#include <stdio.h>
#include <unistd.h>

volatile unsigned counter;

__attribute__((noinline)) unsigned bump(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        counter++;
    return counter;
}

int main(void)
{
    printf("pid %d\n", (int)getpid());
    printf("counter %u\n", bump(10));
    return 7;
}
