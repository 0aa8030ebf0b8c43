/*
 * One process, non-blocking sockets: a listening socket and three clients multiplexed with
 * poll, select or epoll (argv[1]). The server accepts the three, then each client in turn sends
 * a line, the loop finds the one readable connection, echoes it upper-cased, and the client
 * reads the reply through the same multiplexer. A wait with nothing ready times out.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

enum { N = 3 };
static const char *mode;
static int ep = -1;

/* Wait until one of fds[0..n) is readable (or writable when `out`); index or -1 on timeout. */
static int wait_one(const int *fds, int n, int out, int timeout_ms)
{
    if (!strcmp(mode, "poll")) {
        struct pollfd p[16];
        for (int i = 0; i < n; i++)
            p[i] = (struct pollfd){fds[i], out ? POLLOUT : POLLIN, 0};
        int r = poll(p, n, timeout_ms);
        if (r <= 0)
            return r < 0 ? -2 : -1;
        for (int i = 0; i < n; i++)
            if (p[i].revents & (out ? POLLOUT : POLLIN))
                return i;
        return -3;
    }
    if (!strcmp(mode, "select")) {
        fd_set set;
        FD_ZERO(&set);
        int top = 0;
        for (int i = 0; i < n; i++) {
            FD_SET(fds[i], &set);
            top = fds[i] > top ? fds[i] : top;
        }
        struct timeval tv = {timeout_ms / 1000, timeout_ms % 1000 * 1000};
        int r = select(top + 1, out ? NULL : &set, out ? &set : NULL, NULL, &tv);
        if (r <= 0)
            return r < 0 ? -2 : -1;
        for (int i = 0; i < n; i++)
            if (FD_ISSET(fds[i], &set))
                return i;
        return -3;
    }
    /* epoll: the data word carries the index; registrations are rebuilt per wait */
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.u64 = 0xabc00 + i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
            perror("epoll_ctl add");
    }
    struct epoll_event got[16];
    int r = epoll_wait(ep, got, 16, timeout_ms);
    for (int i = 0; i < n; i++)
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
    if (r <= 0)
        return r < 0 ? -2 : -1;
    if ((got[0].data.u64 & ~0xffULL) != 0xabc00)
        return -4;
    return (int)(got[0].data.u64 & 0xff);
}

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    mode = argc > 1 ? argv[1] : "poll";
    ep = epoll_create1(EPOLL_CLOEXEC);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(l, (void *)&a, sizeof a);
    listen(l, N);
    getsockname(l, (void *)&a, &len);
    printf("%s: listening\n", mode);
    printf("idle wait: %d\n", wait_one(&l, 1, 0, 100));

    int c[N], s[N];
    for (int i = 0; i < N; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        nonblock(c[i]);
        int r = connect(c[i], (void *)&a, sizeof a);
        printf("client %d connect: %s\n", i, r == 0 ? "done" : errno == EINPROGRESS ?
               "in progress" : strerror(errno));
    }
    for (int i = 0; i < N; i++) {
        int w = wait_one(&c[i], 1, 1, 2000);
        int err = -1;
        socklen_t el = sizeof err;
        getsockopt(c[i], SOL_SOCKET, SO_ERROR, &err, &el);
        printf("client %d writable %d SO_ERROR %d\n", i, w, err);
    }
    int accepted = 0;
    while (accepted < N) {
        if (wait_one(&l, 1, 0, 2000) != 0) {
            printf("listener never readable\n");
            return 1;
        }
        for (;;) {
            int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);
            if (fd < 0) {
                if (errno != EAGAIN)
                    perror("accept4");
                break;
            }
            s[accepted++] = fd;
        }
    }
    printf("accepted %d, again: %s\n", accepted,
           accept(l, NULL, NULL) < 0 && errno == EAGAIN ? "EAGAIN" : "?");
    printf("idle wait on connections: %d\n", wait_one(s, N, 0, 100));

    for (int round = 0; round < 2; round++) {
        for (int i = N - 1; i >= 0; i--) {
            char msg[32], buf[64];
            int n = snprintf(msg, sizeof msg, "round %d from client %d", round, i);
            send(c[i], msg, n, 0);
            int who = wait_one(s, N, 0, 2000);
            n = who >= 0 ? recv(s[who], buf, sizeof buf, 0) : -1;
            if (n <= 0) {
                printf("server: nothing (%d)\n", who);
                return 1;
            }
            buf[n] = 0;
            printf("server: connection %d sent '%s'\n", who, buf);
            for (int j = 0; j < n; j++)
                buf[j] = toupper((unsigned char)buf[j]);
            send(s[who], buf, n, 0);
            int back = wait_one(c, N, 0, 2000);
            n = back >= 0 ? recv(c[back], buf, sizeof buf, 0) : -1;
            buf[n > 0 ? n : 0] = 0;
            printf("client %d got '%s'\n", back, buf);
            printf("recv again: %s\n", recv(c[back], buf, sizeof buf, 0) < 0 &&
                   errno == EAGAIN ? "EAGAIN" : "?");
        }
    }
    close(c[1]);
    int who = wait_one(s, N, 0, 2000);
    char buf[8];
    printf("after close of client 1: connection %d readable, recv %zd\n", who,
           who >= 0 ? recv(s[who], buf, sizeof buf, 0) : -1);
    return 0;
}
