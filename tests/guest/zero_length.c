/* A buffer of length 0 is legal everywhere: reads, writes, vectors with empty entries, and the
 * socket calls (CPython's recvfrom_into of an empty buffer killed pyemu). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "show.h"

int main(void)
{
    char buf[8] = "abc";
    int p[2], s[2];
    pipe(p);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
    SHOW(write(p[1], buf, 0));
    SHOW(write(p[1], "xy", 2));
    SHOW(read(p[0], buf, 0));
    SHOW(read(p[0], NULL, 0));
    struct iovec iov[2] = {{buf, 0}, {buf, 1}};
    SHOW(readv(p[0], iov, 2));
    SHOW(writev(p[1], iov, 1));
    SHOW(readv(p[0], iov, 0));
    int f = open("/proc/self/exe", O_RDONLY);
    SHOW(pread(f, buf, 0, 4));
    SHOW(pread(f, NULL, 0, 0));
    SHOW(send(s[0], "hello", 5, 0));
    SHOW(recv(s[1], buf, 0, MSG_PEEK));
    SHOW(recv(s[1], NULL, 0, MSG_PEEK));
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    SHOW(recvfrom(s[1], buf, 0, 0, (struct sockaddr *)&from, &len));
    SHOW(send(s[0], "", 0, 0));
    SHOW(sendto(s[0], NULL, 0, 0, NULL, 0));
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    SHOW(send(s[0], "again", 5, 0));
    SHOW(recvmsg(s[1], &msg, 0));
    SHOW(sendmsg(s[0], &msg, 0));
    SHOW(recv(s[1], buf, sizeof buf, MSG_DONTWAIT));
    return 0;
}
