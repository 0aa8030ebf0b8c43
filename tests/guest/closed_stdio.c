/* A program started with stdin, stdout or stderr closed (CPython's subprocess tests close one and
 * swap the others): pyemu itself must run without them, and the guest sees them closed. */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
#include <fcntl.h>
int main(int argc, char **argv) {
    if (argc > 1) { int skip = argv[1][0] - '0'; for (int fd = 0; fd < 3; fd++) if (fd != skip) { char c = '0' + fd; write(fd, &c, 1); } return 0; }
    for (int skip = 0; skip < 3; skip++) {
        int p[2]; pipe(p);
        pid_t pid = fork();
        if (pid == 0) {
            for (int fd = 0; fd < 3; fd++) if (fd != skip) dup2(p[1], fd);
            close(skip); close(p[0]); close(p[1]);
            char arg[2] = {'0' + skip, 0};
            execl("/proc/self/exe", argv[0], arg, (char *)0);
            _exit(127);
        }
        close(p[1]);
        char buf[16] = {0}; int n = 0, r;
        while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
        int st; waitpid(pid, &st, 0);
        printf("closed %d: child wrote '%s', status %d\n", skip, buf, WEXITSTATUS(st));
        close(p[0]);
    }
    return 0;
}
