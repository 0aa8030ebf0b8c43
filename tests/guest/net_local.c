/*
 * Sockets within one guest (and a forked child): AF_UNIX stream/datagram pairs, SCM_RIGHTS and
 * SCM_CREDENTIALS between two processes, TCP and UDP on 127.0.0.1 and ::1, msg/mmsg calls,
 * options with their own value formats (timeval, linger, type, error), errors with their
 * numbers. Ports and pids are printed only as comparisons.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void unix_pairs(void)
{
    int sv[2];
    char buf[64] = {0};
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW(write(sv[0], "stream hello", 12));
    SHOW(read(sv[1], buf, sizeof buf));
    printf("stream got '%s'\n", buf);
    SHOW(shutdown(sv[0], SHUT_WR));
    SHOW(read(sv[1], buf, sizeof buf));
    close(sv[0]);
    close(sv[1]);

    SHOW(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
    SHOW(send(sv[0], "one", 3, 0));
    SHOW(send(sv[0], "two!", 4, 0));
    memset(buf, 0, sizeof buf);
    SHOW(recv(sv[1], buf, 2, MSG_PEEK));
    SHOW(recv(sv[1], buf, sizeof buf, 0));
    printf("dgram got '%s'\n", buf);
    struct iovec iov[2] = {{buf, 1}, {buf + 10, 1}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    SHOW(recvmsg(sv[1], &msg, 0));
    printf("truncated: flags %s, '%c%c'\n", msg.msg_flags & MSG_TRUNC ? "MSG_TRUNC" : "none",
           buf[0], buf[10]);
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    int type = 0;
    socklen_t len = sizeof type;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
    printf("SO_TYPE is SOCK_DGRAM: %d, len %d\n", type == SOCK_DGRAM, (int)len);
    close(sv[0]);
    close(sv[1]);
}

/* The child sends an fd of a file it wrote, with its credentials; the parent reads through it. */
static void pass_fd(void)
{
    int sv[2];
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int on = 1;
    SHOW(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        FILE *f = tmpfile();
        fputs("through SCM_RIGHTS\n", f);
        fflush(f);
        rewind(f);
        int fd = fileno(f);
        char cbuf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {"x", 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        c = CMSG_NXTHDR(&msg, c);
        struct ucred cred = {getpid(), getuid(), getgid()};
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof cred);
        memcpy(CMSG_DATA(c), &cred, sizeof cred);
        _exit(sendmsg(sv[0], &msg, 0) == 1 ? 0 : 1);
    }
    char data[4];
    char cbuf[256];
    struct iovec iov = {data, sizeof data};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    SHOW(recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            printf("SCM_RIGHTS len %d\n", (int)c->cmsg_len);
            char line[64] = {0};
            SHOW(read(fd, line, sizeof line - 1));
            printf("read through passed fd: %s", line);
            close(fd);
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            printf("SCM_CREDENTIALS len %d pid is child %d uid %d\n", (int)c->cmsg_len,
                   cred.pid == child, cred.uid == getuid());
        } else {
            printf("other cmsg level %d type %d\n", c->cmsg_level, c->cmsg_type);
        }
    }
    int status;
    waitpid(child, &status, 0);
    printf("child status %d\n", WEXITSTATUS(status));
    struct ucred peer;
    socklen_t len = sizeof peer;
    SHOW(getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &peer, &len));
    printf("SO_PEERCRED is us: %d, len %d\n", peer.pid == getpid(), (int)len);
    close(sv[0]);
    close(sv[1]);
}

static int listener(int family, int type, struct sockaddr_storage *addr, socklen_t *len)
{
    int s = socket(family, type, 0);
    int on = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    memset(addr, 0, sizeof *addr);
    if (family == AF_INET) {
        struct sockaddr_in *a = (void *)addr;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (void *)addr;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        *len = sizeof *a;
    }
    if (bind(s, (void *)addr, *len) < 0)
        perror("bind");
    if (type == SOCK_STREAM)
        listen(s, 4);
    getsockname(s, (void *)addr, len);
    return s;
}

