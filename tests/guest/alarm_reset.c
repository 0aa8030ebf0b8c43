/* A timer signal interrupts a blocking read, its handler runs, and the program puts the default
 * disposition back, 300 times over: the signal must be handed to the guest once (pyemu once
 * acted on it a second time, after the reset, and died of SIGALRM). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static volatile int handled;
static void on_alarm(int sig) { (void)sig; handled++; }

int main(void)
{
    int p[2], eintr = 0;
    char c;
    pipe(p);
    for (int i = 0; i < 300; i++) {
        struct sigaction sa = {0};
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval t = {{0, 0}, {0, 2000}};
        setitimer(ITIMER_REAL, &t, NULL);
        if (read(p[0], &c, 1) < 0 && errno == EINTR)
            eintr++;
        signal(SIGALRM, SIG_DFL);
    }
    printf("handled %d, interrupted reads %d\n", handled, eintr);
    return 0;
}
