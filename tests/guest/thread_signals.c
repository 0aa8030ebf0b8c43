/* Signals delivered to a thread that is not the main one: its handler runs on its own
 * registers and stack, and sigreturn gives it back exactly its own state (pyemu once built every
 * frame from the main thread's registers). Two workers each send themselves 2000 signals while
 * they compute with many live integer and FP values; the main thread waits in join. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static __thread volatile int handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static void *work(void *arg)
{
    long seed = (long)arg;
    unsigned long a = seed, b = seed * 3, c = seed * 5, d = seed * 7, e = 11, f = 13;
    double x = seed * 0.5, y = 1.25;
    for (int i = 0; i < 2000; i++) {
        a = a * 6364136223846793005UL + 1442695040888963407UL;
        b ^= a >> 7; c += b * 3; d -= c >> 3; e = e * 31 + d; f ^= e << 1;
        x = x * 1.0001 + y; y = y * 0.9999 + 0.001;
        pthread_kill(pthread_self(), SIGUSR1);
    }
    printf("worker %ld: handled %d, %lx %lx %lx %lx %lx %lx %.6f %.6f\n", seed, handled,
           a, b, c, d, e, f, x, y);
    return NULL;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    for (long seed = 1; seed <= 2; seed++) {       /* one after the other: fixed output order */
        pthread_create(&t, NULL, work, (void *)seed);
        pthread_join(t, NULL);
    }
    return 0;
}
