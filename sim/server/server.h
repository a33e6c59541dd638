/*
 * sim/server: one vLLM-like model-server replica. Owns the `engine:` key of
 * a deployment (vLLM's engine arguments, under vLLM's names and defaults)
 * and, from the model-server issue on, the scheduler, continuous batching,
 * chunked prefill, paged KV cache, preemption and prefix caching.
 *
 * Invariants:
 *  - KV blocks: used + free + cached-free = total after every step.
 *  - A request is in exactly one of waiting, running, swapped or finished.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include "../config/config.h"

enum srv_preemption { SRV_PREEMPT_RECOMPUTE, SRV_PREEMPT_SWAP };
enum srv_policy { SRV_FCFS, SRV_PRIORITY };
enum srv_dtype { SRV_DTYPE_AUTO, SRV_DTYPE_FP16, SRV_DTYPE_BF16, SRV_DTYPE_FP8 };

struct srv_engine_config {
	int64_t max_num_seqs;
	int64_t max_num_batched_tokens;
	bool enable_chunked_prefill;
	int64_t long_prefill_token_threshold; /* 0: none */
	int64_t max_num_partial_prefills;
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

#endif
