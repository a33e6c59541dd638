/* The `engine:` key of a deployment: vLLM engine arguments. */
#include "server.h"

#include <stddef.h>

static const char *const preempt_names[] = {"recompute", "swap", NULL};
static const char *const policy_names[] = {"fcfs", "priority", NULL};
static const char *const dtype_names[] = {"auto", "float16", "bfloat16", "fp8", NULL};

/* Defaults are vLLM V1's for an OpenAI-compatible server on a datacenter GPU. */
#define T struct srv_engine_config
static const struct cfg_field engine_fields[] = {
	{.key = "max_num_seqs", .type = CFG_T_INT, .off = offsetof(T, max_num_seqs), .def = "256",
	 .flags = CFG_MIN | CFG_MAX, .min = 1, .max = 1048576,
	 .doc = "most sequences in one batch"},
	{.key = "max_num_batched_tokens", .type = CFG_T_INT, .off = offsetof(T, max_num_batched_tokens),
	 .def = "8192", .flags = CFG_MIN | CFG_MAX, .min = 1, .max = 16777216,
	 .doc = "token budget of one engine step"},
	{.key = "enable_chunked_prefill", .type = CFG_T_BOOL, .off = offsetof(T, enable_chunked_prefill),
	 .def = "true", .doc = "split long prompts across steps and mix them with decodes"},
	{.key = "long_prefill_token_threshold", .type = CFG_T_INT,
	 .off = offsetof(T, long_prefill_token_threshold), .def = "0", .flags = CFG_MIN, .min = 0,
	 .doc = "chunked prefill: most prompt tokens one request may take in a step (0 = no limit)"},
	{.key = "block_size", .type = CFG_T_INT, .off = offsetof(T, block_size), .def = "16",
	 .flags = CFG_MIN | CFG_MAX, .min = 1, .max = 4096, .doc = "tokens per KV-cache block"},
	{.key = "gpu_memory_utilization", .type = CFG_T_DOUBLE, .off = offsetof(T, gpu_memory_utilization),
	 .def = "0.9", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 1,
	 .doc = "share of GPU memory for weights, activations and KV cache"},
	{.key = "num_gpu_blocks_override", .type = CFG_T_INT, .off = offsetof(T, num_gpu_blocks_override),
	 .def = "0", .flags = CFG_MIN, .min = 0, .doc = "fixed number of KV blocks (0 = derived from memory)"},
	{.key = "swap_space", .type = CFG_T_SIZE, .off = offsetof(T, swap_space), .def = "4GiB",
	 .doc = "CPU swap space per GPU for preemption_mode swap (a size; a plain number is bytes)"},
	{.key = "enable_prefix_caching", .type = CFG_T_BOOL, .off = offsetof(T, enable_prefix_caching),
	 .def = "true", .doc = "share full KV blocks between requests with the same prefix"},
	{.key = "preemption_mode", .type = CFG_T_ENUM, .off = offsetof(T, preemption_mode),
	 .enums = preempt_names, .def = "recompute",
	 .doc = "recompute (free blocks, prefill again) or swap (copy blocks to CPU over PCIe)"},
	{.key = "max_model_len", .type = CFG_T_INT, .off = offsetof(T, max_model_len), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "longest prompt + output accepted (0 = the model's context length)"},
	{.key = "scheduling_policy", .type = CFG_T_ENUM, .off = offsetof(T, scheduling_policy),
	 .enums = policy_names, .def = "fcfs", .doc = "fcfs or priority (lower priority value first)"},
	{.key = "tensor_parallel_size", .type = CFG_T_INT, .off = offsetof(T, tensor_parallel_size),
	 .def = "0", .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 64,
	 .doc = "GPUs per replica sharing each layer (0 = the hardware variant's count)"},
	{.key = "dtype", .type = CFG_T_ENUM, .off = offsetof(T, dtype), .enums = dtype_names,
	 .def = "auto", .doc = "weight and activation type: auto (the model's: float16/bfloat16), float16, bfloat16, fp8"},
	{.key = "kv_cache_dtype", .type = CFG_T_ENUM, .off = offsetof(T, kv_cache_dtype),
	 .enums = dtype_names, .def = "auto", .doc = "KV-cache element type (auto = dtype)"},
	{NULL}};
#undef T

static int engine_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct srv_engine_config *e = obj;
	if (!e->enable_chunked_prefill && e->max_model_len &&
	    e->max_num_batched_tokens < e->max_model_len)
		return cfg_error_at_key(c, n, "max_num_batched_tokens",
					"without chunked prefill it must be at least max_model_len (%lld), as vLLM requires",
					(long long)e->max_model_len);
	if (e->max_num_batched_tokens < e->max_num_seqs && e->enable_chunked_prefill)
		return cfg_error_at_key(c, n, "max_num_batched_tokens",
					"must be at least max_num_seqs (%lld), as vLLM requires",
					(long long)e->max_num_seqs);
	return 0;
}

const struct cfg_schema srv_engine_schema = {"engine arguments", sizeof(struct srv_engine_config),
					     engine_fields, engine_check, NULL};
