/* sim/server: schedules by hand with a constant-time perf model, KV
 * accounting, preemption, prefix caching, fast stepping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static struct cfg_doc doc;

struct world {
	struct sim sim;
	struct perf_model pm;
	struct srv_params sp;
	struct srv_replica *r;
	int finished;
};

static void on_finished(void *ctx, struct srv_replica *r, struct srv_req *q)
{
	struct world *w = ctx;
	(void)r;
	(void)q;
	w->finished++;
}

static void engine_defaults(struct srv_engine_config *e)
{
	struct cfg_ctx c;
	struct sim_err err;
	sim_err_clear(&err);
	cfg_ctx_init(&c, &doc, &err);
	memset(e, 0, sizeof(*e));
	cfg_defaults(&c, &srv_engine_schema, e);
	e->max_model_len = 100000;
	e->tensor_parallel_size = 1;
}

/* A replica of llama-3-8b on one H100; constant 10 ms steps unless roofline. */
static void world_init(struct world *w, bool constant, int64_t blocks, void (*tune)(struct srv_engine_config *))
{
	struct cfg_ctx c;
	struct sim_err err;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"t", 1, 1}};
	struct perf_config pc = {constant ? PERF_CONSTANT : PERF_ROOFLINE, NULL, 1.0, 0, 10 * SIM_MS};
	struct srv_hooks h = {w, NULL, on_finished};
	memset(w, 0, sizeof(*w));
	sim_err_clear(&err);
	cfg_ctx_init(&c, &doc, &err);
	assert_int_equal(perf_model_init(&w->pm, perf_find_gpu(&c, &at, "h100-sxm", NULL),
					 perf_find_llm(&c, &at, "llama-3-8b", NULL), 1, PERF_BF16, PERF_BF16, &pc, &err), 0);
	engine_defaults(&w->sp.engine);
	if (tune)
		tune(&w->sp.engine);
	w->sp.perf = &w->pm;
	w->sp.num_blocks = blocks;
	w->sp.fast_stepping = true;
	sim_init(&w->sim, 1);
	w->r = srv_new(&w->sim, &w->sp, 0, &h);
}

static void world_release(struct world *w)
{
	srv_free(w->r);
	sim_release(&w->sim);
	perf_model_release(&w->pm);
}

static void req_init(struct srv_req *q, int64_t id, int64_t prompt, int64_t output)
{
	srv_req_init(q);
	q->id = id;
	q->prompt = prompt;
	q->output = output;
}

struct arrival {
	struct world *w;
	struct srv_req *q;
};

static void on_arrive(struct sim *s, void *ctx, uint64_t arg)
{
	struct arrival *a = ctx;
	(void)arg;
	a->q->arrival = s->now;
	assert_true(srv_submit(a->w->r, a->q));
}

static void budget_100(struct srv_engine_config *e)
{
	e->max_num_batched_tokens = 100;
	e->max_num_seqs = 100;
}

static void chunked_schedule_by_hand(void **state)
{
	struct world w;
	struct srv_req a, b;
	struct arrival aa, ab;
	(void)state;
	world_init(&w, true, 1000, budget_100);
	req_init(&a, 1, 250, 3);
	req_init(&b, 2, 30, 2);
	aa = (struct arrival){&w, &a};
	ab = (struct arrival){&w, &b};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	sim_schedule(&w.sim, 5 * SIM_MS, on_arrive, &ab, 0);
	sim_run(&w.sim, SIM_TIME_MAX);
	/* A: chunks 100, 100, 50 in steps ending 10, 20, 30 ms; decodes end 40, 50 */
	assert_int_equal(a.first_scheduled, 0);
	assert_int_equal(a.first_token, 30 * SIM_MS);
	assert_int_equal(a.finish, 50 * SIM_MS);
	/* B arrives at 5 ms; the step at 10 ms has no budget left (A takes 100);
	 * at 20 ms A takes 50 and B its 30: first token at 30, done at 40 */
	assert_int_equal(b.first_scheduled, 20 * SIM_MS);
	assert_int_equal(b.first_token, 30 * SIM_MS);
	assert_int_equal(b.finish, 40 * SIM_MS);
	assert_int_equal(w.finished, 2);
	world_release(&w);
}

