/*
 * A workload's source of arrivals.
 *
 * Synthetic: a renewal process (poisson, gamma, deterministic) in
 * operational time, mapped through the inverse of the cumulative rate
 * Lambda(t) = integral of rate: exact for any profile (no per-second
 * approximation). Piecewise-linear profiles (constant, steps, ramps, csv)
 * invert in closed form; the diurnal sinusoid with GSL's Brent solver.
 * onoff runs the process only inside bursts.
 *
 * Trace: rows streamed from the reader, windowed, time-scaled, thinned or
 * superposed, capped, looped.
 *
 * Streams: "workload/<name>/arrivals", ".../lengths", ".../prefix",
 * ".../onoff", ".../trace": a change to one never moves another's draws.
 */
#include "workload.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z90 1.2815515655446004 /* the standard normal's 90th percentile */

/* ---- lengths ---- */

void wl_lognormal_params(const struct wl_dist *d, double *mu, double *sigma)
{
	if (d->has_p50 && d->has_p90) {
		*mu = log(d->p50);
		*sigma = (log(d->p90) - log(d->p50)) / Z90;
	} else if (d->has_mean && d->has_p50) {
		*mu = log(d->p50);
		*sigma = sqrt(2.0 * log(d->mean / d->p50));
	} else { /* mean and p90: the smaller root of s^2/2 - z s + ln(p90/mean) = 0 */
		double c = log(d->p90 / d->mean);
		double disc = Z90 * Z90 - 2.0 * c;
		*sigma = Z90 - sqrt(disc > 0 ? disc : 0);
		*mu = log(d->mean) - *sigma * *sigma / 2.0;
	}
}

int64_t wl_dist_draw(const struct wl_dist *d, struct sim_rng *r)
{
	double v = 1, mu, sigma;
	switch (d->dist) {
	case WL_DIST_FIXED:
		v = d->value;
		break;
	case WL_DIST_UNIFORM: /* integers min..max, each equally likely */
		v = floor(ceil(d->min) + sim_rng_uniform(r) * (floor(d->max) - ceil(d->min) + 1.0));
		break;
	case WL_DIST_NORMAL:
		v = d->mean + sim_rng_gaussian(r, d->stddev);
		break;
	case WL_DIST_LOGNORMAL:
		wl_lognormal_params(d, &mu, &sigma);
		v = sim_rng_lognormal(r, mu, sigma);
		break;
	default:
		break;
	}
	if (v < d->min)
		v = d->min;
	if (v > d->max)
		v = d->max;
	v = floor(v + 0.5);
	return v < 1 ? 1 : (int64_t)v;
}

