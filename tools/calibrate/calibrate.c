/*
 * Perf-model calibration against the measurements in ../shared/data:
 *  1. all-reduce latency and link efficiency per GPU from Vidur's network
 *     profiles (least squares, gsl_fit_linear);
 *  2. per-step and per-sequence CPU overheads from Vidur's cpu_overheads.csv;
 *  3. the efficiencies of linear layers from Vidur's operator times (mlp.csv);
 *  4. the end-to-end defaults from Splitwise's measured step times: the
 *     efficiencies and engine overheads minimise the squared log error of
 *     the roofline's step times (Nelder-Mead, gsl_multimin), starting from 1-3.
 * Prints the fitted calibration blocks for the models/gpus files and the error
 * tables that docs/perf-model.md reports.
 * Usage: build/tools/calibrate [DATA_DIR]   (default ../shared/data)
 */
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/perf.h"

/* ---- a tiny CSV reader (header-indexed) ---- */

struct csv {
	char **cols;
	size_t ncols;
	char ***rows;
	size_t nrows;
};

static void split(char *line, char ***out, size_t *n)
{
	size_t cap = 16;
	*out = malloc(cap * sizeof(char *));
	*n = 0;
	for (char *p = line;;) {
		char *c = strchr(p, ',');
		if (*n == cap)
			*out = realloc(*out, (cap *= 2) * sizeof(char *));
		if (c)
			*c = '\0';
		(*out)[(*n)++] = p;
		if (!c)
			break;
		p = c + 1;
	}
}

static int csv_read(const char *path, struct csv *c)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, rcap = 0;
	ssize_t len;
	memset(c, 0, sizeof(*c));
	if (!f) {
		fprintf(stderr, "calibrate: cannot read %s\n", path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char **fields;
		size_t n;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		split(strdup(line), &fields, &n);
		if (!c->cols) {
			c->cols = fields;
			c->ncols = n;
			continue;
		}
		if (c->nrows == rcap)
			c->rows = realloc(c->rows, (rcap = rcap ? rcap * 2 : 256) * sizeof(char **));
		c->rows[c->nrows++] = fields;
	}
	free(line);
	fclose(f);
	return 0;
}

static int col(const struct csv *c, const char *name)
{
	for (size_t i = 0; i < c->ncols; i++)
		if (!strcmp(c->cols[i], name))
			return (int)i;
	fprintf(stderr, "calibrate: no column %s\n", name);
	exit(1);
}

static double num(const struct csv *c, size_t r, int k) { return atof(c->rows[r][k]); }

/* ---- models from the catalog ---- */

static struct cfg_doc doc;

static const struct perf_gpu *gpu(const char *name)
{
	struct sim_err e;
	struct cfg_ctx c;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"calibrate", 0, 0}};
	const struct perf_gpu *g;
	sim_err_clear(&e);
	cfg_ctx_init(&c, &doc, &e);
	g = perf_find_gpu(&c, &at, name, NULL);
	if (!g) {
		fprintf(stderr, "%s\n", e.msg);
		exit(1);
	}
	return g;
}

static const struct perf_llm *llm(const char *name)
{
	struct sim_err e;
	struct cfg_ctx c;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"calibrate", 0, 0}};
	const struct perf_llm *l;
	sim_err_clear(&e);
	cfg_ctx_init(&c, &doc, &e);
	l = perf_find_llm(&c, &at, name, NULL);
	if (!l) {
		fprintf(stderr, "%s\n", e.msg);
		exit(1);
	}
	return l;
}

/* ---- 1. all-reduce ---- */

static void fit_allreduce(const char *dir, const char *prof, const struct perf_gpu *g,
			  struct perf_calibration *cal)
{
	char path[512];
	struct csv c;
	double *x, *y, c0, c1, cov00, cov01, cov11, ss;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/vidur/profiling/network/%s/all_reduce.csv", dir, prof);
	if (csv_read(path, &c))
		exit(1);
	x = malloc(c.nrows * sizeof(double));
	y = malloc(c.nrows * sizeof(double));
	{
		int kw = col(&c, "num_workers"), ks = col(&c, "size"), kt = col(&c, "time_stats.all_reduce.median");
		int kd = col(&c, "devices_per_node");
		for (size_t r = 0; r < c.nrows; r++) {
			double w = num(&c, r, kw), s = num(&c, r, ks);
			/* one node, all workers on it: tensor parallelism inside a server */
			if (num(&c, r, kd) != w || w > 8 || s > (64u << 20))
				continue;
			x[n] = 2.0 * (w - 1.0) / w * s / g->interconnect_bandwidth; /* seconds at full link */
			y[n] = num(&c, r, kt) / 1e3;
			n++;
		}
	}
	gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &ss);
	cal->allreduce_latency = (sim_time)llround(fmax(c0, 1e-6) * 1e9);
	cal->link_efficiency = fmin(1.0, 1.0 / c1);
	printf("all-reduce %-9s %4zu samples: latency %.1f us, link efficiency %.2f\n", g->name, n,
	       fmax(c0, 1e-6) * 1e6, cal->link_efficiency);
	free(x);
	free(y);
}

