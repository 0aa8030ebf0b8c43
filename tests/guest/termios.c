/*
 * Terminal attributes through a pseudo-terminal the program opens itself (posix_openpt:
 * TIOCGPTN, TIOCSPTLCK): TCGETS/TCSETS* with the ABI's own c_cc layout (MIPS numbers VMIN,
 * VEOF & co. differently), local flags, window size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static void cc(const char *what, const struct termios *t)
{
    printf("%s: VINTR=%d VQUIT=%d VERASE=%d VKILL=%d VEOF=%d VTIME=%d VMIN=%d VSTART=%d "
           "VSTOP=%d VSUSP=%d VEOL=%d VWERASE=%d VLNEXT=%d VEOL2=%d icanon=%d echo=%d isig=%d\n",
           what, t->c_cc[VINTR], t->c_cc[VQUIT], t->c_cc[VERASE], t->c_cc[VKILL], t->c_cc[VEOF],
           t->c_cc[VTIME], t->c_cc[VMIN], t->c_cc[VSTART], t->c_cc[VSTOP], t->c_cc[VSUSP],
           t->c_cc[VEOL], t->c_cc[VWERASE], t->c_cc[VLNEXT], t->c_cc[VEOL2],
           (t->c_lflag & ICANON) != 0, (t->c_lflag & ECHO) != 0, (t->c_lflag & ISIG) != 0);
}

int main(void)
{
    struct termios t, back;
    struct winsize ws = {24, 80, 0, 0}, got;
    int master, slave;
    char *name;

    setvbuf(stdout, NULL, _IOLBF, 0);
    master = posix_openpt(O_RDWR | O_NOCTTY);
    printf("posix_openpt: %d\n", master >= 0);
    printf("grantpt: %d unlockpt: %d\n", grantpt(master), unlockpt(master));
    name = ptsname(master);
    printf("ptsname: %s\n", name && strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : "?");
    slave = open(name, O_RDWR | O_NOCTTY);
    printf("slave: %d isatty=%d\n", slave >= 0, isatty(slave));
    printf("tcgetattr: %d\n", tcgetattr(slave, &t));
    cc("default", &t);
    t.c_lflag &= ~(ICANON | ECHO);
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 7;
    t.c_cc[VINTR] = 1;
    t.c_cc[VEOF] = 2;
    t.c_cc[VEOL] = 5;
    t.c_cc[VSUSP] = 6;
    printf("tcsetattr TCSANOW: %d\n", tcsetattr(slave, TCSANOW, &t));
    memset(&back, 0, sizeof back);
    tcgetattr(slave, &back);
    cc("raw", &back);
    back.c_lflag |= ICANON | ECHO;
    back.c_cc[VEOF] = 4;
    back.c_cc[VEOL] = 0;
    printf("tcsetattr TCSADRAIN: %d\n", tcsetattr(slave, TCSADRAIN, &back));
    printf("tcsetattr TCSAFLUSH: %d\n", tcsetattr(slave, TCSAFLUSH, &back));
    tcgetattr(slave, &t);
    cc("canonical", &t);
    write(master, "ab\n", 3);
    {
        char buf[16] = {0};
        ssize_t n = read(slave, buf, sizeof buf - 1);
        printf("canonical read: %zd [%.*s]\n", n, (int)(n > 0 ? n - 1 : 0), buf);
    }
    printf("TIOCSWINSZ: %d\n", ioctl(slave, TIOCSWINSZ, &ws));
    printf("TIOCGWINSZ: %d rows=%d cols=%d\n", ioctl(master, TIOCGWINSZ, &got), got.ws_row,
           got.ws_col);
    printf("tcgetattr on a file: %d %s\n", tcgetattr(open("/dev/null", O_RDONLY), &t),
           strerror(errno));
    return 0;
}
