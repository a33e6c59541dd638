/*
 * Queries: the PromQL subset scaling rules use (see scale.h), parsed once
 * at validation and evaluated over a deployment's scrape history the way
 * Prometheus evaluates them at an instant: rate() and increase-based
 * histogram_quantile() from the first and last samples in the window,
 * *_over_time() over the samples in it.
 */
#include "scale.h"
#include "../server/server.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SC_HIST_BUCKETS == SRV_HIST_MAX, "a scrape keeps every vLLM bucket");
_Static_assert(SC_M_QUEUE_TIME - SC_M_TTFT + 1 == SRV_H_KINDS, "histograms in vLLM's order");

static const char *skip(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* Consumes `word(` if the text starts with it. */
static bool take_call(const char **p, const char *word)
{
	size_t l = strlen(word);
	const char *q = skip(*p);
	if (strncmp(q, word, l))
		return false;
	q = skip(q + l);
	if (*q != '(')
		return false;
	*p = q + 1;
	return true;
}

/* A metric name: letters, digits, _ and :. */
static size_t name_len(const char *p)
{
	size_t n = 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == ':')
		n++;
	return n;
}

static int fail(char *msg, size_t n, const char *fmt, const char *arg)
{
	snprintf(msg, n, fmt, arg);
	return -1;
}

int sc_query_parse(const char *text, struct sc_query *out, char *msg, size_t n)
{
	const char *p = text;
	char name[96];
	size_t l;
	int closes = 0;
	memset(out, 0, sizeof(*out));
	out->metric = -1;
	if (take_call(&p, "sum"))
		out->agg = SC_AGG_SUM, closes++;
	else if (take_call(&p, "avg"))
		out->agg = SC_AGG_AVG, closes++;
	else if (take_call(&p, "max"))
		out->agg = SC_AGG_MAX, closes++;
	if (take_call(&p, "histogram_quantile")) {
		char *end;
		out->fn = SC_FN_QUANTILE;
		out->q = strtod(skip(p), &end);
		if (end == skip(p) || !(out->q >= 0 && out->q <= 1))
			return fail(msg, n, "histogram_quantile: expected a quantile between 0 and 1 in '%s'", text);
		p = skip(end);
		if (*p++ != ',')
			return fail(msg, n, "histogram_quantile: expected ',' after the quantile in '%s'", text);
		closes++;
		/* the long form: sum(rate(NAME_bucket[W])) by (le) */
		if (take_call(&p, "sum"))
			closes++;
		if (take_call(&p, "rate"))
			closes++;
	} else if (take_call(&p, "rate")) {
		out->fn = SC_FN_RATE, closes++;
	} else if (take_call(&p, "avg_over_time")) {
		out->fn = SC_FN_AVG, closes++;
	} else if (take_call(&p, "max_over_time")) {
		out->fn = SC_FN_MAX, closes++;
	}
	p = skip(p);
	l = name_len(p);
	if (l == 0 || l >= sizeof(name))
		return fail(msg, n, "expected a metric name in '%s'", text);
	memcpy(name, p, l);
	name[l] = '\0';
	p = skip(p + l);
	if (out->fn == SC_FN_QUANTILE && l > 7 && !strcmp(name + l - 7, "_bucket"))
		name[l - 7] = '\0';
	if ((out->metric = sc_metric_id(name)) < 0)
		return fail(msg, n, "metric '%s' is not in servesim's catalog (docs/autoscalers.md lists it)", name);
	if (*p == '[') {
		char w[32], m[64];
		const char *e = strchr(p, ']');
		if (!e || (size_t)(e - p - 1) >= sizeof(w))
			return fail(msg, n, "expected a window like [1m] in '%s'", text);
		memcpy(w, p + 1, (size_t)(e - p - 1));
		w[e - p - 1] = '\0';
		if (cfg_parse_duration(w, &out->window, m, sizeof(m)) || out->window <= 0)
			return fail(msg, n, "bad window in '%s' (expected e.g. [30s], [1m])", text);
		p = skip(e + 1);
	} else if (out->fn != SC_FN_NONE)
		return fail(msg, n, "a range function needs a window, e.g. [1m], in '%s'", text);
	while (closes > 0 && *p == ')') {
		p = skip(p + 1);
		closes--;
		if (!strncmp(p, "by", 2)) { /* by (le), by (pod): pods are combined by the outer aggregation */
			const char *e = strchr(p, ')');
			if (!e)
				break;
			p = skip(e + 1);
		}
	}
	if (closes || *p)
		return fail(msg, n, "cannot read '%s' (see docs/autoscalers.md for the queries servesim takes)", text);
	if (out->fn == SC_FN_QUANTILE && !sc_metric_is_hist(out->metric))
		return fail(msg, n, "histogram_quantile needs a histogram, e.g. vllm:time_to_first_token_seconds, in '%s'", text);
	if (out->fn != SC_FN_QUANTILE && sc_metric_is_hist(out->metric))
		return fail(msg, n, "'%s': a histogram is read with histogram_quantile(q, NAME[w])", text);
	if (out->fn == SC_FN_RATE && !sc_metric_is_counter(out->metric))
		return fail(msg, n, "rate() needs a counter (a *_total metric) in '%s'", text);
	return 0;
}

