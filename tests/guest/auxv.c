/* Print facts from the auxiliary vector that do not depend on addresses. */
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
    unsigned long pagesz = getauxval(AT_PAGESZ);
    unsigned long rnd = getauxval(AT_RANDOM);
    unsigned long phnum = getauxval(AT_PHNUM);
    unsigned long phent = getauxval(AT_PHENT);
    unsigned long secure = getauxval(AT_SECURE);
    unsigned long uid = getauxval(AT_UID);
    unsigned long euid = getauxval(AT_EUID);
    unsigned long gid = getauxval(AT_GID);
    unsigned long egid = getauxval(AT_EGID);

    printf("AT_PAGESZ=%lu\n", pagesz);
    printf("sysconf(_SC_PAGESIZE)=%ld\n", sysconf(_SC_PAGESIZE));
    printf("AT_RANDOM non-null=%d\n", rnd != 0);
    printf("AT_PHNUM>0=%d\n", phnum > 0);
    printf("AT_PHENT=%lu\n", phent);
    printf("AT_SECURE=%lu\n", secure);
    printf("AT_UID==getuid()=%d\n", uid == (unsigned long)getuid());
    printf("AT_EUID==geteuid()=%d\n", euid == (unsigned long)geteuid());
    printf("AT_GID==getgid()=%d\n", gid == (unsigned long)getgid());
    printf("AT_EGID==getegid()=%d\n", egid == (unsigned long)getegid());
    return 0;
}
