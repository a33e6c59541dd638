/*
 * The `profile` perf model: Vidur-format operator tables, interpolated.
 *
 *  - mlp.csv: per-layer times of the linear and elementwise operators by
 *    tokens in the step (rows matching the model's shape and the TP size);
 *    interpolated linearly in tokens, extrapolated from the last two points.
 *  - attention.csv (optional): prefill attention by token pairs
 *    (chunk x (context + chunk/2)), decode attention by total context read.
 *
 * What the tables lack (attention without attention.csv, all-reduce, LM
 * head, engine overheads) comes from the roofline, and a run says so once.
 */
#include "perf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct curve {
	double *x, *y;
	size_t n, cap;
};

struct perf_profile {
	struct curve linear;  /* tokens -> seconds per layer */
	struct curve prefill; /* token pairs -> seconds per layer */
	struct curve decode;  /* total context -> seconds per layer */
};

static void curve_add(struct curve *c, double x, double y)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->x = xrealloc(c->x, c->cap * sizeof(double));
		c->y = xrealloc(c->y, c->cap * sizeof(double));
	}
	c->x[c->n] = x;
	c->y[c->n] = y;
	c->n++;
}

/* Sorts by x and averages points with equal x (repeated measurements). */
static void curve_finish(struct curve *c)
{
	size_t w = 0;
	for (size_t i = 1; i < c->n; i++) { /* insertion sort: tables are small */
		double x = c->x[i], y = c->y[i];
		size_t j = i;
		while (j > 0 && c->x[j - 1] > x) {
			c->x[j] = c->x[j - 1];
			c->y[j] = c->y[j - 1];
			j--;
		}
		c->x[j] = x;
		c->y[j] = y;
	}
	for (size_t i = 0; i < c->n;) {
		size_t j = i;
		double sum = 0;
		while (j < c->n && c->x[j] == c->x[i])
			sum += c->y[j++];
		c->x[w] = c->x[i];
		c->y[w] = sum / (double)(j - i);
		w++;
		i = j;
	}
	c->n = w;
}

static double curve_at(const struct curve *c, double x)
{
	size_t lo = 0, hi;
	double t;
	if (c->n == 0)
		return -1;
	if (c->n == 1 || x <= c->x[0])
		return c->n == 1 ? c->y[0] * (c->x[0] > 0 ? fmax(x, 0) / c->x[0] : 1) : c->y[0];
	if (x >= c->x[c->n - 1]) {
		/* beyond the table: the last two points' slope */
		double s = (c->y[c->n - 1] - c->y[c->n - 2]) / (c->x[c->n - 1] - c->x[c->n - 2]);
		return c->y[c->n - 1] + fmax(s, 0) * (x - c->x[c->n - 1]);
	}
	hi = c->n - 1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (c->x[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	t = (x - c->x[lo]) / (c->x[hi] - c->x[lo]);
	return c->y[lo] + t * (c->y[hi] - c->y[lo]);
}

static void curve_free(struct curve *c)
{
	free(c->x);
	free(c->y);
}

void perf_profile_free(struct perf_profile *p)
{
	if (!p)
		return;
	curve_free(&p->linear);
	curve_free(&p->prefill);
	curve_free(&p->decode);
	free(p);
}

double perf_profile_linear(const struct perf_profile *p, double tokens)
{
	return p->linear.n ? curve_at(&p->linear, tokens) : -1;
}

double perf_profile_prefill_attn(const struct perf_profile *p, double pairs)
{
	return p->prefill.n ? curve_at(&p->prefill, pairs) : -1;
}

double perf_profile_decode_attn(const struct perf_profile *p, double ctx)
{
	return p->decode.n ? curve_at(&p->decode, ctx) : -1;
}

/* ---- CSV ---- */

struct table {
	const char *path;
	char **cols;
	size_t ncols;
	char *line;
	size_t cap;
	char **f;
	size_t nf, fcap;
	int lineno;
	FILE *fp;
};

static size_t split_fields(struct table *t, char *s)
{
	t->nf = 0;
	for (;;) {
		char *c = strchr(s, ',');
		if (t->nf == t->fcap) {
			t->fcap = t->fcap ? t->fcap * 2 : 64;
			t->f = xrealloc(t->f, t->fcap * sizeof(char *));
		}
		if (c)
			*c = '\0';
		t->f[t->nf++] = s;
		if (!c)
			break;
		s = c + 1;
	}
	return t->nf;
}

static bool next_line(struct table *t)
{
	ssize_t n = getline(&t->line, &t->cap, t->fp);
	if (n <= 0)
		return false;
	while (n > 0 && (t->line[n - 1] == '\n' || t->line[n - 1] == '\r'))
		t->line[--n] = '\0';
	t->lineno++;
	return true;
}

static int table_open(struct table *t, const char *path, struct sim_err *err)
{
	memset(t, 0, sizeof(*t));
	t->path = path;
	t->fp = fopen(path, "r");
	if (!t->fp)
		return sim_err_set(err, SIM_EIO, "%s: cannot open: %s", path, strerror(errno));
	if (!next_line(t))
		return sim_err_at(err, path, 1, 0, "empty table: expected a CSV header");
	split_fields(t, t->line);
	t->ncols = t->nf;
	t->cols = xcalloc(t->ncols, sizeof(char *));
	for (size_t i = 0; i < t->ncols; i++)
		t->cols[i] = xstrdup(t->f[i]);
	return 0;
}

static void table_close(struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->f);
	free(t->line);
	if (t->fp)
		fclose(t->fp);
}

static int column(struct table *t, const char *name, int *out, struct sim_err *err)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i], name)) {
			*out = (int)i;
			return 0;
		}
	return sim_err_at(err, t->path, 1, 0, "missing column '%s' (a Vidur-format table has it)", name);
}