/* ---- 2. CPU overheads ---- */

static void fit_cpu(const char *dir, struct perf_calibration *cal)
{
	char path[512];
	struct csv c;
	double x[512], y[512], c0, c1, cov00, cov01, cov11, ss;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/vidur/historical/profiling/a100/cpu_overheads.csv", dir);
	if (csv_read(path, &c))
		exit(1);
	{
		int kb = col(&c, "batch_size"), ks = col(&c, "schedule_median"), kp = col(&c, "prepare_inputs_e2e_median");
		int ka = col(&c, "sampler_e2e_median"), ko = col(&c, "process_model_outputs_median");
		for (size_t r = 0; r < c.nrows && n < 512; r++) {
			x[n] = num(&c, r, kb);
			y[n] = (num(&c, r, ks) + num(&c, r, kp) + num(&c, r, ka) + num(&c, r, ko)) / 1e3;
			n++;
		}
	}
	gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &ss);
	cal->step_overhead = (sim_time)llround(fmax(c0, 0) * 1e9);
	cal->seq_overhead = (sim_time)llround(fmax(c1, 0) * 1e9);
	printf("cpu overheads (vidur a100, %zu rows): %.3f ms per step + %.1f us per sequence\n", n,
	       c0 * 1e3, c1 * 1e6);
}

/* ---- 3. linear layers from Vidur operator times ---- */

struct linpt {
	double flops, bytes, t;
};

struct linfit {
	struct linpt *p;
	size_t n;
	double peak, bw;
};

static double lin_obj(const gsl_vector *v, void *params)
{
	struct linfit *f = params;
	double ec = 1.0 / (1.0 + exp(-gsl_vector_get(v, 0))), em = 1.0 / (1.0 + exp(-gsl_vector_get(v, 1)));
	double lat = exp(gsl_vector_get(v, 2)), s = 0;
	for (size_t i = 0; i < f->n; i++) {
		double pred = fmax(f->p[i].flops / (f->peak * ec), f->p[i].bytes / (f->bw * em)) + lat;
		double e = log(pred / f->p[i].t);
		s += e * e;
	}
	return s;
}

static double logit(double p) { return log(p / (1 - p)); }

static void minimise(gsl_multimin_function *fn, gsl_vector *x, double step, int iters)
{
	gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, x->size);
	gsl_vector *ss = gsl_vector_alloc(x->size);
	gsl_vector_set_all(ss, step);
	for (int restart = 0; restart < 4; restart++) {
		gsl_multimin_fminimizer_set(m, fn, x, ss);
		for (int i = 0; i < iters; i++) {
			if (gsl_multimin_fminimizer_iterate(m))
				break;
			if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), 1e-6) == GSL_SUCCESS)
				break;
		}
		gsl_vector_memcpy(x, gsl_multimin_fminimizer_x(m));
	}
	gsl_multimin_fminimizer_free(m);
	gsl_vector_free(ss);
}

