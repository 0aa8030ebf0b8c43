/* A double returned in floating-point registers (tests/test_gdbstub.py: gdb's `finish`
   reads it from d0, v0 or f0/f1): prints 3.75, exit status 3. */
#include <stdio.h>

double scale(double x)
{
    return x * 3.0;
}

int main(void)
{
    double r = scale(1.25);
    printf("%g\n", r);
    return (int)r;
}
