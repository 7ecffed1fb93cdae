// A small pool of spinning worker threads for the library's parallel sections (see CKernels.h).
#include "CKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MAX_WORKERS 255
// How long an idle worker keeps polling before it sleeps on its condition variable. A training step issues a few
// parallel sections well under a millisecond apart; waking a sleeping thread costs tens of microseconds on a VM.
#define SPIN_NANOSECONDS 500000L

typedef struct {
    _Atomic unsigned long posted;   // sequence number of the latest run this worker takes part in
    _Atomic unsigned long done;     // sequence number of the latest run it finished
    _Atomic int sleeping;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    long participant;               // 1…workers (the caller is 0)
    unsigned long initial;          // the sequence when the worker was started: it waits for the next one
} worker_slot;

static struct {
    pthread_mutex_t run;            // one run at a time; a second caller falls back (vae_pool_run returns nonzero)
    pthread_mutex_t start;          // guards starting workers
    _Atomic int started;
    worker_slot slots[MAX_WORKERS];
    // The current run, written by the caller before it posts the sequence number.
    vae_pool_task task;
    void *context;
    long count;
    long participants;
    unsigned long sequence;
} pool = {.run = PTHREAD_MUTEX_INITIALIZER, .start = PTHREAD_MUTEX_INITIALIZER};

static long nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000L + now.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void run_share(long participant) {
    for (long index = participant; index < pool.count; index += pool.participants) pool.task(pool.context, index);
}

static void *worker_main(void *argument) {
    worker_slot *slot = argument;
    unsigned long seen = slot->initial;
    for (;;) {
        long spin_start = nanoseconds();
        unsigned int spins = 0;
        while (atomic_load_explicit(&slot->posted, memory_order_acquire) == seen) {
            relax();
            if ((++spins & 255) == 0 && nanoseconds() - spin_start > SPIN_NANOSECONDS) {
                pthread_mutex_lock(&slot->mutex);
                atomic_store(&slot->sleeping, 1);
                while (atomic_load(&slot->posted) == seen) pthread_cond_wait(&slot->wake, &slot->mutex);
                atomic_store(&slot->sleeping, 0);
                pthread_mutex_unlock(&slot->mutex);
                spin_start = nanoseconds();
            }
        }
        seen = atomic_load_explicit(&slot->posted, memory_order_acquire);
        if (slot->participant < pool.participants) run_share(slot->participant);
        atomic_store_explicit(&slot->done, seen, memory_order_release);
    }
    return 0;
}

static int ensure_workers(long workers) {
    if (atomic_load(&pool.started) >= workers) return 0;
    pthread_mutex_lock(&pool.start);
    int failed = 0;
    while (atomic_load(&pool.started) < workers) {
        worker_slot *slot = &pool.slots[atomic_load(&pool.started)];
        pthread_mutex_init(&slot->mutex, 0);
        pthread_cond_init(&slot->wake, 0);
        slot->participant = atomic_load(&pool.started) + 1;
        slot->initial = pool.sequence;
        atomic_store(&slot->posted, pool.sequence);
        atomic_store(&slot->done, pool.sequence);
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, 8 << 20);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attributes, worker_main, slot) != 0) { failed = 1; pthread_attr_destroy(&attributes); break; }
        pthread_attr_destroy(&attributes);
        atomic_fetch_add(&pool.started, 1);
    }
    pthread_mutex_unlock(&pool.start);
    return failed;
}

int vae_pool_run(long count, long threads, vae_pool_task task, void *context) {
    if (count <= 0) return 0;
    long participants = threads < count ? threads : count;
    if (participants < 1) participants = 1;
    if (participants > MAX_WORKERS + 1) participants = MAX_WORKERS + 1;
    if (pthread_mutex_trylock(&pool.run) != 0) return 1;
    if (ensure_workers(participants - 1) != 0) { pthread_mutex_unlock(&pool.run); return 1; }
    pool.task = task;
    pool.context = context;
    pool.count = count;
    pool.participants = participants;
    unsigned long sequence = ++pool.sequence;
    // Only this run's workers are posted; the others keep sleeping (or finish their spin and go to sleep). A worker
    // compares the posted number with the last one it saw, so skipping runs leaves it in step.
    long workers = participants - 1;
    for (long w = 0; w < workers; w++) {
        worker_slot *slot = &pool.slots[w];
        atomic_store(&slot->posted, sequence);   // sequentially consistent: pairs with the worker's `sleeping` store
        if (atomic_load(&slot->sleeping)) {
            pthread_mutex_lock(&slot->mutex);
            pthread_cond_signal(&slot->wake);
            pthread_mutex_unlock(&slot->mutex);
        }
    }
    run_share(0);
    for (long w = 0; w < workers; w++) {
        while (atomic_load_explicit(&pool.slots[w].done, memory_order_acquire) != sequence) relax();
    }
    pthread_mutex_unlock(&pool.run);
    return 0;
}