static void seats_2(struct srv_engine_config *e)
{
	e->max_num_seqs = 2;
}

static void seq_limit_by_hand(void **state)
{
	struct world w;
	struct srv_req q[3];
	struct arrival a[3];
	(void)state;
	world_init(&w, true, 1000, seats_2);
	for (int i = 0; i < 3; i++) {
		req_init(&q[i], i, 10, 5);
		a[i] = (struct arrival){&w, &q[i]};
		sim_schedule(&w.sim, 0, on_arrive, &a[i], 0);
	}
	sim_run(&w.sim, SIM_TIME_MAX);
	/* A and B: prefill step [0,10), four decode steps: done at 50 ms */
	assert_int_equal(q[0].first_token, 10 * SIM_MS);
	assert_int_equal(q[0].finish, 50 * SIM_MS);
	assert_int_equal(q[1].finish, 50 * SIM_MS);
	/* C waits for a seat: admitted in the step that starts at 50 ms */
	assert_int_equal(q[2].first_scheduled, 50 * SIM_MS);
	assert_int_equal(q[2].first_token, 60 * SIM_MS);
	assert_int_equal(q[2].finish, 100 * SIM_MS);
	world_release(&w);
}

static void no_chunking(struct srv_engine_config *e)
{
	e->enable_chunked_prefill = false;
	e->max_num_batched_tokens = 4096;
}

static void prefill_steps_of_their_own_without_chunking(void **state)
{
	struct world w;
	struct srv_req a, b;
	struct arrival aa, ab;
	(void)state;
	world_init(&w, true, 1000, no_chunking);
	req_init(&a, 1, 100, 10);
	req_init(&b, 2, 100, 10);
	aa = (struct arrival){&w, &a};
	ab = (struct arrival){&w, &b};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	sim_schedule(&w.sim, 25 * SIM_MS, on_arrive, &ab, 0);
	sim_run(&w.sim, SIM_TIME_MAX);
	/* A: prefill [0,10), decodes from 10. B arrives at 25; the step at 30 is
	 * B's prefill alone (A's decode waits), so A's tokens stall one step. */
	assert_int_equal(b.first_scheduled, 30 * SIM_MS);
	assert_int_equal(b.first_token, 40 * SIM_MS);
	assert_int_equal(a.finish, (10 + 9 * 10 + 10) * SIM_MS);
	world_release(&w);
}

/* Runs until idle, checking the KV invariant at every millisecond. */
static void run_checked(struct world *w)
{
	while (sim_evq_size(&w->sim.q) > 0) {
		sim_run(&w->sim, w->sim.now + SIM_MS);
		assert_true(srv_check(w->r));
	}
}

static void small_blocks(struct srv_engine_config *e)
{
	e->block_size = 4;
}

static void preemption_recompute_and_resume(void **state)
{
	struct world w;
	struct srv_req a, b;
	struct arrival aa, ab;
	struct srv_stats st;
	(void)state;
	/* 6 blocks of 4 tokens; each request needs 5 at its end: both cannot */
	world_init(&w, true, 6, small_blocks);
	req_init(&a, 1, 8, 12);
	req_init(&b, 2, 8, 12);
	aa = (struct arrival){&w, &a};
	ab = (struct arrival){&w, &b};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	sim_schedule(&w.sim, 0, on_arrive, &ab, 0);
	run_checked(&w);
	assert_int_equal(w.finished, 2);
	assert_int_equal(a.preemptions, 0);
	assert_int_equal(b.preemptions, 1); /* the newer one goes */
	assert_true(b.finish > a.finish);
	assert_int_equal(a.generated, 12);
	assert_int_equal(b.generated, 12);
	srv_stats(w.r, &st);
	assert_int_equal(st.kv_blocks_used, 0);
	assert_int_equal(st.preemptions_total, 1);
	/* recompute: B prefilled its prompt and the tokens it had generated again */
	assert_true(st.prompt_tokens_total > 16);
	world_release(&w);
}

