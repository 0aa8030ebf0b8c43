/* pthreads: a mutex-protected counter, __thread variables, a condition-variable queue, a thread
   blocked in read() while another computes and writes, and pthread_cancel of a blocked reader. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int mine;

static void *add(void *arg) {
    mine = (int)(long)arg;
    for (int i = 0; i < 100000; i++) { pthread_mutex_lock(&m); counter++; pthread_mutex_unlock(&m); }
    return (void *)(long)mine;
}

#define ITEMS 10000
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[16], head, tail, size;
static void *producer(void *arg) {
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&m);
        while (size == 16) pthread_cond_wait(&not_full, &m);
        queue[tail] = i; tail = (tail + 1) % 16; size++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static int fds[2];
static void *reader(void *arg) {
    (void)arg;
    char buf[16];
    ssize_t n = read(fds[0], buf, sizeof buf);
    return (void *)(long)n;
}

static void *blocked_reader(void *arg) {
    (void)arg;
    char c;
    read(fds[0], &c, 1);
    return (void *)42;
}

int main(void) {
    pthread_t t[8];
    long tls = 0;
    for (long i = 0; i < 8; i++) pthread_create(&t[i], NULL, add, (void *)(i + 1));
    for (int i = 0; i < 8; i++) { void *r; pthread_join(t[i], &r); tls += (long)r; }
    printf("counter=%ld tls=%ld main_tls=%d\n", counter, tls, mine);

    pthread_t p;
    long sum = 0;
    pthread_create(&p, NULL, producer, NULL);
    for (int got = 0; got < ITEMS; got++) {
        pthread_mutex_lock(&m);
        while (size == 0) pthread_cond_wait(&not_empty, &m);
        sum += queue[head]; head = (head + 1) % 16; size--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&m);
    }
    pthread_join(p, NULL);
    printf("consumed sum=%ld\n", sum);

    pipe(fds);
    pthread_t r;
    pthread_create(&r, NULL, reader, NULL);
    volatile double x = 0;
    for (int i = 0; i < 200000; i++) x += i * 0.5;
    write(fds[1], "hello", 5);
    void *n;
    pthread_join(r, &n);
    printf("reader got %ld bytes after x=%.1f\n", (long)n, x);

    pthread_t c;
    pthread_create(&c, NULL, blocked_reader, NULL);
    usleep(100000);
    pthread_cancel(c);
    void *res;
    pthread_join(c, &res);
    printf("cancelled=%d\n", res == PTHREAD_CANCELED);
    return 0;
}
