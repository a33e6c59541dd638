/* The GPU and LLM catalog: schemas of the files and name resolution. */
#include "perf.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const attn_names[] = {"mha", "gqa", "mla", NULL};
static const char *const dtype_names[] = {"float16", "bfloat16", "fp8", NULL};

#define T struct perf_calibration
static const struct cfg_field cal_fields[] = {
	{.key = "compute_efficiency", .type = CFG_T_DOUBLE, .off = offsetof(T, compute_efficiency),
	 .def = "0.5", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 1, .doc = "share of peak FLOPs large GEMMs reach"},
	{.key = "memory_efficiency", .type = CFG_T_DOUBLE, .off = offsetof(T, memory_efficiency),
	 .def = "0.8", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 1, .doc = "share of peak bandwidth streaming reads reach"},
	{.key = "attention_efficiency", .type = CFG_T_DOUBLE, .off = offsetof(T, attention_efficiency),
	 .def = "0.4", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 1, .doc = "share of peak FLOPs attention reaches"},
	{.key = "link_efficiency", .type = CFG_T_DOUBLE, .off = offsetof(T, link_efficiency),
	 .def = "0.7", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 1, .doc = "share of link bandwidth an all-reduce reaches"},
	{.key = "allreduce_latency", .type = CFG_T_DURATION, .off = offsetof(T, allreduce_latency),
	 .def = "20us", .doc = "fixed time of one all-reduce call"},
	{.key = "layer_overhead", .type = CFG_T_DURATION, .off = offsetof(T, layer_overhead),
	 .def = "100us", .doc = "per layer per step: kernel launches and small kernels"},
	{.key = "step_overhead", .type = CFG_T_DURATION, .off = offsetof(T, step_overhead),
	 .def = "2ms", .doc = "per step: scheduling and input preparation"},
	{.key = "seq_overhead", .type = CFG_T_DURATION, .off = offsetof(T, seq_overhead),
	 .def = "50us", .doc = "per sequence in the batch: sampling and bookkeeping"},
	{NULL}};
#undef T
static const struct cfg_schema cal_schema = {"GPU calibration", sizeof(struct perf_calibration),
					     cal_fields, NULL, NULL};

#define T struct perf_gpu
static const struct cfg_field gpu_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED, .doc = "GPU name"},
	{.key = "vendor", .type = CFG_T_STR, .off = offsetof(T, vendor), .doc = "vendor"},
	{.key = "architecture", .type = CFG_T_STR, .off = offsetof(T, architecture), .doc = "architecture"},
	{.key = "fp16_tflops", .type = CFG_T_DOUBLE, .off = offsetof(T, fp16_tflops), .flags = CFG_REQUIRED | CFG_GT,
	 .doc = "dense FP16/BF16 tensor TFLOPS"},
	{.key = "fp8_tflops", .type = CFG_T_DOUBLE, .off = offsetof(T, fp8_tflops), .def = "0", .flags = CFG_MIN,
	 .doc = "dense FP8 tensor TFLOPS (0: no FP8)"},
	{.key = "memory", .type = CFG_T_SIZE, .off = offsetof(T, memory), .flags = CFG_REQUIRED | CFG_GT,
	 .doc = "device memory"},
	{.key = "memory_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, memory_bandwidth),
	 .flags = CFG_REQUIRED | CFG_GT, .doc = "device memory bandwidth"},
	{.key = "interconnect_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, interconnect_bandwidth),
	 .def = "0", .doc = "GPU-to-GPU bandwidth per direction (0: PCIe only)"},
	{.key = "pcie_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, pcie_bandwidth), .def = "32GB/s",
	 .flags = CFG_GT, .doc = "host link per direction"},
	{.key = "tdp_w", .type = CFG_T_DOUBLE, .off = offsetof(T, tdp_w), .def = "300", .flags = CFG_GT,
	 .doc = "board power"},
	{.key = "price_per_hour", .type = CFG_T_DOUBLE, .off = offsetof(T, price_per_hour), .def = "0",
	 .flags = CFG_MIN, .doc = "USD per GPU-hour"},
	{.key = "calibration", .type = CFG_T_STRUCT, .off = offsetof(T, calibration), .sub = &cal_schema,
	 .has = true, .has_off = offsetof(T, has_calibration), .doc = "fitted efficiencies and overheads"},
	{.key = "source", .type = CFG_T_STR, .off = offsetof(T, source), .doc = "where the figures come from"},
	{NULL}};
#undef T
const struct cfg_schema perf_gpu_schema = {"GPU", sizeof(struct perf_gpu), gpu_fields, NULL, NULL};