/* ---- evaluation ---- */

static sim_time window_of(const struct sc_series *s, const struct sc_query *q, const struct sc_scrape *last)
{
	if (q->window > 0)
		return q->window;
	/* four scrapes, from the spacing of the history */
	if (s->n >= 2) {
		const struct sc_scrape *a = &s->buf[s->head], *b = &s->buf[(s->head + 1) % s->cap];
		return 4 * (b->t - a->t);
	}
	(void)last;
	return 60 * SIM_SEC;
}

static bool pod_at(const struct sc_scrape *x, int32_t pod, size_t *i)
{
	for (size_t k = 0; k < x->npods; k++)
		if (x->pod_ids[k] == pod) {
			*i = k;
			return true;
		}
	return false;
}

/* Scrapes in (t - w, t] of the visible history, oldest first: [*first, last]. */
static const struct sc_scrape *at_or_before(const struct sc_series *s, sim_time at, size_t *idx)
{
	for (size_t k = 0; k < s->n; k++) {
		size_t j = s->n - 1 - k;
		const struct sc_scrape *x = &s->buf[(s->head + j) % s->cap];
		if (x->t <= at) {
			*idx = j;
			return x;
		}
	}
	return NULL;
}

#define AT(s, j) (&(s)->buf[((s)->head + (j)) % (s)->cap])

/* Bucket counts of one pod (or all, pod < 0) in a scrape; false when absent. */
static bool hist_of(const struct sc_scrape *x, int h, int32_t pod, double *c)
{
	size_t i;
	if (!x->hist)
		return false;
	memset(c, 0, SC_HIST_BUCKETS * sizeof(double));
	if (pod >= 0) {
		if (!pod_at(x, pod, &i))
			return false;
		for (int b = 0; b < SC_HIST_BUCKETS; b++)
			c[b] = x->hist[((size_t)h * SC_HIST_BUCKETS + (size_t)b) * x->npods + i];
		return true;
	}
	for (size_t k = 0; k < x->npods; k++)
		for (int b = 0; b < SC_HIST_BUCKETS; b++)
			c[b] += x->hist[((size_t)h * SC_HIST_BUCKETS + (size_t)b) * x->npods + k];
	return true;
}

/* histogram_quantile over the increase of the buckets; pods < 0: all pods
 * (their buckets summed, as sum(rate(x_bucket[w])) by (le)). Pods present
 * at the end but not at the start count from zero. */
