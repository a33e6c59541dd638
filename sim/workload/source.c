/* Arrival processes, rate profiles and length models of a workload. */
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z90 1.2815515655446004 /* the standard normal's 90th percentile */

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
		*sigma = Z90 - sqrt(Z90 * Z90 - 2.0 * c);
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
		v = floor(d->min + sim_rng_uniform(r) * (floor(d->max) - ceil(d->min) + 1.0));
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

static int unsupported(struct sim_err *err, const struct wl_config *c, const char *what)
{
	return sim_err_set(err, SIM_EINPUT,
			   "workload '%s': %s is not simulated yet (it comes with the workload layer); "
			   "use poisson, gamma or deterministic arrivals with a constant, steps or ramps rate "
			   "and fixed, uniform, normal or lognormal lengths",
			   c->name, what);
}

int wl_source_init(struct wl_source *w, const struct wl_config *c, uint64_t seed,
		   sim_time duration, struct sim_err *err)
{
	char name[192];
	const struct wl_rate *rate = &c->arrivals.rate;
	double mult = c->arrivals.multiplier;

	memset(w, 0, sizeof(*w));
	w->cfg = c;
	if (c->has_trace)
		return unsupported(err, c, "trace replay");
	if (c->arrivals.process == WL_ONOFF)
		return unsupported(err, c, "the onoff process");
	if (rate->kind == WL_RATE_DIURNAL || rate->kind == WL_RATE_CSV)
		return unsupported(err, c, rate->kind == WL_RATE_DIURNAL ? "a diurnal rate" : "a csv rate");
	if (c->lengths.empirical)
		return unsupported(err, c, "empirical lengths");

	/* the rate profile as linear segments; the last one runs forever */
	if (rate->kind == WL_RATE_CONST) {
		w->segs = xcalloc(1, sizeof(*w->segs));
		w->segs[0] = (struct wl_seg){0, INFINITY, rate->value * mult, rate->value * mult};
		w->nsegs = 1;
	} else {
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
	snprintf(name, sizeof(name), "workload/%s/prefix", c->name);
	w->pre = sim_rng_new(seed, name);
	w->end_s = sim_time_to_s(c->end ? c->end : duration);
	/* start: skip the operational time before the workload's window */
	{
		double start = sim_time_to_s(c->start);
		while (w->seg + 1 < w->nsegs && w->segs[w->seg].t1 <= start) {
			const struct wl_seg *g = &w->segs[w->seg];
			w->lambda_at += (g->r0 + g->r1) / 2.0 * (g->t1 - g->t0);
			w->seg++;
		}
		{
			const struct wl_seg *g = &w->segs[w->seg];
			double x = start - g->t0, slope = isinf(g->t1) ? 0 : (g->r1 - g->r0) / (g->t1 - g->t0);
			w->op = w->lambda_at + g->r0 * x + slope * x * x / 2.0;
		}
	}
	return 0;
}

void wl_source_release(struct wl_source *w)
{
	sim_rng_free(w->arr);
	sim_rng_free(w->len);
	sim_rng_free(w->pre);
	free(w->segs);
	memset(w, 0, sizeof(*w));
}

/* Inverse of the cumulative rate: the time at which it reaches `target`. */
static double invert(struct wl_source *w, double target)
{
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

bool wl_source_next(struct wl_source *w, struct wl_arrival *out)
{
	const struct wl_arrivals *a = &w->cfg->arrivals;
	double gap, when;
	switch (a->process) {
	case WL_GAMMA: {
		double k = 1.0 / (a->cv * a->cv); /* mean 1, coefficient of variation cv */
		gap = sim_rng_gamma(w->arr, k, 1.0 / k);
		break;
	}
	case WL_DETERMINISTIC:
		gap = 1.0;
		break;
	default:
		gap = sim_rng_exponential(w->arr, 1.0);
	}
	w->op += gap;
	when = invert(w, w->op);
	if (!(when < w->end_s) || when * 1e9 > (double)(SIM_TIME_MAX / 2))
		return false;
	out->t = (sim_time)llround(when * 1e9);
	out->prompt = wl_dist_draw(&w->cfg->lengths.prompt, w->len);
	out->output = wl_dist_draw(&w->cfg->lengths.output, w->len);
	out->prefix_key = 0;
	out->prefix_tokens = 0;
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
