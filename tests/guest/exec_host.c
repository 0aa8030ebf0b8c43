/* execve of what is not a guest program: host programs, #! scripts, files the kernel refuses.
 * Each exec runs in a vfork/fork child; the parent prints what happened.
 *   exec_host           the cases qemu-user runs the same way (its execve is the host's)
 *   exec_host mask      a host program reports the signal mask it was started with
 *   exec_host guest     a #! script whose interpreter is this (guest) program
 *   exec_host interp X  (run as that interpreter) print the arguments */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void put(const char *name, const char *text, mode_t mode) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    write(fd, text, strlen(text));
    close(fd);
    chmod(name, mode);
}

static void run(const char *what, const char *path, char *const argv[], int use_vfork) {
    char *envp[] = {"GREETING=hello from the guest", "PATH=/usr/bin:/bin", NULL};
    fflush(stdout);
    int pipefd[2];
    pipe(pipefd);
    pid_t pid = use_vfork ? vfork() : fork();
    if (pid == 0) {
        execve(path, argv, envp);
        int err = errno;
        write(pipefd[1], &err, sizeof err);
        _exit(99);
    }
    close(pipefd[1]);
    int err = 0, st = 0;
    if (read(pipefd[0], &err, sizeof err) != sizeof err)
        err = 0;
    close(pipefd[0]);
    waitpid(pid, &st, 0);
    printf("%s: errno=%s status=%d\n", what, err ? strerror(err) : "none",
           WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "interp") == 0) {
        for (int i = 1; i < argc; i++)
            printf("interp argv[%d]=%s\n", i, argv[i]);
        return 3;
    }
    signal(SIGINT, SIG_IGN);            /* an ignored signal stays ignored across exec */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (argc > 1 && strcmp(argv[1], "mask") == 0) {
        char *grep[] = {"grep", "^SigBlk", "/proc/self/status", NULL};
        run("mask", "/bin/grep", grep, 0);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "guest") == 0) {
        char text[4200];
        snprintf(text, sizeof text, "#!%s interp\n", argv[0]);
        put("guest.sh", text, 0755);
        char *args[] = {"guest.sh", "one", "two", NULL};
        run("guest interpreter", "./guest.sh", args, 1);
        return 0;
    }
    put("s1.sh", "#!/bin/sh\necho \"script: $0 $* [$GREETING]\"\nexit 5\n", 0755);
    put("s2.sh", "#! /bin/sh  -e \necho \"options: $- args: $*\"\nfalse\necho not here\n", 0755);
    put("nest.sh", "#!./s1.sh\n", 0755);
    put("empty.sh", "#!\n", 0755);
    put("noexec.sh", "#!/bin/sh\necho no\n", 0644);
    put("data.bin", "\x01\x02 not a program\n", 0755);
    char *grep[] = {"grep", "-E", "^Sig(Ign|Cgt)", "/proc/self/status", NULL};
    char *echo[] = {"echo", "host echo:", "a b", NULL};
    char *s1[] = {"s1.sh", "x", "y z", NULL};
    char *s2[] = {"s2.sh", "arg", NULL};
    char *nest[] = {"nest.sh", "deep", NULL};
    char *none[] = {"none", NULL};
    run("host program (vfork)", "/bin/echo", echo, 1);
    run("host program (fork)", "/bin/grep", grep, 0);
    run("script", "./s1.sh", s1, 1);
    run("script with option", "./s2.sh", s2, 0);
    run("nested script", "./nest.sh", nest, 0);
    run("empty #!", "./empty.sh", none, 0);
    run("not executable", "./noexec.sh", none, 0);
    run("not a program", "./data.bin", none, 0);
    run("missing", "./missing", none, 0);
    run("directory", "/tmp", none, 0);
    char *spawn_echo[] = {"echo", "spawned", NULL};
    char *env[] = {NULL};
    const char *spawned[] = {"/bin/echo", "./missing"};
    for (int i = 0; i < 2; i++) {
        fflush(stdout);
        pid_t pid = 0;
        int rc = posix_spawn(&pid, spawned[i], NULL, NULL, spawn_echo, env), st = 0;
        if (rc == 0)
            waitpid(pid, &st, 0);
        printf("posix_spawn %s: rc=%d status=%d\n", spawned[i], rc, WEXITSTATUS(st));
    }
    return 0;
}
