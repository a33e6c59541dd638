/*
 * The roofline step-time model. Per layer and per GPU of a tensor-parallel
 * group, each operator group takes max(FLOPs / (peak x efficiency),
 * bytes / (bandwidth x efficiency)); weights are read once per step; decode
 * attention reads every sequence's KV; prefill attention is quadratic in
 * context; each layer has two all-reduces; the engine adds fixed costs per
 * layer (kernel launches), per step and per sequence. Everything comes from
 * the batch aggregates, so a step costs O(1) whatever its size.
 */
#include "perf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double fmax2(double a, double b) { return a > b ? a : b; }

int perf_model_init(struct perf_model *m, const struct perf_gpu *gpu, const struct perf_llm *llm,
		    int tp, int dtype, int kv_dtype, const struct perf_config *cfg,
		    struct sim_err *err)
{
	const double d = (double)llm->hidden, hd = (double)llm->head_dim, t = (double)tp;
	double scale = cfg ? cfg->efficiency_scale : 1.0;
	double ff, qd, kvd;

	memset(m, 0, sizeof(*m));
	if (tp < 1)
		return sim_err_set(err, SIM_EINPUT, "tensor_parallel_size must be at least 1");
	if (llm->heads % tp && tp % llm->heads)
		return sim_err_set(err, SIM_EINPUT,
				   "tensor_parallel_size %d does not divide the %lld attention heads of %s",
				   tp, (long long)llm->heads, llm->name);
	m->gpu = gpu;
	m->llm = llm;
	m->tp = tp;
	m->dtype = dtype;
	m->kv_dtype = kv_dtype;
	m->cal = gpu->calibration;
	if (scale <= 0)
		scale = 1.0;
	m->cal.compute_efficiency = fmin(1.0, m->cal.compute_efficiency * scale);
	m->cal.memory_efficiency = fmin(1.0, m->cal.memory_efficiency * scale);
	m->cal.attention_efficiency = fmin(1.0, m->cal.attention_efficiency * scale);
	m->cal.link_efficiency = fmin(1.0, m->cal.link_efficiency * scale);
	m->extra_step_overhead = cfg ? cfg->step_overhead : 0;
	if (cfg && cfg->model == PERF_CONSTANT)
		m->constant = cfg->step_time;

	m->wbytes = perf_dtype_bytes(dtype);
	m->peak_flops = 1e12 * (dtype == PERF_FP8 && gpu->fp8_tflops > 0 ? gpu->fp8_tflops : gpu->fp16_tflops);
	m->bw = gpu->memory_bandwidth;
	m->link_bw = gpu->interconnect_bandwidth > 0 ? gpu->interconnect_bandwidth : gpu->pcie_bandwidth;
	m->kvbytes = perf_kv_bytes_per_token(llm, kv_dtype, tp) / (double)llm->layers;

	qd = (double)llm->heads * hd;
	kvd = (double)llm->kv_heads * hd;
	m->q_dim = qd / t;
	m->kv_dim = kvd / t;
	if (llm->attention == PERF_ATTN_MLA) {
		/* q: d -> q_lora -> heads x (nope + rope); kv: d -> latent -> heads x (nope + v); o */
		double r = (double)llm->qk_rope_head_dim, ql = (double)llm->q_lora_rank;
		double kl = (double)llm->kv_lora_rank;
		m->attn_params = (d * ql + ql * qd + (double)llm->heads * r * (ql > 0 ? ql : d) +
				  d * (kl + r) + kl * 2.0 * qd + qd * d) / t;
	} else {
		m->attn_params = (d * qd + 2.0 * d * kvd + qd * d) / t;
	}
	ff = (double)(llm->expert_intermediate ? llm->expert_intermediate : llm->intermediate);
	if (llm->experts) {
		double one = (llm->gated_mlp ? 3.0 : 2.0) * d * ff / t;
		m->mlp_params_expert = one;
		m->mlp_params_active = one * (double)(llm->experts_per_token + llm->shared_experts);
	} else {
		m->mlp_params_active = (llm->gated_mlp ? 3.0 : 2.0) * d * ff / t;
	}
	m->lm_head_params = d * (double)llm->vocab / t;
	return 0;
}

void perf_model_release(struct perf_model *m)
{
	perf_profile_free(m->profile);
	m->profile = NULL;
}

double perf_weight_bytes_per_gpu(const struct perf_model *m)
{
	return perf_llm_params(m->llm) * m->wbytes / (double)m->tp;
}

