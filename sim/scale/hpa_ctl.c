/*
 * The HPA as a control loop: every sync period it reads the pods as the
 * API server lists them and the metrics the pipeline published at least
 * `lag` ago, and runs hpa_reconcile() (the same code as `servesim
 * hpa-eval`). A pod's CPU request is 4 cores; its usage is modelled in the
 * scrape (see docs/autoscalers.md).
 */
#include "ctl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HPA_CPU_REQUEST_M 4000
#define HPA_MEMORY_REQUEST_M ((int64_t)64 << 30) * 1000 /* 64 GiB in milli-bytes */

struct hpa_ctl_metric {
	int src, metric; /* enum hpa_src, enum sc_metric */
	struct sc_query q;
	struct hpa_metric m;
	int64_t *vals;
	bool *has;
	int64_t ext;
};

struct hpa_ctl {
	const struct sc_autoscaler_config *cfg;
	const struct sc_env *env;
	size_t dep;
	struct hpa_params p;
	struct hpa_state st;
	struct hpa_behavior_rt beh;
	const struct hpa_behavior_rt *behp;
	struct hpa_ctl_metric *ms;
	size_t nm;
	struct sc_pod *pods;
	struct hpa_pod *hp;
	size_t cap;
};

static void rules_rt(const struct hpa_rules *r, bool present, bool up, struct hpa_rules_rt *out)
{
	memset(out, 0, sizeof(*out));
	if (up)
		hpa_default_up(out);
	else
		hpa_default_down(out);
	if (!present)
		return;
	if (r->has_stabilizationWindowSeconds) {
		out->window_s = (int32_t)r->stabilizationWindowSeconds;
		out->has_window = true;
	}
	if (r->has_selectPolicy)
		out->select = r->selectPolicy == HPA_SELECT_MAX   ? HPA_SELECT_MAX_
			      : r->selectPolicy == HPA_SELECT_MIN ? HPA_SELECT_MIN_
								  : HPA_SELECT_DISABLED_;
	if (r->has_policies) {
		out->npolicies = 0;
		for (size_t i = 0; i < r->policies.n && i < 16; i++) {
			const struct hpa_policy *p = CFG_LIST_AT(r->policies, struct hpa_policy, i);
			out->policies[out->npolicies++] = (struct hpa_rule_policy){
				p->type == HPA_POLICY_PERCENT ? HPA_PERCENT : HPA_PODS, (int32_t)p->value,
				(int32_t)p->periodSeconds};
		}
	}
	if (r->has_tolerance) {
		out->tolerance = (double)r->tolerance / 1000.0;
		out->has_tolerance = true;
	}
}

void sc_hpa_behavior_rt(const struct hpa_behavior *b, struct hpa_behavior_rt *out)
{
	rules_rt(&b->scaleUp, b->has_scaleUp, true, &out->up);
	rules_rt(&b->scaleDown, b->has_scaleDown, false, &out->down);
}

/* Prepares one metric spec; -1 with err set when servesim has no such series. */
static int setup_metric(const struct hpa_metric_spec *ms, size_t i, const char *where, struct hpa_ctl_metric *x,
			struct sim_err *err)
{
	const struct hpa_source *s;
	memset(x, 0, sizeof(*x));
	switch (ms->type) {
	case HPA_METRIC_RESOURCE:
	case HPA_METRIC_CONTAINER_RESOURCE:
		s = ms->type == HPA_METRIC_RESOURCE ? &ms->resource : &ms->containerResource;
		x->src = ms->type == HPA_METRIC_RESOURCE ? HPA_SRC_RESOURCE : HPA_SRC_CONTAINER_RESOURCE;
		if (!strcmp(s->name, "cpu"))
			x->metric = SC_M_CPU;
		else if (!strcmp(s->name, "memory"))
			x->metric = SC_M_MEMORY;
		else
			return sim_err_set(err, SIM_EINPUT, "%s.metrics[%zu]: resource '%s': servesim models cpu and memory",
					   where, i, s->name);
		x->m.cpu = x->metric == SC_M_CPU;
		break;
	case HPA_METRIC_PODS:
		s = &ms->pods;
		x->src = HPA_SRC_PODS;
		break;
	case HPA_METRIC_OBJECT:
		s = &ms->object;
		x->src = HPA_SRC_OBJECT;
		break;
	default:
		s = &ms->external;
		x->src = HPA_SRC_EXTERNAL;
		break;
	}
	if (x->src == HPA_SRC_RESOURCE || x->src == HPA_SRC_CONTAINER_RESOURCE)
		x->q = (struct sc_query){x->metric, SC_FN_NONE, SC_AGG_SUM, 0, 0};
	else {
		x->q = s->metric.q; /* parsed and checked at validation */
		x->metric = x->q.metric;
	}
	if ((x->src == HPA_SRC_PODS || x->src == HPA_SRC_RESOURCE || x->src == HPA_SRC_CONTAINER_RESOURCE) &&
	    x->metric >= SC_M_POD_METRICS)
		return sim_err_set(err, SIM_EINPUT,
				   "%s.metrics[%zu]: '%s' is a deployment-level series; use an Object or External metric",
				   where, i, sc_metric_names[x->metric]);
	x->m.src = x->src;
	x->m.ttype = s->target.type == HPA_TARGET_UTILIZATION ? HPA_T_UTILIZATION
		     : s->target.type == HPA_TARGET_VALUE     ? HPA_T_VALUE
							      : HPA_T_AVERAGE_VALUE;
	x->m.target_utilization = s->target.averageUtilization;
	x->m.target_m = s->target.type == HPA_TARGET_VALUE ? s->target.value : s->target.averageValue;
	return 0;
}

