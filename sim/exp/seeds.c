/*
 * One configuration over several seeds: running it (common random numbers:
 * seeds s0, s0+1, ...), seeds.json out, and seeds.json or summary.json back
 * in, so compare and check read what run --seeds and run wrote.
 */
#include "exp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const exp_headline[] = {
	"ttft_s.p50", "ttft_s.p99", "tpot_s.p50", "tpot_s.p99", "e2e_s.p99", "slo.attainment",
	"cost.usd", "oscillation.scale_events", "oscillation.direction_reversals",
	"utilization.gpu_busy", "score", NULL};

void exp_seeds_init(struct exp_seeds *x)
{
	memset(x, 0, sizeof(*x));
}

void exp_seeds_release(struct exp_seeds *x)
{
	for (size_t i = 0; i < x->n; i++)
		exp_leaves_release(&x->run[i]);
	free(x->run);
	free(x->seed);
	free(x->feasible);
	free(x->scenario);
	free(x->version);
	free(x->sha256);
	exp_seeds_init(x);
}

/* A new run at the end, its leaves empty. */
static struct exp_leaves *push(struct exp_seeds *x, uint64_t seed, bool feasible)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		x->run = xrealloc(x->run, x->cap * sizeof(*x->run));
		x->seed = xrealloc(x->seed, x->cap * sizeof(*x->seed));
		x->feasible = xrealloc(x->feasible, x->cap * sizeof(*x->feasible));
	}
	x->seed[x->n] = seed;
	x->feasible[x->n] = feasible;
	exp_leaves_init(&x->run[x->n]);
	return &x->run[x->n++];
}

void exp_seeds_add(struct exp_seeds *x, const struct rep_summary *sum)
{
	if (!x->n) {
		x->scenario = xstrdup(sum->scenario ? sum->scenario : "");
		x->version = xstrdup(sum->version ? sum->version : "");
		x->sha256 = xstrdup(sum->scenario_sha256 ? sum->scenario_sha256 : "");
	}
	exp_leaves_from_summary(push(x, sum->seed, !sum->has_score || sum->feasible), sum);
}

bool exp_seeds_all_feasible(const struct exp_seeds *x)
{
	for (size_t i = 0; i < x->n; i++)
		if (!x->feasible[i])
			return false;
	return true;
}

size_t exp_seeds_values(const struct exp_seeds *x, const char *path, double *out)
{
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++) {
		out[i] = NAN;
		k += exp_leaves_get(&x->run[i], path, &out[i]);
	}
	return k;
}

size_t exp_seeds_common(const struct exp_seeds *a, const struct exp_seeds *b, const char *path,
			double *va, double *vb)
{
	size_t k = 0;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (a->seed[i] == b->seed[j]) {
				va[k] = vb[k] = NAN;
				exp_leaves_get(&a->run[i], path, &va[k]);
				exp_leaves_get(&b->run[j], path, &vb[k]);
				k++;
				break;
			}
	return k;
}

void exp_seeds_json(const struct exp_seeds *x, struct rep_json *j)
{
	double *v = xmalloc((x->n ? x->n : 1) * sizeof(*v));
	rep_json_begin_object(j);
	rep_json_key(j, "scenario");
	rep_json_str(j, x->scenario ? x->scenario : "");
	rep_json_key(j, "seeds");
	rep_json_begin_array(j);
	for (size_t i = 0; i < x->n; i++)
		rep_json_int(j, (int64_t)x->seed[i]);
	rep_json_end_array(j);
	rep_json_key(j, "metrics");
	rep_json_begin_object(j);
	for (size_t p = 0; x->n && p < x->run[0].n; p++) {
		const char *path = x->run[0].path[p];
		struct exp_stat st;
		exp_seeds_values(x, path, v);
		exp_stat_of(v, x->n, &st);
		rep_json_key(j, path);
		rep_json_begin_object(j);
		rep_json_key(j, "n");
		rep_json_int(j, (int64_t)st.n);
		rep_json_key(j, "mean");
		rep_json_double(j, st.mean);
		rep_json_key(j, "ci95_half");
		rep_json_double(j, st.half);
		rep_json_key(j, "sd");
		rep_json_double(j, st.sd);
		rep_json_key(j, "values");
		rep_json_begin_array(j);
		for (size_t i = 0; i < x->n; i++)
			rep_json_double(j, v[i]);
		rep_json_end_array(j);
		rep_json_end_object(j);
	}
	rep_json_end_object(j);
	rep_json_key(j, "provenance");
	rep_json_begin_object(j);
	rep_json_key(j, "version");
	rep_json_str(j, x->version ? x->version : "");
	rep_json_key(j, "seed");
	rep_json_int(j, x->n ? (int64_t)x->seed[0] : 0);
	rep_json_key(j, "scenario_sha256");
	rep_json_str(j, x->sha256 ? x->sha256 : "");
	rep_json_end_object(j);
	rep_json_end_object(j);
	free(v);
}

/* ---- reading back ---- */

struct reader {
	struct exp_leaves top;     /* the document's own leaves (a summary's) */
	struct exp_leaves vals;    /* seeds.json: metric path, then each value in order */
	uint64_t *seeds;
	size_t nseeds;
	bool has_seeds, bad_seed, violations;
	char *scenario, *version, *sha256;
};