/* MoE: the weights a step reads are those of the experts its tokens touch. */
static double mlp_read_params(const struct perf_model *m, double tokens)
{
	const struct perf_llm *l = m->llm;
	double e, k, touched;
	if (!l->experts)
		return m->mlp_params_active;
	e = (double)l->experts;
	k = (double)l->experts_per_token;
	touched = e * (1.0 - pow(1.0 - k / e, tokens));
	return m->mlp_params_expert * (touched + (double)l->shared_experts);
}

static double op(double flops, double peak, double bytes, double bw)
{
	return fmax2(flops / peak, bytes / bw);
}

sim_time perf_step_time(const struct perf_model *m, const struct perf_batch *b,
			struct perf_breakdown *bd)
{
	const struct perf_llm *l = m->llm;
	const struct perf_calibration *c = &m->cal;
	const double L = (double)l->layers, d = (double)l->hidden;
	const double N = (double)(b->prefill_tokens + b->decodes);
	const double pc = m->peak_flops * c->compute_efficiency;
	const double pa = m->peak_flops * c->attention_efficiency;
	const double bw = m->bw * c->memory_efficiency;
	const double abytes = 2.0; /* activations stay 16-bit */
	struct perf_breakdown r;
	double lin_layer, t_ff;
	sim_time ns;

	memset(&r, 0, sizeof(r));
	if (m->constant > 0) {
		r.total = r.overhead = sim_time_to_s(m->constant);
		if (bd)
			*bd = r;
		return m->constant;
	}
	if (N > 0) {
		/* linear layers: QKV, O and MLP projections */
		double dense_mlp = (l->experts && l->dense_layers)
					   ? (l->gated_mlp ? 3.0 : 2.0) * d * (double)l->intermediate / (double)m->tp
					   : 0;
		double moe_read = mlp_read_params(m, N);
		double moe_layers = l->experts ? L - (double)l->dense_layers : L;
		double io = N * d * abytes * 4.0;
		if (m->profile && (lin_layer = perf_profile_linear(m->profile, N)) >= 0) {
			r.linear = lin_layer * L; /* the tables include norms, rotary, activation, adds */
		} else {
			r.linear = moe_layers * op(2.0 * N * (m->attn_params + m->mlp_params_active), pc,
						   (m->attn_params + moe_read) * m->wbytes + io, bw);
			if (l->experts && l->dense_layers)
				r.linear += (double)l->dense_layers *
					    op(2.0 * N * (m->attn_params + dense_mlp), pc,
					       (m->attn_params + dense_mlp) * m->wbytes + io, bw);
		}
		/* attention: prefill chunks (quadratic), decodes (KV reads) */
		{
			double pre = -1, dec = -1;
			if (m->profile) {
				pre = b->prefill_pairs > 0 ? perf_profile_prefill_attn(m->profile, b->prefill_pairs) : 0;
				dec = b->decode_ctx > 0 ? perf_profile_decode_attn(m->profile, (double)b->decode_ctx) : 0;
			}
			if (pre < 0)
				pre = op(4.0 * m->q_dim * b->prefill_pairs, pa,
					 m->kvbytes * (double)(b->prefill_ctx + b->prefill_tokens), bw);
			if (dec < 0)
				dec = op(4.0 * m->q_dim * (double)b->decode_ctx, pa, m->kvbytes * (double)b->decode_ctx, bw);
			r.attention = L * (pre + dec);
		}
		/* norms, rotary, activation, residual adds: memory-bound */
		t_ff = (double)(l->experts ? l->experts_per_token * (l->expert_intermediate ? l->expert_intermediate : l->intermediate)
					   : l->intermediate) / (double)m->tp;
		if (!m->profile)
			r.elementwise = L * N * (8.0 * d + 3.0 * t_ff) * abytes / bw;
		/* tensor parallelism: two ring all-reduces of the hidden state per layer */
		if (m->tp > 1) {
			double size = N * d * abytes, t = (double)m->tp;
			r.allreduce = 2.0 * L * (sim_time_to_s(c->allreduce_latency) +
						 2.0 * (t - 1.0) / t * size / (m->link_bw * c->link_efficiency));
		}
		/* LM head for the sequences that sample a token */
		r.lm_head = op(2.0 * (double)b->logits * m->lm_head_params, pc, m->lm_head_params * m->wbytes, bw);
	}
	r.overhead = L * sim_time_to_s(c->layer_overhead) + sim_time_to_s(c->step_overhead) +
		     sim_time_to_s(m->extra_step_overhead) +
		     (double)(b->prefills + b->decodes) * sim_time_to_s(c->seq_overhead);
	r.total = r.linear + r.attention + r.elementwise + r.allreduce + r.lm_head + r.overhead;
	if (bd)
		*bd = r;
	ns = (sim_time)llround(r.total * 1e9);
	return ns > 0 ? ns : 1;
}