#define T struct perf_llm
static const struct cfg_field llm_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED, .doc = "LLM name"},
	{.key = "hf_id", .type = CFG_T_STR, .off = offsetof(T, hf_id), .doc = "HuggingFace id"},
	{.key = "layers", .type = CFG_T_INT, .off = offsetof(T, layers), .flags = CFG_REQUIRED | CFG_MIN | CFG_MAX,
	 .min = 1, .max = 1000, .doc = "num_hidden_layers"},
	{.key = "hidden", .type = CFG_T_INT, .off = offsetof(T, hidden), .flags = CFG_REQUIRED | CFG_MIN, .min = 1,
	 .doc = "hidden_size"},
	{.key = "heads", .type = CFG_T_INT, .off = offsetof(T, heads), .flags = CFG_REQUIRED | CFG_MIN, .min = 1,
	 .doc = "num_attention_heads"},
	{.key = "kv_heads", .type = CFG_T_INT, .off = offsetof(T, kv_heads), .flags = CFG_REQUIRED | CFG_MIN, .min = 1,
	 .doc = "num_key_value_heads"},
	{.key = "head_dim", .type = CFG_T_INT, .off = offsetof(T, head_dim), .flags = CFG_REQUIRED | CFG_MIN, .min = 1,
	 .doc = "per-head dimension"},
	{.key = "intermediate", .type = CFG_T_INT, .off = offsetof(T, intermediate), .flags = CFG_REQUIRED | CFG_MIN,
	 .min = 1, .doc = "MLP intermediate size (per expert for MoE without dense layers)"},
	{.key = "vocab", .type = CFG_T_INT, .off = offsetof(T, vocab), .flags = CFG_REQUIRED | CFG_MIN, .min = 1,
	 .doc = "vocabulary size"},
	{.key = "context_length", .type = CFG_T_INT, .off = offsetof(T, context_length), .def = "4096",
	 .flags = CFG_MIN, .min = 1, .doc = "max_position_embeddings"},
	{.key = "gated_mlp", .type = CFG_T_BOOL, .off = offsetof(T, gated_mlp), .def = "true",
	 .doc = "three MLP matrices (SwiGLU) rather than two"},
	{.key = "params_b", .type = CFG_T_DOUBLE, .off = offsetof(T, params_b), .def = "0", .flags = CFG_MIN,
	 .doc = "total parameters in billions (0: computed from the shape)"},
	{.key = "active_params_b", .type = CFG_T_DOUBLE, .off = offsetof(T, active_params_b), .def = "0",
	 .flags = CFG_MIN, .doc = "parameters active per token (MoE)"},
	{.key = "experts", .type = CFG_T_INT, .off = offsetof(T, experts), .def = "0", .flags = CFG_MIN,
	 .doc = "routed experts (0: dense)"},
	{.key = "experts_per_token", .type = CFG_T_INT, .off = offsetof(T, experts_per_token), .def = "0",
	 .flags = CFG_MIN, .doc = "experts each token uses"},
	{.key = "shared_experts", .type = CFG_T_INT, .off = offsetof(T, shared_experts), .def = "0",
	 .flags = CFG_MIN, .doc = "experts every token uses"},
	{.key = "expert_intermediate", .type = CFG_T_INT, .off = offsetof(T, expert_intermediate), .def = "0",
	 .flags = CFG_MIN, .doc = "intermediate size of one expert (0: intermediate)"},
	{.key = "dense_layers", .type = CFG_T_INT, .off = offsetof(T, dense_layers), .def = "0",
	 .flags = CFG_MIN, .doc = "leading layers with a dense MLP (MoE models)"},
	{.key = "attention", .type = CFG_T_ENUM, .off = offsetof(T, attention), .enums = attn_names,
	 .def = "gqa", .doc = "mha, gqa or mla"},
	{.key = "kv_lora_rank", .type = CFG_T_INT, .off = offsetof(T, kv_lora_rank), .def = "0",
	 .flags = CFG_MIN, .doc = "mla: latent KV size"},
	{.key = "q_lora_rank", .type = CFG_T_INT, .off = offsetof(T, q_lora_rank), .def = "0",
	 .flags = CFG_MIN, .doc = "mla: query compression rank"},
	{.key = "qk_rope_head_dim", .type = CFG_T_INT, .off = offsetof(T, qk_rope_head_dim), .def = "0",
	 .flags = CFG_MIN, .doc = "mla: rotary part of a key"},
	{.key = "sliding_window", .type = CFG_T_INT, .off = offsetof(T, sliding_window), .def = "0",
	 .flags = CFG_MIN, .doc = "attention window (0: full)"},
	{.key = "dtype", .type = CFG_T_ENUM, .off = offsetof(T, dtype), .enums = dtype_names,
	 .def = "bfloat16", .doc = "the checkpoint's type"},
	{.key = "source", .type = CFG_T_STR, .off = offsetof(T, source), .doc = "where the figures come from"},
	{NULL}};
#undef T

static int llm_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct perf_llm *m = obj;
	if (m->heads % m->kv_heads)
		return cfg_error_at_key(c, n, "kv_heads", "must divide heads (%lld)", (long long)m->heads);
	if (m->experts && (m->experts_per_token < 1 || m->experts_per_token > m->experts))
		return cfg_error_at_key(c, n, "experts_per_token", "must be between 1 and experts");
	if (m->attention == PERF_ATTN_MLA && !m->kv_lora_rank)
		return cfg_error_at_key(c, n, "kv_lora_rank", "mla attention needs kv_lora_rank");
	return 0;
}
const struct cfg_schema perf_llm_schema = {"LLM", sizeof(struct perf_llm), llm_fields, llm_check, NULL};