/* Shared with KEDA, which drives an HPA of its own. */
void *sc_hpa_create_with(const struct sc_autoscaler_config *cfg, const struct hpa_spec *spec,
			 const struct hpa_behavior *beh, bool has_beh, const struct sc_env *env, size_t dep,
			 const char *where, struct sim_err *err)
{
	struct hpa_ctl *h = xcalloc(1, sizeof(*h));
	h->cfg = cfg;
	h->env = env;
	h->dep = dep;
	h->p.tol.up = h->p.tol.down = cfg->controller.tolerance;
	h->p.cpu_initialization_period = cfg->controller.cpu_initialization_period;
	h->p.initial_readiness_delay = cfg->controller.initial_readiness_delay;
	h->p.downscale_stabilization = cfg->controller.downscale_stabilization;
	h->p.legacy_scale_up_factor = 2;
	h->p.legacy_scale_up_minimum = 4;
	if (has_beh) {
		sc_hpa_behavior_rt(beh, &h->beh);
		h->behp = &h->beh;
	}
	h->nm = spec->metrics.n;
	h->ms = xcalloc(h->nm + 1, sizeof(*h->ms));
	for (size_t i = 0; i < h->nm; i++)
		if (setup_metric(CFG_LIST_AT(spec->metrics, struct hpa_metric_spec, i), i, where, &h->ms[i], err)) {
			free(h->ms);
			free(h);
			return NULL;
		}
	return h;
}

void sc_hpa_set_external(void *state, size_t n, const struct sc_query *metric, const int64_t *target_m,
			 const bool *average)
{
	struct hpa_ctl *h = state;
	free(h->ms);
	h->nm = n;
	h->ms = xcalloc(n + 1, sizeof(*h->ms));
	for (size_t i = 0; i < n; i++) {
		h->ms[i].src = HPA_SRC_EXTERNAL;
		h->ms[i].metric = metric[i].metric;
		h->ms[i].q = metric[i];
		h->ms[i].m.src = HPA_SRC_EXTERNAL;
		h->ms[i].m.ttype = average[i] ? HPA_T_AVERAGE_VALUE : HPA_T_VALUE;
		h->ms[i].m.target_m = target_m[i];
	}
}

static void *hpa_create(const struct sc_autoscaler_config *cfg, const struct sc_env *env, size_t dep,
			struct sim_err *err)
{
	char where[64];
	struct hpa_ctl *h;
	snprintf(where, sizeof(where), "deployments[%zu].autoscaler.spec", dep);
	h = sc_hpa_create_with(cfg, &cfg->spec, &cfg->spec.behavior, cfg->spec.has_behavior, env, dep, where, err);
	if (h && h->nm == 0) { /* no metrics: the API default, cpu at 80 % utilization */
		free(h->ms);
		h->nm = 1;
		h->ms = xcalloc(2, sizeof(*h->ms));
		h->ms[0].src = HPA_SRC_RESOURCE;
		h->ms[0].metric = SC_M_CPU;
		h->ms[0].q = (struct sc_query){SC_M_CPU, SC_FN_NONE, SC_AGG_SUM, 0, 0};
		h->ms[0].m.src = HPA_SRC_RESOURCE;
		h->ms[0].m.cpu = true;
		h->ms[0].m.ttype = HPA_T_UTILIZATION;
		h->ms[0].m.target_utilization = 80;
	}
	return h;
}

static size_t list_pods(struct hpa_ctl *h)
{
	size_t n = h->env->pods(h->env->ctx, h->dep, h->pods, h->cap);
	if (n > h->cap) {
		h->cap = n * 2;
		h->pods = xrealloc(h->pods, h->cap * sizeof(*h->pods));
		h->hp = xrealloc(h->hp, h->cap * sizeof(*h->hp));
		for (size_t i = 0; i < h->nm; i++) {
			h->ms[i].vals = xrealloc(h->ms[i].vals, h->cap * sizeof(int64_t));
			h->ms[i].has = xrealloc(h->ms[i].has, h->cap * sizeof(bool));
		}
		n = h->env->pods(h->env->ctx, h->dep, h->pods, h->cap);
	}
	return n;
}

