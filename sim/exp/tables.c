/*
 * The tables of a sweep, built from its rows in (point, seed) order:
 * points.csv (a row per point and seed: every numeric summary.json leaf),
 * summary.csv (per point: each metric's mean and 95 % CI half-width over
 * the seeds, the share of seeds whose score constraints held), pareto.csv
 * (the points no other point beats on every objective) and sweep.h5 (the
 * same three tables). sweep.meta says what the rows are, for merge.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct meta {
	char *experiment;
	size_t npoints, shard, nshards;
	int64_t *seeds;
	size_t nseeds;
	char **params, **objectives; /* objectives: '-' first when maximised */
	size_t nparams, nobjectives;
};

static void meta_release(struct meta *m)
{
	free(m->experiment);
	free(m->seeds);
	for (size_t i = 0; i < m->nparams; i++)
		free(m->params[i]);
	for (size_t i = 0; i < m->nobjectives; i++)
		free(m->objectives[i]);
	free(m->params);
	free(m->objectives);
	memset(m, 0, sizeof(*m));
}

static void meta_of(const struct exp_file *e, size_t npoints, size_t shard, size_t nshards, struct meta *m)
{
	memset(m, 0, sizeof(*m));
	m->experiment = xstrdup(e->path);
	m->npoints = npoints;
	m->shard = shard;
	m->nshards = nshards;
	m->nseeds = e->nseeds;
	m->seeds = xcalloc(e->nseeds + 1, sizeof(int64_t));
	memcpy(m->seeds, e->seeds, e->nseeds * sizeof(int64_t));
	m->nparams = e->nparams;
	m->params = xcalloc(e->nparams + 1, sizeof(char *));
	for (size_t i = 0; i < e->nparams; i++)
		m->params[i] = xstrdup(e->params[i].path);
	m->nobjectives = e->nobjectives;
	m->objectives = xcalloc(e->nobjectives + 1, sizeof(char *));
	for (size_t i = 0; i < e->nobjectives; i++)
		m->objectives[i] = xasprintf("%s%s", e->objectives[i].maximize ? "-" : "", e->objectives[i].path);
}

static int meta_write(const char *dir, const struct meta *m, struct sim_err *err)
{
	struct rep_json b;
	char *path = xasprintf("%s/sweep.meta", dir), *t;
	int rc;
	rep_json_init(&b);
	t = xasprintf("servesim-sweep 1\nexperiment\t%s\npoints\t%zu\nshard\t%zu\t%zu\n", m->experiment, m->npoints,
		      m->shard, m->nshards);
	rep_json_raw(&b, t);
	free(t);
	for (size_t i = 0; i < m->nseeds; i++) {
		t = xasprintf("seed\t%lld\n", (long long)m->seeds[i]);
		rep_json_raw(&b, t);
		free(t);
	}
	for (size_t i = 0; i < m->nparams; i++) {
		t = xasprintf("param\t%s\n", m->params[i]);
		rep_json_raw(&b, t);
		free(t);
	}
	for (size_t i = 0; i < m->nobjectives; i++) {
		t = xasprintf("objective\t%s\n", m->objectives[i]);
		rep_json_raw(&b, t);
		free(t);
	}
	rc = rep_write_file(path, b.buf, b.len, err);
	rep_json_release(&b);
	free(path);
	return rc;
}

