/*
 * sim/perf: how long one engine step takes on a GPU for an LLM.
 *
 * Owns: the GPU and LLM catalog (models/gpus, models/llms, embedded in the
 * binary; a scenario may add its own entries or point at a file), the
 * `perf:` key of a deployment, and the step-time models: `roofline`
 * (analytic, with calibrated efficiencies and engine overheads) and
 * `profile` (Vidur-format operator tables, interpolated, roofline for what
 * the tables lack).
 *
 * Invariants:
 *  - A step time is a pure function of the batch aggregates (struct
 *    perf_batch), the GPU, the LLM, the dtype and the tensor parallelism,
 *    computed in O(1): no model walks the batch.
 *  - Step times are positive integer nanoseconds.
 */
#ifndef SIM_PERF_H
#define SIM_PERF_H

#include "../config/config.h"

/* ---- the deployment's `perf:` key ---- */

enum perf_kind { PERF_ROOFLINE, PERF_PROFILE, PERF_CONSTANT };

struct perf_config {
	int model;        /* enum perf_kind */
	const char *path; /* profile: directory or mlp.csv of Vidur-format tables */
	double efficiency_scale; /* multiplies the calibrated efficiencies */
	sim_time step_overhead;  /* added to every step, on top of the calibration */
	sim_time step_time;      /* constant: every step takes this long */
};

extern const struct cfg_schema perf_config_schema;

/* ---- catalog ---- */

/* Engine overheads and efficiencies, fitted per GPU (docs/perf-model.md). */
struct perf_calibration {
	double compute_efficiency;   /* large GEMMs, share of peak */
	double memory_efficiency;    /* streaming reads, share of peak bandwidth */
	double attention_efficiency; /* attention FLOPs, share of peak */
	double link_efficiency;      /* all-reduce bus bandwidth, share of the link */
	sim_time allreduce_latency;  /* per all-reduce call */
	sim_time layer_overhead;     /* per layer per step (kernel launches, eager mode) */
	sim_time step_overhead;      /* per step (scheduling, input preparation) */
	sim_time seq_overhead;       /* per sequence in the batch (sampling, bookkeeping) */
};

struct perf_gpu {
	const char *name, *vendor, *architecture, *source;
	double fp16_tflops, fp8_tflops;
	int64_t memory;
	double memory_bandwidth, interconnect_bandwidth, pcie_bandwidth;
	double tdp_w, price_per_hour;
	struct perf_calibration calibration;
	bool has_calibration;
};

enum perf_attn { PERF_ATTN_MHA, PERF_ATTN_GQA, PERF_ATTN_MLA };
enum perf_dtype { PERF_FP16, PERF_BF16, PERF_FP8 };

struct perf_llm {
	const char *name, *hf_id, *source;
	int64_t layers, hidden, heads, kv_heads, head_dim, intermediate, vocab, context_length;
	bool gated_mlp;
	double params_b, active_params_b;
	int64_t experts, experts_per_token, shared_experts, expert_intermediate, dense_layers;
	int attention; /* enum perf_attn */
	int64_t kv_lora_rank, q_lora_rank, qk_rope_head_dim, sliding_window;
	int dtype; /* enum perf_dtype: the checkpoint's */
};

extern const struct cfg_schema perf_gpu_schema, perf_llm_schema;

/* An embedded catalog file (generated from models/ at build time). */
struct perf_catalog_entry {
	const char *kind; /* "gpus" or "llms" */
	const char *name;
	const char *file; /* models/... path, for positions in messages */
	const char *text;
};
extern const struct perf_catalog_entry perf_catalog[];

/* Scenario-defined entries consulted before the embedded catalog. */
struct perf_catalog_extra {
	struct cfg_list gpus; /* of struct perf_gpu */
	struct cfg_list llms; /* of struct perf_llm */
};

/* Resolves a GPU or LLM reference: a scenario entry, a catalog name, or a
 * path to a YAML file (contains '/' or ends in .yaml/.yml). The result
 * lives in c's doc. Errors point at node n. */
const struct perf_gpu *perf_find_gpu(struct cfg_ctx *c, const struct cfg_node *n,
				     const char *ref, const struct perf_catalog_extra *x);
const struct perf_llm *perf_find_llm(struct cfg_ctx *c, const struct cfg_node *n,
				     const char *ref, const struct perf_catalog_extra *x);
/* Names in the embedded catalog of one kind, for messages; NULL-terminated. */
size_t perf_catalog_names(const char *kind, const char **out, size_t max);

/* Derived sizes. */
double perf_llm_params(const struct perf_llm *m); /* total parameters */
double perf_dtype_bytes(int dtype);
/* KV-cache bytes one token takes on one GPU of a TP group. */
double perf_kv_bytes_per_token(const struct perf_llm *m, int kv_dtype, int tp);

/* ---- step-time model ---- */

/* What one engine step computes, as aggregates the server keeps. */
struct perf_batch {
	int64_t prefill_tokens; /* prompt tokens computed this step (all chunks) */
	double prefill_pairs;   /* sum over chunks of chunk * (ctx_before + (chunk + 1) / 2) */
	int64_t prefill_ctx;    /* sum over chunks of cached context before the chunk */
	int64_t prefills;       /* prefill chunks */
	int64_t decodes;        /* sequences generating one token */
	int64_t decode_ctx;     /* sum of their context lengths */
	int64_t logits;         /* sequences sampling a token this step */
};

/* Where the time of a step goes, in seconds. */
struct perf_breakdown {
	double linear, attention, elementwise, allreduce, lm_head, overhead, total;
};

struct perf_profile; /* Vidur tables */

struct perf_model {
	const struct perf_gpu *gpu;
	const struct perf_llm *llm;
	struct perf_calibration cal;
	int tp, dtype, kv_dtype;
	sim_time extra_step_overhead;
	sim_time constant; /* > 0: every step takes exactly this (perf model constant) */
	/* per GPU, precomputed */
	double peak_flops, bw, link_bw, wbytes, kvbytes;
	double attn_params, mlp_params_active, mlp_params_expert, lm_head_params;
	double q_dim, kv_dim; /* per GPU: heads*head_dim/tp, kv_heads*head_dim/tp */
	struct perf_profile *profile;
};

/* Builds a model; the GPU's calibration is used (or an architecture default). */
int perf_model_init(struct perf_model *m, const struct perf_gpu *gpu, const struct perf_llm *llm,
		    int tp, int dtype, int kv_dtype, const struct perf_config *cfg,
		    struct sim_err *err);
void perf_model_release(struct perf_model *m);
/* Time of one step; bd (optional) receives the breakdown. */
sim_time perf_step_time(const struct perf_model *m, const struct perf_batch *b,
			struct perf_breakdown *bd);
/* Weights held by one GPU, in bytes. */
double perf_weight_bytes_per_gpu(const struct perf_model *m);

/* Profile tables: loads Vidur's mlp.csv for this model's shape (warns once
 * on stderr about what falls back to the roofline). */
int perf_profile_load(struct perf_model *m, const char *path, struct sim_err *err);
void perf_profile_free(struct perf_profile *p);
/* Linear-layer time per layer (seconds) from the tables, or < 0 when the
 * table lacks this TP. */
double perf_profile_linear(const struct perf_profile *p, double tokens);
/* Attention per layer (seconds) by prefill token pairs / total decode
 * context, or < 0 when the tables have no such rows. */
double perf_profile_prefill_attn(const struct perf_profile *p, double pairs);
double perf_profile_decode_attn(const struct perf_profile *p, double ctx);

#endif