static int64_t milli(double v)
{
	return (int64_t)llround(v * 1000.0);
}

/* The HPA's view of the metrics; returns the first metric's value as the decision's input. */
double sc_hpa_observe(void *state, const struct sc_series *series, size_t *npods_out)
{
	struct hpa_ctl *h = state;
	sim_time now = h->env->sim->now, at = now - h->cfg->metrics_pipeline.lag;
	size_t n = list_pods(h);
	double input = NAN;
	const struct sc_scrape *last = sc_series_at(series, at);
	for (size_t i = 0; i < n; i++) {
		const struct sc_pod *p = &h->pods[i];
		h->hp[i] = (struct hpa_pod){p->phase, p->ready, p->deleted, p->start, p->ready_transition, 0, false};
	}
	for (size_t k = 0; k < h->nm; k++) {
		struct hpa_ctl_metric *x = &h->ms[k];
		bool has;
		x->m.fetch_error = false;
		x->m.sample_time = last ? last->t : now;
		x->m.sample_window = h->cfg->metrics_pipeline.scrape_interval;
		if (x->src == HPA_SRC_RESOURCE || x->src == HPA_SRC_CONTAINER_RESOURCE || x->src == HPA_SRC_PODS) {
			double sum = 0;
			size_t cnt = 0;
			for (size_t i = 0; i < n; i++) {
				double v = sc_query_pod(series, at, &x->q, h->pods[i].id, &x->has[i]);
				x->vals[i] = milli(v);
				if (x->has[i]) {
					sum += v;
					cnt++;
				}
				if (x->src != HPA_SRC_PODS) {
					h->hp[i].request_m = x->metric == SC_M_CPU ? HPA_CPU_REQUEST_M : HPA_MEMORY_REQUEST_M;
					h->hp[i].has_request = true;
				}
			}
			x->m.pod_values_m = x->vals;
			x->m.pod_has = x->has;
			x->m.npod_values = n;
			x->m.fetch_error = cnt == 0 && n > 0 && !last;
			if (k == 0 && cnt)
				input = sum / (double)cnt;
		} else {
			double v = sc_query_total(series, at, &x->q, &has);
			x->m.fetch_error = !has;
			x->m.value_m = x->ext = milli(v);
			x->m.values_m = &x->ext;
			x->m.nvalues = 1;
			if (k == 0 && has)
				input = v;
		}
	}
	*npods_out = n;
	return input;
}

int32_t sc_hpa_reconcile(void *state, const struct sc_series *series, int32_t min, int32_t max, double *input,
			 const char **reason)
{
	struct hpa_ctl *h = state;
	size_t n;
	int32_t spec = h->env->replicas(h->env->ctx, h->dep), status = 0;
	struct hpa_metric mv[16];
	*input = sc_hpa_observe(state, series, &n);
	for (size_t i = 0; i < n; i++)
		status += !h->pods[i].deleted;
	for (size_t k = 0; k < h->nm && k < 16; k++)
		mv[k] = h->ms[k].m;
	return hpa_reconcile(&h->p, &h->st, h->env->sim->now, spec, status, min, max, h->hp, n, mv,
			     h->nm < 16 ? h->nm : 16, h->behp, reason);
}

static sim_time hpa_tick(void *state, const struct sc_series *series)
{
	struct hpa_ctl *h = state;
	const struct hpa_spec *s = &h->cfg->spec;
	int32_t from = h->env->replicas(h->env->ctx, h->dep), to;
	const char *reason;
	double input;
	to = sc_hpa_reconcile(state, series, s->has_minReplicas ? (int32_t)s->minReplicas : -1,
			      (int32_t)s->maxReplicas, &input, &reason);
	if (to != from)
		h->env->set_replicas(h->env->ctx, h->dep, to);
	h->env->decision(h->env->ctx, h->dep, sc_hpa_ops.name, input, from, to, to, reason);
	return h->cfg->controller.sync_period;
}

void sc_hpa_destroy(void *state)
{
	struct hpa_ctl *h = state;
	if (!h)
		return;
	for (size_t i = 0; i < h->nm; i++) {
		free(h->ms[i].vals);
		free(h->ms[i].has);
	}
	free(h->ms);
	free(h->pods);
	free(h->hp);
	hpa_state_release(&h->st);
	free(h);
}

static sim_time hpa_first(const struct sc_autoscaler_config *cfg)
{
	return cfg->controller.sync_period; /* the informer resyncs, then the first sync */
}

const struct autoscaler_ops sc_hpa_ops = {.name = "hpa", .create = hpa_create, .tick = hpa_tick, .destroy = sc_hpa_destroy, .first = hpa_first};
