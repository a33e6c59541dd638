/*
 * sim/server: one vLLM-like model-server replica. Owns the `engine:` key of
 * a deployment (vLLM's engine arguments, under vLLM's names and defaults)
 * and, from the model-server issue on, the scheduler, continuous batching,
 * chunked prefill, paged KV cache, preemption and prefix caching. Owns the
 * private part of every request (srv_req.priv): only sim/server sets it,
 * and frees what it allocated for it (srv_req_release).
 *
 * Invariants:
 *  - KV blocks: used + free + cached-free = total after every step.
 *  - A request is in exactly one of waiting, running, swapped or finished.
 *  - Reading a replica (srv_stats) changes nothing; only srv_sync and the
 *    calls that take requests in or out move its events.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include "../config/config.h"
#include "../perf/perf.h"

enum srv_preemption { SRV_PREEMPT_RECOMPUTE, SRV_PREEMPT_SWAP };
enum srv_policy { SRV_FCFS, SRV_PRIORITY };
enum srv_dtype { SRV_DTYPE_AUTO, SRV_DTYPE_FP16, SRV_DTYPE_BF16, SRV_DTYPE_FP8 };

struct srv_engine_config {
	int64_t max_num_seqs;
	int64_t max_num_batched_tokens;
	bool enable_chunked_prefill;
	int64_t long_prefill_token_threshold; /* 0: none */
	int64_t block_size;
	double gpu_memory_utilization;
	int64_t num_gpu_blocks_override; /* 0: derived from memory */
	int64_t swap_space;              /* bytes of CPU swap per GPU */
	bool enable_prefix_caching;
	int preemption_mode;     /* enum srv_preemption */
	int64_t max_model_len;   /* 0: the model's context length */
	int scheduling_policy;   /* enum srv_policy */
	int64_t tensor_parallel_size; /* 0: the hardware variant's GPU count */
	int dtype;               /* enum srv_dtype */
	int kv_cache_dtype;      /* enum srv_dtype; auto = dtype */
};

extern const struct cfg_schema srv_engine_schema;

/* ---- requests ---- */

enum srv_state { SRV_NEW, SRV_WAITING, SRV_RUNNING, SRV_SWAPPED, SRV_DONE };
enum srv_status { SRV_COMPLETED, SRV_FAILED, SRV_DROPPED, SRV_IN_FLIGHT, SRV_REJECTED };

/* What a replica keeps about a request while it is inside. Set, read and
 * freed by sim/server only: callers start it empty (srv_req_init,
 * srv_req_clone), free it with srv_req_release and never touch it. */
struct srv_req_priv {
	int state;               /* enum srv_state */
	int64_t computed;        /* tokens whose KV is in the cache (prefilling) */
	struct srv_req *rprev, *rnext; /* running list (admission order) */
	struct srv_req *qprev, *qnext; /* waiting or swapped queue */
	struct srv_req *pprev, *pnext; /* prefilling list */
	struct kv_block **hblocks;     /* hashed prompt blocks held (allocated here) */
	int32_t nheld;
	int64_t join_step, len0;       /* decode set: step and length when it joined */
	uint32_t heap_idx;
	bool decoding;
	bool cancelled; /* leaves at the end of the step in flight */
	bool transferred; /* its prompt's KV came over the network (disaggregation): blocks reserved */
};

/* One request. The caller owns the memory and the public fields; the server
 * links it while it is inside and owns `priv`. Times are simulated ns;
 * -1 = not (yet) reached. */
struct srv_req {
	int64_t id;
	int32_t workload, deployment, replica, status;
	int64_t priority;
	sim_time arrival, first_scheduled, first_token, finish;
	int64_t prompt, output; /* tokens */
	int64_t generated;      /* output tokens so far */
	int64_t cached;         /* prompt tokens served from the prefix cache (first admission) */
	int32_t preemptions, retries;
	const uint64_t *hashes; /* a trace's prefix hash chain: one id per hash_block tokens */
	int32_t nhashes;        /* set by the server: full server blocks the chain covers */
	int32_t nids;           /* ids in hashes */
	int64_t hash_block;     /* tokens per id (Mooncake: 512) */
	uint64_t prefix_key;    /* or: the first prefix_tokens tokens are shared prefix key's */
	uint64_t lora;          /* LoRA adapter (a hash of its name; 0: none) */
	int64_t prefix_tokens;
	void *user;
	struct srv_req_priv priv; /* server-private */
};

/* A request not inside any replica: every field zero, times and replica -1,
 * private part empty. The caller then fills in its description. */
void srv_req_init(struct srv_req *q);
/* Frees what the server allocated for q (its prefix-block array). Only once
 * no replica holds it: it left, or its replica was freed. */
void srv_req_release(struct srv_req *q);
/* dst becomes a fresh copy of src for hedging: src's description (id,
 * workload, sizes, prefix, user...) with no progress (times but arrival -1,
 * replica -1, nothing generated, cached or preempted) and an empty private
 * part. Pointers (hashes, user) are copied as they are. */
void srv_req_clone(struct srv_req *dst, const struct srv_req *src);
/* A request that left a replica (finished, or given back by srv_abort_all)
 * can be submitted again, to this or another replica: its private part is
 * emptied (state new). Public fields are the caller's. */
void srv_req_rewind(struct srv_req *q);
/* Whether q is inside a replica: waiting, running or swapped. */
bool srv_req_inside(const struct srv_req *q);

