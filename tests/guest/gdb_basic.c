/* The gdb stub's main test program (tests/test_gdbstub.py): a breakpoint on main, a local
   variable, a call to step over, output after main's first lines and an exit status
   (22 without arguments). */
#include <stdio.h>

int square(int x)
{
    return x * x;
}

int main(int argc, char **argv)
{
    int local = 21 + argc;
    int result = square(local);
    printf("result=%d\n", result);
    return local;
}
