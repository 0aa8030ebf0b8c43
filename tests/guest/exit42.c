/* Exit with a distinctive status and print nothing. */
#include <stdlib.h>

int main(void)
{
    exit(42);
}
