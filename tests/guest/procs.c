/* fork + pipe + waitpid with exit codes and signal deaths; execve of itself with an argument. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) { printf("exec'd: %s\n", argv[1]); return 0; }
    int fds[2];
    pipe(fds);
    pid_t p = fork();
    if (p == 0) { close(fds[0]); write(fds[1], "from child", 10); _exit(7); }
    close(fds[1]);
    char buf[32] = {0};
    read(fds[0], buf, sizeof buf - 1);
    int st;
    waitpid(p, &st, 0);
    printf("read '%s'\nchild exited %d\n", buf, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    p = fork();
    if (p == 0) { raise(SIGKILL); _exit(0); }
    waitpid(p, &st, 0);
    printf("child killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    fflush(stdout);
    p = fork();
    if (p == 0) { execl("/proc/self/exe", argv[0], "again", (char *)NULL); _exit(99); }
    waitpid(p, &st, 0);
    printf("exec child status %d\n", WEXITSTATUS(st));
    return 0;
}
