/*
 * One vLLM-like replica, stepped at engine-iteration granularity.
 *
 * Each step: (1) every decoding sequence takes one token; (2) partially
 * prefilled requests continue, oldest first; (3) waiting requests are
 * admitted while the token budget, max_num_seqs and KV blocks allow. When a
 * step needs blocks that are not there, the newest running request is
 * preempted (recompute: back to the front of the queue; swap: to CPU).
 * Without chunked prefill, prompts run whole in prefill-only steps before
 * decodes (vLLM v0).
 *
 * Decoding sequences are never walked: they live in aggregates (count,
 * total length), a heap keyed by the decode step at which each finishes,
 * and counts by (length - step) mod block_size, which tell how many new
 * blocks any step needs. A run of decode-only steps with nothing else to do
 * is one event; whatever changes the replica mid-run first brings it to the
 * last step boundary (srv_sync), so results equal stepping one by one.
 * srv_stats computes what that sync would settle without doing it.
 */
#include "server.h"

#include "kv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- histograms (vLLM's buckets) ---- */

static const double ttft_bounds[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
				     1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
static const double itl_bounds[] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
				    0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
static const double latency_bounds[] = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
					30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

const char *const srv_hist_names[SRV_H_KINDS] = {
	"vllm:time_to_first_token_seconds", "vllm:time_per_output_token_seconds",
	"vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds"};

const double *srv_hist_bounds(int kind, size_t *n)
{
	switch (kind) {
	case SRV_H_TTFT:
		*n = sizeof(ttft_bounds) / sizeof(double);
		return ttft_bounds;
	case SRV_H_TPOT:
		*n = sizeof(itl_bounds) / sizeof(double);
		return itl_bounds;
	default:
		*n = sizeof(latency_bounds) / sizeof(double);
		return latency_bounds;
	}
}

static void hist_add(struct srv_hist *h, int kind, double v, int64_t weight)
{
	size_t n, i = 0;
	const double *b = srv_hist_bounds(kind, &n);
	while (i < n && v > b[i]) /* le buckets: v <= bound */
		i++;
	h->counts[i] += weight;
	h->count += weight;
	h->sum += v * (double)weight;
}

struct chunk {
	struct srv_req *q;
	int64_t tokens, before;
};

struct srv_replica {
	struct sim *sim;
	struct srv_params p;
	int32_t id;
	struct srv_hooks hooks;
	struct kv_cache kv;
	int64_t bs, max_len;

	struct srv_req *wait_head, *wait_tail, *swap_head, *swap_tail;
	int64_t nwait, nswap, swap_blocks, swap_cap;
	int64_t reserved; /* GPU blocks held for KV transfers, in flight or queued */
	struct srv_req *run_head, *run_tail, *pre_head, *pre_tail;
	int64_t nrun, npre;

	/* decode set */
	int64_t ndec, S, sumlen;
	int64_t *bucket;
	struct srv_req **heap;
	size_t nheap, heap_cap;

	/* the step in flight */
	bool busy, begin_pending;
	sim_handle ev;
	sim_time step_start;
	struct chunk *chunks;
	size_t nchunks, chunk_cap;
	int64_t step_decodes;
	/* a run of decode-only steps: K steps from t0 at decode step S0 */
	bool stretch;
	int64_t stretch_k;
	sim_time stretch_t0;

	int64_t swap_out_tokens; /* swapped out while planning this step */
	int64_t ncancel;         /* running requests to take out after this step */
	bool planning;           /* decodes of the step being planned are scheduled */

	struct srv_stats st;
};

static void step_begin(struct srv_replica *r);
static void on_step_end(struct sim *s, void *ctx, uint64_t arg);
static void reap_cancelled(struct srv_replica *r);

/* ---- lists ---- */

#define LIST_PUSH_BACK(head, tail, q, prev, next) \
	do {                                      \
		(q)->prev = (tail);               \
		(q)->next = NULL;                 \
		if (tail)                         \
			(tail)->next = (q);       \
		else                              \
			(head) = (q);             \
		(tail) = (q);                     \
	} while (0)
#define LIST_PUSH_FRONT(head, tail, q, prev, next) \
	do {                                       \
		(q)->next = (head);                \
		(q)->prev = NULL;                  \
		if (head)                          \
			(head)->prev = (q);        \
		else                               \
			(tail) = (q);              \
		(head) = (q);                      \
	} while (0)
#define LIST_REMOVE(head, tail, q, prev, next)    \
	do {                                      \
		if ((q)->prev)                    \
			(q)->prev->next = (q)->next; \
		else                              \
			(head) = (q)->next;       \
		if ((q)->next)                    \
			(q)->next->prev = (q)->prev; \
		else                              \
			(tail) = (q)->prev;       \
		(q)->prev = (q)->next = NULL;     \
	} while (0)

static void wait_insert(struct srv_replica *r, struct srv_req *q, bool front)
{
	q->priv.state = SRV_WAITING;
	r->nwait++;
	if (r->p.engine.scheduling_policy == SRV_PRIORITY) {
		/* ordered by (priority, arrival, id): lower runs first, as in vLLM */
		struct srv_req *x = r->wait_head;
		while (x && (x->priority < q->priority ||
			     (x->priority == q->priority && (x->arrival < q->arrival ||
							     (x->arrival == q->arrival && x->id < q->id)))))
			x = x->priv.qnext;
		if (!x) {
			LIST_PUSH_BACK(r->wait_head, r->wait_tail, q, priv.qprev, priv.qnext);
		} else {
			q->priv.qnext = x;
			q->priv.qprev = x->priv.qprev;
			if (x->priv.qprev)
				x->priv.qprev->priv.qnext = q;
			else
				r->wait_head = q;
			x->priv.qprev = q;
		}
		return;
	}
	if (front)
		LIST_PUSH_FRONT(r->wait_head, r->wait_tail, q, priv.qprev, priv.qnext);
	else
		LIST_PUSH_BACK(r->wait_head, r->wait_tail, q, priv.qprev, priv.qnext);
}

/* ---- completion heap: (finish step, id) ---- */

static int64_t finish_step(const struct srv_req *q)
{
	/* joined at step J with `generated` g0 = len0 - prompt + 1 */
	int64_t g0 = q->priv.len0 - q->prompt + 1;
	return q->priv.join_step + (q->output - g0);
}

static bool hless(const struct srv_req *a, const struct srv_req *b)
{
	int64_t fa = finish_step(a), fb = finish_step(b);
	return fa < fb || (fa == fb && a->id < b->id);
}

static void hswap(struct srv_replica *r, size_t i, size_t j)
{
	struct srv_req *t = r->heap[i];
	r->heap[i] = r->heap[j];
	r->heap[j] = t;
	r->heap[i]->priv.heap_idx = (uint32_t)i;
	r->heap[j]->priv.heap_idx = (uint32_t)j;
}

static void hup(struct srv_replica *r, size_t i)
{
	while (i > 0 && hless(r->heap[i], r->heap[(i - 1) / 2])) {
		hswap(r, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void hdown(struct srv_replica *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < r->nheap && hless(r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < r->nheap && hless(r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		hswap(r, i, m);
		i = m;
	}
}

static void heap_push(struct srv_replica *r, struct srv_req *q)
{
	XGROW(r->heap, r->heap_cap, r->nheap + 1);
	r->heap[r->nheap] = q;
	q->priv.heap_idx = (uint32_t)r->nheap++;
	hup(r, r->nheap - 1);
}

static void heap_remove(struct srv_replica *r, struct srv_req *q)
{
	size_t i = q->priv.heap_idx;
	r->nheap--;
	if (i != r->nheap) {
		hswap(r, i, r->nheap);
		hup(r, i);
		hdown(r, i);
	}
}

/* ---- decode set ---- */

static int64_t mod(int64_t a, int64_t m)
{
	int64_t x = a % m;
	return x < 0 ? x + m : x;
}

static int64_t dec_len(const struct srv_replica *r, const struct srv_req *q)
{
	return q->priv.len0 + (r->S - q->priv.join_step);
}

static void dec_join(struct srv_replica *r, struct srv_req *q, int64_t len)
{
	q->priv.decoding = true;
	q->priv.join_step = r->S;
	q->priv.len0 = len;
	r->ndec++;
	r->sumlen += len;
	r->bucket[mod(len - r->S, r->bs)]++;
	heap_push(r, q);
}

/* Leaves the decode set; returns the request's length and sets generated. */
static int64_t dec_leave(struct srv_replica *r, struct srv_req *q)
{
	int64_t len = dec_len(r, q);
	r->ndec--;
	r->sumlen -= len;
	r->bucket[mod(q->priv.len0 - q->priv.join_step, r->bs)]--;
	heap_remove(r, q);
	q->priv.decoding = false;
	q->generated = len - q->prompt + 1;
	return len;
}

/* Blocks the decode step starting at decode-step count S needs. */
static int64_t dec_need(const struct srv_replica *r, int64_t S)
{
	return r->bucket[mod(-S, r->bs)];
}

/* ---- KV per request ---- */

static int64_t blocks_for(const struct srv_replica *r, int64_t tokens)
{
	return (tokens + r->bs - 1) / r->bs;
}

/* Releases every block of q whose KV length is len. */
static void kv_drop(struct srv_replica *r, struct srv_req *q, int64_t len)
{
	kv_free_anon(&r->kv, blocks_for(r, len) - q->priv.nheld);
	/* the prompt's tail blocks first, so the LRU evicts them before the head */
	while (q->priv.nheld > 0)
		kv_unref(&r->kv, q->priv.hblocks[--q->priv.nheld]);
}

/* The hash of q's i-th prompt block: from the request's chain, or derived
 * from its shared prefix (a block depends on the prefix and its index). */
static uint64_t block_hash(const struct srv_req *q, int32_t i, int64_t bs)
{
	uint64_t x[2] = {q->prefix_key, (uint64_t)i};
	if (q->hashes) {
		/* the id of the trace block holding this block's last token names the
		 * whole prefix up to there (ids are chained); with the index, it names
		 * this block, whatever the block sizes */
		x[0] = q->hashes[((int64_t)i + 1) * bs / q->hash_block - (((int64_t)i + 1) * bs % q->hash_block == 0)];
	}
	return sim_hash64(x, sizeof(x), 0x6b76);
}

static bool has_prefix(const struct srv_req *q)
{
	return q->hashes || q->prefix_key;
}

/* Registers q's prompt blocks that became full and have a prefix hash. */
static void kv_register(struct srv_replica *r, struct srv_req *q)
{
	int64_t full;
	if (!r->p.engine.enable_prefix_caching || !has_prefix(q))
		return;
	full = q->priv.computed / r->bs;
	if (full > q->nhashes)
		full = q->nhashes;
	while (q->priv.nheld < full) {
		struct kv_block *b = kv_promote(&r->kv, block_hash(q, q->priv.nheld, r->bs));
		if (!b)
			return; /* an identical block is cached already: ours stays private */
		if (!q->priv.hblocks)
			q->priv.hblocks = xcalloc((size_t)q->nhashes, sizeof(*q->priv.hblocks));
		q->priv.hblocks[q->priv.nheld++] = b;
	}
}

/* Prefix-cache hits at admission: full blocks whose hashes are cached. */
static void kv_lookup_prefix(struct srv_replica *r, struct srv_req *q, int64_t target)
{
	int64_t max_hit;
	if (!r->p.engine.enable_prefix_caching || !has_prefix(q) || q->priv.computed > 0)
		return;
	max_hit = (target - 1) / r->bs; /* at least one token is always computed */
	if (max_hit > q->nhashes)
		max_hit = q->nhashes;
	while (q->priv.nheld < max_hit) {
		struct kv_block *b = kv_lookup(&r->kv, block_hash(q, q->priv.nheld, r->bs));
		if (!b)
			break;
		kv_ref(&r->kv, b);
		if (!q->priv.hblocks)
			q->priv.hblocks = xcalloc((size_t)q->nhashes, sizeof(*q->priv.hblocks));
		q->priv.hblocks[q->priv.nheld++] = b;
	}
	q->priv.computed = q->priv.nheld * r->bs;
}

/* ---- preemption ---- */

static int64_t prefill_target(const struct srv_req *q)
{
	return q->prompt + q->generated;
}

static void run_remove(struct srv_replica *r, struct srv_req *q)
{
	LIST_REMOVE(r->run_head, r->run_tail, q, priv.rprev, priv.rnext);
	r->nrun--;
}

static void preempt(struct srv_replica *r, struct srv_req *q)
{
	int64_t len;
	run_remove(r, q);
	r->st.preemptions_total++;
	q->preemptions++;
	if (q->priv.decoding) {
		len = dec_leave(r, q);
		if (r->planning && r->step_decodes > 0) {
			/* it was scheduled in this step: give back its token and block */
			r->step_decodes--;
			if (len % r->bs == 0)
				kv_free_anon(&r->kv, 1);
		}
		if (r->p.engine.preemption_mode == SRV_PREEMPT_SWAP &&
		    r->swap_blocks + blocks_for(r, len) <= r->swap_cap) {
			/* blocks go to host memory; they come back as private blocks */
			kv_drop(r, q, len);
			r->swap_blocks += blocks_for(r, len);
			r->swap_out_tokens += blocks_for(r, len) * r->bs;
			q->priv.computed = len;
			q->priv.state = SRV_SWAPPED;
			r->nswap++;
			LIST_PUSH_BACK(r->swap_head, r->swap_tail, q, priv.qprev, priv.qnext);
			return;
		}
	} else {
		LIST_REMOVE(r->pre_head, r->pre_tail, q, priv.pprev, priv.pnext);
		r->npre--;
		len = q->priv.computed;
	}
	kv_drop(r, q, len);
	q->priv.computed = 0;
	wait_insert(r, q, true);
}

/* Makes k blocks available by preempting the newest running requests other
 * than `keep`; false if even that is not enough. */
static bool make_room(struct srv_replica *r, int64_t k, struct srv_req *keep)
{
	/* the newest go first; if that is `keep` itself, the caller preempts it */
	while (kv_available(&r->kv) < k) {
		struct srv_req *v = r->run_tail;
		if (!v || v == keep)
			return false;
		preempt(r, v);
	}
	return true;
}

/* ---- finishing ---- */

static void finish(struct srv_replica *r, struct srv_req *q, int64_t len)
{
	run_remove(r, q);
	kv_drop(r, q, len);
	free(q->priv.hblocks);
	q->priv.hblocks = NULL;
	q->finish = r->sim->now;
	q->priv.state = SRV_DONE;
	q->status = SRV_COMPLETED;
	if (q->priv.cancelled) { /* it lost a race it just finished: nothing to report */
		q->priv.cancelled = false;
		r->ncancel--;
		return;
	}
	r->st.requests_success_total++;
	hist_add(&r->st.hist[SRV_H_E2E], SRV_H_E2E, sim_time_to_s(q->finish - q->arrival), 1);
	hist_add(&r->st.hist[SRV_H_QUEUE], SRV_H_QUEUE, sim_time_to_s(q->first_scheduled - q->arrival), 1);
	if (r->hooks.finished)
		r->hooks.finished(r->hooks.ctx, r, q);
}

/* A prefill finished this step: sample a token, then decode or finish. */
static void prefill_done(struct srv_replica *r, struct srv_req *q)
{
	LIST_REMOVE(r->pre_head, r->pre_tail, q, priv.pprev, priv.pnext);
	r->npre--;
	q->generated++;
	r->st.generation_tokens_total++;
	if (q->first_token < 0 && !q->priv.cancelled) {
		q->first_token = r->sim->now;
		hist_add(&r->st.hist[SRV_H_TTFT], SRV_H_TTFT, sim_time_to_s(q->first_token - q->arrival), 1);
		if (r->hooks.first_token)
			r->hooks.first_token(r->hooks.ctx, r, q);
	}
	if (q->generated >= q->output)
		finish(r, q, q->priv.computed);
	else
		dec_join(r, q, q->priv.computed);
}

static void decode_batch(int64_t ndec, int64_t sumlen, struct perf_batch *b);
static sim_time step_time(const struct srv_replica *r, struct perf_batch *b);

/* Inter-token latencies of k decode-only steps from the current state,
 * into st (the replica's own, or a copy being reported). */
static void observe_run(const struct srv_replica *r, struct srv_stats *st, int64_t k)
{
	struct perf_batch b;
	for (int64_t j = 0; j < k; j++) {
		decode_batch(r->ndec, r->sumlen + j * r->ndec, &b);
		hist_add(&st->hist[SRV_H_TPOT], SRV_H_TPOT, sim_time_to_s(step_time(r, &b)), r->ndec);
	}
}

/* Applies k decode-only steps' effects on the decode set (their blocks were
 * allocated when the steps were planned). */
static void decode_advance(struct srv_replica *r, int64_t k)
{
	r->S += k;
	r->sumlen += k * r->ndec;
	r->st.generation_tokens_total += k * r->ndec;
}

static void pop_finished(struct srv_replica *r)
{
	while (r->nheap && finish_step(r->heap[0]) <= r->S) {
		struct srv_req *q = r->heap[0];
		int64_t len = dec_leave(r, q);
		finish(r, q, len);
	}
}

/* ---- planning a step ---- */

static int64_t chunk_limit(const struct srv_replica *r, int64_t remaining, int64_t budget)
{
	int64_t c = remaining < budget ? remaining : budget;
	int64_t th = r->p.engine.long_prefill_token_threshold;
	if (th > 0 && c > th)
		c = th;
	return c;
}

static void add_chunk(struct srv_replica *r, struct srv_req *q, int64_t tokens)
{
	XGROW(r->chunks, r->chunk_cap, r->nchunks + 1);
	r->chunks[r->nchunks++] = (struct chunk){q, tokens, q->priv.computed};
}

/* Reserves blocks for a chunk of q; preempts newer requests if allowed. */
static bool reserve_chunk(struct srv_replica *r, struct srv_req *q, int64_t tokens, bool may_preempt)
{
	int64_t need = blocks_for(r, q->priv.computed + tokens) - blocks_for(r, q->priv.computed);
	if (kv_available(&r->kv) < need && (!may_preempt || !make_room(r, need, q)))
		return false;
	return kv_alloc(&r->kv, need);
}

static void admit(struct srv_replica *r, struct srv_req *q)
{
	LIST_REMOVE(r->wait_head, r->wait_tail, q, priv.qprev, priv.qnext);
	r->nwait--;
	q->priv.state = SRV_RUNNING;
	LIST_PUSH_BACK(r->run_head, r->run_tail, q, priv.rprev, priv.rnext);
	r->nrun++;
	LIST_PUSH_BACK(r->pre_head, r->pre_tail, q, priv.pprev, priv.pnext);
	r->npre++;
	if (q->first_scheduled < 0)
		q->first_scheduled = r->sim->now;
}

/* Waiting requests while budget, seats and blocks allow. */
static void admit_waiting(struct srv_replica *r, int64_t *budget, bool whole_prompts)
{
	while (r->wait_head && *budget > 0 && r->nrun < r->p.engine.max_num_seqs) {
		struct srv_req *q = r->wait_head;
		int64_t target = prefill_target(q), c;
		kv_lookup_prefix(r, q, target);
		c = chunk_limit(r, target - q->priv.computed, *budget);
		if (whole_prompts && c < target - q->priv.computed)
			break;
		if (!reserve_chunk(r, q, c, false)) {
			/* give back the prefix hits: it waits with nothing held */
			while (q->priv.nheld > 0)
				kv_unref(&r->kv, q->priv.hblocks[--q->priv.nheld]);
			q->priv.computed = 0;
			break;
		}
		if (r->p.engine.enable_prefix_caching && has_prefix(q)) {
			r->st.prefix_cache_queries += target;
			r->st.prefix_cache_hits += q->priv.computed;
		}
		if (q->preemptions == 0)
			q->cached = q->priv.computed;
		admit(r, q);
		add_chunk(r, q, c);
		*budget -= c;
	}
}

/* Swapped-out sequences come back first when their blocks fit, and decode
 * in this very step (as in vLLM v0). Returns the tokens moved over PCIe. */
static double swap_in(struct srv_replica *r, int64_t *budget)
{
	double tokens = 0;
	while (r->swap_head && r->nrun < r->p.engine.max_num_seqs && *budget > 0) {
		struct srv_req *q = r->swap_head;
		int64_t nb = blocks_for(r, q->priv.computed);
		int64_t now_need = q->priv.computed % r->bs == 0 ? 1 : 0; /* this step's token */
		if (!kv_alloc(&r->kv, (q->priv.transferred ? 0 : nb) + now_need))
			break;
		LIST_REMOVE(r->swap_head, r->swap_tail, q, priv.qprev, priv.qnext);
		r->nswap--;
		if (q->priv.transferred) { /* its blocks were reserved and filled over the network */
			q->priv.transferred = false;
			r->reserved -= nb;
			nb = 0;
		} else
			r->swap_blocks -= nb;
		q->priv.state = SRV_RUNNING;
		LIST_PUSH_BACK(r->run_head, r->run_tail, q, priv.rprev, priv.rnext);
		r->nrun++;
		dec_join(r, q, q->priv.computed);
		r->step_decodes++;
		*budget -= 1;
		tokens += (double)nb * (double)r->bs;
	}
	return tokens;
}

static sim_time step_time(const struct srv_replica *r, struct perf_batch *b)
{
	return perf_step_time(r->p.perf, b, NULL);
}

static void decode_batch(int64_t ndec, int64_t sumlen, struct perf_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->decodes = ndec;
	b->decode_ctx = sumlen;
	b->logits = ndec;
}

/* How many decode-only steps can run as one event, and their time. */
static int64_t plan_stretch(struct srv_replica *r, sim_time *total, int64_t *blocks)
{
	const int64_t cap = 1 << 16;
	/* free blocks only: evicting cached ones is left to single steps, so the
	 * cache evolves exactly as it would step by step */
	int64_t kmax = finish_step(r->heap[0]) - r->S, k, avail = kv_free(&r->kv), used = 0;
	sim_time t = 0;
	struct perf_batch b;
	if (kmax > cap)
		kmax = cap;
	for (k = 0; k < kmax; k++) {
		int64_t need = dec_need(r, r->S + k);
		if (used + need > avail)
			break; /* that step may preempt: it runs on its own */
		used += need;
		decode_batch(r->ndec, r->sumlen + k * r->ndec, &b);
		t += step_time(r, &b);
	}
	*total = t;
	*blocks = used;
	return k;
}

static void schedule_end(struct srv_replica *r, sim_time dt)
{
	r->planning = false;
	r->busy = true;
	r->step_start = r->sim->now;
	r->ev = sim_schedule(r->sim, r->sim->now + dt, on_step_end, r, 0);
}

static void step_begin(struct srv_replica *r)
{
	int64_t budget = r->p.engine.max_num_batched_tokens;
	struct perf_batch b;
	double swap_tokens = 0;
	sim_time dt;
	bool preempted_any;
	int64_t preempt0 = r->st.preemptions_total;

	r->nchunks = 0;
	r->step_decodes = 0;
	r->stretch = false;
	r->swap_out_tokens = 0;
	if (r->nrun == 0 && r->nwait == 0 && r->nswap == 0) {
		r->busy = false;
		return;
	}

	/* A run of decode-only steps with nothing else to do: one event. */
	if (r->p.fast_stepping && r->npre == 0 && r->nwait == 0 && r->nswap == 0 && r->ndec > 0) {
		sim_time total;
		int64_t blocks, k = plan_stretch(r, &total, &blocks);
		if (k >= 2) {
			SIM_ASSERT(kv_alloc(&r->kv, blocks)); /* the whole run's blocks, from free ones */
			r->stretch = true;
			r->stretch_k = k;
			r->stretch_t0 = r->sim->now;
			r->step_decodes = r->ndec;
			schedule_end(r, total);
			return;
		}
	}

	/* vLLM v0 without chunked prefill: whole prompts, in steps of their own. */
	if (!r->p.engine.enable_chunked_prefill && r->nswap == 0 && r->wait_head) {
		admit_waiting(r, &budget, true);
		if (r->nchunks > 0)
			goto run;
	}

	/* 1. decodes: one token each, blocks at boundaries, newest preempted first */
	if (r->ndec > 0) {
		int64_t need = dec_need(r, r->S);
		while (kv_available(&r->kv) < need && r->run_tail) {
			preempt(r, r->run_tail);
			need = dec_need(r, r->S);
		}
		if (r->ndec > 0) {
			SIM_ASSERT(kv_alloc(&r->kv, need));
			budget -= r->ndec;
			r->step_decodes = r->ndec;
			r->planning = true;
		}
	}
	/* 2. partial prefills, oldest first */
	for (struct srv_req *q = r->pre_head; q && budget > 0; q = q->priv.pnext) {
		int64_t c = chunk_limit(r, prefill_target(q) - q->priv.computed, budget);
		if (!reserve_chunk(r, q, c, true)) {
			/* everything newer is preempted already: q goes too, and nothing is left */
			preempt(r, q);
			break;
		}
		add_chunk(r, q, c);
		budget -= c;
	}
	preempted_any = r->st.preemptions_total != preempt0;
	/* 3. swapped sequences, then new ones, unless this step preempted */
	if (!preempted_any) {
		swap_tokens = swap_in(r, &budget);
		if (r->nswap == 0 && r->p.engine.enable_chunked_prefill)
			admit_waiting(r, &budget, false);
	}
	if (r->nchunks == 0 && r->step_decodes == 0 && swap_tokens == 0) {
		/* nothing fits: only possible while others hold every block */
		r->planning = false;
		r->busy = false;
		return;
	}
run:
	memset(&b, 0, sizeof(b));
	for (size_t i = 0; i < r->nchunks; i++) {
		const struct chunk *c = &r->chunks[i];
		b.prefill_tokens += c->tokens;
		b.prefill_pairs += (double)c->tokens * ((double)c->before + ((double)c->tokens + 1.0) / 2.0);
		b.prefill_ctx += c->before;
		b.prefills++;
		if (c->before + c->tokens >= prefill_target(c->q))
			b.logits++;
	}
	b.decodes = r->step_decodes;
	b.decode_ctx = r->step_decodes ? r->sumlen : 0;
	/* every decoding sequence takes its token, or none do (v0 prefill steps) */
	SIM_ASSERT(r->step_decodes == 0 || r->step_decodes == r->ndec);
	b.logits += r->step_decodes;
	dt = step_time(r, &b);
	swap_tokens += (double)r->swap_out_tokens;
	if (swap_tokens > 0) /* swapped blocks cross PCIe around the step */
		dt += (sim_time)llround(swap_tokens * perf_kv_bytes_per_token(r->p.perf->llm, r->p.perf->kv_dtype,
									     r->p.perf->tp) /
					r->p.perf->gpu->pcie_bandwidth * 1e9);
	schedule_end(r, dt);
}

static void on_step_begin(struct sim *s, void *ctx, uint64_t arg)
{
	struct srv_replica *r = ctx;
	(void)s;
	(void)arg;
	r->begin_pending = false;
	step_begin(r);
}

/* Ends the step in flight at `now`: the next one begins as an event of its
 * own at the same time, so arrivals at this instant join it whatever their
 * order in the queue. */
static void next_step_at_now(struct srv_replica *r)
{
	r->busy = true; /* submit() must not start a step meanwhile */
	r->begin_pending = true;
	r->ev = sim_schedule(r->sim, r->sim->now, on_step_begin, r, 0);
}

static void apply_step(struct srv_replica *r)
{
	r->st.busy_time += r->sim->now - r->step_start;
	r->st.steps_total++;
	if (r->step_decodes > 0) {
		/* every decoding sequence waited this step for its next token */
		hist_add(&r->st.hist[SRV_H_TPOT], SRV_H_TPOT, sim_time_to_s(r->sim->now - r->step_start),
			 r->step_decodes);
		decode_advance(r, 1);
	}
	for (size_t i = 0; i < r->nchunks; i++) {
		struct srv_req *q = r->chunks[i].q;
		q->priv.computed += r->chunks[i].tokens;
		r->st.prompt_tokens_total += r->chunks[i].tokens;
		kv_register(r, q);
		if (q->priv.computed >= prefill_target(q))
			prefill_done(r, q);
	}
	r->nchunks = 0;
	pop_finished(r);
#ifdef SERVESIM_DEBUG
	SIM_ASSERT(kv_check(&r->kv));
#endif
}

static void on_step_end(struct sim *s, void *ctx, uint64_t arg)
{
	struct srv_replica *r = ctx;
	(void)s;
	(void)arg;
#ifdef SERVESIM_DEBUG
	SIM_ASSERT(srv_check(r)); /* O(batch): debug builds only */
#endif
	if (r->stretch) {
		r->st.busy_time += r->sim->now - r->step_start;
		r->st.steps_total += r->stretch_k;
		observe_run(r, &r->st, r->stretch_k);
		decode_advance(r, r->stretch_k);
		r->stretch = false;
		pop_finished(r);
	} else {
		apply_step(r);
	}
	reap_cancelled(r);
	next_step_at_now(r);
}

/* Where a decode run stands at `now`: k of its steps have ended, the last
 * at t; step k (dt long) is in flight or starts at t. held: the run's
 * blocks, allocated when it was planned; used: those of the k ended steps. */
struct stretch_pos {
	int64_t k, held, used;
	sim_time t, dt;
};

static void stretch_at(const struct srv_replica *r, sim_time now, struct stretch_pos *p)
{
	struct perf_batch b;
	p->k = p->held = p->used = 0;
	for (int64_t j = 0; j < r->stretch_k; j++)
		p->held += dec_need(r, r->S + j);
	p->t = r->stretch_t0;
	for (;;) {
		decode_batch(r->ndec, r->sumlen + p->k * r->ndec, &b);
		p->dt = step_time(r, &b);
		if (p->t + p->dt > now || p->k + 1 >= r->stretch_k)
			break;
		p->used += dec_need(r, r->S + p->k);
		p->t += p->dt;
		p->k++;
	}
}

/* srv_sync leaves no step in flight when the k-th boundary is now (k > 0):
 * the next step begins as an event of its own. */
static bool stretch_ends_now(const struct stretch_pos *p, sim_time now)
{
	return p->t == now && p->k > 0;
}

void srv_sync(struct srv_replica *r)
{
	struct stretch_pos p;
	sim_time now = r->sim->now;
	if (!r->stretch)
		return;
	stretch_at(r, now, &p);
	/* keep the blocks of the k ended steps; give back the rest of the run's */
	kv_free_anon(&r->kv, p.held - p.used);
	r->st.busy_time += p.t - r->step_start;
	r->st.steps_total += p.k;
	observe_run(r, &r->st, p.k);
	decode_advance(r, p.k);
	sim_cancel(r->sim, r->ev);
	r->stretch = false;
	r->step_start = p.t;
	if (stretch_ends_now(&p, now)) {
		next_step_at_now(r);
		return;
	}
	/* step k is in flight: it ends as a single step, then the next is planned */
	SIM_ASSERT(kv_alloc(&r->kv, dec_need(r, r->S)));
	r->nchunks = 0;
	r->step_decodes = r->ndec;
	r->busy = true;
	r->ev = sim_schedule(r->sim, p.t + p.dt, on_step_end, r, 0);
}

/* ---- public ---- */

/* ---- requests ---- */

void srv_req_init(struct srv_req *q)
{
	memset(q, 0, sizeof(*q)); /* no links, nothing held */
	q->priv.state = SRV_NEW;
	q->replica = -1;
	q->arrival = q->first_scheduled = q->first_token = q->finish = -1;
}

void srv_req_release(struct srv_req *q)
{
	free(q->priv.hblocks);
	q->priv.hblocks = NULL;
	q->priv.nheld = 0;
}

void srv_req_clone(struct srv_req *dst, const struct srv_req *src)
{
	*dst = *src;
	dst->first_scheduled = dst->first_token = dst->finish = -1;
	dst->generated = dst->cached = 0;
	dst->preemptions = 0;
	dst->replica = -1;
	/* src's links and blocks are its own replica's business, not the copy's */
	memset(&dst->priv, 0, sizeof(dst->priv));
	dst->priv.state = SRV_NEW;
}

void srv_req_rewind(struct srv_req *q)
{
	SIM_ASSERT(!srv_req_inside(q));
	srv_req_release(q); /* it left: nothing is held, but be sure nothing leaks */
	memset(&q->priv, 0, sizeof(q->priv));
	q->priv.state = SRV_NEW;
}

bool srv_req_inside(const struct srv_req *q)
{
	return q->priv.state == SRV_WAITING || q->priv.state == SRV_RUNNING || q->priv.state == SRV_SWAPPED;
}

/* ---- replicas ---- */

int64_t srv_kv_blocks(const struct srv_engine_config *e, const struct perf_model *pm,
		      struct sim_err *err)
{
	const struct perf_llm *l = pm->llm;
	double mem, act, per_block, blocks;
	if (e->num_gpu_blocks_override > 0)
		return e->num_gpu_blocks_override;
	mem = (double)pm->gpu->memory * e->gpu_memory_utilization;
	/* peak activations of the profiling run: a full token budget through one layer,
	 * the sampler's logits, and the CUDA/NCCL runtime */
	act = (double)e->max_num_batched_tokens *
		      (12.0 * (double)l->hidden + 4.0 * (double)l->intermediate / (double)pm->tp) * 2.0 +
	      (double)e->max_num_seqs * (double)l->vocab * 4.0 + 512.0 * 1048576.0;
	per_block = perf_kv_bytes_per_token(l, pm->kv_dtype, pm->tp) * (double)e->block_size;
	blocks = floor((mem - perf_weight_bytes_per_gpu(pm) - act) / per_block);
	if (blocks < 1) {
		sim_err_set(err, SIM_EINPUT,
			    "%s does not fit on %d x %s: weights %.1f GB per GPU and activations %.1f GB leave no room "
			    "for the KV cache in %.1f GB (gpu_memory_utilization %.2f); use more GPUs or a smaller model",
			    l->name, pm->tp, pm->gpu->name, perf_weight_bytes_per_gpu(pm) / 1e9, act / 1e9,
			    mem / 1e9, e->gpu_memory_utilization);
		return -1;
	}
	return (int64_t)blocks;
}

struct srv_replica *srv_new(struct sim *s, const struct srv_params *p, int32_t id,
			    const struct srv_hooks *hooks)
{
	struct srv_replica *r = xcalloc(1, sizeof(*r));
	r->sim = s;
	r->p = *p;
	r->id = id;
	if (hooks)
		r->hooks = *hooks;
	r->bs = p->engine.block_size;
	r->max_len = p->engine.max_model_len;
	kv_init(&r->kv, p->num_blocks);
	r->bucket = xcalloc((size_t)r->bs, sizeof(*r->bucket));
	r->swap_cap = (int64_t)((double)p->engine.swap_space /
				(perf_kv_bytes_per_token(p->perf->llm, p->perf->kv_dtype, p->perf->tp) * (double)r->bs));
	r->ev = SIM_HANDLE_NONE;
	return r;
}

void srv_free(struct srv_replica *r)
{
	if (!r)
		return;
	kv_release(&r->kv);
	free(r->bucket);
	free(r->heap);
	free(r->chunks);
	free(r);
}

bool srv_submit(struct srv_replica *r, struct srv_req *q)
{
	if (q->prompt + q->output > r->max_len ||
	    blocks_for(r, q->prompt + q->output) > r->kv.total)
		return false;
	srv_sync(r);
	q->replica = r->id;
	q->priv.state = SRV_NEW;
	q->priv.computed = 0;
	q->priv.nheld = 0;
	q->priv.decoding = false;
	if (q->hashes) /* full server blocks the trace's chain covers */
		q->nhashes = (int32_t)((int64_t)q->nids * q->hash_block / r->bs);
	else if (q->prefix_key) /* full blocks of the shared prefix */
		q->nhashes = (int32_t)(q->prefix_tokens / r->bs);
	wait_insert(r, q, false);
	/* the step begins as an event of its own, so every request arriving at
	 * this instant joins it, as requests queued when an engine loop starts */
	if (!r->busy)
		next_step_at_now(r);
	return true;
}

bool srv_reserve(struct srv_replica *r, int64_t tokens)
{
	int64_t nb = blocks_for(r, tokens);
	srv_sync(r); /* a decode run holds its blocks ahead: settle it first */
	if (!kv_alloc(&r->kv, nb))
		return false;
	r->reserved += nb;
	return true;
}

void srv_unreserve(struct srv_replica *r, int64_t tokens)
{
	int64_t nb = blocks_for(r, tokens);
	srv_sync(r);
	kv_free_anon(&r->kv, nb);
	r->reserved -= nb;
}

void srv_submit_transferred(struct srv_replica *r, struct srv_req *q)
{
	srv_sync(r);
	q->replica = r->id;
	q->priv.computed = q->prompt; /* the prompt's KV is here; the first token was sampled by prefill */
	q->priv.nheld = 0;
	q->priv.decoding = false;
	q->priv.transferred = true;
	q->priv.state = SRV_SWAPPED;
	if (q->first_scheduled < 0)
		q->first_scheduled = r->sim->now;
	LIST_PUSH_BACK(r->swap_head, r->swap_tail, q, priv.qprev, priv.qnext);
	r->nswap++;
	if (!r->busy)
		next_step_at_now(r);
}

void srv_stats(const struct srv_replica *r, struct srv_stats *out)
{
	int64_t anon = r->kv.used_anon, cached = r->kv.cached;
	*out = r->st;
	if (r->stretch) {
		/* what srv_sync would settle, computed on the side: the ended steps'
		 * counters and latencies, and the blocks it would keep (the ended
		 * steps', plus the step in flight's); it evicts nothing */
		struct stretch_pos p;
		sim_time now = r->sim->now;
		stretch_at(r, now, &p);
		anon -= p.held - p.used;
		if (!stretch_ends_now(&p, now))
			anon += dec_need(r, r->S + p.k);
		out->busy_time += p.t - r->step_start;
		out->steps_total += p.k;
		observe_run(r, out, p.k);
		out->generation_tokens_total += p.k * r->ndec;
	}
	out->num_requests_running = r->nrun;
	out->num_requests_waiting = r->nwait;
	out->num_requests_swapped = r->nswap;
	out->kv_blocks_total = r->kv.total;
	out->kv_blocks_used = anon + r->kv.used_hashed;
	out->kv_blocks_cached = cached;
	out->kv_blocks_free = r->kv.total - out->kv_blocks_used - cached;
	out->kv_cache_usage_perc = r->kv.total ? (double)out->kv_blocks_used / (double)r->kv.total : 0;
}

/* Removes q wherever it is, freeing what it holds. */
static void take_out(struct srv_replica *r, struct srv_req *q)
{
	switch (q->priv.state) {
	case SRV_WAITING:
		LIST_REMOVE(r->wait_head, r->wait_tail, q, priv.qprev, priv.qnext);
		r->nwait--;
		while (q->priv.nheld > 0) /* prefix hits of a failed admission are given back there */
			kv_unref(&r->kv, q->priv.hblocks[--q->priv.nheld]);
		break;
	case SRV_SWAPPED:
		LIST_REMOVE(r->swap_head, r->swap_tail, q, priv.qprev, priv.qnext);
		r->nswap--;
		if (q->priv.transferred) {
			kv_free_anon(&r->kv, blocks_for(r, q->priv.computed));
			r->reserved -= blocks_for(r, q->priv.computed);
			q->priv.transferred = false;
		} else
			r->swap_blocks -= blocks_for(r, q->priv.computed);
		break;
	case SRV_RUNNING:
		run_remove(r, q);
		if (q->priv.decoding) {
			kv_drop(r, q, dec_leave(r, q));
		} else {
			LIST_REMOVE(r->pre_head, r->pre_tail, q, priv.pprev, priv.pnext);
			r->npre--;
			kv_drop(r, q, q->priv.computed);
		}
		break;
	default:
		break;
	}
	free(q->priv.hblocks);
	q->priv.hblocks = NULL;
	q->priv.nheld = 0;
	q->priv.computed = 0;
	q->priv.state = SRV_DONE;
}

/* Drops the step in flight: its reserved blocks go back. */
static void drop_step(struct srv_replica *r)
{
	srv_sync(r);
	if (r->busy && !r->begin_pending) {
		for (size_t i = 0; i < r->nchunks; i++) {
			const struct chunk *c = &r->chunks[i];
			kv_free_anon(&r->kv, blocks_for(r, c->before + c->tokens) - blocks_for(r, c->before));
		}
		if (r->stretch) {
			int64_t held = 0;
			for (int64_t j = 0; j < r->stretch_k; j++)
				held += dec_need(r, r->S + j);
			kv_free_anon(&r->kv, held);
		} else if (r->step_decodes > 0) {
			kv_free_anon(&r->kv, dec_need(r, r->S));
		}
		r->st.busy_time += r->sim->now - r->step_start;
	}
	if (r->busy)
		sim_cancel(r->sim, r->ev);
	r->busy = r->begin_pending = r->stretch = r->planning = false;
	r->nchunks = 0;
	r->step_decodes = 0;
}

void srv_abort_all(struct srv_replica *r, void (*fn)(void *ctx, struct srv_req *q), void *ctx)
{
	struct srv_req **all;
	size_t n = 0, cap = (size_t)(r->nrun + r->nwait + r->nswap) + 1;
	drop_step(r);
	all = xmalloc(cap * sizeof(*all));
	for (struct srv_req *q = r->run_head; q; q = q->priv.rnext)
		all[n++] = q;
	for (struct srv_req *q = r->wait_head; q; q = q->priv.qnext)
		all[n++] = q;
	for (struct srv_req *q = r->swap_head; q; q = q->priv.qnext)
		all[n++] = q;
	/* arrival order, so retries keep it */
	for (size_t i = 1; i < n; i++) {
		struct srv_req *x = all[i];
		size_t j = i;
		while (j > 0 && (all[j - 1]->arrival > x->arrival ||
				 (all[j - 1]->arrival == x->arrival && all[j - 1]->id > x->id))) {
			all[j] = all[j - 1];
			j--;
		}
		all[j] = x;
	}
	for (size_t i = 0; i < n; i++) {
		all[i]->priv.cancelled = false;
		take_out(r, all[i]);
	}
	r->ncancel = 0;
	SIM_ASSERT(r->nrun == 0 && r->nwait == 0 && r->nswap == 0 && r->ndec == 0);
	for (size_t i = 0; i < n; i++)
		fn(ctx, all[i]);
	free(all);
}

void srv_cancel(struct srv_replica *r, struct srv_req *q)
{
	srv_sync(r);
	if (q->priv.state == SRV_RUNNING && r->busy && !r->begin_pending) {
		if (!q->priv.cancelled) {
			q->priv.cancelled = true;
			r->ncancel++;
		}
		return;
	}
	take_out(r, q);
}

/* After a step: requests cancelled during it leave now. */
static void reap_cancelled(struct srv_replica *r)
{
	struct srv_req *q = r->run_head, *next;
	if (!r->ncancel)
		return;
	for (; q; q = next) {
		next = q->priv.rnext;
		if (q->priv.cancelled) {
			q->priv.cancelled = false;
			r->ncancel--;
			take_out(r, q);
		}
	}
}

void srv_set_fast_stepping(struct srv_replica *r, bool on)
{
	r->p.fast_stepping = on;
}

int32_t srv_id(const struct srv_replica *r)
{
	return r->id;
}

int64_t srv_waiting(const struct srv_replica *r)
{
	return r->nwait;
}

int64_t srv_inflight(const struct srv_replica *r)
{
	return r->nrun + r->nwait + r->nswap;
}

bool srv_check(struct srv_replica *r)
{
	int64_t n = 0, dec = 0, pre = 0, anon = 0;
	if (!kv_check(&r->kv))
		return false;
	/* anonymous blocks belong to one request each; hashed ones are shared
	 * and counted by reference in kv_check */
	for (struct srv_req *q = r->run_head; q; q = q->priv.rnext) {
		n++;
		if (q->priv.decoding) {
			dec++;
			anon += blocks_for(r, dec_len(r, q)) - q->priv.nheld;
		} else {
			pre++;
			anon += blocks_for(r, q->priv.computed) - q->priv.nheld;
		}
	}
	if (n != r->nrun || dec != r->ndec || pre != r->npre)
		return false;
	/* the step in flight holds the blocks its tokens will fill */
	for (size_t i = 0; i < r->nchunks; i++) {
		const struct chunk *c = &r->chunks[i];
		anon += blocks_for(r, c->before + c->tokens) - blocks_for(r, c->before);
	}
	if (r->busy && !r->begin_pending && r->step_decodes > 0 && !r->stretch)
		anon += dec_need(r, r->S);
	/* KV transfers hold their reserved blocks */
	anon += r->reserved;
	/* a run of decode steps holds its whole run's blocks from the start */
	return r->stretch || anon == r->kv.used_anon;
}