static int meta_read(const char *dir, struct meta *m, struct sim_err *err)
{
	char *path = xasprintf("%s/sweep.meta", dir), *line = NULL;
	FILE *f = fopen(path, "r");
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	bool ok = true;
	memset(m, 0, sizeof(*m));
	if (!f) {
		sim_err_set(err, SIM_EIO, "%s: %s (not a sweep directory?)", path, strerror(errno));
		free(path);
		return -1;
	}
	while (ok && (len = getline(&line, &cap, f)) > 0) {
		char *v;
		lineno++;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (lineno == 1) {
			ok = !strcmp(line, "servesim-sweep 1");
			continue;
		}
		if (!(v = strchr(line, '\t'))) {
			ok = false;
			break;
		}
		*v++ = '\0';
		if (!strcmp(line, "experiment"))
			m->experiment = xstrdup(v);
		else if (!strcmp(line, "points"))
			m->npoints = (size_t)strtoull(v, NULL, 10);
		else if (!strcmp(line, "shard"))
			ok = sscanf(v, "%zu\t%zu", &m->shard, &m->nshards) == 2;
		else if (!strcmp(line, "seed")) {
			m->seeds = xrealloc(m->seeds, (m->nseeds + 1) * sizeof(int64_t));
			m->seeds[m->nseeds++] = strtoll(v, NULL, 10);
		} else if (!strcmp(line, "param")) {
			m->params = xrealloc(m->params, (m->nparams + 1) * sizeof(char *));
			m->params[m->nparams++] = xstrdup(v);
		} else if (!strcmp(line, "objective")) {
			m->objectives = xrealloc(m->objectives, (m->nobjectives + 1) * sizeof(char *));
			m->objectives[m->nobjectives++] = xstrdup(v);
		} else
			ok = false;
	}
	free(line);
	fclose(f);
	if (ok && (m->npoints == 0 || m->npoints > EXP_MAX_ROWS || m->nseeds > EXP_MAX_ROWS / m->npoints))
		ok = false; /* a sweep holds at most EXP_MAX_ROWS rows */
	if (!ok || !m->experiment || !m->nseeds) {
		sim_err_at(err, path, lineno, 0, "not a servesim sweep.meta");
		meta_release(m);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* ---- CSV ---- */

static void csv_text(struct rep_json *b, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		rep_json_raw(b, s);
		return;
	}
	rep_json_raw(b, "\"");
	for (; *s; s++) {
		char c[3] = {*s, 0, 0};
		if (*s == '"')
			c[1] = '"';
		rep_json_raw(b, c);
	}
	rep_json_raw(b, "\"");
}

void exp_num_text(double v, char *buf, size_t n)
{
	if (isnan(v))
		snprintf(buf, n, "nan");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0) /* counts read as counts */
		snprintf(buf, n, "%.0f", v);
	else
		rep_fmt_double(v, buf, n);
}

static void csv_num(struct rep_json *b, double v)
{
	char buf[40];
	exp_num_text(v, buf, sizeof(buf));
	rep_json_raw(b, buf);
}

static void csv_int(struct rep_json *b, long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	rep_json_raw(b, buf);
}

/* ---- HDF5: a table of columns of text, integers and doubles ---- */

struct h5cols {
	struct rep_col *c;
	size_t n, cap, size;
};

static void h5col(struct h5cols *t, const char *name, enum rep_col_type type, size_t len)
{
	size_t sz = type == REP_COL_STR ? len : 8;
	XGROW(t->c, t->cap, t->n + 1);
	t->c[t->n++] = (struct rep_col){xstrdup(name), type, t->size, type == REP_COL_STR ? len : 0};
	t->size += sz;
}

static void h5cols_release(struct h5cols *t)
{
	for (size_t i = 0; i < t->n; i++)
		free((char *)t->c[i].name);
	free(t->c);
}

static void h5put(unsigned char *row, const struct rep_col *c, const char *s, double v, long long k)
{
	if (c->type == REP_COL_STR)
		snprintf((char *)row + c->off, c->len, "%s", s ? s : "");
	else if (c->type == REP_COL_I64) {
		int64_t x = k;
		memcpy(row + c->off, &x, 8);
	} else
		memcpy(row + c->off, &v, 8);
}

/* ---- the tables ---- */

struct union_paths {
	char **path;
	size_t n, cap;
};

static size_t path_index(const struct union_paths *u, const char *p)
{
	for (size_t i = 0; i < u->n; i++) /* a few hundred paths: a scan is fine */
		if (!strcmp(u->path[i], p))
			return i;
	return SIZE_MAX;
}

static int cmp_row(const void *a, const void *b)
{
	const struct exp_row *x = a, *y = b;
	if (x->point != y->point)
		return x->point < y->point ? -1 : 1;
	return x->seed < y->seed ? -1 : x->seed > y->seed;
}

static size_t maxlen(const struct exp_row *rows, size_t n, size_t j, bool error)
{
	size_t m = 8;
	for (size_t i = 0; i < n; i++) {
		const char *s = error ? rows[i].error : j < rows[i].nparams ? rows[i].value[j] : "";
		if (s && strlen(s) + 1 > m)
			m = strlen(s) + 1;
	}
	return m > 4096 ? 4096 : m;
}

