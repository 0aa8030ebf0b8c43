/* Three threads stopped together (tests/test_gdbstub.py): the workers wait at a barrier while
   main stops in all_started(); exit status 7 once all are joined. */
#include <pthread.h>
#include <stdio.h>

static pthread_barrier_t started, finish;

static void *worker(void *arg)
{
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&finish);
    return arg;
}

void all_started(void)
{
}

int main(void)
{
    pthread_t t[2];
    pthread_barrier_init(&started, 0, 3);
    pthread_barrier_init(&finish, 0, 3);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], 0, worker, 0);
    pthread_barrier_wait(&started);
    all_started();
    pthread_barrier_wait(&finish);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], 0);
    puts("joined");
    return 7;
}
