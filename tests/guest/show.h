/* The test programs' way of printing a call and its result: the value, or -1, strerror and the
 * errno number (so outputs compare across arches and emulators). Included by tests/guest/*.c;
 * tests/harness.py counts the headers of this folder in each program's cache key. */
#ifndef PYEMU_TEST_SHOW_H
#define PYEMU_TEST_SHOW_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s (errno %d)\n", what, strerror(errno), errno);
    else
        printf("%s: %ld\n", what, r);
}

#define SHOW(call) show(#call, (long)(call))
#endif