/* Per point: the index of its first row and how many rows it has. */
struct span {
	size_t point, first, n;
};

static int write_tables(const char *dir, const struct meta *m, struct exp_row *rows, size_t n,
			struct sim_err *err)
{
	struct union_paths u = {0};
	struct rep_json pc, sc, pa;
	struct span *sp = xcalloc(n + 1, sizeof(*sp));
	size_t nsp = 0, np = m->nparams;
	double *vals = xcalloc(n + 1, sizeof(double));
	double *mean = NULL, *half = NULL, *frate;
	bool *front;
	struct h5cols hp = {0}, hs = {0}, hf = {0};
	unsigned char *hrow;
	struct rep_h5 *h5;
	char *path;
	int rc = 0;

	qsort(rows, n, sizeof(*rows), cmp_row);
	/* every leaf, in order of first appearance; summary.json's seed is the seed column */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < rows[i].leaves.n; k++)
			if (strcmp(rows[i].leaves.path[k], "seed") && path_index(&u, rows[i].leaves.path[k]) == SIZE_MAX) {
				XGROW(u.path, u.cap, u.n + 1);
				u.path[u.n++] = rows[i].leaves.path[k];
			}
	for (size_t i = 0; i < n; i++) {
		if (!nsp || sp[nsp - 1].point != rows[i].point)
			sp[nsp++] = (struct span){rows[i].point, i, 0};
		sp[nsp - 1].n++;
	}
	mean = xcalloc(nsp * u.n + 1, sizeof(double));
	half = xcalloc(nsp * u.n + 1, sizeof(double));
	frate = xcalloc(nsp + 1, sizeof(double));
	front = xcalloc(nsp + 1, sizeof(bool));
	for (size_t s = 0; s < nsp; s++) {
		size_t k = 0, nf = 0;
		double f = 0;
		for (size_t j = 0; j < u.n; j++) {
			struct exp_stat st;
			for (size_t i = 0; i < sp[s].n; i++) {
				const struct exp_row *w = &rows[sp[s].first + i];
				double v = NAN;
				if (w->ok)
					exp_leaves_get(&w->leaves, u.path[j], &v);
				vals[i] = v;
			}
			exp_stat_of(vals, sp[s].n, &st);
			mean[s * u.n + j] = st.n ? st.mean : NAN;
			half[s * u.n + j] = st.half;
		}
		for (size_t i = 0; i < sp[s].n; i++) {
			const struct exp_row *w = &rows[sp[s].first + i];
			if (w->ok && !isnan(w->feasible)) {
				f += w->feasible;
				nf++;
			}
			k += w->ok;
		}
		frate[s] = nf ? f / (double)nf : NAN;
	}
	/* the Pareto front over the objectives' means (all minimised, '-' ones negated) */
	for (size_t s = 0; s < nsp && m->nobjectives; s++) {
		bool finite = true, dominated = false;
		for (size_t o = 0; o < m->nobjectives; o++) {
			size_t j = path_index(&u, m->objectives[o] + (m->objectives[o][0] == '-'));
			finite &= j != SIZE_MAX && isfinite(mean[s * u.n + j]);
		}
		for (size_t t = 0; t < nsp && finite && !dominated; t++) {
			bool le = true, lt = false;
			if (t == s)
				continue;
			for (size_t o = 0; o < m->nobjectives; o++) {
				bool mx = m->objectives[o][0] == '-';
				size_t j = path_index(&u, m->objectives[o] + mx);
				double a = mean[s * u.n + j], b = mean[t * u.n + j];
				if (mx)
					a = -a, b = -b;
				if (!isfinite(b) || b > a)
					le = false;
				if (b < a)
					lt = true;
			}
			dominated = le && lt;
		}
		front[s] = finite && !dominated;
	}

	/* points.csv */
	rep_json_init(&pc);
	rep_json_raw(&pc, "point,seed,status,error");
	for (size_t j = 0; j < np; j++) {
		rep_json_raw(&pc, ",");
		csv_text(&pc, m->params[j]);
	}
	rep_json_raw(&pc, ",feasible");
	for (size_t j = 0; j < u.n; j++) {
		rep_json_raw(&pc, ",");
		csv_text(&pc, u.path[j]);
	}
	rep_json_raw(&pc, "\n");
	for (size_t i = 0; i < n; i++) {
		const struct exp_row *w = &rows[i];
		csv_int(&pc, (long long)w->point);
		rep_json_raw(&pc, ",");
		csv_int(&pc, (long long)w->seed);
		rep_json_raw(&pc, w->ok ? ",ok," : ",failed,");
		csv_text(&pc, w->error ? w->error : "");
		for (size_t j = 0; j < np; j++) {
			rep_json_raw(&pc, ",");
			csv_text(&pc, j < w->nparams ? w->value[j] : "");
		}
		rep_json_raw(&pc, ",");
		csv_num(&pc, w->feasible);
		for (size_t j = 0; j < u.n; j++) {
			double v = NAN;
			rep_json_raw(&pc, ",");
			exp_leaves_get(&w->leaves, u.path[j], &v);
			csv_num(&pc, v);
		}
		rep_json_raw(&pc, "\n");
	}
	/* summary.csv and pareto.csv */
	rep_json_init(&sc);
	rep_json_init(&pa);
	rep_json_raw(&sc, "point");
	rep_json_raw(&pa, "point");
	for (size_t j = 0; j < np; j++) {
		rep_json_raw(&sc, ",");
		csv_text(&sc, m->params[j]);
		rep_json_raw(&pa, ",");
		csv_text(&pa, m->params[j]);
	}
	rep_json_raw(&sc, ",seeds,failed,feasible_rate");
	rep_json_raw(&pa, ",seeds,feasible_rate");
	for (size_t j = 0; j < u.n; j++) {
		char *h = xasprintf("%s.mean", u.path[j]), *c = xasprintf("%s.ci95", u.path[j]);
		rep_json_raw(&sc, ",");
		csv_text(&sc, h);
		rep_json_raw(&sc, ",");
		csv_text(&sc, c);
		free(h);
		free(c);
	}
	for (size_t o = 0; o < m->nobjectives; o++) {
		const char *p = m->objectives[o] + (m->objectives[o][0] == '-');
		char *h = xasprintf("%s.mean", p), *c = xasprintf("%s.ci95", p);
		rep_json_raw(&pa, ",");
		csv_text(&pa, h);
		rep_json_raw(&pa, ",");
		csv_text(&pa, c);
		free(h);
		free(c);
	}
	rep_json_raw(&sc, "\n");
	rep_json_raw(&pa, "\n");
	for (size_t s = 0; s < nsp; s++) {
		const struct exp_row *w = &rows[sp[s].first];
		size_t ok = 0;
		for (size_t i = 0; i < sp[s].n; i++)
			ok += rows[sp[s].first + i].ok;
		for (int t = 0; t < 2; t++) {
			struct rep_json *b = t ? &pa : &sc;
			if (t && !front[s])
				continue;
			csv_int(b, (long long)sp[s].point);
			for (size_t j = 0; j < np; j++) {
				rep_json_raw(b, ",");
				csv_text(b, j < w->nparams ? w->value[j] : "");
			}
			rep_json_raw(b, ",");
			csv_int(b, (long long)ok);
			if (!t) {
				rep_json_raw(b, ",");
				csv_int(b, (long long)(sp[s].n - ok));
			}
			rep_json_raw(b, ",");
			csv_num(b, frate[s]);
			if (!t)
				for (size_t j = 0; j < u.n; j++) {
					rep_json_raw(b, ",");
					csv_num(b, mean[s * u.n + j]);
					rep_json_raw(b, ",");
					csv_num(b, half[s * u.n + j]);
				}
			else
				for (size_t o = 0; o < m->nobjectives; o++) {
					size_t j = path_index(&u, m->objectives[o] + (m->objectives[o][0] == '-'));
					rep_json_raw(b, ",");
					csv_num(b, mean[s * u.n + j]);
					rep_json_raw(b, ",");
					csv_num(b, half[s * u.n + j]);
				}
			rep_json_raw(b, "\n");
		}
	}
	static const char *const names[] = {"points.csv", "summary.csv", "pareto.csv"};
	struct rep_json *bufs[] = {&pc, &sc, &pa};
	for (int t = 0; t < 3 && !rc; t++) {
		path = xasprintf("%s/%s", dir, names[t]);
		rc = rep_write_file(path, bufs[t]->buf, bufs[t]->len, err);
		free(path);
	}

	/* sweep.h5: the same three tables */
	h5col(&hp, "point", REP_COL_I64, 0);
	h5col(&hp, "seed", REP_COL_I64, 0);
	h5col(&hp, "status", REP_COL_STR, 8);
	h5col(&hp, "error", REP_COL_STR, maxlen(rows, n, 0, true));
	h5col(&hs, "point", REP_COL_I64, 0);
	h5col(&hf, "point", REP_COL_I64, 0);
	for (size_t j = 0; j < np; j++) {
		size_t l = maxlen(rows, n, j, false);
		h5col(&hp, m->params[j], REP_COL_STR, l);
		h5col(&hs, m->params[j], REP_COL_STR, l);
		h5col(&hf, m->params[j], REP_COL_STR, l);
	}
	h5col(&hp, "feasible", REP_COL_F64, 0);
	h5col(&hs, "seeds", REP_COL_I64, 0);
	h5col(&hs, "failed", REP_COL_I64, 0);
	h5col(&hs, "feasible_rate", REP_COL_F64, 0);
	h5col(&hf, "seeds", REP_COL_I64, 0);
	h5col(&hf, "feasible_rate", REP_COL_F64, 0);
	for (size_t j = 0; j < u.n; j++) {
		char *a = xasprintf("%s.mean", u.path[j]), *b = xasprintf("%s.ci95", u.path[j]);
		h5col(&hp, u.path[j], REP_COL_F64, 0);
		h5col(&hs, a, REP_COL_F64, 0);
		h5col(&hs, b, REP_COL_F64, 0);
		free(a);
		free(b);
	}
	for (size_t o = 0; o < m->nobjectives; o++) {
		const char *p = m->objectives[o] + (m->objectives[o][0] == '-');
		char *a = xasprintf("%s.mean", p), *b = xasprintf("%s.ci95", p);
		h5col(&hf, a, REP_COL_F64, 0);
		h5col(&hf, b, REP_COL_F64, 0);
		free(a);
		free(b);
	}
	path = xasprintf("%s/sweep.h5", dir);
	h5 = rc ? NULL : rep_h5_create(path, err);
	free(path);
	if (!rc && !h5)
		rc = -1;
	if (h5) {
		struct rep_h5_table *tp = rep_h5_table_new(h5, "/points", hp.c, hp.n, hp.size, err);
		struct rep_h5_table *ts = tp ? rep_h5_table_new(h5, "/summary", hs.c, hs.n, hs.size, err) : NULL;
		struct rep_h5_table *tf = ts ? rep_h5_table_new(h5, "/pareto", hf.c, hf.n, hf.size, err) : NULL;
		size_t big = hp.size > hs.size ? hp.size : hs.size;
		hrow = xcalloc(1, (big > hf.size ? big : hf.size) + 1);
		for (size_t i = 0; tf && i < n; i++) {
			const struct exp_row *w = &rows[i];
			size_t c = 0;
			memset(hrow, 0, hp.size);
			h5put(hrow, &hp.c[c++], NULL, 0, (long long)w->point);
			h5put(hrow, &hp.c[c++], NULL, 0, (long long)w->seed);
			h5put(hrow, &hp.c[c++], w->ok ? "ok" : "failed", 0, 0);
			h5put(hrow, &hp.c[c++], w->error ? w->error : "", 0, 0);
			for (size_t j = 0; j < np; j++)
				h5put(hrow, &hp.c[c++], j < w->nparams ? w->value[j] : "", 0, 0);
			h5put(hrow, &hp.c[c++], NULL, w->feasible, 0);
			for (size_t j = 0; j < u.n; j++) {
				double v = NAN;
				exp_leaves_get(&w->leaves, u.path[j], &v);
				h5put(hrow, &hp.c[c++], NULL, v, 0);
			}
			if (rep_h5_table_append(tp, hrow, 1))
				rc = sim_err_set(err, SIM_EIO, "%s/sweep.h5: cannot write /points", dir);
		}
		for (size_t s = 0; tf && s < nsp; s++) {
			const struct exp_row *w = &rows[sp[s].first];
			size_t ok = 0;
			for (size_t i = 0; i < sp[s].n; i++)
				ok += rows[sp[s].first + i].ok;
			for (int t = 0; t < 2; t++) {
				const struct h5cols *hc = t ? &hf : &hs;
				size_t c = 0;
				if (t && !front[s])
					continue;
				memset(hrow, 0, hc->size);
				h5put(hrow, &hc->c[c++], NULL, 0, (long long)sp[s].point);
				for (size_t j = 0; j < np; j++)
					h5put(hrow, &hc->c[c++], j < w->nparams ? w->value[j] : "", 0, 0);
				h5put(hrow, &hc->c[c++], NULL, 0, (long long)ok);
				if (!t)
					h5put(hrow, &hc->c[c++], NULL, 0, (long long)(sp[s].n - ok));
				h5put(hrow, &hc->c[c++], NULL, frate[s], 0);
				for (size_t j = 0; j < (t ? m->nobjectives : u.n); j++) {
					size_t k = t ? path_index(&u, m->objectives[j] + (m->objectives[j][0] == '-')) : j;
					h5put(hrow, &hc->c[c++], NULL, mean[s * u.n + k], 0);
					h5put(hrow, &hc->c[c++], NULL, half[s * u.n + k], 0);
				}
				if (rep_h5_table_append(t ? tf : ts, hrow, 1))
					rc = sim_err_set(err, SIM_EIO, "%s/sweep.h5: cannot write its tables", dir);
			}
		}
		if (!tf)
			rc = -1;
		if (tp && rep_h5_table_close(tp))
			rc = -1;
		if (ts && rep_h5_table_close(ts))
			rc = -1;
		if (tf && rep_h5_table_close(tf))
			rc = -1;
		if (rep_h5_close(h5, rc == 0, err))
			rc = -1;
		free(hrow);
	}
	h5cols_release(&hp);
	h5cols_release(&hs);
	h5cols_release(&hf);
	rep_json_release(&pc);
	rep_json_release(&sc);
	rep_json_release(&pa);
	free(u.path);
	free(sp);
	free(vals);
	free(mean);
	free(half);
	free(frate);
	free(front);
	return rc;
}