static int number(struct table *t, int k, double *out, struct sim_err *err)
{
	char *end;
	const char *s;
	if ((size_t)k >= t->nf)
		return sim_err_at(err, t->path, t->lineno, 0, "expected %zu fields, found %zu", t->ncols, t->nf);
	s = t->f[k];
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(*out))
		return sim_err_at(err, t->path, t->lineno, 0, "column '%s': expected a number, got '%s'",
				  t->cols[k], s);
	return 0;
}

/* ---- loading ---- */

static int load_mlp(struct perf_profile *p, const struct perf_model *m, const char *path,
		    struct sim_err *err)
{
	static const char *const ops[] = {"attn_pre_proj", "attn_rope", "attn_post_proj", "mlp_up_proj",
					  "mlp_act", "mlp_down_proj", "input_layernorm",
					  "post_attention_layernorm", "add"};
	const size_t nops = sizeof(ops) / sizeof(ops[0]);
	struct table t;
	int kop[9], kemb, kff, khead, ktok, ktp;
	int rc = -1;

	if (table_open(&t, path, err))
		goto out;
	for (size_t i = 0; i < nops; i++) {
		char name[96];
		snprintf(name, sizeof(name), "time_stats.%s.median", ops[i]);
		if (column(&t, name, &kop[i], err))
			goto out;
	}
	if (column(&t, "n_embd", &kemb, err) || column(&t, "n_expanded_embd", &kff, err) ||
	    column(&t, "n_head", &khead, err) || column(&t, "num_tokens", &ktok, err) ||
	    column(&t, "num_tensor_parallel_workers", &ktp, err))
		goto out;
	while (next_line(&t)) {
		double emb, ff, heads, tok, tp, sum = 0, v;
		if (!t.line[0])
			continue;
		split_fields(&t, t.line);
		if (number(&t, kemb, &emb, err) || number(&t, kff, &ff, err) || number(&t, khead, &heads, err) ||
		    number(&t, ktok, &tok, err) || number(&t, ktp, &tp, err))
			goto out;
		if (emb != (double)m->llm->hidden || ff != (double)m->llm->intermediate ||
		    heads != (double)m->llm->heads || tp != (double)m->tp)
			continue;
		for (size_t i = 0; i < nops; i++) {
			if (number(&t, kop[i], &v, err))
				goto out;
			sum += (i == nops - 1 ? 2.0 : 1.0) * v; /* two residual adds per layer */
		}
		curve_add(&p->linear, tok, sum / 1e3);
	}
	if (p->linear.n == 0) {
		sim_err_at(err, path, 0, 0,
			   "no rows for %s at TP %d (n_embd %lld, n_expanded_embd %lld, n_head %lld)",
			   m->llm->name, m->tp, (long long)m->llm->hidden, (long long)m->llm->intermediate,
			   (long long)m->llm->heads);
		goto out;
	}
	curve_finish(&p->linear);
	rc = 0;
out:
	table_close(&t);
	return rc;
}

