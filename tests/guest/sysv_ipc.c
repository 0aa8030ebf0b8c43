/*
 * SysV IPC: shared memory (attached in a forked child too: the same bytes), semaphores (with a
 * child blocked on one), message queues; the *ctl commands' structs; MIPS's ipc() multiplexer.
 * Objects are IPC_PRIVATE and removed at the end; ids and times are printed as facts only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static void shared_memory(void)
{
    struct shmid_ds ds;
    struct shm_info info;
    struct shminfo limits;
    char *p, *q, *hole, *target;
    pid_t child;
    int id, status;
    long page = sysconf(_SC_PAGESIZE);

    printf("-- shared memory\n");
    id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0640);
    printf("shmget ok: %d\n", id >= 0);
    SHOW(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
    SHOW(shmget(0x7a7a0001, 100, 0));
    p = shmat(id, NULL, 0);
    printf("shmat ok: %d aligned: %d\n", p != (void *)-1, ((uintptr_t)p % page) == 0);
    strcpy(p, "written by the parent");
    p[2 * page] = 'x';
    SHOW(shmctl(id, IPC_STAT, &ds));
    printf("  segsz=%zu nattch=%lu mode=%o cpid=%d lpid=%d uid=%u key=%d atime=%d dtime=%d\n",
           (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777,
           ds.shm_cpid == getpid(), ds.shm_lpid == getpid(), (unsigned)ds.shm_perm.uid,
           ds.shm_perm.__key, ds.shm_atime > 0, ds.shm_dtime > 0);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct shmid_ds cds;
        shmctl(id, IPC_STAT, &cds);
        printf("child sees [%s] nattch=%lu\n", p, (unsigned long)cds.shm_nattch);
        strcpy(p + 100, "written by the child");
        q = shmat(id, NULL, SHM_RDONLY);
        printf("child second attach reads [%s]\n", q + 100);
        shmdt(q);
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, &status, 0);
    printf("parent sees [%s]\n", p + 100);
    q = shmat(id, NULL, SHM_RDONLY);
    printf("read-only attach: [%s] same bytes: %d\n", q, memcmp(p, q, 200) == 0);
    SHOW(shmdt(q));
    SHOW(shmdt(q));
    SHOW(shmdt(p + 1));
    ds.shm_perm.mode = 0604;
    SHOW(shmctl(id, IPC_SET, &ds));
    SHOW(shmctl(id, IPC_STAT, &ds));
    printf("  mode=%o nattch=%lu\n", ds.shm_perm.mode & 0777, (unsigned long)ds.shm_nattch);
    SHOW(shmctl(id, SHM_INFO, (struct shmid_ds *)&info) >= 0);
    printf("  used_ids>0=%d\n", info.used_ids > 0);
    SHOW(shmctl(0, IPC_INFO, (struct shmid_ds *)&limits) >= 0);
    printf("  shmmin=%lu shmmni>0=%d\n", (unsigned long)limits.shmmin, limits.shmmni > 0);
    SHOW(shmctl(id, 99, &ds));
    SHOW(shmat(id, (void *)(p + 1), 0) == (void *)-1);
    /* fixed addresses: in a hole, aligned to the largest SHMLBA (MIPS's 256K); SHM_REMAP, as
     * qemu's reserved guest range makes a plain fixed attach fail on 32-bit guests */
    hole = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, 4 << 20);
    target = (char *)(((uintptr_t)hole + 0x3ffff) & ~(uintptr_t)0x3ffff);
    q = shmat(id, target + 1, SHM_RND | SHM_REMAP);
    printf("SHM_RND attach: at the rounded address %d reads [%s]\n", q == target, q);
    q = shmat(id, target, SHM_REMAP);
    printf("SHM_REMAP attach over it: %d\n", q == target);
    SHOW(shmctl(id, IPC_STAT, &ds));
    printf("  nattch=%lu\n", (unsigned long)ds.shm_nattch);
    SHOW(shmdt(target));
    SHOW(shmdt(target));
    SHOW(shmdt(p));
    SHOW(shmctl(id, IPC_RMID, NULL));
    SHOW(shmctl(id, IPC_STAT, &ds));
    SHOW(shmat(id, NULL, 0) == (void *)-1);
}