static void small_blocks_swap(struct srv_engine_config *e)
{
	e->block_size = 4;
	e->preemption_mode = SRV_PREEMPT_SWAP;
}

static void preemption_swap(void **state)
{
	struct world w;
	struct srv_req a, b;
	struct arrival aa, ab;
	struct srv_stats st;
	(void)state;
	world_init(&w, true, 6, small_blocks_swap);
	req_init(&a, 1, 8, 12);
	req_init(&b, 2, 8, 12);
	aa = (struct arrival){&w, &a};
	ab = (struct arrival){&w, &b};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	sim_schedule(&w.sim, 0, on_arrive, &ab, 0);
	run_checked(&w);
	assert_int_equal(w.finished, 2);
	assert_int_equal(b.preemptions, 1);
	srv_stats(w.r, &st);
	/* swapped back in, not recomputed: no prompt tokens beyond the two prompts */
	assert_int_equal(st.prompt_tokens_total, 16);
	assert_int_equal(st.num_requests_swapped, 0);
	world_release(&w);
}

static void prefix_blocks_are_shared(void **state)
{
	struct world w;
	struct srv_req a, b, c;
	struct arrival aa, ab, ac;
	uint64_t h[4] = {11, 12, 13, 14}, other[4] = {11, 12, 99, 98};
	struct srv_stats st;
	(void)state;
	world_init(&w, true, 1000, NULL); /* block 16, prefix caching on */
	req_init(&a, 1, 64, 2);
	req_init(&b, 2, 64, 2);
	req_init(&c, 3, 64, 2);
	a.hashes = b.hashes = h;
	c.hashes = other;
	a.nids = b.nids = c.nids = 4;
	a.hash_block = b.hash_block = c.hash_block = 16;
	aa = (struct arrival){&w, &a};
	ab = (struct arrival){&w, &b};
	ac = (struct arrival){&w, &c};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	sim_schedule(&w.sim, 100 * SIM_MS, on_arrive, &ab, 0);
	sim_schedule(&w.sim, 200 * SIM_MS, on_arrive, &ac, 0);
	run_checked(&w);
	assert_int_equal(a.cached, 0);
	/* the whole prompt is cached, but the last token is always computed:
	 * three of the four blocks hit */
	assert_int_equal(b.cached, 48);
	assert_int_equal(c.cached, 32); /* the chain diverges at block 2 */
	srv_stats(w.r, &st);
	assert_int_equal(st.prompt_tokens_total, 64 + 16 + 32);
	assert_int_equal(st.prefix_cache_hits, 80);
	assert_int_equal(st.kv_blocks_used, 0);
	assert_true(st.kv_blocks_cached >= 4); /* kept for later hits, evictable */
	world_release(&w);
}

static void too_long_is_rejected(void **state)
{
	struct world w;
	struct srv_req q;
	(void)state;
	world_init(&w, true, 10, NULL);
	req_init(&q, 1, 150, 20); /* 170 tokens > 10 blocks of 16 */
	assert_false(srv_submit(w.r, &q));
	w.sp.engine.max_model_len = 100;
	world_release(&w);
}

/* A random workload that preempts: identical records fast and step by step. */
struct rec {
	sim_time first_scheduled, first_token, finish;
	int32_t preemptions;
	int64_t cached;
};

static struct srv_stats last_stats;
static uint64_t last_events;

/* sim_run, one event at a time; with `probe`, the replica's statistics are
 * read after every event (they must change nothing). */
static void run_probed(struct world *w, bool probe)
{
	sim_time t;
	sim_event_fn fn;
	void *ctx;
	uint64_t arg;
	while (sim_evq_pop(&w->sim.q, &t, &fn, &ctx, &arg)) {
		w->sim.now = t;
		w->sim.events_processed++;
		fn(&w->sim, ctx, arg);
		if (probe) {
			struct srv_stats st;
			srv_stats(w->r, &st);
			assert_int_equal(st.kv_blocks_used + st.kv_blocks_free + st.kv_blocks_cached, st.kv_blocks_total);
		}
	}
}

