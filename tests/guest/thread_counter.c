/* 8 threads add 1 to a mutex-protected counter 100000 times each; __thread values per thread. */
#include <pthread.h>
#include <stdio.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int mine;
static void *work(void *arg) { mine = (int)(long)arg; for (int i = 0; i < 100000; i++) { pthread_mutex_lock(&m); counter++; pthread_mutex_unlock(&m); } return (void *)(long)mine; }
int main(void) { pthread_t t[8]; long sum = 0; for (long i = 0; i < 8; i++) pthread_create(&t[i], 0, work, (void *)(i + 1));
  for (int i = 0; i < 8; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
  printf("counter=%ld tls_sum=%ld main_tls=%d\n", counter, sum, mine); return 0; }
