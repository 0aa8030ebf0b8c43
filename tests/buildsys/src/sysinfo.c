/* What the test program sees of the machine it runs on: uname's machine (armv7l, aarch64 under
   an emulator; the build host says x86_64) and BUILDSYS_EMULATOR, which the tests set through
   the emulator's own option (pyemu -E), so it is there only when pyemu ran the program. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    const char *emulator = getenv("BUILDSYS_EMULATOR");

    if (uname(&u) != 0)
        return 2;
    printf("machine=%s emulator=%s pointer-bits=%d\n", u.machine,
           emulator ? emulator : "(none)", (int)(8 * sizeof(void *)));
    return 0;
}