/* ---- resolution ---- */

static bool looks_like_path(const char *s)
{
	size_t l = strlen(s);
	return strchr(s, '/') || (l > 5 && !strcmp(s + l - 5, ".yaml")) ||
	       (l > 4 && !strcmp(s + l - 4, ".yml"));
}

size_t perf_catalog_names(const char *kind, const char **out, size_t max)
{
	size_t k = 0;
	for (const struct perf_catalog_entry *e = perf_catalog; e->kind; e++)
		if (!strcmp(e->kind, kind) && k + 1 < max)
			out[k++] = e->name;
	out[k] = NULL;
	return k;
}

static void *find(struct cfg_ctx *c, const struct cfg_node *n, const char *ref,
		  const struct cfg_list *extra, size_t name_off, const char *kind,
		  const struct cfg_schema *s, const char *what)
{
	const struct cfg_node *root = NULL;
	void *obj;
	struct cfg_ctx fc;

	if (extra)
		for (size_t i = 0; i < extra->n; i++) {
			void *e = (char *)extra->items + i * s->size;
			if (!strcmp(*(const char **)((char *)e + name_off), ref))
				return e;
		}
	if (looks_like_path(ref)) {
		const char *p = cfg_resolve_path(c, n, ref);
		struct sim_err sub;
		sim_err_clear(&sub);
		root = cfg_doc_load_extra(c->doc, p, &sub);
		if (!root) {
			if (sub.kind == SIM_EIO)
				cfg_error(c, n, "%s", sub.msg);
			else
				*c->err = sub;
			return NULL;
		}
	} else {
		for (const struct perf_catalog_entry *e = perf_catalog; e->kind; e++)
			if (!strcmp(e->kind, kind) && !strcmp(e->name, ref)) {
				root = cfg_doc_parse_fragment(c->doc, e->file, e->text, c->err);
				if (!root)
					return NULL;
				break;
			}
	}
	if (!root) {
		const char *names[128], *near;
		char list[1024];
		size_t k = perf_catalog_names(kind, names, 64), off = 0;
		for (size_t i = 0; extra && i < extra->n && k < 127; i++)
			names[k++] = *(const char **)((char *)extra->items + i * s->size + name_off);
		list[0] = '\0';
		for (size_t i = 0; i < k && off < sizeof(list) - 64; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", names[i]);
		near = cfg_closest(ref, names, k);
		if (near)
			cfg_error(c, n, "unknown %s '%s' (did you mean '%s'?)", what, ref, near);
		else
			cfg_error(c, n, "unknown %s '%s' (the catalog has: %s; or give a path to a YAML file)",
				  what, ref, list);
		return NULL;
	}
	obj = sim_arena_alloc(&c->doc->arena, s->size);
	cfg_ctx_init(&fc, c->doc, c->err);
	if (cfg_decode(&fc, root, s, obj))
		return NULL;
	return obj;
}

const struct perf_gpu *perf_find_gpu(struct cfg_ctx *c, const struct cfg_node *n,
				     const char *ref, const struct perf_catalog_extra *x)
{
	return find(c, n, ref, x ? &x->gpus : NULL, offsetof(struct perf_gpu, name), "gpus",
		    &perf_gpu_schema, "GPU");
}

const struct perf_llm *perf_find_llm(struct cfg_ctx *c, const struct cfg_node *n,
				     const char *ref, const struct perf_catalog_extra *x)
{
	return find(c, n, ref, x ? &x->llms : NULL, offsetof(struct perf_llm, name), "llms",
		    &perf_llm_schema, "model");
}

/* ---- derived sizes ---- */

double perf_dtype_bytes(int dtype)
{
	return dtype == PERF_FP8 ? 1.0 : 2.0;
}

double perf_llm_params(const struct perf_llm *m)
{
	double d = (double)m->hidden, hd = (double)m->head_dim;
	double attn, mlp, ff, per_layer, total;
	if (m->params_b > 0)
		return m->params_b * 1e9;
	attn = d * hd * (double)(m->heads + 2 * m->kv_heads) + (double)m->heads * hd * d;
	ff = (double)(m->expert_intermediate ? m->expert_intermediate : m->intermediate);
	mlp = (m->gated_mlp ? 3.0 : 2.0) * d * ff * (double)(m->experts ? m->experts + m->shared_experts : 1);
	per_layer = attn + mlp;
	total = per_layer * (double)m->layers + 2.0 * d * (double)m->vocab;
	return total;
}

double perf_kv_bytes_per_token(const struct perf_llm *m, int kv_dtype, int tp)
{
	double b = perf_dtype_bytes(kv_dtype), L = (double)m->layers;
	if (m->attention == PERF_ATTN_MLA) /* the latent is replicated on every rank */
		return L * (double)(m->kv_lora_rank + m->qk_rope_head_dim) * b;
	/* KV heads are split over TP ranks; with more ranks than heads they replicate */
	{
		double kvh = (double)m->kv_heads / (double)tp;
		if (kvh < 1.0)
			kvh = 1.0;
		return 2.0 * L * kvh * (double)m->head_dim * b;
	}
}