static void random_workload_probed(bool fast, bool probe, struct rec *out, int n)
{
	struct world w;
	struct srv_req *q = calloc((size_t)n, sizeof(*q));
	struct arrival *a = calloc((size_t)n, sizeof(*a));
	struct sim_rng *rng = sim_rng_new(5, "test");
	static uint64_t h[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	sim_time t = 0;
	world_init(&w, false, 400, small_blocks);
	srv_set_fast_stepping(w.r, fast);
	for (int i = 0; i < n; i++) {
		req_init(&q[i], i, 10 + (int64_t)sim_rng_below(rng, 300), 1 + (int64_t)sim_rng_below(rng, 200));
		if (i % 3 == 0) {
			q[i].hashes = h;
			q[i].nids = 8;
			q[i].hash_block = 4;
		}
		a[i] = (struct arrival){&w, &q[i]};
		t += (sim_time)sim_rng_exponential(rng, 2e7);
		sim_schedule(&w.sim, t, on_arrive, &a[i], 0);
	}
	run_probed(&w, probe);
	assert_int_equal(w.finished, n);
	for (int i = 0; i < n; i++)
		out[i] = (struct rec){q[i].first_scheduled, q[i].first_token, q[i].finish, q[i].preemptions, q[i].cached};
	srv_stats(w.r, &last_stats);
	last_events = w.sim.events_processed;
	sim_rng_free(rng);
	free(q);
	free(a);
	world_release(&w);
}

static void random_workload(bool fast, struct rec *out, int n)
{
	random_workload_probed(fast, false, out, n);
}

static void fast_stepping_changes_nothing(void **state)
{
	enum { N = 400 };
	static struct rec fast[N], slow[N];
	int preempted = 0;
	struct srv_stats fs;
	(void)state;
	random_workload(true, fast, N);
	fs = last_stats;
	random_workload(false, slow, N);
	/* the metrics too: histograms, counters, busy time */
	assert_int_equal(fs.hist[SRV_H_TTFT].count, N);
	assert_int_equal(fs.hist[SRV_H_E2E].count, N);
	assert_int_equal(fs.requests_success_total, N);
	assert_true(fs.hist[SRV_H_TPOT].count > N);
	for (int k = 0; k < SRV_H_KINDS; k++) {
		assert_int_equal(fs.hist[k].count, last_stats.hist[k].count);
		assert_memory_equal(fs.hist[k].counts, last_stats.hist[k].counts, sizeof(fs.hist[k].counts));
		assert_true(fs.hist[k].sum == last_stats.hist[k].sum || fabs(fs.hist[k].sum / last_stats.hist[k].sum - 1) < 1e-12);
	}
	assert_int_equal(fs.busy_time, last_stats.busy_time);
	assert_int_equal(fs.generation_tokens_total, last_stats.generation_tokens_total);
	assert_int_equal(fs.steps_total, last_stats.steps_total);
	for (int i = 0; i < N; i++) {
		assert_int_equal(fast[i].first_scheduled, slow[i].first_scheduled);
		assert_int_equal(fast[i].first_token, slow[i].first_token);
		assert_int_equal(fast[i].finish, slow[i].finish);
		assert_int_equal(fast[i].preemptions, slow[i].preemptions);
		assert_int_equal(fast[i].cached, slow[i].cached);
		preempted += fast[i].preemptions > 0;
	}
	assert_true(preempted > 0); /* the test exercises preemption */
}

/* ---- the server's part of a request ---- */

static void req_init_is_outside(void **state)
{
	struct srv_req q;
	(void)state;
	memset(&q, 0x5a, sizeof(q));
	srv_req_init(&q);
	assert_int_equal(q.replica, -1);
	assert_int_equal(q.arrival, -1);
	assert_int_equal(q.first_scheduled, -1);
	assert_int_equal(q.first_token, -1);
	assert_int_equal(q.finish, -1);
	assert_int_equal(q.generated, 0);
	assert_null(q.hashes);
	assert_null(q.priv.hblocks);
	assert_int_equal(q.priv.nheld, 0);
	assert_false(srv_req_inside(&q));
	srv_req_release(&q); /* nothing to free: harmless */
}

/* Runs until q has prefix blocks registered (it is running, prefilled). */
static void run_until_held(struct world *w, struct srv_req *q)
{
	while (q->priv.nheld == 0 && sim_evq_size(&w->sim.q) > 0)
		sim_run(&w->sim, w->sim.now + SIM_MS);
	assert_true(q->priv.nheld > 0);
}

static struct srv_req *taken[4];
static size_t ntaken;

static void on_taken(void *ctx, struct srv_req *q)
{
	(void)ctx;
	taken[ntaken++] = q;
}

static void hedge_copy_is_fresh(void **state)
{
	struct world w;
	struct srv_req a, b;
	struct arrival aa;
	uint64_t h[4] = {21, 22, 23, 24};
	(void)state;
	world_init(&w, true, 1000, NULL);
	req_init(&a, 1, 64, 20);
	a.hashes = h;
	a.nids = 4;
	a.hash_block = 16;
	a.user = &aa;
	aa = (struct arrival){&w, &a};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	run_until_held(&w, &a);
	assert_true(srv_req_inside(&a));
	assert_int_equal(a.replica, 0);

	srv_req_clone(&b, &a);
	/* the description is a's */
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.prompt, 64);
	assert_int_equal(b.output, 20);
	assert_int_equal(b.arrival, a.arrival);
	assert_ptr_equal(b.hashes, h);
	assert_ptr_equal(b.user, &aa);
	/* no progress, nothing of a's replica */
	assert_int_equal(b.replica, -1);
	assert_int_equal(b.first_scheduled, -1);
	assert_int_equal(b.first_token, -1);
	assert_int_equal(b.finish, -1);
	assert_int_equal(b.generated, 0);
	assert_false(srv_req_inside(&b));
	assert_null(b.priv.hblocks);
	assert_int_equal(b.priv.nheld, 0);
	assert_null(b.priv.rprev);
	assert_null(b.priv.rnext);
	assert_false(b.priv.decoding);

	/* the copy runs on its own and hits a's cached prefix */
	assert_true(srv_submit(w.r, &b));
	assert_true(srv_req_inside(&b));
	run_checked(&w);
	assert_int_equal(w.finished, 2);
	assert_false(srv_req_inside(&a));
	assert_false(srv_req_inside(&b));
	assert_int_equal(b.cached, 48);
	srv_req_release(&a);
	srv_req_release(&b);
	world_release(&w);
}

