/* Synchronizing processes through shared memory: shared (non-private) futex waits in forked
 * children woken by the parent, sem_open (a MAP_SHARED /dev/shm file) across fork; and what
 * mprotect may grant a shared map of a read-only file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Unicorn translates guest atomics for one CPU: two processes running them on the same shared
 * word at the same instant are not atomic with respect to each other (a pyemu limit), so the
 * processes here never contend: they are sequenced by futex waits and sleeps. */
struct shared {
    unsigned go;           /* a futex word, waited on without FUTEX_PRIVATE_FLAG */
    long slots[3];
};

static void wait_all(int n) {
    for (int i = 0; i < n; i++) {
        int st;
        wait(&st);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("child failed: %#x\n", st);
    }
}

static void anonymous(void) {
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    for (int c = 0; c < 3; c++) {
        if (fork() == 0) {
            while (!s->go) syscall(SYS_futex, &s->go, FUTEX_WAIT, 0, NULL, NULL, 0);
            s->slots[c] = 1000 * (c + 1) + s->go;
            _exit(0);
        }
    }
    usleep(200000);
    s->go = 7;
    long woken = syscall(SYS_futex, &s->go, FUTEX_WAKE, 10, NULL, NULL, 0);
    wait_all(3);
    printf("anonymous: slots %ld %ld %ld\n", s->slots[0], s->slots[1], s->slots[2]);
    (void)woken;
}

static void named_semaphore(void) {
    char name[64];
    snprintf(name, sizeof name, "/pyemu-test-%d", getpid());
    sem_t *sem = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    sem_unlink(name);
    pid_t p = fork();
    if (p == 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 20;
        _exit(sem_timedwait(sem, &t) == 0 ? 0 : 1);
    }
    usleep(100000);
    sem_post(sem);
    int st;
    waitpid(p, &st, 0);
    printf("sem_open: child status %d\n", WEXITSTATUS(st));
}

static void read_only_file(void) {
    char path[] = "shared-XXXXXX";
    int fd = mkstemp(path);
    write(fd, "file contents", 13);
    int ro = open(path, O_RDONLY);
    char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
    int rc = mprotect(r, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect rw of a shared read-only map: %d %s, reads '%.13s'\n", rc,
           rc ? strerror(errno) : "", r);
    r = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ro, 0);
    rc = mprotect(r, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect rw of a private map: %d\n", rc);
    unlink(path);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    anonymous();
    named_semaphore();
    read_only_file();
    return 0;
}
