/*
 * sim/core: the event kernel every other room stands on.
 *
 * Owns: simulated time (int64 nanoseconds), the event queue, per-component
 * random streams, memory (checked allocation, arenas, fixed-size pools),
 * errors that carry a source position, and logging with a simulated-time
 * prefix.
 *
 * Invariants:
 *  - Time never goes backwards: an event may not be scheduled before `now`.
 *  - Events fire in (time, seq) order; seq is a 64-bit insertion counter, so
 *    equal times fire in the order they were scheduled (or rescheduled).
 *  - Nothing here reads the wall clock, iterates a hash table or compares
 *    pointers, so a run is a pure function of scenario, seed and binary.
 *  - A random stream's draws depend only on (scenario seed, stream name):
 *    adding or removing another stream never changes them.
 */
#ifndef SIM_CORE_H
#define SIM_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time ---------------------------------------------------------------- */

typedef int64_t sim_time;

#define SIM_NS ((sim_time)1)
#define SIM_US ((sim_time)1000)
#define SIM_MS ((sim_time)1000000)
#define SIM_SEC ((sim_time)1000000000)
#define SIM_MIN (60 * SIM_SEC)
#define SIM_HOUR (3600 * SIM_SEC)
#define SIM_TIME_MAX INT64_MAX

static inline double sim_time_to_s(sim_time t) { return (double)t / 1e9; }
/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
int64_t sim_days_from_civil(int64_t y, int64_t m, int64_t d);

/* ---- errors -------------------------------------------------------------- */

enum sim_err_kind {
	SIM_OK = 0,
	SIM_EINPUT,    /* bad scenario, trace or command line: exit 2 */
	SIM_EIO,       /* a file could not be read or written: exit 2 */
	SIM_EINTERNAL, /* an inconsistency we detected and could report: exit 1 */
};

/*
 * A returned error. `msg` is complete and ready to print, already in the
 * form "file:line:col: what is wrong" when a position is known.
 */
struct sim_err {
	enum sim_err_kind kind;
	char msg[1024];
};