static void fit_linear(const char *dir, const char *vgpu, const struct perf_gpu *g,
		       const struct perf_llm *l, struct perf_calibration *cal)
{
	char path[512];
	struct csv c;
	struct linfit f;
	gsl_vector *x = gsl_vector_alloc(3);
	gsl_multimin_function fn;
	double err[2048];
	size_t ne = 0;
	snprintf(path, sizeof(path), "%s/vidur/profiling/compute/%s/meta-llama/Llama-2-70b-hf/mlp.csv", dir, vgpu);
	if (csv_read(path, &c))
		exit(1);
	f.p = malloc(c.nrows * sizeof(*f.p));
	f.n = 0;
	f.peak = g->fp16_tflops * 1e12;
	f.bw = g->memory_bandwidth;
	{
		int kn = col(&c, "num_tokens"), kt = col(&c, "num_tensor_parallel_workers");
		int k1 = col(&c, "time_stats.attn_pre_proj.median"), k2 = col(&c, "time_stats.attn_post_proj.median");
		int k3 = col(&c, "time_stats.mlp_up_proj.median"), k4 = col(&c, "time_stats.mlp_down_proj.median");
		double d = (double)l->hidden, qd = (double)(l->heads * l->head_dim), kvd = (double)(l->kv_heads * l->head_dim);
		for (size_t r = 0; r < c.nrows; r++) {
			double N = num(&c, r, kn), t = num(&c, r, kt);
			double params = (d * qd + 2 * d * kvd + qd * d + 3.0 * d * (double)l->intermediate) / t;
			f.p[f.n].flops = 2.0 * N * params;
			f.p[f.n].bytes = 2.0 * params + 2.0 * N * d * 4;
			f.p[f.n].t = (num(&c, r, k1) + num(&c, r, k2) + num(&c, r, k3) + num(&c, r, k4)) / 1e3;
			if (f.p[f.n].t > 0)
				f.n++;
		}
	}
	gsl_vector_set(x, 0, logit(0.6));
	gsl_vector_set(x, 1, logit(0.7));
	gsl_vector_set(x, 2, log(20e-6));
	fn.n = 3;
	fn.f = lin_obj;
	fn.params = &f;
	minimise(&fn, x, 0.5, 4000);
	cal->compute_efficiency = 1.0 / (1.0 + exp(-gsl_vector_get(x, 0)));
	cal->memory_efficiency = 1.0 / (1.0 + exp(-gsl_vector_get(x, 1)));
	for (size_t i = 0; i < f.n && ne < 2048; i++) {
		double pred = fmax(f.p[i].flops / (f.peak * cal->compute_efficiency),
				   f.p[i].bytes / (f.bw * cal->memory_efficiency)) + exp(gsl_vector_get(x, 2));
		err[ne++] = fabs(pred / f.p[i].t - 1.0);
	}
	gsl_sort(err, 1, ne);
	printf("linear ops %-9s %4zu vidur rows (llama-2-70b, tp 1-8): compute eff %.2f, memory eff %.2f, "
	       "launch %.1f us; |error| median %.1f%%, p90 %.1f%%\n",
	       g->name, f.n, cal->compute_efficiency, cal->memory_efficiency, exp(gsl_vector_get(x, 2)) * 1e6,
	       100 * gsl_stats_median_from_sorted_data(err, 1, ne),
	       100 * gsl_stats_quantile_from_sorted_data(err, 1, ne, 0.9));
	free(f.p);
	gsl_vector_free(x);
}

/* ---- 4. end to end against Splitwise ---- */

struct e2e {
	const char *model, *hw, *kind;
	int tp, prompt, batch, tokens;
	double ms; /* measured median */
	const struct perf_gpu *g;
	const struct perf_llm *l;
};

struct e2efit {
	struct e2e *p;
	size_t n;
	struct perf_calibration base;
	const char *gpu;
	double prior[6], lambda; /* ridge toward a prior, in the fitted coordinates */
};

static const int NP = 6;

static void params_to_cal(const double *v, const struct perf_calibration *base, struct perf_calibration *c)
{
	*c = *base;
	c->compute_efficiency = 1.0 / (1.0 + exp(-v[0]));
	c->memory_efficiency = 1.0 / (1.0 + exp(-v[1]));
	c->attention_efficiency = 1.0 / (1.0 + exp(-v[2]));
	c->layer_overhead = (sim_time)llround(exp(v[3]) * 1e9);
	c->seq_overhead = (sim_time)llround(exp(v[4]) * 1e9);
	c->step_overhead = (sim_time)llround(exp(v[5]) * 1e9);
}

static double predict(const struct e2e *p, const struct perf_calibration *cal)
{
	struct perf_gpu g = *p->g;
	struct perf_model m;
	struct perf_batch b;
	struct sim_err e;
	double t;
	g.calibration = *cal;
	sim_err_clear(&e);
	if (perf_model_init(&m, &g, p->l, p->tp, PERF_FP16, PERF_FP16, NULL, &e))
		return NAN;
	memset(&b, 0, sizeof(b));
	if (!strcmp(p->kind, "prefill")) {
		b.prefill_tokens = (int64_t)p->prompt * p->batch;
		b.prefill_pairs = (double)p->batch * p->prompt * (p->prompt + 1.0) / 2.0;
		b.prefills = p->batch;
		b.logits = p->batch;
	} else { /* mean decode step over the generation */
		b.decodes = p->batch;
		b.decode_ctx = (int64_t)p->batch * (p->prompt + p->tokens / 2);
		b.logits = p->batch;
	}
	t = sim_time_to_s(perf_step_time(&m, &b, NULL)) * 1e3;
	perf_model_release(&m);
	return t;
}