void exp_sweep_result_release(struct exp_sweep_result *r)
{
	for (size_t i = 0; i < r->nfailures; i++)
		free(r->failures[i]);
	free(r->failures);
	memset(r, 0, sizeof(*r));
}

static void note_failures(const struct exp_row *rows, size_t n, struct exp_sweep_result *res)
{
	res->rows = n;
	for (size_t i = 0; i < n; i++) {
		struct rep_json b;
		if (rows[i].ok)
			continue;
		rep_json_init(&b);
		{
			char *h = xasprintf("point %zu seed %lld (", rows[i].point, (long long)rows[i].seed);
			rep_json_raw(&b, h);
			free(h);
		}
		for (size_t j = 0; j < rows[i].nparams; j++) {
			char *h = xasprintf("%s%s=%s", j ? " " : "", rows[i].param[j], rows[i].value[j]);
			rep_json_raw(&b, h);
			free(h);
		}
		rep_json_raw(&b, "): ");
		rep_json_raw(&b, rows[i].error ? rows[i].error : "failed");
		res->failures = xrealloc(res->failures, (res->nfailures + 1) * sizeof(char *));
		res->failures[res->nfailures++] = xstrdup(b.buf);
		res->failed++;
		rep_json_release(&b);
	}
}

/* Reads the rows of dir whose index is in [0, total) and (shard) i % nshards == shard. */
static int read_rows(const char *dir, const struct meta *m, size_t shard, size_t nshards, struct exp_row **rows,
		     size_t *n, size_t *cap, bool *seen, struct sim_err *err)
{
	for (size_t i = 0; i < m->npoints * m->nseeds; i++) {
		char *path;
		struct exp_row w;
		if (i % nshards != shard || seen[i])
			continue;
		path = xasprintf("%s/rows/p%zu-s%lld.tsv", dir, i / m->nseeds, (long long)m->seeds[i % m->nseeds]);
		if (access(path, F_OK)) {
			free(path);
			continue;
		}
		if (exp_row_read(path, &w, err)) {
			free(path);
			return -1;
		}
		free(path);
		XGROW(*rows, *cap, *n + 1);
		(*rows)[(*n)++] = w;
		seen[i] = true;
	}
	return 0;
}