static void keep(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

static void read_cb(void *ud, const char *path, bool in_array, double v, const char *str)
{
	struct reader *r = ud;
	size_t l = strlen(path);
	if (!in_array) {
		if (str && !strcmp(path, "scenario"))
			keep(&r->scenario, str);
		else if (str && !strcmp(path, "provenance.version"))
			keep(&r->version, str);
		else if (str && !strcmp(path, "provenance.scenario_sha256"))
			keep(&r->sha256, str);
		else if (!str && *path && strcmp(path, "wall_time_s"))
			exp_leaves_add(&r->top, path, v);
		return;
	}
	if (!strcmp(path, "seeds")) {
		r->has_seeds = true;
		if (str || !(v >= 0 && v <= 9223372036854775807.0) || v != floor(v)) {
			r->bad_seed = true;
			return;
		}
		r->seeds = xrealloc(r->seeds, (r->nseeds + 1) * sizeof(*r->seeds));
		r->seeds[r->nseeds++] = (uint64_t)v;
	} else if (!strcmp(path, "score_violations")) {
		r->violations = true;
	} else if (!str && l > 15 && !strncmp(path, "metrics.", 8) && !strcmp(path + l - 7, ".values")) {
		char *p = xstrdup(path + 8);
		p[l - 15] = '\0';
		exp_leaves_add(&r->vals, p, v);
		free(p);
	}
}

static void reader_release(struct reader *r)
{
	exp_leaves_release(&r->top);
	exp_leaves_release(&r->vals);
	free(r->seeds);
	free(r->scenario);
	free(r->version);
	free(r->sha256);
}

int exp_seeds_from_json(struct exp_seeds *x, const char *name, const char *json, size_t len,
			struct sim_err *err)
{
	struct reader r;
	bool has_metrics = false;
	int rc = 0;
	memset(&r, 0, sizeof(r));
	if (exp_json_walk(name, json, len, read_cb, &r, err)) {
		reader_release(&r);
		return -1;
	}
	for (size_t i = 0; i < r.top.n && !has_metrics; i++)
		has_metrics = !strncmp(r.top.path[i], "metrics.", 8);
	exp_seeds_release(x);
	x->scenario = xstrdup(r.scenario ? r.scenario : "");
	x->version = xstrdup(r.version ? r.version : "");
	x->sha256 = xstrdup(r.sha256 ? r.sha256 : "");
	if (r.has_seeds && has_metrics) { /* seeds.json: values[i] is seed i's */
		size_t k = 0;
		if (r.bad_seed) {
			rc = sim_err_set(err, SIM_EINPUT, "%s: \"seeds\" holds something else than seeds", name);
			goto out;
		}
		for (size_t i = 0; i < r.nseeds; i++)
			push(x, r.seeds[i], true);
		while (k < r.vals.n) {
			const char *p = r.vals.path[k];
			size_t m = 0;
			while (k + m < r.vals.n && !strcmp(r.vals.path[k + m], p))
				m++;
			if (m != r.nseeds) {
				rc = sim_err_set(err, SIM_EINPUT, "%s: metric %s has %zu values for %zu seeds",
						 name, p, m, r.nseeds);
				goto out;
			}
			for (size_t i = 0; i < m; i++)
				exp_leaves_add(&x->run[i], p, r.vals.v[k + i]);
			k += m;
		}
	} else { /* a summary: one seed */
		double s = 0;
		struct exp_leaves *l;
		exp_leaves_get(&r.top, "seed", &s);
		l = push(x, s >= 0 && s <= 9223372036854775807.0 ? (uint64_t)s : 0, !r.violations);
		*l = r.top;
		exp_leaves_init(&r.top);
	}
out:
	if (rc)
		exp_seeds_release(x);
	reader_release(&r);
	return rc;
}

static int read_all(const char *path, char **buf, size_t *len, struct sim_err *err)
{
	struct stat st;
	FILE *f;
	if (stat(path, &st))
		return sim_err_set(err, SIM_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode)) /* a FIFO or a device would hang or never end */
		return sim_err_set(err, SIM_EIO, "%s: not a regular file", path);
	if (!(f = fopen(path, "rb")))
		return sim_err_set(err, SIM_EIO, "%s: %s", path, strerror(errno));
	*buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(*buf, 1, (size_t)st.st_size, f);
	(*buf)[*len] = '\0';
	if (ferror(f)) {
		fclose(f);
		free(*buf);
		return sim_err_set(err, SIM_EIO, "%s: cannot read", path);
	}
	fclose(f);
	return 0;
}

int exp_seeds_load(struct exp_seeds *x, const char *path, struct sim_err *err)
{
	struct stat st;
	char *file = NULL, *buf = NULL;
	size_t len = 0;
	int rc;
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		file = xasprintf("%s/seeds.json", path);
		if (stat(file, &st)) {
			free(file);
			file = xasprintf("%s/summary.json", path);
			if (stat(file, &st)) {
				free(file);
				return sim_err_set(err, SIM_EIO, "%s: holds neither seeds.json nor summary.json", path);
			}
		}
		path = file;
	}
	rc = read_all(path, &buf, &len, err);
	if (!rc) {
		rc = exp_seeds_from_json(x, path, buf, len, err);
		free(buf);
	}
	free(file);
	return rc;
}

/* ---- running ---- */

int exp_run_seeds(struct scenario *s, uint64_t s0, size_t n, const struct exp_run_hooks *h,
		  struct exp_seeds *out, struct sim_err *err)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t seed = s0 + i;
		struct run_options ro;
		struct run *r;
		if (seed < s0 || scn_set_seed(s, seed, err))
			return sim_err_set(err, SIM_EINPUT, "seed %llu + %zu is past 2^63-1",
					   (unsigned long long)s0, i);
		memset(&ro, 0, sizeof(ro));
		if (h && h->before && h->before(h->ud, seed, &ro, err))
			return -1;
		r = run_new(s, &ro, err);
		if (!r || run_finish(r, err) || (h && h->after && h->after(h->ud, run_summary(r), err))) {
			run_free(r);
			return -1;
		}
		exp_seeds_add(out, run_summary(r));
		run_free(r);
	}
	return 0;
}