/* Reads (prompt, output) pairs from a CSV with the named columns. */
static int load_empirical(struct wl_source *w, const struct wl_lengths *l, struct sim_err *err)
{
	FILE *f = fopen(l->empirical, "r");
	char *line = NULL;
	size_t cap = 0, ncap = 0;
	ssize_t n;
	int cp = -1, co = -1, lineno = 0, rc = -1;
	if (!f)
		return sim_err_set(err, SIM_EIO, "%s: cannot open: %s", l->empirical, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *fields[64], *s = line;
		size_t nf = 0;
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n)
			continue;
		for (;;) {
			char *c = strchr(s, ',');
			if (nf < 64)
				fields[nf++] = s;
			if (!c)
				break;
			*c = '\0';
			s = c + 1;
		}
		if (cp < 0) {
			for (size_t i = 0; i < nf; i++) {
				if (!strcmp(fields[i], l->prompt_column))
					cp = (int)i;
				if (!strcmp(fields[i], l->output_column))
					co = (int)i;
			}
			if (cp < 0 || co < 0) {
				sim_err_at(err, l->empirical, lineno, 0, "no column '%s'",
					   cp < 0 ? l->prompt_column : l->output_column);
				goto out;
			}
			continue;
		}
		{
			char *e1, *e2;
			double a, b;
			if ((size_t)(cp > co ? cp : co) >= nf) {
				sim_err_at(err, l->empirical, lineno, 0, "expected a value in every column");
				goto out;
			}
			errno = 0;
			a = strtod(fields[cp], &e1);
			b = strtod(fields[co], &e2);
			if (*e1 || *e2 || e1 == fields[cp] || e2 == fields[co] || errno || !(a >= 1) || !(b >= 1) ||
			    a > 1e9 || b > 1e9) {
				sim_err_at(err, l->empirical, lineno, 0, "expected two token counts >= 1, got '%s' and '%s'",
					   fields[cp], fields[co]);
				goto out;
			}
			if (w->nemp == ncap)
				w->emp = xrealloc(w->emp, (ncap = ncap ? ncap * 2 : 1024) * 2 * sizeof(int64_t));
			w->emp[2 * w->nemp] = (int64_t)llround(a);
			w->emp[2 * w->nemp + 1] = (int64_t)llround(b);
			w->nemp++;
		}
	}
	if (w->nemp == 0) {
		sim_err_at(err, l->empirical, lineno, 0, "no rows of lengths");
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

/* ---- rate profiles ---- */

static int load_rate_csv(struct wl_source *w, const char *path, double mult, struct sim_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, ncap = 0, npts = 0;
	double *pt = NULL;
	ssize_t n;
	int lineno = 0, rc = -1;
	if (!f)
		return sim_err_set(err, SIM_EIO, "%s: cannot open: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *e1, *e2, *comma;
		double t, r;
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		comma = strchr(line, ',');
		errno = 0;
		t = strtod(line, &e1);
		if (!comma || e1 != comma) {
			if (npts == 0 && lineno == 1)
				continue; /* a header */
			sim_err_at(err, path, lineno, 0, "expected time_s,rate");
			goto out;
		}
		r = strtod(comma + 1, &e2);
		while (*e2 == ' ')
			e2++;
		if (*e2 || errno || !isfinite(t) || !isfinite(r) || t < 0 || r < 0) {
			sim_err_at(err, path, lineno, 0, "expected time_s >= 0 and rate >= 0, got '%s'", line);
			goto out;
		}
		if (npts && t < pt[2 * (npts - 1)]) {
			sim_err_at(err, path, lineno, 0, "times must not go backwards");
			goto out;
		}
		if (npts == ncap)
			pt = xrealloc(pt, (ncap = ncap ? ncap * 2 : 64) * 2 * sizeof(double));
		pt[2 * npts] = t;
		pt[2 * npts + 1] = r;
		npts++;
	}
	if (!npts) {
		sim_err_at(err, path, lineno, 0, "no (time, rate) points");
		goto out;
	}
	w->segs = xcalloc(npts + 1, sizeof(*w->segs));
	for (size_t i = 0; i <= npts; i++) {
		double t0 = i ? pt[2 * (i - 1)] : 0, t1 = i < npts ? pt[2 * i] : INFINITY;
		double r0 = i ? pt[2 * (i - 1) + 1] : pt[1], r1 = i && i < npts ? pt[2 * i + 1] : r0;
		if (t1 <= t0 && i < npts)
			continue;
		w->segs[w->nsegs++] = (struct wl_seg){t0, t1, r0 * mult, r1 * mult};
	}
	rc = 0;
out:
	free(pt);
	free(line);
	fclose(f);
	return rc;
}

static double seg_area(const struct wl_seg *g, double x) /* over [t0, t0 + x] */
{
	double slope = isinf(g->t1) ? 0 : (g->r1 - g->r0) / (g->t1 - g->t0);
	return g->r0 * x + slope * x * x / 2.0;
}

/* Diurnal: rate = mid + amp cos(2 pi (t - peak_at) / P). */
static double diurnal_cum(const struct wl_source *w, double t)
{
	const struct wl_diurnal *d = &w->cfg->arrivals.rate.diurnal;
	double m = w->cfg->arrivals.multiplier * w->rate_multiplier;
	double P = sim_time_to_s(d->period), pk = sim_time_to_s(d->peak_at);
	double mid = (d->peak + d->trough) / 2.0 * m, amp = (d->peak - d->trough) / 2.0 * m;
	return mid * t + amp * P / (2.0 * M_PI) * (sin(2.0 * M_PI * (t - pk) / P) - sin(-2.0 * M_PI * pk / P));
}

struct droot {
	const struct wl_source *w;
	double target;
};

static double droot_f(double t, void *p)
{
	const struct droot *r = p;
	return diurnal_cum(r->w, t) - r->target;
}

/* Lambda(t), for t at or after the current segment's start. */
static double cum_at(struct wl_source *w, double t)
{
	double acc = w->lambda_at;
	if (w->cfg->arrivals.rate.kind == WL_RATE_DIURNAL)
		return diurnal_cum(w, t);
	for (size_t i = w->seg; i < w->nsegs; i++) {
		const struct wl_seg *g = &w->segs[i];
		if (t < g->t1 || isinf(g->t1))
			return acc + seg_area(g, t - g->t0);
		acc += seg_area(g, g->t1 - g->t0);
	}
	return acc;
}

/* The time at which Lambda reaches target (INFINITY: never). */
static double invert(struct wl_source *w, double target)
{
	if (w->cfg->arrivals.rate.kind == WL_RATE_DIURNAL) {
		const struct wl_diurnal *d = &w->cfg->arrivals.rate.diurnal;
		double m = w->cfg->arrivals.multiplier * w->rate_multiplier;
		double P = sim_time_to_s(d->period), mid = (d->peak + d->trough) / 2.0 * m;
		double lo = 0, hi, step;
		struct droot r = {w, target};
		gsl_function F = {droot_f, &r};
		gsl_root_fsolver *s;
		int status, iter = 0;
		if (mid <= 0)
			return INFINITY;
		/* Lambda(t + P) = Lambda(t) + mid P: bracket the root by whole periods */
		step = P;
		hi = (target / (mid * P) + 1.0) * P;
		lo = hi - 2.0 * step;
		if (lo < 0)
			lo = 0;
		while (droot_f(hi, &r) < 0)
			hi += step;
		while (lo > 0 && droot_f(lo, &r) > 0)
			lo = lo > step ? lo - step : 0;
		if (droot_f(lo, &r) >= 0)
			return lo;
		s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
		gsl_root_fsolver_set(s, &F, lo, hi);
		do {
			status = gsl_root_fsolver_iterate(s);
			lo = gsl_root_fsolver_x_lower(s);
			hi = gsl_root_fsolver_x_upper(s);
			status = gsl_root_test_interval(lo, hi, 1e-10, 0);
		} while (status == GSL_CONTINUE && ++iter < 200);
		hi = gsl_root_fsolver_root(s);
		gsl_root_fsolver_free(s);
		return hi;
	}
	for (;;) {
		const struct wl_seg *g = &w->segs[w->seg];
		double len = g->t1 - g->t0, area, need = target - w->lambda_at, slope;
		area = isinf(len) ? INFINITY : (g->r0 + g->r1) / 2.0 * len;
		if (need <= area) {
			if (isinf(len) || g->r1 == g->r0) {
				if (g->r0 <= 0)
					return INFINITY; /* a rate of zero from here on */
				return g->t0 + need / g->r0;
			}
			/* r0 x + slope x^2 / 2 = need, for the root in [0, len] */
			slope = (g->r1 - g->r0) / len;
			{
				double disc = g->r0 * g->r0 + 2.0 * slope * need;
				double x = (2.0 * need) / (g->r0 + sqrt(disc > 0 ? disc : 0)); /* stable form */
				if (!(x >= 0))
					x = 0;
				return g->t0 + (x < len ? x : len);
			}
		}
		w->lambda_at += area;
		w->seg++;
	}
}

/* ---- traces ---- */

struct trow {
	int64_t t, prompt, output;
	uint64_t *ids;
	size_t nids;
	int64_t line;
};

struct wl_trace_state {
	struct wl_trace_reader rd;
	struct sim_rng *rng;
	struct sim_err *err;
	bool failed, started, exhausted;
	int64_t t0;              /* trace time of the first row */
	int64_t last_rel, first_rel, nrows_pass, in_window;
	double scale;            /* rate_scale x rate_multiplier */
	double loop_offset;      /* seconds added on the current pass */
	struct trow *all;        /* sort: every row */
	size_t nall, iall;
	struct trow ahead;       /* the next row, read ahead (superposition) */
	bool have_ahead;
	double *extra;           /* pending extra copies' times (seconds, sorted) */
	size_t nextra, iextra, extra_cap;
	struct trow cur;         /* the row whose copies are pending */
	struct wl_trace_stats st;
};

static void trow_set(struct trow *dst, const struct wl_row *r)
{
	dst->t = r->t;
	dst->prompt = r->prompt;
	dst->output = r->output;
	dst->line = r->line;
	if (r->nids) {
		dst->ids = xrealloc(dst->ids, r->nids * sizeof(uint64_t));
		memcpy(dst->ids, r->ids, r->nids * sizeof(uint64_t));
	}
	dst->nids = r->nids;
}

static int cmp_trow(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line; /* stable: file order */
}

/* The next raw row of the current pass: 1, 0 at the end, -1 error. */
static int raw_next(struct wl_source *w, struct trow *out)
{
	struct wl_trace_state *s = w->tr;
	if (s->all) {
		if (s->iall >= s->nall)
			return 0;
		*out = s->all[s->iall++];
		out->ids = s->all[s->iall - 1].ids; /* shared, not copied */
		return 1;
	}
	{
		struct wl_row r;
		int rc = wl_trace_next(&s->rd, &r);
		if (rc <= 0)
			return rc;
		out->t = r.t;
		out->prompt = r.prompt;
		out->output = r.output;
		out->line = r.line;
		out->nids = r.nids;
		out->ids = (uint64_t *)r.ids; /* valid until the next read */
		return 1;
	}
}

static int trace_open(struct wl_source *w, const struct wl_config *c, uint64_t seed, double rate_multiplier,
		      struct sim_err *err)
{
	struct wl_trace_state *s = xcalloc(1, sizeof(*s));
	char name[192];
	w->tr = s;
	s->err = err;
	s->scale = c->trace.rate_scale * rate_multiplier;
	snprintf(name, sizeof(name), "workload/%s/trace", c->name);
	s->rng = sim_rng_new(seed, name);
	if (wl_trace_open(&s->rd, &c->trace, c->trace.path, c->trace.format, err))
		return -1;
	if (c->trace.sort) { /* every row in memory, then in time order */
		struct wl_row r;
		size_t cap = 0;
		int rc;
		while ((rc = wl_trace_next(&s->rd, &r)) == 1) {
			if (s->nall == cap)
				s->all = xrealloc(s->all, (cap = cap ? cap * 2 : 4096) * sizeof(*s->all));
			memset(&s->all[s->nall], 0, sizeof(struct trow));
			trow_set(&s->all[s->nall++], &r);
		}
		if (rc < 0)
			return -1;
		if (!s->nall)
			return sim_err_at(err, s->rd.path, (int)s->rd.line, 0, "empty trace: no rows");
		qsort(s->all, s->nall, sizeof(*s->all), cmp_trow);
	}
	return 0;
}

static void trace_free(struct wl_source *w)
{
	struct wl_trace_state *s = w->tr;
	if (!s)
		return;
	wl_trace_close(&s->rd);
	for (size_t i = 0; i < s->nall; i++)
		free(s->all[i].ids);
	free(s->all);
	free(s->ahead.ids);
	free(s->cur.ids);
	free(s->extra);
	sim_rng_free(s->rng);
	free(s);
	w->tr = NULL;
}

/* The next row inside the window, honouring order and loops: 1, 0, -1. */
static int window_next(struct wl_source *w, struct trow *out)
{
	struct wl_trace_state *s = w->tr;
	const struct wl_trace *c = &w->cfg->trace;
	for (;;) {
		int rc = raw_next(w, out);
		double span;
		if (rc < 0)
			return -1;
		if (rc == 1) {
			int64_t rel;
			if (!s->started) {
				s->started = true;
				s->t0 = out->t;
				s->last_rel = INT64_MIN;
			}
			rel = out->t - s->t0;
			if (rel < s->last_rel)
				return sim_err_at(s->err, s->rd.path, (int)out->line, 0,
						  "timestamp goes backwards (%.6f s before the previous row); "
						  "set sort: true to accept it",
						  sim_time_to_s(s->last_rel - rel));
			s->last_rel = rel;
			if (rel < c->start)
				continue;
			if (!c->end || rel < c->end) {
				if (s->nrows_pass++ == 0)
					s->first_rel = rel;
				s->in_window++;
				return 1;
			}
			/* past the window: this pass is over (the rest is not read) */
		}
		if (s->in_window == 0)
			return sim_err_at(s->err, s->rd.path, (int)s->rd.line, 0,
					  s->started ? "no rows inside the trace window (start %.3f s, end %.3f s)"
						     : "empty trace: no rows",
					  sim_time_to_s(c->start), sim_time_to_s(c->end));
		if (!c->loop || s->nrows_pass == 0)
			return 0;
		/* the next pass starts one window (or the rows' span plus a mean gap) later */
		span = c->end ? sim_time_to_s(c->end - c->start)
			      : sim_time_to_s(s->last_rel - c->start) +
					(s->nrows_pass > 1 ? sim_time_to_s(s->last_rel - s->first_rel) /
								     (double)(s->nrows_pass - 1)
							   : 1.0);
		s->loop_offset += span * c->time_scale;
		s->nrows_pass = 0;
		s->last_rel = INT64_MIN;
		if (s->all)
			s->iall = 0;
		else if (wl_trace_rewind(&s->rd))
			return -1;
	}
}

static double sim_seconds(const struct wl_source *w, int64_t t)
{
	const struct wl_trace_state *s = w->tr;
	const struct wl_trace *c = &w->cfg->trace;
	return sim_time_to_s(w->cfg->start) + sim_time_to_s(t - s->t0 - c->start) * c->time_scale + s->loop_offset;
}

static void emit_row(struct wl_source *w, const struct trow *r, double when, struct wl_arrival *a)
{
	const struct wl_trace *c = &w->cfg->trace;
	struct wl_trace_state *s = w->tr;
	bool capped = false;
	a->t = (sim_time)llround(when * 1e9);
	a->prompt = r->prompt > 0 ? r->prompt : 1;
	a->output = r->output > 0 ? r->output : 1;
	if (c->max_prompt_tokens && a->prompt > c->max_prompt_tokens) {
		a->prompt = c->max_prompt_tokens;
		capped = true;
	}
	if (c->max_output_tokens && a->output > c->max_output_tokens) {
		a->output = c->max_output_tokens;
		capped = true;
	}
	s->st.capped += capped;
	a->prefix_key = 0;
	a->prefix_tokens = 0;
	a->ids = r->ids;
	a->nids = r->nids;
	a->ids_block = WL_MOONCAKE_BLOCK;
}

static bool trace_next(struct wl_source *w, struct wl_arrival *a)
{
	struct wl_trace_state *s = w->tr;
	if (s->failed || s->exhausted)
		return false;
	for (;;) {
		struct trow r;
		int rc;
		double when;
		/* copies of the previous row, superposed before the next one */
		if (s->iextra < s->nextra) {
			when = s->extra[s->iextra++];
			if (!(when < w->end_s))
				goto done;
			emit_row(w, &s->cur, when, a);
			s->st.copies++;
			return true;
		}
		if (s->have_ahead) {
			r = s->ahead;
			s->have_ahead = false;
		} else {
			rc = window_next(w, &r);
			if (rc < 0) {
				s->failed = true;
				return false;
			}
			if (rc == 0)
				goto done;
		}
		when = sim_seconds(w, r.t);
		if (!(when < w->end_s))
			goto done;
		if (s->scale < 1.0 && sim_rng_uniform(s->rng) >= s->scale) {
			s->st.thinned++;
			continue;
		}
		if (s->scale > 1.0) {
			/* scale - 1 more copies on average, spread uniformly until the next row */
			double more = s->scale - 1.0;
			int64_t k = (int64_t)floor(more) + (sim_rng_uniform(s->rng) < more - floor(more));
			s->nextra = s->iextra = 0;
			if (k > 0) {
				double next_when;
				struct trow nx = {0};
				trow_set(&s->cur, &(struct wl_row){r.t, r.prompt, r.output, r.ids, r.nids, r.line});
				rc = window_next(w, &nx);
				if (rc < 0) {
					s->failed = true;
					return false;
				}
				if (rc == 1) {
					trow_set(&s->ahead, &(struct wl_row){nx.t, nx.prompt, nx.output, nx.ids, nx.nids, nx.line});
					s->have_ahead = true;
					next_when = sim_seconds(w, nx.t);
				} else {
					next_when = w->end_s; /* the last row: copies until the end */
				}
				XGROW(s->extra, s->extra_cap, (size_t)k);
				for (int64_t j = 0; j < k; j++)
					s->extra[j] = when + sim_rng_uniform(s->rng) * (next_when - when);
				/* sorted: small k, insertion sort */
				for (int64_t i = 1; i < k; i++) {
					double x = s->extra[i];
					int64_t j = i;
					while (j > 0 && s->extra[j - 1] > x) {
						s->extra[j] = s->extra[j - 1];
						j--;
					}
					s->extra[j] = x;
				}
				s->nextra = (size_t)k;
				emit_row(w, &s->cur, when, a);
				return true;
			}
		}
		emit_row(w, &r, when, a);
		return true;
	}
done:
	s->exhausted = true;
	return false;
}

/* ---- the source ---- */

int wl_source_init(struct wl_source *w, const struct wl_config *c, uint64_t seed, sim_time duration,
		   double rate_multiplier, struct sim_err *err)
{
	char name[192];
	const struct wl_rate *rate = &c->arrivals.rate;
	double mult = c->arrivals.multiplier * rate_multiplier;

	memset(w, 0, sizeof(*w));
	w->cfg = c;
	w->rate_multiplier = rate_multiplier;
	w->end_s = sim_time_to_s(c->end ? c->end : duration);
	if (c->end && c->end > duration)
		w->end_s = sim_time_to_s(duration);
	snprintf(name, sizeof(name), "workload/%s/prefix", c->name);
	w->pre = sim_rng_new(seed, name);
	if (c->has_trace)
		return trace_open(w, c, seed, rate_multiplier, err);

	if (c->lengths.empirical && load_empirical(w, &c->lengths, err))
		return -1;
	if (rate->kind == WL_RATE_CONST) {
		w->segs = xcalloc(1, sizeof(*w->segs));
		w->segs[0] = (struct wl_seg){0, INFINITY, rate->value * mult, rate->value * mult};
		w->nsegs = 1;
	} else if (rate->kind == WL_RATE_CSV) {
		if (load_rate_csv(w, rate->csv, mult, err))
			return -1;
	} else if (rate->kind != WL_RATE_DIURNAL) {
		const struct cfg_list *pts = rate->kind == WL_RATE_STEPS ? &rate->steps : &rate->ramps;
		size_t n = pts->n;
		w->segs = xcalloc(n + 1, sizeof(*w->segs));
		for (size_t i = 0; i <= n; i++) {
			const struct cfg_tpair *a = i ? CFG_LIST_AT(*pts, struct cfg_tpair, i - 1) : NULL;
			const struct cfg_tpair *b = i < n ? CFG_LIST_AT(*pts, struct cfg_tpair, i) : NULL;
			double t0 = a ? sim_time_to_s(a->t) : 0, t1 = b ? sim_time_to_s(b->t) : INFINITY;
			double r0 = a ? a->v : b->v, r1;
			r1 = (rate->kind == WL_RATE_RAMPS && a && b) ? b->v : r0;
			if (t1 <= t0 && b)
				continue; /* zero-length piece (a point at 0s, or repeated times) */
			w->segs[w->nsegs++] = (struct wl_seg){t0, t1, r0 * mult, r1 * mult};
		}
	}
	snprintf(name, sizeof(name), "workload/%s/arrivals", c->name);
	w->arr = sim_rng_new(seed, name);
	snprintf(name, sizeof(name), "workload/%s/lengths", c->name);
	w->len = sim_rng_new(seed, name);
	snprintf(name, sizeof(name), "workload/%s/onoff", c->name);
	w->onoff = sim_rng_new(seed, name);
	/* start: operational time already passed before the workload's window */
	{
		double start = sim_time_to_s(c->start);
		if (rate->kind != WL_RATE_DIURNAL) {
			while (w->seg + 1 < w->nsegs && w->segs[w->seg].t1 <= start) {
				const struct wl_seg *g = &w->segs[w->seg];
				w->lambda_at += seg_area(g, g->t1 - g->t0);
				w->seg++;
			}
		}
		w->op = cum_at(w, start);
		if (c->arrivals.process == WL_ONOFF) {
			w->on_until = start + sim_rng_exponential(w->onoff, sim_time_to_s(c->arrivals.on_duration));
			w->off_until = w->on_until + sim_rng_exponential(w->onoff, sim_time_to_s(c->arrivals.off_duration));
		}
	}
	return 0;
}

void wl_source_release(struct wl_source *w)
{
	trace_free(w);
	sim_rng_free(w->arr);
	sim_rng_free(w->len);
	sim_rng_free(w->pre);
	sim_rng_free(w->onoff);
	free(w->segs);
	free(w->emp);
	memset(w, 0, sizeof(*w));
}

void wl_source_trace_stats(const struct wl_source *w, struct wl_trace_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!w->tr)
		return;
	*out = w->tr->st;
	out->rows = w->tr->all ? (int64_t)w->tr->nall : w->tr->rd.rows;
	out->skipped = w->tr->rd.skipped;
	out->filtered = w->tr->rd.filtered;
	out->failures = w->tr->rd.failures;
}

