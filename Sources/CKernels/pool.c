// A small pool of spinning worker threads for the library's parallel sections (see CKernels.h).
#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MAX_WORKERS 255
// How long an idle worker keeps polling before it sleeps on its condition variable. A training step issues a few
// parallel sections well under a millisecond apart; waking a sleeping thread costs tens of microseconds on a VM.
#define SPIN_NANOSECONDS 500000L

// Cache-line aligned, with `posted` (written by the caller) and `done` (written by the worker) on separate lines.
typedef struct {
    _Alignas(64) _Atomic unsigned long posted;   // sequence number of the latest run this worker takes part in
    _Alignas(64) _Atomic unsigned long done;     // sequence number of the latest run it finished
    _Atomic int sleeping;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    long participant;               // 1…workers (the caller is 0)
    unsigned long initial;          // the sequence when the worker was started: it waits for the next one
    int initialized;                // mutex and condition variable set up (once, even if pthread_create fails)
} worker_slot;

static struct {
    pthread_mutex_t run;            // one run at a time; a second caller falls back (vae_pool_run returns nonzero)
    _Atomic int started;
    worker_slot slots[MAX_WORKERS];
    // The current run, written by the caller before it posts the sequence number.
    vae_pool_task task;
    void *context;
    long count;
    long participants;
    unsigned long sequence;
} pool = {.run = PTHREAD_MUTEX_INITIALIZER};

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

// A forked child has none of the parent's threads: it starts its own workers on first use.
static void reset_after_fork(void) {
    atomic_store(&pool.started, 0);
    pthread_mutex_init(&pool.run, 0);
    for (long w = 0; w < MAX_WORKERS; w++) {
        if (!pool.slots[w].initialized) continue;
        pthread_mutex_init(&pool.slots[w].mutex, 0);
        pthread_cond_init(&pool.slots[w].wake, 0);
        atomic_store(&pool.slots[w].sleeping, 0);
    }
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) { pthread_atfork(0, 0, reset_after_fork); }

// Called with `pool.run` held, so one caller at a time starts workers.
static int ensure_workers(long workers) {
    pthread_once(&fork_handler_once, install_fork_handler);
    if (atomic_load(&pool.started) >= workers) return 0;
    int failed = 0;
    while (atomic_load(&pool.started) < workers) {
        worker_slot *slot = &pool.slots[atomic_load(&pool.started)];
        if (!slot->initialized) {
            pthread_mutex_init(&slot->mutex, 0);
            pthread_cond_init(&slot->wake, 0);
            slot->initialized = 1;
        }
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
        // Poll, then yield: when the cores are oversubscribed the worker needs this core's time to finish.
        for (unsigned int spins = 0; atomic_load_explicit(&pool.slots[w].done, memory_order_acquire) != sequence; spins++) {
            if (spins < 4096) relax(); else sched_yield();
        }
    }
    pthread_mutex_unlock(&pool.run);
    return 0;
}
