/*
 * Interfaces as glibc finds them: getifaddrs (route netlink dumps: RTM_GETLINK, RTM_GETADDR),
 * if_nametoindex/if_indextoname and the ifreq ioctls, for the loopback interface.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    struct ifaddrs *ifa, *p;
    if (getifaddrs(&ifa)) { perror("getifaddrs"); return 1; }
    for (p = ifa; p; p = p->ifa_next) {
        if (strcmp(p->ifa_name, "lo")) continue;
        int fam = p->ifa_addr ? p->ifa_addr->sa_family : -1;
        char buf[64] = "-";
        if (fam == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in*)p->ifa_addr)->sin_addr, buf, sizeof buf);
        if (fam == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6*)p->ifa_addr)->sin6_addr, buf, sizeof buf);
        printf("%s fam %d up %d loop %d %s\n", p->ifa_name, fam, !!(p->ifa_flags & IFF_UP), !!(p->ifa_flags & IFF_LOOPBACK), buf);
    }
    freeifaddrs(ifa);
    unsigned idx = if_nametoindex("lo");
    printf("lo index %u\n", idx);
    char name[IF_NAMESIZE] = "";
    printf("name of %u: %s\n", idx, if_indextoname(idx, name) ? name : "?");
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r; memset(&r, 0, sizeof r); strcpy(r.ifr_name, "lo");
    printf("SIOCGIFFLAGS %d up %d\n", ioctl(s, SIOCGIFFLAGS, &r), !!(r.ifr_flags & IFF_UP));
    printf("SIOCGIFMTU %d mtu %d\n", ioctl(s, SIOCGIFMTU, &r), r.ifr_mtu);
    printf("SIOCGIFADDR %d %s\n", ioctl(s, SIOCGIFADDR, &r), inet_ntoa(((struct sockaddr_in*)&r.ifr_addr)->sin_addr));
    int n = 0; printf("FIONREAD %d %d\n", ioctl(s, FIONREAD, &n), n);
    return 0;
}
