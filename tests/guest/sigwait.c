/* Host-sent signals and signals the kernel raises, by argv[1]:
 *   (none)     installs a SIGINT handler, says "ready", then waits (exit 3 after the handler)
 *   nohandler  says "ready", then waits with every default action in place
 *   pipe       writes to a pipe whose read end is closed: SIGPIPE's default action ends it
 *   spin       says "ready", then loops forever without a single syscall
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_int(int sig) { got = sig; }

static int broken_pipe(void) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    close(fds[0]);
    puts("writing");
    fflush(stdout);
    ssize_t n = write(fds[1], "x", 1);
    printf("still alive: write returned %zd\n", n);   /* not reached: SIGPIPE */
    return 0;
}

static int spin(void) {
    volatile unsigned long counter = 0;
    puts("ready");
    fflush(stdout);
    for (;;) counter++;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "pipe") == 0) return broken_pipe();
    if (argc > 1 && strcmp(argv[1], "spin") == 0) return spin();
    if (argc < 2) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_int;
        sigaction(SIGINT, &sa, NULL);
    }
    puts("ready");
    fflush(stdout);
    for (int i = 0; i < 300 && !got; i++) usleep(100000);
    if (got) { printf("handler: %s\n", got == SIGINT ? "SIGINT" : "?"); return 3; }
    return 0;
}
