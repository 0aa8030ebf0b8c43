/*
 * Call a system call that an emulator is unlikely to implement, twice.
 * add_key(2) exists in the syscall tables of arm, aarch64 and mips o32;
 * qemu-user does not implement it and answers ENOSYS.  The arguments are
 * invalid on purpose (NULL type), so even a pass-through would do no harm.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void try_once(void)
{
    long r;

    errno = 0;
    r = syscall(SYS_add_key, (char *)0, (char *)0, (void *)0, (size_t)0, 0);
    if (r != -1)
        printf("unexpected success: %ld\n", r);
    else
        printf("%s\n", errno == ENOSYS ? "ENOSYS" : strerror(errno));
}

int main(void)
{
    try_once();
    try_once();
    return 0;
}