static void tcp(int family)
{
    printf("-- tcp %s\n", family == AF_INET ? "ipv4" : "ipv6");
    struct sockaddr_storage addr, peer;
    socklen_t len, plen = sizeof peer;
    int s = listener(family, SOCK_STREAM, &addr, &len);
    printf("bound len %d family ok %d\n", (int)len, addr.ss_family == family);
    int c = socket(family, SOCK_STREAM, 0);
    SHOW(connect(c, (void *)&addr, len));
    int a = accept4(s, (void *)&peer, &plen, SOCK_CLOEXEC);
    printf("accepted %d peer len %d family ok %d\n", a >= 0, (int)plen, peer.ss_family == family);
    int on = 1;
    SHOW(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
    int v = 0;
    socklen_t vl = sizeof v;
    SHOW(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl));
    printf("TCP_NODELAY %d\n", v != 0);
    char big[100000];
    memset(big, 'z', sizeof big);
    SHOW(send(c, big, sizeof big, 0));
    size_t got = 0;
    while (got < sizeof big) {
        ssize_t n = recv(a, big, sizeof big - got, 0);
        if (n <= 0)
            break;
        got += n;
    }
    printf("received %zu\n", got);
    SHOW(send(c, "abcdef", 6, 0));
    char buf[16] = {0};
    SHOW(recv(a, buf, 6, MSG_WAITALL));
    struct timeval tv = {0, 150000}, back;
    SHOW(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    vl = sizeof back;
    SHOW(getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &back, &vl));
    printf("SO_RCVTIMEO %ld.%06ld len %d\n", (long)back.tv_sec, (long)back.tv_usec, (int)vl);
    SHOW(recv(a, buf, sizeof buf, 0));
    SHOW(read(a, buf, sizeof buf));
    struct linger lg = {1, 7};
    SHOW(setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    memset(&lg, 0, sizeof lg);
    vl = sizeof lg;
    SHOW(getsockopt(a, SOL_SOCKET, SO_LINGER, &lg, &vl));
    printf("SO_LINGER %d %d\n", lg.l_onoff, lg.l_linger);
    close(c);
    SHOW(recv(a, buf, sizeof buf, 0));
    SHOW(send(a, "x", 1, MSG_NOSIGNAL));
    usleep(20000);
    SHOW(send(a, "x", 1, MSG_NOSIGNAL));
    int err = 0;
    vl = sizeof err;
    SHOW(getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &vl));
    printf("SO_ERROR %d\n", err);
    close(a);
    int port = family == AF_INET ? ((struct sockaddr_in *)&addr)->sin_port
                                 : ((struct sockaddr_in6 *)&addr)->sin6_port;
    close(s);
    c = socket(family, SOCK_STREAM, 0);
    if (family == AF_INET)
        ((struct sockaddr_in *)&addr)->sin_port = port;
    SHOW(connect(c, (void *)&addr, len));
    close(c);
}

static void udp(int family)
{
    printf("-- udp %s\n", family == AF_INET ? "ipv4" : "ipv6");
    struct sockaddr_storage addr, from;
    socklen_t len, flen = sizeof from;
    int s = listener(family, SOCK_DGRAM, &addr, &len);
    int c = socket(family, SOCK_DGRAM, 0);
    SHOW(sendto(c, "datagram", 8, 0, (void *)&addr, len));
    char buf[32] = {0};
    SHOW(recvfrom(s, buf, sizeof buf, 0, (void *)&from, &flen));
    printf("from len %d family ok %d '%s'\n", (int)flen, from.ss_family == family, buf);
    SHOW(sendto(s, "reply", 5, 0, (void *)&from, flen));
    memset(buf, 0, sizeof buf);
    SHOW(recv(c, buf, sizeof buf, 0));
    printf("reply '%s'\n", buf);
    SHOW(connect(c, (void *)&addr, len));
    struct mmsghdr mm[3];
    struct iovec iov[3];
    char *words[3] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 3; i++) {
        iov[i].iov_base = words[i];
        iov[i].iov_len = strlen(words[i]);
        memset(&mm[i], 0, sizeof mm[i]);
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    SHOW(sendmmsg(c, mm, 3, 0));
    printf("msg_len %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
    char rb[3][16];
    memset(rb, 0, sizeof rb);
    for (int i = 0; i < 3; i++) {
        iov[i].iov_base = rb[i];
        iov[i].iov_len = sizeof rb[i];
        memset(&mm[i], 0, sizeof mm[i]);
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    usleep(20000);
    SHOW(recvmmsg(s, mm, 3, MSG_WAITFORONE, NULL));
    printf("got %s %s %s (%u %u %u)\n", rb[0], rb[1], rb[2], mm[0].msg_len, mm[1].msg_len,
           mm[2].msg_len);
    int ttl = 3, got = 0;
    socklen_t gl = sizeof got;
    if (family == AF_INET) {
        SHOW(setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl));
        SHOW(getsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &got, &gl));
    } else {
        SHOW(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &ttl, sizeof ttl));
        SHOW(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &got, &gl));
    }
    printf("option back %d len %d\n", got, (int)gl);
    close(c);
    close(s);
}