static int load_attention(struct perf_profile *p, const struct perf_model *m, const char *path,
			  struct sim_err *err)
{
	struct table t;
	int kpre, kdec, ksave, kemb, kq, kkv, ktp, kbatch, kchunk, kkvsize, kis;
	int rc = -1;

	if (table_open(&t, path, err))
		goto out;
	if (column(&t, "time_stats.attn_prefill.median", &kpre, err) ||
	    column(&t, "time_stats.attn_decode.median", &kdec, err) ||
	    column(&t, "time_stats.attn_kv_cache_save.median", &ksave, err) ||
	    column(&t, "n_embd", &kemb, err) || column(&t, "n_q_head", &kq, err) ||
	    column(&t, "n_kv_head", &kkv, err) || column(&t, "num_tensor_parallel_workers", &ktp, err) ||
	    column(&t, "batch_size", &kbatch, err) || column(&t, "prefill_chunk_size", &kchunk, err) ||
	    column(&t, "kv_cache_size", &kkvsize, err) || column(&t, "is_prefill", &kis, err))
		goto out;
	while (next_line(&t)) {
		double emb, q, kv, tp, batch, chunk, ctx, pre, dec, save;
		bool is_prefill;
		if (!t.line[0])
			continue;
		split_fields(&t, t.line);
		if (number(&t, kemb, &emb, err) || number(&t, kq, &q, err) || number(&t, kkv, &kv, err) ||
		    number(&t, ktp, &tp, err) || number(&t, kbatch, &batch, err) ||
		    number(&t, kchunk, &chunk, err) || number(&t, kkvsize, &ctx, err) ||
		    number(&t, kpre, &pre, err) || number(&t, kdec, &dec, err) || number(&t, ksave, &save, err))
			goto out;
		if ((size_t)kis >= t.nf)
			goto out;
		is_prefill = !strcmp(t.f[kis], "True") || !strcmp(t.f[kis], "true") || !strcmp(t.f[kis], "1");
		if (emb != (double)m->llm->hidden || q != (double)m->llm->heads ||
		    kv != (double)m->llm->kv_heads || tp != (double)m->tp)
			continue;
		if (is_prefill)
			curve_add(&p->prefill, batch * chunk * (ctx + (chunk + 1.0) / 2.0), (pre + save) / 1e3);
		else
			curve_add(&p->decode, batch * ctx, (dec + save) / 1e3);
	}
	curve_finish(&p->prefill);
	curve_finish(&p->decode);
	rc = 0;
out:
	table_close(&t);
	return rc;
}

int perf_profile_load(struct perf_model *m, const char *path, struct sim_err *err)
{
	struct stat st;
	char *mlp, *attn;
	struct perf_profile *p = xcalloc(1, sizeof(*p));
	int rc = -1;

	if (stat(path, &st) != 0) {
		free(p);
		return sim_err_set(err, SIM_EIO, "%s: cannot open: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		mlp = xasprintf("%s/mlp.csv", path);
		attn = xasprintf("%s/attention.csv", path);
	} else {
		const char *slash = strrchr(path, '/');
		int dl = slash ? (int)(slash - path) : 1;
		mlp = xstrdup(path);
		attn = xasprintf("%.*s/attention.csv", dl, slash ? path : ".");
	}
	if (load_mlp(p, m, mlp, err))
		goto out;
	if (stat(attn, &st) == 0) {
		if (load_attention(p, m, attn, err))
			goto out;
	}
	if (!p->prefill.n || !p->decode.n)
		sim_log(SIM_LOG_WARN, "perf profile %s: no %s attention rows for %s at TP %d; that part comes from the roofline",
			path, !p->prefill.n && !p->decode.n ? "prefill or decode" : !p->prefill.n ? "prefill" : "decode",
			m->llm->name, m->tp);
	perf_profile_free(m->profile);
	m->profile = p;
	p = NULL;
	rc = 0;
out:
	perf_profile_free(p);
	free(mlp);
	free(attn);
	return rc;
}
