/* Spins until gdb interrupts it (tests/test_gdbstub.py): without a syscall in the loop, or,
   with an argument, with one per iteration. */
#include <unistd.h>

volatile unsigned long spins;

void spin(int with_syscalls)
{
    for (;;) {
        spins++;
        if (with_syscalls)
            getppid();
    }
}

int main(int argc, char **argv)
{
    spin(argc > 1);
    return 0;
}
