/*
 * The guest's half of a conversation with the test (a host-side Python peer):
 *   tcp-server 4|6        listen on the loopback, port 0; print the port; answer one client
 *   tcp-client 4|6 PORT   connect to the test's server, send a line, print the reply
 *   udp-server 4|6        the same over UDP: one datagram in, one reply out
 *   udp-client 4|6 PORT
 *   unix-server PATH      an AF_UNIX stream server at PATH (a file in the test's temp dir)
 * Every line the guest prints is flushed at once: the test reads them as they come.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t loopback(int v6, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (v6) {
        struct sockaddr_in6 *a = (void *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(port);
        return sizeof *a;
    }
    struct sockaddr_in *a = (void *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    return sizeof *a;
}

static int port_of(struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET6 ? ((struct sockaddr_in6 *)ss)->sin6_port
                                           : ((struct sockaddr_in *)ss)->sin_port);
}

static void upper(char *s, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++)
        s[i] = toupper((unsigned char)s[i]);
}

static void describe_peer(struct sockaddr_storage *peer)
{
    char host[64] = "?";
    if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)peer)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)peer)->sin_addr, host, sizeof host);
    printf("peer %s\n", host);
}

static int serve_stream(int s)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = accept(s, (void *)&peer, &plen);
    if (c < 0) {
        perror("accept");
        return 1;
    }
    if (peer.ss_family != AF_UNIX)
        describe_peer(&peer);
    char buf[256];
    ssize_t n = recv(c, buf, sizeof buf - 1, 0);
    if (n < 0) {
        perror("recv");
        return 1;
    }
    buf[n] = 0;
    printf("received: %s", buf);
    upper(buf, n);
    send(c, "guest says: ", 12, 0);
    send(c, buf, n, 0);
    close(c);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 3)
        return 2;
    const char *mode = argv[1];
    int v6 = argv[2][0] == '6';
    struct sockaddr_storage ss;
    if (!strcmp(mode, "unix-server")) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un u = {.sun_family = AF_UNIX};
        strncpy(u.sun_path, argv[2], sizeof u.sun_path - 1);
        if (bind(s, (void *)&u, sizeof u) < 0 || listen(s, 1) < 0) {
            perror("bind/listen");
            return 1;
        }
        struct sockaddr_un back;
        socklen_t blen = sizeof back;
        getsockname(s, (void *)&back, &blen);
        printf("ready %s\n", strcmp(back.sun_path, argv[2]) ? "(other name)" : "(same name)");
        return serve_stream(s);
    }
    if (!strcmp(mode, "tcp-server") || !strcmp(mode, "udp-server")) {
        int udp = mode[0] == 'u';
        int s = socket(v6 ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
        socklen_t len = loopback(v6, 0, &ss);
        if (bind(s, (void *)&ss, len) < 0 || (!udp && listen(s, 1) < 0)) {
            perror("bind/listen");
            return 1;
        }
        getsockname(s, (void *)&ss, &len);
        printf("port %d\n", port_of(&ss));
        if (!udp)
            return serve_stream(s);
        char buf[256];
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (void *)&peer, &plen);
        if (n < 0) {
            perror("recvfrom");
            return 1;
        }
        buf[n] = 0;
        describe_peer(&peer);
        printf("received: %s\n", buf);
        upper(buf, n);
        sendto(s, buf, n, 0, (void *)&peer, plen);
        return 0;
    }
    if (argc < 4)
        return 2;
    int udp = mode[0] == 'u';
    int s = socket(v6 ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    socklen_t len = loopback(v6, atoi(argv[3]), &ss);
    if (connect(s, (void *)&ss, len) < 0) {
        perror("connect");
        return 1;
    }
    const char *line = udp ? "datagram from the guest" : "hello from the guest\n";
    send(s, line, strlen(line), 0);
    char buf[256];
    ssize_t n, total = 0;
    while ((n = recv(s, buf + total, sizeof buf - 1 - total, 0)) > 0) {
        total += n;
        if (udp)
            break;
    }
    buf[total] = 0;
    printf("reply: %s\n", buf);
    return 0;
}
