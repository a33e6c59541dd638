/*
 * The metrics pipeline: every scrape_interval each deployment's serving
 * pods and its router are scraped; a controller reads what a scrape
 * published at least `lag` ago (scrape phase + adapter delay), counters as
 * a rate over a window, as a Prometheus adapter rule would.
 */
#include "scale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sc_metric_names[SC_M_METRICS] = {
	"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:num_requests_swapped",
	"vllm:kv_cache_usage_perc", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
	"vllm:request_success_total", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_PROF_SM_ACTIVE",
	"DCGM_FI_DEV_POWER_USAGE", "cpu", "memory", "servesim:concurrency",
	"vllm:time_to_first_token_seconds", "vllm:time_per_output_token_seconds",
	"vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
	"servesim:router_queue_length", "servesim:router_arrival_rate", "servesim:router_requests_total"};

int sc_metric_id(const char *name)
{
	for (int i = 0; i < SC_M_METRICS; i++)
		if (!strcmp(sc_metric_names[i], name))
			return i;
	return -1;
}

bool sc_metric_is_counter(int id)
{
	return id == SC_M_PROMPT_TOTAL || id == SC_M_GEN_TOTAL || id == SC_M_SUCCESS_TOTAL || id == SC_M_ROUTER_TOTAL ||
	       sc_metric_is_hist(id);
}

bool sc_metric_is_hist(int id)
{
	return id >= SC_M_TTFT && id <= SC_M_QUEUE_TIME;
}

const struct sc_scrape *sc_series_at(const struct sc_series *s, sim_time at)
{
	for (size_t k = 0; k < s->n; k++) {
		const struct sc_scrape *x = &s->buf[(s->head + s->n - 1 - k) % s->cap];
		if (x->t <= at)
			return x;
	}
	return NULL;
}

/* The oldest scrape at or after `from` (for rates), no newer than `last`. */
static const struct sc_scrape *oldest_since(const struct sc_series *s, sim_time from, const struct sc_scrape *last)
{
	const struct sc_scrape *best = NULL;
	for (size_t k = 0; k < s->n; k++) {
		const struct sc_scrape *x = &s->buf[(s->head + k) % s->cap];
		if (x->t >= from && x->t < last->t) {
			best = x;
			break;
		}
	}
	return best;
}

static bool pod_val(const struct sc_scrape *x, int metric, int32_t pod, double *v)
{
	for (size_t i = 0; i < x->npods; i++)
		if (x->pod_ids[i] == pod) {
			*v = x->values[(size_t)metric * x->npods + i];
			return true;
		}
	return false;
}

double sc_pod_value(const struct sc_series *s, sim_time at, sim_time window, int metric, int32_t pod, bool *has)
{
	const struct sc_scrape *x = sc_series_at(s, at), *y;
	double v1, v0;
	*has = false;
	if (!x || metric >= SC_M_POD_METRICS || !pod_val(x, metric, pod, &v1))
		return 0;
	if (!sc_metric_is_counter(metric)) {
		*has = true;
		return v1;
	}
	y = oldest_since(s, x->t - window, x);
	if (!y || !pod_val(y, metric, pod, &v0))
		return 0;
	*has = true;
	return (v1 - v0) / sim_time_to_s(x->t - y->t);
}

double sc_total(const struct sc_series *s, sim_time at, sim_time window, int metric, bool *has)
{
	const struct sc_scrape *x = sc_series_at(s, at);
	double sum = 0;
	*has = false;
	if (!x)
		return 0;
	if (metric >= SC_M_POD_METRICS) {
		*has = true;
		if (metric == SC_M_ROUTER_TOTAL) { /* a counter: its rate */
			const struct sc_scrape *y = oldest_since(s, x->t - window, x);
			if (!y) {
				*has = false;
				return 0;
			}
			return (x->router[metric - SC_M_POD_METRICS] - y->router[metric - SC_M_POD_METRICS]) /
			       sim_time_to_s(x->t - y->t);
		}
		return x->router[metric - SC_M_POD_METRICS];
	}
	for (size_t i = 0; i < x->npods; i++) {
		bool h;
		double v = sc_pod_value(s, at, window, metric, x->pod_ids[i], &h);
		if (h) {
			sum += v;
			*has = true;
		}
	}
	if (x->npods == 0)
		*has = true; /* no pod serves: the sum is 0 */
	return sum;
}

double sc_window_avg(const struct sc_series *s, sim_time from, sim_time to, int metric, bool *has)
{
	double sum = 0;
	size_t n = 0;
	for (size_t k = 0; k < s->n; k++) {
		const struct sc_scrape *x = &s->buf[(s->head + k) % s->cap];
		bool h;
		double v;
		if (x->t <= from || x->t > to)
			continue;
		v = sc_total(s, x->t, SIM_MIN, metric, &h);
		if (h) {
			sum += v;
			n++;
		}
	}
	*has = n > 0;
	return n ? sum / (double)n : 0;
}