static void taken_out_request_is_submitted_again(void **state)
{
	struct world w, w2;
	struct srv_req a;
	struct arrival aa;
	uint64_t h[4] = {31, 32, 33, 34};
	(void)state;
	world_init(&w, true, 1000, NULL);
	req_init(&a, 1, 64, 20);
	a.hashes = h;
	a.nids = 4;
	a.hash_block = 16;
	aa = (struct arrival){&w, &a};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	run_until_held(&w, &a);
	ntaken = 0;
	srv_abort_all(w.r, on_taken, NULL);
	assert_int_equal(ntaken, 1);
	assert_ptr_equal(taken[0], &a);
	assert_false(srv_req_inside(&a));
	assert_null(a.priv.hblocks); /* what it held went back with it */
	assert_true(srv_check(w.r));
	world_release(&w);

	/* disaggregation's retry: the whole path again, on another replica */
	srv_req_rewind(&a);
	assert_false(srv_req_inside(&a));
	a.generated = 0;
	world_init(&w2, true, 1000, NULL);
	assert_true(srv_submit(w2.r, &a));
	assert_true(srv_req_inside(&a));
	run_checked(&w2);
	assert_int_equal(w2.finished, 1);
	assert_int_equal(a.generated, 20);
	world_release(&w2);
}

