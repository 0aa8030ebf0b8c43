/* Unit test of calc.c. With --wrong it also checks a wrong expectation, so it fails: the
   build-system tests use that to show a failing test is reported as failing. */
#include <stdio.h>
#include <string.h>

#include "calc.h"

static int failures;

#define CHECK(expr)                                                         \
    do {                                                                    \
        if (!(expr)) {                                                      \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr);          \
            failures++;                                                     \
        }                                                                   \
    } while (0)

int main(int argc, char **argv)
{
    CHECK(gcd(12, 18) == 6);
    CHECK(gcd(17, 5) == 1);
    CHECK(is_prime(97));
    CHECK(!is_prime(91));
    if (argc > 1 && strcmp(argv[1], "--wrong") == 0)
        CHECK(gcd(12, 18) == 7);
    printf("calc_test: %s (%d failure%s)\n", failures ? "FAILED" : "ok", failures,
           failures == 1 ? "" : "s");
    return failures != 0;
}
