/* Socket numbering and struct layouts as the compiler sees them (checked on MIPS). */
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
int main(void) {
    printf("SOCK_STREAM %d\nSOCK_DGRAM %d\nSOL_SOCKET %d\nSO_REUSEADDR %d\nSO_RCVTIMEO %d\n",
           SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_RCVTIMEO);
    printf("SO_SNDTIMEO %d\nSO_TYPE %d\nSO_ERROR %d\nSO_LINGER %d\nSO_KEEPALIVE %d\n",
           SO_SNDTIMEO, SO_TYPE, SO_ERROR, SO_LINGER, SO_KEEPALIVE);
    printf("linger %zu %zu %zu\ntimeval %zu %zu %zu\n", sizeof(struct linger),
           offsetof(struct linger, l_onoff), offsetof(struct linger, l_linger),
           sizeof(struct timeval), offsetof(struct timeval, tv_sec),
           offsetof(struct timeval, tv_usec));
    return 0;
}