static void errors(void)
{
    printf("-- errors\n");
    SHOW(socket(AF_INET, 15, 0));
    SHOW(socket(12345, SOCK_STREAM, 0));
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int v;
    socklen_t vl = sizeof v;
    SHOW(getsockopt(s, SOL_SOCKET, 9999, &v, &vl));
    SHOW(send(s, "x", 1, MSG_NOSIGNAL));
    SHOW(listen(12345, 1));
    SHOW(accept(s, NULL, NULL));
    struct sockaddr_un u = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/dir/sock"};
    int us = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(us, (void *)&u, sizeof u));
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int r = getaddrinfo("127.0.0.1", "80", &hints, &res);
    printf("getaddrinfo %d", r);
    if (r == 0) {
        char host[64];
        struct sockaddr_in *a = (void *)res->ai_addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        printf(" %s %d", host, ntohs(a->sin_port));
        freeaddrinfo(res);
    }
    printf("\n");
    close(s);
    close(us);
}

static volatile int pipes;
static void on_pipe(int sig) { pipes++; }

static void sigpipe(void)
{
    printf("-- sigpipe\n");
    signal(SIGPIPE, on_pipe);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    SHOW(send(sv[0], "x", 1, 0));
    SHOW(write(sv[0], "x", 1));
    SHOW(send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("SIGPIPE handled %d times\n", pipes);
    close(sv[0]);
}

static volatile int ios;
static void on_io(int sig) { ios++; }

/* O_ASYNC with F_SETOWN: data arriving on the socket raises SIGIO in the owner. */
static void async_io(void)
{
    printf("-- O_ASYNC\n");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    signal(SIGIO, on_io);
    SHOW(fcntl(sv[1], F_SETOWN, getpid()));
    printf("F_GETOWN is us: %d\n", fcntl(sv[1], F_GETOWN) == getpid());
    SHOW(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_ASYNC | O_NONBLOCK));
    printf("O_ASYNC set: %d\n", !!(fcntl(sv[1], F_GETFL) & O_ASYNC));
    SHOW(write(sv[0], "x", 1));
    for (int i = 0; i < 200 && !ios; i++)
        usleep(5000);
    printf("SIGIO seen: %d\n", ios > 0);
    close(sv[0]);
    close(sv[1]);
}

/* The old multiplexer, where the ABI has one (MIPS o32): socketpair, send and recv through it. */
static void multiplexer(void)
{
#ifdef SYS_socketcall
    printf("-- socketcall\n");
    int sv[2];
    unsigned long pair[4] = {AF_UNIX, SOCK_STREAM, 0, (unsigned long)sv};
    SHOW(syscall(SYS_socketcall, 8 /* SYS_SOCKETPAIR */, pair));
    unsigned long out[4] = {sv[0], (unsigned long)"via socketcall", 14, 0};
    SHOW(syscall(SYS_socketcall, 9 /* SYS_SEND */, out));
    char buf[32] = {0};
    unsigned long in[4] = {sv[1], (unsigned long)buf, sizeof buf, 0};
    SHOW(syscall(SYS_socketcall, 10 /* SYS_RECV */, in));
    printf("got '%s'\n", buf);
    SHOW(syscall(SYS_socketcall, 99, in));
    close(sv[0]);
    close(sv[1]);
#endif
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    unix_pairs();
    pass_fd();
    tcp(AF_INET);
    tcp(AF_INET6);
    udp(AF_INET);
    udp(AF_INET6);
    errors();
    sigpipe();
    async_io();
    multiplexer();
    return 0;
}
