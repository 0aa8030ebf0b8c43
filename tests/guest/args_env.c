/* Print argc, every argv entry, and the PYEMU_T_* environment entries (sorted). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    const char *found[256];
    int n = 0;

    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    if (argv[argc] != NULL)
        printf("argv[argc] is not NULL\n");

    for (char **e = environ; *e != NULL && n < 256; e++)
        if (strncmp(*e, "PYEMU_T_", 8) == 0)
            found[n++] = *e;
    qsort(found, n, sizeof(found[0]), cmp);
    printf("env count=%d\n", n);
    for (int i = 0; i < n; i++)
        printf("env[%s]\n", found[i]);
    printf("getenv(PYEMU_T_A)=%s\n", getenv("PYEMU_T_A") ? getenv("PYEMU_T_A") : "(null)");
    return 0;
}
