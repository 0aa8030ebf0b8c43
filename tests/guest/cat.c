/* Print the files named on the command line (or "missing: NAME"): shows which file a guest
   path reaches, e.g. under a sysroot prefix. */
#include <stdio.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        int c;

        if (f == NULL) {
            printf("missing: %s\n", argv[i]);
            continue;
        }
        while ((c = fgetc(f)) != EOF)
            putchar(c);
        fclose(f);
    }
    return 0;
}