bool wl_source_failed(const struct wl_source *w)
{
	return w->tr && w->tr->failed;
}

static double draw_gap(struct wl_source *w)
{
	const struct wl_arrivals *a = &w->cfg->arrivals;
	switch (a->process) {
	case WL_GAMMA: {
		double k = 1.0 / (a->cv * a->cv); /* mean 1, coefficient of variation cv */
		return sim_rng_gamma(w->arr, k, 1.0 / k);
	}
	case WL_DETERMINISTIC:
		return 1.0;
	default:
		return sim_rng_exponential(w->arr, 1.0);
	}
}

bool wl_source_next(struct wl_source *w, struct wl_arrival *out)
{
	double when;
	memset(out, 0, sizeof(*out));
	if (w->tr) {
		if (!trace_next(w, out))
			return false;
	} else {
		double cand = w->op + draw_gap(w);
		when = invert(w, cand);
		if (w->cfg->arrivals.process == WL_ONOFF) {
			const struct wl_arrivals *a = &w->cfg->arrivals;
			/* bursts only: an arrival past the burst restarts at the next one
			 * (exact for poisson, whose gaps have no memory) */
			while (when >= w->on_until && when < INFINITY) {
				double resume = w->off_until;
				w->on_until = resume + sim_rng_exponential(w->onoff, sim_time_to_s(a->on_duration));
				w->off_until = w->on_until + sim_rng_exponential(w->onoff, sim_time_to_s(a->off_duration));
				if (resume >= w->end_s) {
					when = INFINITY;
					break;
				}
				cand = cum_at(w, resume) + draw_gap(w);
				when = invert(w, cand);
			}
		}
		w->op = cand;
		if (!(when < w->end_s) || when * 1e9 > (double)(SIM_TIME_MAX / 2))
			return false;
		out->t = (sim_time)llround(when * 1e9);
		if (w->emp) {
			uint64_t i = sim_rng_below(w->len, w->nemp);
			out->prompt = w->emp[2 * i];
			out->output = w->emp[2 * i + 1];
		} else {
			out->prompt = wl_dist_draw(&w->cfg->lengths.prompt, w->len);
			out->output = wl_dist_draw(&w->cfg->lengths.output, w->len);
		}
	}
	if (w->cfg->has_prefix) {
		/* drawn from a stream of its own: prefixes never move arrivals or lengths */
		const struct wl_prefix *p = &w->cfg->prefix;
		bool has = sim_rng_uniform(w->pre) < p->share;
		uint64_t g = sim_rng_below(w->pre, (uint64_t)p->groups);
		if (has) {
			out->prefix_key = sim_hash64(&g, sizeof(g), sim_hash_str(w->cfg->name, 0x9f1e));
			out->prefix_tokens = p->tokens < out->prompt ? p->tokens : out->prompt;
		}
	}
	w->emitted++;
	return true;
}