void sim_err_clear(struct sim_err *e);
/* Sets the error unless one is already set (the first error wins). Returns -1. */
int sim_err_set(struct sim_err *e, enum sim_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sim_err_at(struct sim_err *e, const char *file, int line, int col,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int sim_err_vat(struct sim_err *e, enum sim_err_kind kind, const char *file,
		int line, int col, const char *fmt, va_list ap);
int sim_err_exit_code(const struct sim_err *e);

/* Bugs: abort with file, line and (when known) simulated time. */
void sim_bug(const char *file, int line, const char *cond)
	__attribute__((noreturn));
#define SIM_ASSERT(c) ((c) ? (void)0 : sim_bug(__FILE__, __LINE__, #c))

/* ---- memory -------------------------------------------------------------- */

/* Allocation never returns NULL: out of memory aborts with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow *p (holding *cap elements of `size`) to hold at least `need`. */
void xgrow(void **p, size_t *cap, size_t need, size_t size);
#define XGROW(p, cap, need) xgrow((void **)&(p), &(cap), (need), sizeof(*(p)))

/* Arena: many small allocations freed together (config trees, names). */
struct sim_arena {
	struct sim_arena_block *head;
	size_t used; /* bytes in use in head */
};
void sim_arena_init(struct sim_arena *a);
void sim_arena_release(struct sim_arena *a);
void *sim_arena_alloc(struct sim_arena *a, size_t n); /* zeroed, 16-aligned */
char *sim_arena_strdup(struct sim_arena *a, const char *s);
char *sim_arena_strndup(struct sim_arena *a, const char *s, size_t n);

/*
 * Pool: fixed-size objects (requests, events) with O(1) get/put and stable
 * addresses. Objects are handed out in a deterministic order (LIFO reuse).
 */
struct sim_pool {
	size_t obj_size;
	size_t per_chunk;
	void **chunks;
	size_t nchunks, chunk_cap;
	void *free_list;
	size_t live;
};
void sim_pool_init(struct sim_pool *p, size_t obj_size, size_t per_chunk);
void sim_pool_release(struct sim_pool *p);
void *sim_pool_get(struct sim_pool *p); /* zeroed */
void sim_pool_put(struct sim_pool *p, void *obj);

/* SHA-256 of data as 64 lowercase hex digits and a NUL (FIPS 180-4). */
void sim_sha256_hex(const void *data, size_t n, char out[65]);

/* ---- random streams ------------------------------------------------------ */

struct sim_rng; /* wraps one GSL generator */

/* Stable 64-bit hash (FNV-1a then a splitmix64 finaliser). */
uint64_t sim_hash64(const void *data, size_t n, uint64_t seed);
uint64_t sim_hash_str(const char *s, uint64_t seed);

/* One independent stream, seeded from hash(seed, name). */
struct sim_rng *sim_rng_new(uint64_t seed, const char *name);
void sim_rng_free(struct sim_rng *r);
double sim_rng_uniform(struct sim_rng *r);     /* [0, 1) */
double sim_rng_uniform_pos(struct sim_rng *r); /* (0, 1) */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n); /* [0, n), n >= 1 */
double sim_rng_exponential(struct sim_rng *r, double mean);
double sim_rng_gaussian(struct sim_rng *r, double sigma);
double sim_rng_gamma(struct sim_rng *r, double shape, double scale);
double sim_rng_lognormal(struct sim_rng *r, double mu, double sigma);
/* The GSL generator itself, for gsl_ran_* functions not wrapped here. */
void *sim_rng_gsl(struct sim_rng *r);

/* ---- event queue --------------------------------------------------------- */

struct sim;
typedef void (*sim_event_fn)(struct sim *s, void *ctx, uint64_t arg);

/* A handle stays valid until its event fires or is cancelled; a stale
 * handle is recognised (generation check) and ignored. */
typedef struct {
	uint32_t slot;
	uint32_t gen;
} sim_handle;
#define SIM_HANDLE_NONE ((sim_handle){UINT32_MAX, 0})

struct sim_evslot {
	sim_event_fn fn;
	void *ctx;
	uint64_t arg;
	uint32_t heap_idx; /* UINT32_MAX when free */
	uint32_t gen;
};

struct sim_heapent {
	sim_time t;
	uint64_t seq;
	uint32_t slot;
};

struct sim_evq {
	struct sim_heapent *heap;
	size_t n, cap;
	struct sim_evslot *slots;
	size_t nslots, slot_cap;
	uint32_t *free_slots;
	size_t nfree, free_cap;
	uint64_t next_seq;
};

void sim_evq_init(struct sim_evq *q);
void sim_evq_release(struct sim_evq *q);
sim_handle sim_evq_push(struct sim_evq *q, sim_time t, sim_event_fn fn,
			void *ctx, uint64_t arg);
/* Removes the earliest event; returns false when empty. */
bool sim_evq_pop(struct sim_evq *q, sim_time *t, sim_event_fn *fn, void **ctx,
		 uint64_t *arg);
bool sim_evq_peek_time(const struct sim_evq *q, sim_time *t);
bool sim_evq_cancel(struct sim_evq *q, sim_handle h);
/* Moves a pending event to time t with a fresh seq; false if h is stale. */
bool sim_evq_reschedule(struct sim_evq *q, sim_handle h, sim_time t);
bool sim_evq_pending(const struct sim_evq *q, sim_handle h);
static inline size_t sim_evq_size(const struct sim_evq *q) { return q->n; }
/* Debug: checks the heap property and slot back-pointers. */
bool sim_evq_check(const struct sim_evq *q);

/* ---- the simulation loop ------------------------------------------------- */

struct sim {
	struct sim_evq q;
	sim_time now;
	sim_time end;      /* events after this are not processed */
	uint64_t events_processed;
	uint64_t seed;
	bool stopped;
};

void sim_init(struct sim *s, uint64_t seed);
void sim_release(struct sim *s);
/* Schedule at an absolute time >= now (asserted). */
sim_handle sim_schedule(struct sim *s, sim_time t, sim_event_fn fn, void *ctx,
			uint64_t arg);
sim_handle sim_schedule_in(struct sim *s, sim_time dt, sim_event_fn fn,
			   void *ctx, uint64_t arg);
bool sim_cancel(struct sim *s, sim_handle h);
bool sim_reschedule(struct sim *s, sim_handle h, sim_time t);
/* Runs events in order until the queue is empty, `until` is passed or
 * sim_stop() is called. `now` ends at the last event's time (or `until` if
 * the queue still holds later events). */
void sim_run(struct sim *s, sim_time until);
void sim_stop(struct sim *s);
/* The simulation running in this thread, for the time in messages from
 * sim_bug() and logging; it never reaches a result. */
extern _Thread_local const struct sim *sim_current;

/* ---- logging ------------------------------------------------------------- */

enum sim_log_level { SIM_LOG_ERROR, SIM_LOG_WARN, SIM_LOG_INFO, SIM_LOG_DEBUG };
extern enum sim_log_level sim_log_threshold;
/* Writes "[  12.345678s] warn: message" to stderr when level passes. */
void sim_log(enum sim_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Formats t as seconds with microsecond precision into buf. */
const char *sim_time_fmt(sim_time t, char *buf, size_t n);

#endif
