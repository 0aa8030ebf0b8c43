/* execve keeps the signal mask, the pending signals and the ignored dispositions, and resets
 * handled ones to the default (the kernel's rules; CPython's subprocess restore_signals and
 * posix_spawn's setsigmask depend on them).  exec_signals        sets up, then execs itself
 *                                                               exec_signals child  reports */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig) { (void)sig; }

static const char *disposition(int sig)
{
    struct sigaction sa;
    sigaction(sig, NULL, &sa);
    return sa.sa_handler == SIG_IGN ? "ignored" : sa.sa_handler == SIG_DFL ? "default" : "handled";
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        sigset_t mask, pending;
        sigprocmask(SIG_BLOCK, NULL, &mask);
        sigpending(&pending);
        printf("blocked: USR1 %d USR2 %d TERM %d\n", sigismember(&mask, SIGUSR1),
               sigismember(&mask, SIGUSR2), sigismember(&mask, SIGTERM));
        printf("pending: USR1 %d TERM %d\n", sigismember(&pending, SIGUSR1),
               sigismember(&pending, SIGTERM));
        printf("HUP %s, PIPE %s, INT %s, QUIT %s\n", disposition(SIGHUP), disposition(SIGPIPE),
               disposition(SIGINT), disposition(SIGQUIT));
        fflush(stdout);
        int got;
        sigwait(&mask, &got);       /* the pending SIGUSR1 is there to take */
        printf("sigwait: %s\n", got == SIGUSR1 ? "SIGUSR1" : "other");
        return 0;
    }
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    char *args[] = {argv[0], "child", NULL};
    execv("/proc/self/exe", args);
    perror("execv");
    return 1;
}