static double quantile(const struct sc_series *s, sim_time at, const struct sc_query *q, int32_t pod, bool *has)
{
	size_t jl, j0;
	const struct sc_scrape *x = at_or_before(s, at, &jl), *y = NULL;
	double c1[SC_HIST_BUCKETS], c0[SC_HIST_BUCKETS], d[SC_HIST_BUCKETS];
	int h;
	size_t nb;
	const double *bounds;
	sim_time w;
	*has = false;
	if (!x)
		return 0;
	w = window_of(s, q, x);
	for (j0 = 0; j0 < jl; j0++)
		if (AT(s, j0)->t >= x->t - w) {
			y = AT(s, j0);
			break;
		}
	if (!y)
		return 0;
	h = q->metric - SC_M_TTFT;
	bounds = srv_hist_bounds(h, &nb);
	if (!hist_of(x, h, pod, c1))
		return 0;
	if (pod >= 0) {
		if (!hist_of(y, h, pod, c0))
			memset(c0, 0, sizeof(c0));
	} else {
		/* per pod, so that a pod that came or went does not count backwards */
		memset(c0, 0, sizeof(c0));
		for (size_t k = 0; k < x->npods; k++) {
			double e[SC_HIST_BUCKETS];
			if (hist_of(y, h, x->pod_ids[k], e))
				for (int b = 0; b < SC_HIST_BUCKETS; b++)
					c0[b] += e[b];
		}
	}
	for (int b = 0; b < SC_HIST_BUCKETS; b++)
		d[b] = c1[b] - c0[b];
	/* cumulative: d[nb] is +Inf (the total) */
	if (d[nb] <= 0)
		return 0;
	*has = true;
	{
		double rank = q->q * d[nb];
		size_t b = 0;
		double lo = 0, clo = 0;
		while (b < nb && d[b] < rank)
			b++;
		if (b == nb) /* in +Inf: the largest finite bound, as Prometheus */
			return bounds[nb - 1];
		if (b > 0) {
			lo = bounds[b - 1];
			clo = d[b - 1];
		}
		if (d[b] - clo <= 0)
			return bounds[b];
		return lo + (bounds[b] - lo) * (rank - clo) / (d[b] - clo);
	}
}

double sc_query_pod(const struct sc_series *s, sim_time at, const struct sc_query *q, int32_t pod, bool *has)
{
	size_t jl, i;
	const struct sc_scrape *x;
	sim_time w;
	*has = false;
	if (q->metric >= SC_M_POD_METRICS)
		return 0;
	if (q->fn == SC_FN_QUANTILE)
		return quantile(s, at, q, pod, has);
	if (q->fn == SC_FN_NONE && !sc_metric_is_counter(q->metric))
		return sc_pod_value(s, at, 0, q->metric, pod, has);
	x = at_or_before(s, at, &jl);
	if (!x || !pod_at(x, pod, &i))
		return 0;
	w = window_of(s, q, x);
	if (q->fn == SC_FN_NONE || q->fn == SC_FN_RATE)
		return sc_pod_value(s, at, w, q->metric, pod, has);
	{
		double acc = q->fn == SC_FN_MAX ? -INFINITY : 0;
		size_t cnt = 0;
		for (size_t j = 0; j <= jl; j++) {
			const struct sc_scrape *y = AT(s, j);
			size_t k;
			double v;
			if (y->t <= x->t - w || !pod_at(y, pod, &k))
				continue;
			v = y->values[(size_t)q->metric * y->npods + k];
			acc = q->fn == SC_FN_MAX ? fmax(acc, v) : acc + v;
			cnt++;
		}
		if (!cnt)
			return 0;
		*has = true;
		return q->fn == SC_FN_MAX ? acc : acc / (double)cnt;
	}
}

static double router_value(const struct sc_series *s, sim_time at, const struct sc_query *q, bool *has)
{
	size_t jl;
	const struct sc_scrape *x = at_or_before(s, at, &jl);
	int r = q->metric - SC_M_POD_METRICS;
	sim_time w;
	*has = false;
	if (!x)
		return 0;
	w = window_of(s, q, x);
	if (q->fn == SC_FN_NONE && !sc_metric_is_counter(q->metric)) {
		*has = true;
		return x->router[r];
	}
	if (q->fn == SC_FN_NONE || q->fn == SC_FN_RATE)
		return sc_total(s, at, w, q->metric, has);
	{
		double acc = q->fn == SC_FN_MAX ? -INFINITY : 0;
		size_t cnt = 0;
		for (size_t j = 0; j <= jl; j++) {
			const struct sc_scrape *y = AT(s, j);
			if (y->t <= x->t - w)
				continue;
			acc = q->fn == SC_FN_MAX ? fmax(acc, y->router[r]) : acc + y->router[r];
			cnt++;
		}
		*has = cnt > 0;
		return cnt ? (q->fn == SC_FN_MAX ? acc : acc / (double)cnt) : 0;
	}
}