/* ---- the runtime: scrape loops and control loops ---- */

const struct autoscaler_ops *const sc_autoscalers[] = {
	[SC_NONE] = NULL, [SC_HPA] = &sc_hpa_ops, [SC_KPA] = &sc_kpa_ops, [SC_KEDA] = &sc_keda_ops,
	[SC_PREDICTIVE] = &sc_predictive_ops};

struct sc_dep_rt {
	struct sc_runtime *rt;
	size_t dep;
	const struct sc_autoscaler_config *cfg;
	const struct autoscaler_ops *ops;
	void *state;
	struct sc_series series;
	struct sc_pipeline pl;
	bool want_hist;
};

struct sc_runtime {
	struct sc_env env;
	struct sc_dep_rt *deps;
	size_t ndeps;
};

static void series_push(struct sc_series *s, const struct sc_scrape *x)
{
	if (s->n == s->cap) { /* full: the oldest goes */
		struct sc_scrape *old = &s->buf[s->head];
		free(old->pod_ids);
		free(old->values);
		free(old->hist);
		s->buf[s->head] = *x;
		s->head = (s->head + 1) % s->cap;
		return;
	}
	s->buf[(s->head + s->n) % s->cap] = *x;
	s->n++;
}

static void on_scrape(struct sim *sim, void *ctx, uint64_t arg)
{
	struct sc_dep_rt *d = ctx;
	struct sc_scrape x;
	(void)arg;
	memset(&x, 0, sizeof(x));
	x.want_hist = d->want_hist;
	d->rt->env.scrape(d->rt->env.ctx, d->dep, &x);
	x.t = sim->now;
	series_push(&d->series, &x);
	if (sim->now < d->rt->env.arrivals_end || d->rt->env.active(d->rt->env.ctx))
		sim_schedule_in(sim, d->pl.scrape_interval, on_scrape, d, 0);
}

static void on_tick(struct sim *sim, void *ctx, uint64_t arg)
{
	struct sc_dep_rt *d = ctx;
	sim_time next = d->ops->tick(d->state, &d->series);
	(void)arg;
	if (next > 0 && (sim->now < d->rt->env.arrivals_end || d->rt->env.active(d->rt->env.ctx)))
		sim_schedule_in(sim, next, on_tick, d, 0);
}

struct sc_runtime *sc_runtime_new(const struct sc_env *env, const struct sc_autoscaler_config *cfgs, size_t ndeps,
				  struct sim_err *err)
{
	struct sc_runtime *rt = xcalloc(1, sizeof(*rt));
	rt->env = *env;
	rt->ndeps = ndeps;
	rt->deps = xcalloc(ndeps + 1, sizeof(*rt->deps));
	for (size_t i = 0; i < ndeps; i++) {
		struct sc_dep_rt *d = &rt->deps[i];
		const struct sc_pipeline *pl = &d->pl;
		d->rt = rt;
		d->pl = cfgs[i].metrics_pipeline;
		d->dep = i;
		d->cfg = &cfgs[i];
		d->ops = sc_autoscalers[cfgs[i].type];
		if (!d->ops)
			continue;
		d->want_hist = sc_config_wants_hist(&cfgs[i]);
		if (d->ops->pipeline)
			d->pl = d->ops->pipeline(&cfgs[i]);
		/* enough history for the lag and the longest window (the predictive policy keeps its own) */
		d->series.cap = (size_t)((pl->lag + 2 * SIM_MIN + sc_config_max_window(&cfgs[i]) + 4 * pl->scrape_interval) /
					 pl->scrape_interval) + 8;
		d->series.buf = xcalloc(d->series.cap, sizeof(*d->series.buf));
		d->state = d->ops->create(&cfgs[i], &rt->env, i, err);
		if (!d->state) {
			sc_runtime_free(rt);
			return NULL;
		}
		sim_schedule(env->sim, env->sim->now, on_scrape, d, 0);
		sim_schedule(env->sim, env->sim->now + d->ops->first(&cfgs[i]), on_tick, d, 0);
	}
	return rt;
}

void sc_runtime_free(struct sc_runtime *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->ndeps; i++) {
		struct sc_dep_rt *d = &rt->deps[i];
		if (d->state)
			d->ops->destroy(d->state);
		for (size_t k = 0; k < d->series.n; k++) {
			free(d->series.buf[(d->series.head + k) % d->series.cap].pod_ids);
			free(d->series.buf[(d->series.head + k) % d->series.cap].values);
			free(d->series.buf[(d->series.head + k) % d->series.cap].hist);
		}
		free(d->series.buf);
	}
	free(rt->deps);
	free(rt);
}

const struct sc_series *sc_runtime_series(const struct sc_runtime *rt, size_t dep)
{
	return &rt->deps[dep].series;
}