static double e2e_obj(const gsl_vector *v, void *params)
{
	struct e2efit *f = params;
	struct perf_calibration cal;
	double s = 0;
	params_to_cal(v->data, &f->base, &cal);
	for (size_t i = 0; i < f->n; i++) {
		double e = log(predict(&f->p[i], &cal) / f->p[i].ms);
		s += e * e;
	}
	for (int k = 0; k < NP; k++)
		s += f->lambda * (v->data[k] - f->prior[k]) * (v->data[k] - f->prior[k]);
	return s;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static size_t load_splitwise(const char *dir, struct e2e *out, size_t max)
{
	char path[512];
	struct csv c;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/splitwise/step_times_calibration.csv", dir);
	if (csv_read(path, &c))
		exit(1);
	{
		int km = col(&c, "model"), kh = col(&c, "hardware"), kp = col(&c, "prompt_size");
		int kb = col(&c, "batch_size"), kk = col(&c, "token_size"), kt = col(&c, "tensor_parallel");
		int kpt = col(&c, "prompt_time"), ktt = col(&c, "token_time");
		for (int phase = 0; phase < 2; phase++)
			for (size_t r = 0; r < c.nrows; r++) {
				struct e2e key = {c.rows[r][km], c.rows[r][kh], phase ? "decode" : "prefill",
						  atoi(c.rows[r][kt]), atoi(c.rows[r][kp]), atoi(c.rows[r][kb]),
						  phase ? atoi(c.rows[r][kk]) : 0, 0, NULL, NULL};
				double vals[64];
				size_t nv = 0;
				bool seen = false;
				if (!strcmp(key.hw, "h100-80gb-pcap"))
					continue; /* power-capped: not a default */
				for (size_t i = 0; i < n; i++)
					if (!strcmp(out[i].model, key.model) && !strcmp(out[i].hw, key.hw) &&
					    out[i].kind == key.kind && out[i].tp == key.tp && out[i].prompt == key.prompt &&
					    out[i].batch == key.batch && out[i].tokens == key.tokens)
						seen = true;
				if (seen || n == max)
					continue;
				for (size_t q = 0; q < c.nrows && nv < 64; q++)
					if (!strcmp(c.rows[q][km], key.model) && !strcmp(c.rows[q][kh], key.hw) &&
					    atoi(c.rows[q][kt]) == key.tp && atoi(c.rows[q][kp]) == key.prompt &&
					    atoi(c.rows[q][kb]) == key.batch && (!phase || atoi(c.rows[q][kk]) == key.tokens))
						vals[nv++] = num(&c, q, phase ? ktt : kpt);
				qsort(vals, nv, sizeof(double), cmp_dbl);
				key.ms = nv % 2 ? vals[nv / 2] : 0.5 * (vals[nv / 2 - 1] + vals[nv / 2]);
				key.g = gpu(!strcmp(key.hw, "a100-80gb") ? "a100-80g" : "h100-sxm");
				key.l = llm(!strcmp(key.model, "llama2-70b") ? "llama-2-70b" : "bloom-176b");
				out[n++] = key;
			}
	}
	return n;
}

static void report(const char *title, struct e2e *p, size_t n, const struct perf_calibration *cal,
		   const char *gpu_name, bool rows)
{
	double err[512];
	size_t ne = 0;
	if (rows)
		printf("\n| %s | model | tp | phase | batch | prompt | tokens | measured ms | predicted ms | error |\n"
		       "|---|---|---|---|---|---|---|---|---|---|\n", title);
	for (size_t i = 0; i < n; i++) {
		double pr;
		if (strcmp(p[i].g->name, gpu_name))
			continue;
		pr = predict(&p[i], cal);
		err[ne++] = fabs(pr / p[i].ms - 1.0);
		if (rows)
			printf("| %s | %s | %d | %s | %d | %d | %d | %.1f | %.1f | %+.1f%% |\n", p[i].g->name, p[i].l->name,
			       p[i].tp, p[i].kind, p[i].batch, p[i].prompt, p[i].tokens, p[i].ms, pr,
			       100 * (pr / p[i].ms - 1.0));
	}
	gsl_sort(err, 1, ne);
	printf("%s %s: %zu points, |error| median %.1f%%, mean %.1f%%, p90 %.1f%%, max %.1f%%\n", title, gpu_name, ne,
	       100 * gsl_stats_median_from_sorted_data(err, 1, ne), 100 * gsl_stats_mean(err, 1, ne),
	       100 * gsl_stats_quantile_from_sorted_data(err, 1, ne, 0.9), 100 * err[ne - 1]);
}

static void print_cal(const char *name, const struct perf_calibration *c)
{
	printf("\n# %s\ncalibration:\n"
	       "  compute_efficiency: %.3f\n  memory_efficiency: %.3f\n  attention_efficiency: %.3f\n"
	       "  link_efficiency: %.3f\n  allreduce_latency: %.1fus\n  layer_overhead: %.1fus\n"
	       "  step_overhead: %.3fms\n  seq_overhead: %.1fus\n",
	       name, c->compute_efficiency, c->memory_efficiency, c->attention_efficiency, c->link_efficiency,
	       (double)c->allreduce_latency / 1e3, (double)c->layer_overhead / 1e3,
	       (double)c->step_overhead / 1e6, (double)c->seq_overhead / 1e3);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/data";
	static struct e2e pts[512];
	size_t n;
	struct { const char *name, *vidur, *net; struct perf_calibration cal; } gpus[] = {
		{"a100-80g", "a100", "a100_dgx", {0, 0, 0, 0, 0, 0, 0, 0}},
		{"h100-sxm", "h100", "h100_dgx", {0, 0, 0, 0, 0, 0, 0, 0}}};
	bool rows = getenv("CALIBRATE_ROWS") != NULL;
	double prior_next[6] = {0}, prior_ratio[2] = {1, 1};

	cfg_doc_init(&doc);
	n = load_splitwise(dir, pts, 512);
	printf("splitwise: %zu measured configurations\n\n", n);
	for (size_t k = 0; k < 2; k++) {
		const struct perf_gpu *g = gpu(gpus[k].name);
		struct perf_calibration *cal = &gpus[k].cal;
		struct e2efit f;
		gsl_vector *x = gsl_vector_alloc((size_t)NP);
		gsl_multimin_function fn;
		*cal = g->calibration;
		fit_allreduce(dir, gpus[k].net, g, cal);
		fit_cpu(dir, cal);
		fit_linear(dir, gpus[k].vidur, g, llm("llama-2-70b"), cal);
		cal->attention_efficiency = cal->compute_efficiency * 0.7;
		cal->layer_overhead = 50000;
		report("operator-level start", pts, n, cal, g->name, false);
		f.p = pts;
		f.n = n;
		f.base = *cal;
		f.gpu = g->name;
		/* fit on this GPU's points only */
		{
			static struct e2e mine[512];
			size_t m = 0;
			for (size_t i = 0; i < n; i++)
				if (!strcmp(pts[i].g->name, g->name))
					mine[m++] = pts[i];
			f.p = mine;
			f.n = m;
		}
		gsl_vector_set(x, 0, logit(cal->compute_efficiency));
		gsl_vector_set(x, 1, logit(cal->memory_efficiency));
		gsl_vector_set(x, 2, logit(cal->attention_efficiency));
		gsl_vector_set(x, 3, log((double)cal->layer_overhead / 1e9));
		gsl_vector_set(x, 4, log(fmax((double)cal->seq_overhead, 1e3) / 1e9));
		gsl_vector_set(x, 5, log(fmax((double)cal->step_overhead, 1e5) / 1e9));
		/* Prior: the operator-level start for the first GPU; for the next,
		 * the first GPU's engine fit (the same engine), with its own
		 * operator-level efficiencies. It keeps directions the data cannot
		 * see (one model and one TP on H100) where physics puts them. */
		if (k == 0) {
			for (int q = 0; q < NP; q++)
				f.prior[q] = gsl_vector_get(x, (size_t)q);
		} else {
			memcpy(f.prior, prior_next, sizeof(f.prior));
			f.prior[0] = logit(cal->compute_efficiency * prior_ratio[0]);
			f.prior[1] = logit(fmin(0.95, cal->memory_efficiency * prior_ratio[1]));
			for (int q = 0; q < NP; q++)
				gsl_vector_set(x, (size_t)q, f.prior[q]);
		}
		f.lambda = k == 0 ? 0.02 : 0.3;
		fn.n = (size_t)NP;
		fn.f = e2e_obj;
		fn.params = &f;
		minimise(&fn, x, 0.3, 6000);
		params_to_cal(x->data, &f.base, cal);
		if (k == 0) {
			struct perf_calibration start = f.base;
			memcpy(prior_next, x->data, sizeof(prior_next));
			/* how far the engine sits from the operator-level efficiencies */
			fit_linear(dir, gpus[k].vidur, g, llm("llama-2-70b"), &start);
			prior_ratio[0] = cal->compute_efficiency / start.compute_efficiency;
			prior_ratio[1] = cal->memory_efficiency / start.memory_efficiency;
		}
		report("splitwise fit", pts, n, cal, g->name, rows);
		print_cal(g->name, cal);
		printf("\n");
		gsl_vector_free(x);
	}
	cfg_doc_release(&doc);
	return 0;
}