static void release_after_the_replica_is_gone(void **state)
{
	struct world w;
	struct srv_req a;
	struct arrival aa;
	uint64_t h[4] = {41, 42, 43, 44};
	(void)state;
	world_init(&w, true, 1000, NULL);
	req_init(&a, 1, 64, 50);
	a.hashes = h;
	a.nids = 4;
	a.hash_block = 16;
	aa = (struct arrival){&w, &a};
	sim_schedule(&w.sim, 0, on_arrive, &aa, 0);
	run_until_held(&w, &a);
	assert_non_null(a.priv.hblocks);
	world_release(&w); /* the run ends with a inside */
	srv_req_release(&a); /* its block array is freed (make san: no leak) */
	assert_null(a.priv.hblocks);
	assert_int_equal(a.priv.nheld, 0);
}

/* ---- srv_stats is pure ---- */

static void assert_stats_equal(const struct srv_stats *a, const struct srv_stats *b)
{
	assert_int_equal(a->num_requests_running, b->num_requests_running);
	assert_int_equal(a->num_requests_waiting, b->num_requests_waiting);
	assert_int_equal(a->num_requests_swapped, b->num_requests_swapped);
	assert_true(a->kv_cache_usage_perc == b->kv_cache_usage_perc);
	assert_int_equal(a->kv_blocks_total, b->kv_blocks_total);
	assert_int_equal(a->kv_blocks_used, b->kv_blocks_used);
	assert_int_equal(a->kv_blocks_cached, b->kv_blocks_cached);
	assert_int_equal(a->kv_blocks_free, b->kv_blocks_free);
	assert_int_equal(a->prompt_tokens_total, b->prompt_tokens_total);
	assert_int_equal(a->generation_tokens_total, b->generation_tokens_total);
	assert_int_equal(a->prefix_cache_queries, b->prefix_cache_queries);
	assert_int_equal(a->prefix_cache_hits, b->prefix_cache_hits);
	assert_int_equal(a->preemptions_total, b->preemptions_total);
	assert_int_equal(a->steps_total, b->steps_total);
	assert_int_equal(a->requests_success_total, b->requests_success_total);
	assert_int_equal(a->busy_time, b->busy_time);
	for (int k = 0; k < SRV_H_KINDS; k++) {
		assert_int_equal(a->hist[k].count, b->hist[k].count);
		assert_memory_equal(a->hist[k].counts, b->hist[k].counts, sizeof(a->hist[k].counts));
		assert_true(a->hist[k].sum == b->hist[k].sum);
	}
}

/* The event queue, as far as anyone can tell: size, sequence numbers, every
 * pending event's time and seq. */
struct evq_print {
	size_t n, nslots, nfree;
	uint64_t next_seq;
	struct sim_heapent heap[64];
};

static void evq_print(const struct sim_evq *q, struct evq_print *p)
{
	memset(p, 0, sizeof(*p));
	assert_true(q->n <= 64);
	p->n = q->n;
	p->nslots = q->nslots;
	p->nfree = q->nfree;
	p->next_seq = q->next_seq;
	memcpy(p->heap, q->heap, q->n * sizeof(*q->heap));
}

struct probe {
	struct world *w;
	int64_t steps_before; /* steps_total the pure read reports beyond the last settled */
	bool moved;           /* srv_sync changed the queue: the probe was inside a stretch */
};

/* At a time inside a decode stretch: a read leaves the queue as it was and
 * gives what sync-then-read gives. */