static void semaphores(void)
{
    unsigned short vals[3] = {1, 2, 3}, back[3];
    struct sembuf op[2];
    struct semid_ds ds;
    struct seminfo info;
    struct timespec ts = {0, 20000000};
    union semun arg;
    pid_t child;
    int id, status, woke;

    printf("-- semaphores\n");
    id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    printf("semget ok: %d\n", id >= 0);
    arg.array = vals;
    SHOW(semctl(id, 0, SETALL, arg));
    arg.array = back;
    SHOW(semctl(id, 0, GETALL, arg));
    printf("  values %u %u %u\n", back[0], back[1], back[2]);
    SHOW(semctl(id, 2, GETVAL));
    arg.val = 7;
    SHOW(semctl(id, 1, SETVAL, arg));
    SHOW(semctl(id, 1, GETVAL));
    arg.val = -1;
    SHOW(semctl(id, 1, SETVAL, arg));
    op[0].sem_num = 0; op[0].sem_op = -1; op[0].sem_flg = SEM_UNDO;
    op[1].sem_num = 1; op[1].sem_op = 3; op[1].sem_flg = 0;
    SHOW(semop(id, op, 2));
    printf("  values %d %d %d\n", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL),
           semctl(id, 2, GETVAL));
    SHOW(semctl(id, 0, GETPID) == getpid());
    op[0].sem_op = -1; op[0].sem_flg = IPC_NOWAIT;
    SHOW(semop(id, op, 1));
    SHOW(semtimedop(id, op, 1, &ts));
    ts.tv_nsec = 2000000000;
    SHOW(semtimedop(id, op, 1, &ts));
    SHOW(semop(id, op, 0));
    op[0].sem_num = 9;
    SHOW(semop(id, op, 1));
    SHOW(semctl(id, 0, GETNCNT));
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct sembuf wait_op = {2, -5, 0};
        semop(id, &wait_op, 1);           /* blocks until the parent adds enough */
        printf("child got through: value %d\n", semctl(id, 2, GETVAL));
        fflush(stdout);
        _exit(0);
    }
    while (semctl(id, 2, GETNCNT) != 1)
        usleep(1000);
    printf("a waiter: ncnt=%d\n", semctl(id, 2, GETNCNT));
    fflush(stdout);
    op[0].sem_num = 2; op[0].sem_op = 4; op[0].sem_flg = 0;
    woke = semop(id, op, 1);           /* printed after the child's line */
    waitpid(child, &status, 0);
    printf("semop that woke it: %d; child exited %d\n", woke, WEXITSTATUS(status));
    arg.buf = &ds;
    SHOW(semctl(id, 0, IPC_STAT, arg));
    printf("  nsems=%lu mode=%o uid=%u otime=%d ctime=%d\n", (unsigned long)ds.sem_nsems,
           ds.sem_perm.mode & 0777, (unsigned)ds.sem_perm.uid, ds.sem_otime > 0,
           ds.sem_ctime > 0);
    ds.sem_perm.mode = 0640;
    SHOW(semctl(id, 0, IPC_SET, arg));
    SHOW(semctl(id, 0, IPC_STAT, arg));
    printf("  mode=%o\n", ds.sem_perm.mode & 0777);
    arg.__buf = &info;
    SHOW(semctl(0, 0, IPC_INFO, arg) >= 0);
    printf("  semmsl>0=%d semopm>0=%d semvmx=%d\n", info.semmsl > 0, info.semopm > 0,
           info.semvmx);
    SHOW(semctl(0, 0, SEM_INFO, arg) >= 0);
    SHOW(semctl(id, 0, IPC_RMID));
    SHOW(semctl(id, 0, GETVAL));
    op[0].sem_num = 0;
    SHOW(semop(id, op, 1));
}

struct message {
    long mtype;
    char mtext[64];
};