int exp_tables_write_dir(const struct exp_file *e, size_t npoints, const struct exp_sweep_opts *o,
			 struct exp_sweep_result *res, struct sim_err *err)
{
	struct meta m;
	struct exp_row *rows = NULL;
	size_t n = 0, cap = 0;
	bool *seen = xcalloc(npoints * e->nseeds + 1, sizeof(bool));
	int rc;
	meta_of(e, npoints, o->shard, o->nshards, &m);
	rc = meta_write(o->out, &m, err);
	if (!rc)
		rc = read_rows(o->out, &m, o->shard, o->nshards, &rows, &n, &cap, seen, err);
	if (!rc)
		rc = write_tables(o->out, &m, rows, n, err);
	if (!rc)
		note_failures(rows, n, res);
	for (size_t i = 0; i < n; i++)
		exp_row_release(&rows[i]);
	free(rows);
	free(seen);
	meta_release(&m);
	return rc;
}

static bool same_meta(const struct meta *a, const struct meta *b)
{
	if (a->npoints != b->npoints || a->nseeds != b->nseeds || a->nparams != b->nparams ||
	    a->nobjectives != b->nobjectives || a->nshards != b->nshards)
		return false;
	for (size_t i = 0; i < a->nseeds; i++)
		if (a->seeds[i] != b->seeds[i])
			return false;
	for (size_t i = 0; i < a->nparams; i++)
		if (strcmp(a->params[i], b->params[i]))
			return false;
	for (size_t i = 0; i < a->nobjectives; i++)
		if (strcmp(a->objectives[i], b->objectives[i]))
			return false;
	return true;
}

