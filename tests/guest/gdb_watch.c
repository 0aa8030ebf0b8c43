/* A watched global and a fault (tests/test_gdbstub.py): counter changes 2, 4, 6, then main
   stores through a null pointer (SIGSEGV). */
#include <stdio.h>

int counter;

int bump(int n)
{
    for (int i = 0; i < n; i++)
        counter += 2;
    return counter;
}

int main(void)
{
    int r = bump(3);
    int *volatile p = 0;
    printf("counter=%d\n", r);
    fflush(stdout);
    *p = r;
    return 0;
}
