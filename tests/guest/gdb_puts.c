/* A dynamically linked program calling libc's puts (tests/test_gdbstub.py): exit status 41. */
#include <stdio.h>

int main(int argc, char **argv)
{
    int local = 40 + argc;
    puts("hello from a dynamic program");
    return local;
}
