/*
 * A predictive policy: every sync period it observes the arrival rate (as
 * the pipeline publishes it), forecasts it `horizon` ahead -- by default
 * the pod startup time measured so far in the run, so capacity is ready
 * when the load arrives -- and sets replicas to cover the larger of the
 * forecast and the present rate, plus headroom.
 *
 * Forecasts: seasonal naive (the value one season before the target time)
 * or additive Holt-Winters with fixed smoothing (alpha 0.3, beta 0.05,
 * gamma 0.2). Before a whole season has been seen both fall back to Holt's
 * linear trend. Both run in O(1) per sync on a ring of one season.
 */
#include "ctl.h"

#include <math.h>
#include <stdlib.h>

#define HW_ALPHA 0.3
#define HW_BETA 0.05
#define HW_GAMMA 0.2

struct pred_ctl {
	const struct sc_autoscaler_config *cfg;
	const struct sc_env *env;
	size_t dep;
	size_t m;        /* slots per season */
	double *obs;     /* last season of observations, by slot */
	double *seas;    /* Holt-Winters seasonal terms, by slot */
	size_t n;        /* observations so far */
	double level, trend;
};

static void *pred_create(const struct sc_autoscaler_config *cfg, const struct sc_env *env, size_t dep,
			 struct sim_err *err)
{
	struct pred_ctl *p;
	(void)err; /* the metric was checked at validation */
	p = xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	p->env = env;
	p->dep = dep;
	p->m = (size_t)(cfg->predictive.season / cfg->predictive.sync_period);
	if (p->m < 2)
		p->m = 2;
	p->obs = xcalloc(p->m, sizeof(double));
	p->seas = xcalloc(p->m, sizeof(double));
	return p;
}

/* Forecast h slots ahead of the last observation. */
static double forecast(const struct pred_ctl *p, size_t h)
{
	double trend = p->level + (double)h * p->trend;
	if (p->n < p->m) /* under a season: Holt's linear trend */
		return trend;
	if (p->cfg->predictive.method == SC_SEASONAL_NAIVE) {
		size_t k = h % p->m;
		/* the slot of (last + h) one or more seasons back */
		return p->obs[(p->n - 1 + (k ? k : p->m)) % p->m];
	}
	return trend + p->seas[(p->n - 1 + h) % p->m];
}

static void observe(struct pred_ctl *p, double y)
{
	size_t slot = p->n % p->m;
	p->obs[slot] = y;
	if (p->n == 0) {
		p->level = y;
		p->trend = 0;
	} else if (p->n < p->m) { /* the first season: Holt's linear trend */
		double prev = p->level;
		p->level = HW_ALPHA * y + (1 - HW_ALPHA) * (p->level + p->trend);
		p->trend = HW_BETA * (p->level - prev) + (1 - HW_BETA) * p->trend;
	} else {
		double s = p->seas[slot], prev = p->level;
		p->level = HW_ALPHA * (y - s) + (1 - HW_ALPHA) * (p->level + p->trend);
		p->trend = HW_BETA * (p->level - prev) + (1 - HW_BETA) * p->trend;
		p->seas[slot] = HW_GAMMA * (y - p->level) + (1 - HW_GAMMA) * s;
	}
	p->n++;
	if (p->n == p->m) { /* a whole season seen: the textbook start, level its mean, no trend */
		double mean = 0;
		for (size_t i = 0; i < p->m; i++)
			mean += p->obs[i];
		mean /= (double)p->m;
		for (size_t i = 0; i < p->m; i++)
			p->seas[i] = p->obs[i] - mean;
		p->level = mean;
		p->trend = 0;
	}
}

static sim_time pred_tick(void *state, const struct sc_series *series)
{
	struct pred_ctl *p = state;
	const struct sc_predictive *c = &p->cfg->predictive;
	const struct sc_env *e = p->env;
	sim_time now = e->sim->now, at = now - p->cfg->metrics_pipeline.lag;
	sim_time horizon = c->horizon > 0 ? c->horizon : e->startup(e->ctx, p->dep);
	bool has;
	double y = sc_query_total(series, at, &c->q, &has), f, need;
	int32_t cur = e->replicas(e->ctx, p->dep), to;
	size_t h;
	if (!has)
		return c->sync_period;
	observe(p, y);
	h = (size_t)((horizon + c->sync_period - 1) / c->sync_period);
	f = forecast(p, h > 0 ? h : 1);
	need = (f > y ? f : y) * (1 + c->headroom) / c->target_per_replica;
	to = (int32_t)ceil(need - 1e-9);
	if (to < c->min_replicas)
		to = (int32_t)c->min_replicas;
	if (to > c->max_replicas)
		to = (int32_t)c->max_replicas;
	if (to != cur)
		e->set_replicas(e->ctx, p->dep, to);
	e->decision(e->ctx, p->dep, sc_predictive_ops.name, f, cur, to, to, f > y ? "forecast" : "observed");
	return c->sync_period;
}

static void pred_destroy(void *state)
{
	struct pred_ctl *p = state;
	free(p->obs);
	free(p->seas);
	free(p);
}

static sim_time pred_first(const struct sc_autoscaler_config *cfg)
{
	return cfg->predictive.sync_period;
}

const struct autoscaler_ops sc_predictive_ops = {.name = "predictive", .create = pred_create, .tick = pred_tick, .destroy = pred_destroy, .first = pred_first};