static void message_queues(void)
{
    struct message m;
    struct msqid_ds ds;
    struct msginfo info;
    pid_t child;
    int id, status, sent[2];
    ssize_t n;

    printf("-- message queues\n");
    id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    printf("msgget ok: %d\n", id >= 0);
    m.mtype = 1; strcpy(m.mtext, "first, type 1");
    SHOW(msgsnd(id, &m, strlen(m.mtext) + 1, 0));
    m.mtype = 2; strcpy(m.mtext, "second, type 2");
    SHOW(msgsnd(id, &m, strlen(m.mtext) + 1, 0));
    m.mtype = 0x12345678; strcpy(m.mtext, "big type");
    SHOW(msgsnd(id, &m, strlen(m.mtext) + 1, 0));
    m.mtype = 0;
    SHOW(msgsnd(id, &m, 4, 0));
    SHOW(msgctl(id, IPC_STAT, &ds));
    printf("  qnum=%lu cbytes=%lu qbytes>0=%d lspid=%d mode=%o stime=%d\n",
           (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes, ds.msg_qbytes > 0,
           ds.msg_lspid == getpid(), ds.msg_perm.mode & 0777, ds.msg_stime > 0);
    memset(&m, 0, sizeof m);
    n = msgrcv(id, &m, sizeof m.mtext, 2, 0);
    printf("msgrcv type 2: %zd type=%ld [%s]\n", n, m.mtype, m.mtext);
    n = msgrcv(id, &m, 5, 0, 0);
    printf("msgrcv too small: %zd %s\n", n, n < 0 ? strerror(errno) : "");
    n = msgrcv(id, &m, 5, 0, MSG_NOERROR);
    printf("msgrcv MSG_NOERROR: %zd type=%ld [%.5s]\n", n, m.mtype, m.mtext);
    n = msgrcv(id, &m, sizeof m.mtext, 1, MSG_EXCEPT);
    printf("msgrcv MSG_EXCEPT 1: %zd type=%#lx [%s]\n", n, m.mtype, m.mtext);
    n = msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT);
    printf("msgrcv empty: %zd %s\n", n, strerror(errno));
    SHOW(msgrcv(id, &m, -1, 0, IPC_NOWAIT));
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct message cm;
        ssize_t cn = msgrcv(id, &cm, sizeof cm.mtext, -5, 0);   /* blocks */
        printf("child received %zd type=%ld [%s]\n", cn, cm.mtype, cm.mtext);
        fflush(stdout);
        _exit(0);
    }
    usleep(20000);
    m.mtype = 9; strcpy(m.mtext, "not for the child");
    sent[0] = msgsnd(id, &m, strlen(m.mtext) + 1, 0);
    m.mtype = 4; strcpy(m.mtext, "for the child");
    sent[1] = msgsnd(id, &m, strlen(m.mtext) + 1, 0);
    waitpid(child, &status, 0);               /* the child's line first, then ours */
    printf("msgsnd while the child waits: %d %d\n", sent[0], sent[1]);
    SHOW(msgctl(id, IPC_STAT, &ds));
    printf("  qnum=%lu lspid is me=%d\n", (unsigned long)ds.msg_qnum, ds.msg_lspid == getpid());
    ds.msg_qbytes = 4000;
    ds.msg_perm.mode = 0640;
    SHOW(msgctl(id, IPC_SET, &ds));
    SHOW(msgctl(id, IPC_STAT, &ds));
    printf("  qbytes=%lu mode=%o\n", (unsigned long)ds.msg_qbytes, ds.msg_perm.mode & 0777);
    SHOW(msgctl(0, IPC_INFO, (struct msqid_ds *)&info) >= 0);
    printf("  msgmax>0=%d msgseg>0=%d\n", info.msgmax > 0, info.msgseg > 0);
    SHOW(msgctl(id, IPC_RMID, NULL));
    SHOW(msgsnd(id, &m, 4, 0));
    SHOW(msgget(0x7a7a0002, 0));
}

/* Another thread of the same process blocks on a semaphore and on a message queue; this one
 * wakes it (the blocked thread must not keep the others from running). */
static int thread_sem, thread_msq;

static void *waiter(void *arg)
{
    struct sembuf down = {0, -1, 0};
    struct message m;
    long r = semop(thread_sem, &down, 1);
    ssize_t n = msgrcv(thread_msq, &m, sizeof m.mtext, 0, 0);
    printf("thread: semop %ld, msgrcv %zd [%s]\n", r, n, n > 0 ? m.mtext : "");
    (void)arg;
    return NULL;
}

