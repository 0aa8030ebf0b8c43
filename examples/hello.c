/* The smallest useful guest: prints which architecture it was built for. */
#include <stdio.h>

#if defined(__aarch64__)
#define GUEST_ARCH "aarch64"
#elif defined(__arm__)
#define GUEST_ARCH "arm"
#elif defined(__mips__) && defined(__MIPSEL__)
#define GUEST_ARCH "mipsel"
#elif defined(__mips__)
#define GUEST_ARCH "mips"
#else
#error "unsupported architecture"
#endif

int main(void)
{
    printf("Hello, world! (from a %s guest)\n", GUEST_ARCH);
    return 0;
}
