/* Installs a SIGINT handler (unless argv[1] is given), says "ready", then waits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_int(int sig) { got = sig; }

int main(int argc, char **argv) {
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
