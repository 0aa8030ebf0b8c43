/* getaddrinfo of each argument (IPv4, port 80): the address, or the resolver's error. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
        int r = getaddrinfo(argv[i], "80", &hints, &res);
        if (r) {
            printf("%s: %s\n", argv[i], gai_strerror(r));
            continue;
        }
        char host[64];
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, host, sizeof host);
        printf("%s: %s port %d\n", argv[i], host,
               ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port));
        freeaddrinfo(res);
    }
    return 0;
}