static void on_probe(struct sim *s, void *ctx, uint64_t arg)
{
	struct probe *p = ctx;
	struct evq_print before, after;
	struct srv_stats pure, again, synced;
	(void)s;
	(void)arg;
	evq_print(&p->w->sim.q, &before);
	srv_stats(p->w->r, &pure);
	srv_stats(p->w->r, &again);
	evq_print(&p->w->sim.q, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_stats_equal(&pure, &again);
	assert_int_equal(pure.kv_blocks_used + pure.kv_blocks_free + pure.kv_blocks_cached, pure.kv_blocks_total);
	srv_sync(p->w->r);
	evq_print(&p->w->sim.q, &after);
	p->moved = memcmp(&before, &after, sizeof(before)) != 0;
	srv_stats(p->w->r, &synced);
	assert_stats_equal(&pure, &synced);
	assert_true(srv_check(p->w->r));
	p->steps_before = pure.steps_total;
}

static void stats_mid_stretch(sim_time at, int64_t steps, bool roofline)
{
	struct world w;
	struct srv_req q[4];
	struct arrival a[4];
	struct probe p = {&w, -1, false};
	world_init(&w, !roofline, 1000, NULL);
	for (int i = 0; i < 4; i++) {
		req_init(&q[i], i, 20 + 10 * i, 200);
		a[i] = (struct arrival){&w, &q[i]};
		sim_schedule(&w.sim, 0, on_arrive, &a[i], 0);
	}
	/* one prefill step [0, 10 ms), then decode-only steps: one stretch */
	sim_schedule(&w.sim, at, on_probe, &p, 0);
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_true(p.moved);
	if (steps >= 0)
		assert_int_equal(p.steps_before, steps);
	assert_int_equal(w.finished, 4);
	world_release(&w);
}

static void stats_are_pure_mid_stretch(void **state)
{
	(void)state;
	/* the prefill step and 3 decode steps have ended; the 4th is in flight */
	stats_mid_stretch(45 * SIM_MS, 1 + 3, false);
	/* exactly at a boundary: 5 decode steps ended, the next begins now */
	stats_mid_stretch(60 * SIM_MS, 1 + 5, false);
	/* inside the stretch's first step: nothing ended yet */
	stats_mid_stretch(15 * SIM_MS, 1, false);
	/* varying step times */
	stats_mid_stretch(123456789, -1, true);
	stats_mid_stretch(987654321, -1, true);
}

static void reading_stats_changes_no_result(void **state)
{
	enum { N = 300 };
	static struct rec plain[N], probed[N];
	struct srv_stats ps;
	uint64_t pe;
	(void)state;
	random_workload_probed(true, false, plain, N);
	ps = last_stats;
	pe = last_events;
	random_workload_probed(true, true, probed, N);
	assert_int_equal(pe, last_events);
	assert_stats_equal(&ps, &last_stats);
	for (int i = 0; i < N; i++) {
		assert_int_equal(plain[i].first_scheduled, probed[i].first_scheduled);
		assert_int_equal(plain[i].first_token, probed[i].first_token);
		assert_int_equal(plain[i].finish, probed[i].finish);
		assert_int_equal(plain[i].preemptions, probed[i].preemptions);
		assert_int_equal(plain[i].cached, probed[i].cached);
	}
}

static int teardown(void **state)
{
	(void)state;
	cfg_doc_release(&doc);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chunked_schedule_by_hand),
		cmocka_unit_test(seq_limit_by_hand),
		cmocka_unit_test(prefill_steps_of_their_own_without_chunking),
		cmocka_unit_test(preemption_recompute_and_resume),
		cmocka_unit_test(preemption_swap),
		cmocka_unit_test(prefix_blocks_are_shared),
		cmocka_unit_test(too_long_is_rejected),
		cmocka_unit_test(fast_stepping_changes_nothing),
		cmocka_unit_test(req_init_is_outside),
		cmocka_unit_test(hedge_copy_is_fresh),
		cmocka_unit_test(taken_out_request_is_submitted_again),
		cmocka_unit_test(release_after_the_replica_is_gone),
		cmocka_unit_test(stats_are_pure_mid_stretch),
		cmocka_unit_test(reading_stats_changes_no_result),
	};
	cfg_doc_init(&doc);
	return cmocka_run_group_tests_name("server: replica", tests, NULL, teardown);
}