double sc_query_total(const struct sc_series *s, sim_time at, const struct sc_query *q, bool *has)
{
	size_t jl;
	const struct sc_scrape *x;
	double acc = 0;
	size_t cnt = 0;
	if (q->metric >= SC_M_POD_METRICS)
		return router_value(s, at, q, has);
	if (q->fn == SC_FN_QUANTILE && q->agg == SC_AGG_SUM)
		return quantile(s, at, q, -1, has);
	*has = false;
	x = at_or_before(s, at, &jl);
	if (!x)
		return 0;
	if (x->npods == 0) { /* nobody serves: an empty sum is 0 */
		*has = q->agg == SC_AGG_SUM && q->fn != SC_FN_QUANTILE;
		return 0;
	}
	for (size_t k = 0; k < x->npods; k++) {
		bool h;
		double v = sc_query_pod(s, at, q, x->pod_ids[k], &h);
		if (!h)
			continue;
		acc = q->agg == SC_AGG_MAX ? (cnt ? fmax(acc, v) : v) : acc + v;
		cnt++;
	}
	*has = cnt > 0;
	return cnt && q->agg == SC_AGG_AVG ? acc / (double)cnt : acc;
}

static bool wants(const struct sc_query *q)
{
	return q->fn == SC_FN_QUANTILE;
}

bool sc_config_wants_hist(const struct sc_autoscaler_config *cfg)
{
	switch (cfg->type) {
	case SC_HPA:
		for (size_t i = 0; i < cfg->spec.metrics.n; i++) {
			const struct hpa_metric_spec *m = CFG_LIST_AT(cfg->spec.metrics, struct hpa_metric_spec, i);
			if ((m->type == HPA_METRIC_PODS && wants(&m->pods.metric.q)) ||
			    (m->type == HPA_METRIC_OBJECT && wants(&m->object.metric.q)) ||
			    (m->type == HPA_METRIC_EXTERNAL && wants(&m->external.metric.q)))
				return true;
		}
		return false;
	case SC_KEDA:
		for (size_t i = 0; i < cfg->keda.triggers.n; i++)
			if (wants(&CFG_LIST_AT(cfg->keda.triggers, struct keda_trigger, i)->q))
				return true;
		return false;
	case SC_PREDICTIVE:
		return wants(&cfg->predictive.q);
	default:
		return false;
	}
}

sim_time sc_config_max_window(const struct sc_autoscaler_config *cfg)
{
	sim_time w = 0;
	switch (cfg->type) {
	case SC_HPA:
		for (size_t i = 0; i < cfg->spec.metrics.n; i++) {
			const struct hpa_metric_spec *m = CFG_LIST_AT(cfg->spec.metrics, struct hpa_metric_spec, i);
			const struct sc_query *q = m->type == HPA_METRIC_PODS     ? &m->pods.metric.q
						   : m->type == HPA_METRIC_OBJECT   ? &m->object.metric.q
						   : m->type == HPA_METRIC_EXTERNAL ? &m->external.metric.q
										    : NULL;
			if (q && q->window > w)
				w = q->window;
		}
		break;
	case SC_KEDA:
		for (size_t i = 0; i < cfg->keda.triggers.n; i++)
			if (CFG_LIST_AT(cfg->keda.triggers, struct keda_trigger, i)->q.window > w)
				w = CFG_LIST_AT(cfg->keda.triggers, struct keda_trigger, i)->q.window;
		break;
	case SC_PREDICTIVE:
		w = cfg->predictive.q.window;
		break;
	case SC_KPA:
		w = cfg->kpa.stable_window;
		break;
	default:
		break;
	}
	return w;
}