int exp_merge(const char *const *dirs, size_t ndirs, const char *out, struct exp_sweep_result *res,
	      struct sim_err *err)
{
	struct meta m0, m;
	struct exp_row *rows = NULL;
	size_t n = 0, cap = 0;
	bool *seen = NULL;
	char *rdir;
	int rc = 0;
	memset(res, 0, sizeof(*res));
	if (meta_read(dirs[0], &m0, err))
		return -1;
	seen = xcalloc(m0.npoints * m0.nseeds + 1, sizeof(bool));
	for (size_t d = 0; d < ndirs && !rc; d++) {
		if (d && meta_read(dirs[d], &m, err)) {
			rc = -1;
			break;
		}
		if (d && !same_meta(&m0, &m))
			rc = sim_err_set(err, SIM_EINPUT, "%s: not a shard of the same sweep as %s", dirs[d], dirs[0]);
		if (!rc) /* every row file a shard has, whatever shard wrote it */
			rc = read_rows(dirs[d], &m0, 0, 1, &rows, &n, &cap, seen, err);
		if (d)
			meta_release(&m);
	}
	rdir = xasprintf("%s/rows", out);
	if (!rc && (rc = rep_mkdir_p(rdir, err)) == 0)
		for (size_t i = 0; i < n && !rc; i++)
			rc = exp_row_write(out, &rows[i], err);
	free(rdir);
	if (!rc) {
		m0.shard = 0;
		m0.nshards = 1;
		rc = meta_write(out, &m0, err);
	}
	if (!rc)
		rc = write_tables(out, &m0, rows, n, err);
	if (!rc) {
		note_failures(rows, n, res);
		if (n < m0.npoints * m0.nseeds)
			rc = sim_err_set(err, SIM_EINPUT, "merged %zu of %zu rows: a shard is missing or unfinished", n,
					 m0.npoints * m0.nseeds);
	}
	for (size_t i = 0; i < n; i++)
		exp_row_release(&rows[i]);
	free(rows);
	free(seen);
	meta_release(&m0);
	return rc;
}