/* ---- a replica ---- */

struct srv_replica;

struct srv_hooks {
	void *ctx;
	void (*first_token)(void *ctx, struct srv_replica *r, struct srv_req *q);
	void (*finished)(void *ctx, struct srv_replica *r, struct srv_req *q);
};

struct srv_params {
	struct srv_engine_config engine; /* resolved: tensor_parallel_size, max_model_len set */
	const struct perf_model *perf;
	int64_t num_blocks;  /* derived by srv_kv_blocks() unless overridden */
	bool fast_stepping;  /* decode-only stretches in one event (results are identical) */
};

/* KV blocks the GPU memory holds after weights and activations. */
int64_t srv_kv_blocks(const struct srv_engine_config *e, const struct perf_model *pm,
		      struct sim_err *err);

struct srv_replica *srv_new(struct sim *s, const struct srv_params *p, int32_t id,
			    const struct srv_hooks *hooks);
void srv_free(struct srv_replica *r);
/* A request arrives. Returns false (nothing kept) when it can never run:
 * prompt + output longer than max_model_len or than the whole KV cache. */
bool srv_submit(struct srv_replica *r, struct srv_req *q);
void srv_set_fast_stepping(struct srv_replica *r, bool on);
/* Disaggregated decode: blocks for a prompt of `tokens` (plus its first
 * output token) are reserved before its KV is sent; false when they do not
 * fit now. srv_unreserve gives them back (the transfer was abandoned). */
bool srv_reserve(struct srv_replica *r, int64_t tokens);
void srv_unreserve(struct srv_replica *r, int64_t tokens);
/* The request whose prompt KV has arrived into reserved blocks: it joins
 * the decode batch at the next step, as a swapped-in sequence does, with
 * its first token already generated. */
void srv_submit_transferred(struct srv_replica *r, struct srv_req *q);
/* Takes every request out (the replica is lost or its drain ran out):
 * fn gets each, in arrival order, to retry or fail; their blocks are freed
 * and the step in flight is dropped. The replica is idle afterwards. */
void srv_abort_all(struct srv_replica *r, void (*fn)(void *ctx, struct srv_req *q), void *ctx);
/* Takes one request out (a hedged duplicate lost the race): at once when it
 * waits, at the end of the step in flight when it runs; it reports nothing
 * more to the hooks. */
void srv_cancel(struct srv_replica *r, struct srv_req *q);
/* Brings a replica in a decode stretch (fast stepping: a run of decode-only
 * steps as one event) up to the last step boundary <= now: the stretch's
 * event is cancelled and the step in flight (or the next step's begin) is
 * scheduled anew. Results do not depend on it, but the event queue does
 * (event count, sequence numbers). The server syncs itself whenever a
 * request comes or goes (submit, reserve, cancel, abort); callers sync at
 * points they define, the same in every run: sim/cli/run.c before each
 * /timeseries sample's and each scrape's srv_stats of a pod, every replica
 * (in pod order) before clu_cost, and the least-kv router before it reads
 * an endpoint. */
void srv_sync(struct srv_replica *r);

/* A Prometheus histogram with vLLM's bucket bounds (cumulative on export). */
enum srv_hist_kind { SRV_H_TTFT, SRV_H_TPOT, SRV_H_E2E, SRV_H_QUEUE, SRV_H_KINDS };
#define SRV_HIST_MAX 24
struct srv_hist {
	int64_t counts[SRV_HIST_MAX]; /* per bucket (not cumulative); the last is +Inf */
	int64_t count;
	double sum;
};
/* Upper bounds of a kind's buckets (vLLM's), and their number (+Inf not counted). */
const double *srv_hist_bounds(int kind, size_t *n);
/* vllm:time_to_first_token_seconds, vllm:time_per_output_token_seconds,
 * vllm:e2e_request_latency_seconds, vllm:request_queue_time_seconds */
extern const char *const srv_hist_names[SRV_H_KINDS];

/* Metrics, under vLLM's names where vLLM has one. */
struct srv_stats {
	int64_t num_requests_running, num_requests_waiting, num_requests_swapped;
	double kv_cache_usage_perc; /* used blocks / total, 0..1 as vLLM reports it */
	int64_t kv_blocks_total, kv_blocks_used, kv_blocks_cached, kv_blocks_free;
	int64_t prompt_tokens_total, generation_tokens_total;
	int64_t prefix_cache_queries, prefix_cache_hits; /* tokens */
	int64_t preemptions_total, steps_total, requests_success_total;
	sim_time busy_time; /* time with a step in flight */
	struct srv_hist hist[SRV_H_KINDS];
};
/* Pure: changes nothing, the event queue included. Reports what the replica
 * would report if srv_sync brought it to its last step boundary at now
 * (the ended steps of a stretch: busy time, steps, tokens, TPOT; the KV
 * blocks of the ended steps and of the step in flight), exactly the numbers
 * srv_sync then srv_stats gives. */
void srv_stats(const struct srv_replica *r, struct srv_stats *out);
/* Checks used + free + cached = total and the aggregates (debug, tests). */
bool srv_check(struct srv_replica *r);
int64_t srv_inflight(const struct srv_replica *r);
int32_t srv_id(const struct srv_replica *r);
int64_t srv_waiting(const struct srv_replica *r);

#endif