static void threads(void)
{
    struct sembuf up = {0, 1, 0};
    struct message m = {5, "from the main thread"};
    pthread_t t;

    printf("-- threads\n");
    thread_sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    thread_msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    pthread_create(&t, NULL, waiter, NULL);
    while (semctl(thread_sem, 0, GETNCNT) != 1)
        usleep(1000);
    semop(thread_sem, &up, 1);
    usleep(20000);
    msgsnd(thread_msq, &m, strlen(m.mtext) + 1, 0);
    pthread_join(t, NULL);
    printf("joined\n");
    semctl(thread_sem, 0, IPC_RMID);
    msgctl(thread_msq, IPC_RMID, NULL);
}

/* ipc()'s call numbers (linux/ipc.h, which cannot be included next to <sys/ipc.h>) */
#define IPC_CALL_MSGSND 11
#define IPC_CALL_MSGRCV 12

/* The calls as the ABI's own syscalls, where libc goes through something else (MIPS: glibc
 * uses ipc() for all of them), and ipc()'s old MSGRCV form with struct ipc_kludge. */
static void direct(void)
{
#if defined(SYS_ipc) && defined(SYS_shmget)
    struct shmid_ds ds;
    struct message m;
    struct { void *msgp; long msgtyp; } kludge = {&m, 0};
    unsigned short vals[2] = {4, 5};
    struct sembuf op = {1, -2, 0};
    char *p;
    long id, r;

    printf("-- direct syscalls\n");
    id = syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    p = (char *)syscall(SYS_shmat, id, 0, 0);
    strcpy(p, "direct");
    SHOW(syscall(SYS_shmctl, id, IPC_STAT | 0x100, &ds));
    printf("  segsz=%zu nattch=%lu mode=%o [%s]\n", (size_t)ds.shm_segsz,
           (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777, p);
    SHOW(syscall(SYS_shmdt, p));
    SHOW(syscall(SYS_shmctl, id, IPC_RMID, NULL));
    id = syscall(SYS_semget, IPC_PRIVATE, 2, IPC_CREAT | 0600);
    SHOW(syscall(SYS_semctl, id, 0, SETALL | 0x100, vals));
    SHOW(syscall(SYS_semtimedop_time64, id, &op, 1, NULL));
    SHOW(syscall(SYS_semctl, id, 1, GETVAL, 0));
    SHOW(syscall(SYS_semctl, id, 0, IPC_RMID, 0));
    id = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
    m.mtype = 3; strcpy(m.mtext, "via ipc()");
    SHOW(syscall(SYS_ipc, IPC_CALL_MSGSND, id, 10, 0, &m, 0));
    memset(&m, 0, sizeof m);
    r = syscall(SYS_ipc, IPC_CALL_MSGRCV, id, sizeof m.mtext, 0, &kludge, 0);
    printf("ipc MSGRCV (kludge): %ld type=%ld [%s]\n", r, m.mtype, m.mtext);
    m.mtype = 6; strcpy(m.mtext, "direct msgsnd");
    SHOW(syscall(SYS_msgsnd, id, &m, 14, 0));
    memset(&m, 0, sizeof m);
    r = syscall(SYS_ipc, IPC_CALL_MSGRCV | (1 << 16), id, sizeof m.mtext, 0, &m, 6);
    printf("ipc MSGRCV (version 1): %ld type=%ld [%s]\n", r, m.mtype, m.mtext);
    SHOW(syscall(SYS_msgctl, id, IPC_RMID, NULL));
    SHOW(syscall(SYS_ipc, 99, 0, 0, 0, NULL, 0));
#endif
}

#if defined(SYS_semtimedop_time64)     /* the 32-bit ABIs: the old structs without IPC_64 */
#if defined(__arm__)
typedef unsigned short old_id_t, old_mode_t, old_pid_t;
#else
typedef unsigned int old_id_t, old_mode_t;
typedef int old_pid_t;
#endif
struct old_ipc_perm { int key; old_id_t uid, gid, cuid, cgid; old_mode_t mode; unsigned short seq; };
struct old_shmid_ds {
    struct old_ipc_perm perm; int segsz; long atime, dtime, ctime; old_pid_t cpid, lpid;
    unsigned short nattch, unused; void *unused2, *unused3;
};
struct old_semid_ds {
    struct old_ipc_perm perm; long otime, ctime; void *base, *pending, *last, *undo;
    unsigned short nsems;
};
struct old_msqid_ds {
    struct old_ipc_perm perm; void *first, *last; long stime, rtime, ctime;
    unsigned long lcbytes, lqbytes; unsigned short cbytes, qnum, qbytes; old_pid_t lspid, lrpid;
};
struct old_shminfo { int shmmax, shmmin, shmmni, shmseg, shmall; };
#endif

/* Where qemu-user 7.2 differs from the kernel, checked against pyemu alone: shmat(NULL,
 * SHM_REMAP) is EINVAL; a fixed attach in a free range needs no SHM_REMAP (qemu's reserved
 * guest range makes it fail on 32-bit guests); AArch64's msg_lrpid (qemu's target_msqid_ds has
 * word-sized pids); and the old structs a 32-bit ABI's *ctl means without IPC_64 (qemu has
 * none). */
static void qemu_differs(void)
{
    struct msqid_ds mds;
    struct message m = {1, "hello"};
    char *p, *hole, *target;
    pid_t child;
    int shm, sem, msq, status;

    printf("-- where qemu differs\n");
    shm = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    SHOW(shmat(shm, NULL, SHM_REMAP) == (void *)-1);
    hole = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, 4 << 20);
    target = (char *)(((uintptr_t)hole + 0x3ffff) & ~(uintptr_t)0x3ffff);
    p = shmat(shm, target, 0);
    printf("fixed attach in a free range: %d\n", p == target);
    SHOW(shmat(shm, target, 0) == (void *)-1);
    msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    msgsnd(msq, &m, 6, 0);
    msgsnd(msq, &m, 6, 0);
    child = fork();
    if (child == 0) {
        msgrcv(msq, &m, sizeof m.mtext, 0, 0);
        _exit(0);
    }
    waitpid(child, &status, 0);
    msgctl(msq, IPC_STAT, &mds);
    printf("lrpid is the child: %d\n", mds.msg_lrpid == child);
    sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
#if defined(SYS_semtimedop_time64)
    {
        struct old_shmid_ds os;
        struct old_semid_ds ss;
        struct old_msqid_ds ms;
        struct old_shminfo info;
        memset(&os, 0xee, sizeof os);
        SHOW(syscall(SYS_shmctl, shm, IPC_STAT, &os));
        printf("  old shmid_ds: segsz=%d mode=%o uid=%u nattch=%u cpid is me=%d key=%d\n",
               os.segsz, (unsigned)os.perm.mode & 0777, (unsigned)os.perm.uid, os.nattch,
               os.cpid == getpid(), os.perm.key);
        os.perm.mode = 0640;
        SHOW(syscall(SYS_shmctl, shm, IPC_SET, &os));
        SHOW(syscall(SYS_shmctl, shm, IPC_STAT, &os));
        printf("  mode now %o\n", (unsigned)os.perm.mode & 0777);
        SHOW(syscall(SYS_shmctl, shm, IPC_INFO, &info) >= 0);
        printf("  old shminfo: shmmin=%d shmmni>0=%d\n", info.shmmin, info.shmmni > 0);
        memset(&ss, 0xee, sizeof ss);
        SHOW(syscall(SYS_semctl, sem, 0, IPC_STAT, &ss));
        printf("  old semid_ds: nsems=%u mode=%o ctime=%d\n", ss.nsems,
               (unsigned)ss.perm.mode & 0777, ss.ctime > 0);
        memset(&ms, 0xee, sizeof ms);
        SHOW(syscall(SYS_msgctl, msq, IPC_STAT, &ms));
        printf("  old msqid_ds: qnum=%u cbytes=%u qbytes>0=%d lspid is me=%d mode=%o\n",
               ms.qnum, ms.cbytes, ms.qbytes > 0, ms.lspid == getpid(),
               (unsigned)ms.perm.mode & 0777);
    }
#endif
    shmdt(p);
    shmctl(shm, IPC_RMID, NULL);
    semctl(sem, 0, IPC_RMID);
    msgctl(msq, IPC_RMID, NULL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) {
        qemu_differs();
        return 0;
    }
    shared_memory();
    semaphores();
    message_queues();
    threads();
    direct();
    return 0;
}
