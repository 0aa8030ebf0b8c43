/* Echo stdin upper-cased with line numbers; also exercise printf/puts. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[1024];
    int lineno = 0;
    long total = 0;

    printf("int=%d neg=%d hex=%x HEX=%#X oct=%o str=%s char=%c pct=%%\n", 12345, -678,
           0xbeef, 0xcafe, 0755, "text", 'Z');
    printf("width=[%8d] left=[%-8d] zero=[%08d] prec=[%.3s] ll=%lld ull=%llu\n", 42, 42, 42,
           "abcdef", -9000000000LL, 18000000000000000000ULL);
    puts("puts line");

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strlen(line);
        int had_newline = len > 0 && line[len - 1] == '\n';

        if (had_newline)
            line[--len] = '\0';
        for (size_t i = 0; i < len; i++)
            line[i] = (char)toupper((unsigned char)line[i]);
        lineno++;
        total += (long)len;
        printf("%3d: %s%s\n", lineno, line, had_newline ? "" : " [no newline]");
    }
    printf("lines=%d chars=%ld eof=%d\n", lineno, total, feof(stdin) != 0);
    fprintf(stderr, "stderr: done\n");
    return 0;
}
