/* The HPA algorithm of kube-controller-manager (see hpa.h). */
#include "hpa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool within(const struct hpa_tolerances *t, double ratio)
{
	return (1.0 - t->down) <= ratio && ratio <= (1.0 + t->up);
}

/* Go's int32(math.Ceil(x)) for the ranges that occur. */
static int32_t ceil32(double x)
{
	double c = ceil(x);
	if (c > 2147483647.0)
		return INT32_MAX;
	if (c < -2147483648.0)
		return INT32_MIN;
	return (int32_t)c;
}

/* ---- the replica calculator ---- */

enum { G_READY, G_UNREADY, G_MISSING, G_IGNORED };

/* Working set of samples: listed pods first, then pods not in the list. */
struct samples {
	int64_t *v;
	bool *has;
	size_t n;
};

static void samples_init(struct samples *s, const struct hpa_metric *m, size_t npods)
{
	s->n = m->npod_values > npods ? m->npod_values : npods;
	s->v = xcalloc(s->n + 1, sizeof(int64_t));
	s->has = xcalloc(s->n + 1, sizeof(bool));
	for (size_t i = 0; i < m->npod_values; i++) {
		s->has[i] = !m->pod_has || m->pod_has[i];
		s->v[i] = m->pod_values_m[i];
	}
}

static void samples_free(struct samples *s)
{
	free(s->v);
	free(s->has);
}

static size_t samples_count(const struct samples *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->has[i];
	return n;
}

/* groupPods: which listed pods count. */
static int *group_pods(const struct hpa_params *p, sim_time now, const struct hpa_pod *pods, size_t npods,
		       const struct samples *s, const struct hpa_metric *m, int64_t *ready_count)
{
	int *g = xcalloc(npods + 1, sizeof(int));
	*ready_count = 0;
	for (size_t i = 0; i < npods; i++) {
		const struct hpa_pod *pod = &pods[i];
		if (pod->deleted || pod->phase == HPA_POD_FAILED) {
			g[i] = G_IGNORED;
			continue;
		}
		if (pod->phase == HPA_POD_PENDING) {
			g[i] = G_UNREADY;
			continue;
		}
		if (!s->has[i]) {
			g[i] = G_MISSING;
			continue;
		}
		if (m->cpu) {
			bool unready;
			if (pod->start + p->cpu_initialization_period > now) {
				/* still initialising: unready, or no full window since it turned ready */
				unready = !pod->ready || m->sample_time < pod->ready_transition + m->sample_window;
			} else {
				/* unready and never ready since its start */
				unready = !pod->ready && pod->start + p->initial_readiness_delay > pod->ready_transition;
			}
			if (unready) {
				g[i] = G_UNREADY;
				continue;
			}
		}
		g[i] = G_READY;
		(*ready_count)++;
	}
	return g;
}

/* GetResourceUtilizationRatio: -1 when no sample matches a known request. */
static int utilization_ratio(const struct samples *s, const int64_t *requests, const bool *has_req, size_t npods,
			     int64_t target, double *ratio, int64_t *util, int64_t *raw)
{
	int64_t total = 0, req = 0, n = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->has[i] || i >= npods || !has_req[i])
			continue; /* samples of pods not listed are extraneous */
		total += s->v[i];
		req += requests[i];
		n++;
	}
	if (req == 0)
		return -1;
	*util = (total * 100) / req;
	*ratio = (double)*util / (double)target;
	*raw = total / n;
	return 0;
}

/* GetMetricUsageRatio: the integer mean over every sample left. */
static void usage_ratio(const struct samples *s, int64_t target, double *ratio, int64_t *usage)
{
	int64_t total = 0, n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->has[i]) {
			total += s->v[i];
			n++;
		}
	*usage = n ? total / n : 0;
	*ratio = (double)*usage / (double)target;
}

static int per_pod_calc(const struct hpa_params *p, sim_time now, int32_t current, const struct hpa_pod *pods,
			size_t npods, const struct hpa_metric *m, struct hpa_calc *out, bool utilization)
{
	struct samples s;
	int64_t ready, *requests = NULL, util = 0, raw = 0, usage = 0;
	bool *has_req = NULL, any_missing = false, any_unready = false;
	double ratio, new_ratio;
	int *g;
	int rc = -1;
	int64_t tmp_util, tmp_raw;

	if (npods == 0)
		return -1; /* no pods returned by selector */
	samples_init(&s, m, npods);
	g = group_pods(p, now, pods, npods, &s, m, &ready);
	for (size_t i = 0; i < npods; i++) {
		if (g[i] == G_IGNORED || g[i] == G_UNREADY)
			s.has[i] = false; /* removeMetricsForPods */
		any_missing |= g[i] == G_MISSING;
		any_unready |= g[i] == G_UNREADY;
	}
	if (utilization) {
		requests = xcalloc(npods + 1, sizeof(int64_t));
		has_req = xcalloc(npods + 1, sizeof(bool));
		for (size_t i = 0; i < npods; i++) {
			if (!pods[i].has_request)
				goto out; /* missing request: an error */
			requests[i] = pods[i].request_m;
			has_req[i] = true;
		}
	}
	if (samples_count(&s) == 0)
		goto out; /* did not receive metrics for targeted pods */
	if (utilization) {
		if (utilization_ratio(&s, requests, has_req, npods, m->target_utilization, &ratio, &util, &raw))
			goto out;
		out->utilization = util;
		out->raw_average_m = raw;
		out->has_utilization = out->has_raw = true;
	} else {
		usage_ratio(&s, m->target_m, &ratio, &usage);
		out->usage_m = usage;
		out->has_usage = true;
	}
	{
		bool scale_up_unready = any_unready && ratio > 1.0;
		struct hpa_tolerances t = p->tol;
		if (!scale_up_unready && !any_missing) {
			out->replicas = within(&t, ratio) ? current : ceil32(ratio * (double)ready);
			rc = 0;
			goto out;
		}
		if (any_missing) {
			for (size_t i = 0; i < npods; i++) {
				if (g[i] != G_MISSING)
					continue;
				if (ratio < 1.0) {
					/* scale-down: missing pods as if at the target (utilization: max(100, target)%) */
					s.v[i] = utilization ? requests[i] * (m->target_utilization > 100 ? m->target_utilization : 100) / 100
							     : m->target_m;
					s.has[i] = true;
				} else if (ratio > 1.0) {
					s.v[i] = 0; /* scale-up: as if idle (at exactly 1.0: left out) */
					s.has[i] = true;
				}
			}
		}
		if (scale_up_unready)
			for (size_t i = 0; i < npods; i++)
				if (g[i] == G_UNREADY) {
					s.v[i] = 0;
					s.has[i] = true;
				}
		if (utilization) {
			if (utilization_ratio(&s, requests, has_req, npods, m->target_utilization, &new_ratio, &tmp_util,
					      &tmp_raw))
				goto out;
		} else {
			usage_ratio(&s, m->target_m, &new_ratio, &tmp_util);
		}
		if (within(&t, new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)) {
			out->replicas = current; /* the direction would flip: do nothing */
		} else {
			int32_t n = ceil32(new_ratio * (double)samples_count(&s));
			if ((new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current))
				n = current;
			out->replicas = n;
		}
		rc = 0;
	}
out:
	samples_free(&s);
	free(g);
	free(requests);
	free(has_req);
	return rc;
}

/* getUsageRatioReplicaCount (Object and External Value targets). */
static int usage_ratio_count(const struct hpa_params *p, int32_t current, double ratio, const struct hpa_pod *pods,
			     size_t npods, int32_t *out)
{
	if (current != 0) {
		int64_t ready = 0;
		if (within(&p->tol, ratio)) {
			*out = current;
			return 0;
		}
		if (npods == 0)
			return -1; /* no pods returned by selector */
		for (size_t i = 0; i < npods; i++)
			ready += pods[i].phase == HPA_POD_RUNNING && pods[i].ready;
		*out = ceil32(ratio * (double)ready);
	} else {
		*out = ceil32(ratio); /* from zero: tolerance does not apply */
	}
	return 0;
}

/* Object/External AverageValue: per pod of status.replicas. */
static void per_pod_value(const struct hpa_params *p, int32_t status, int64_t usage, int64_t target,
			  struct hpa_calc *out)
{
	double ratio = (double)usage / ((double)target * (double)status);
	out->replicas = status;
	if (!within(&p->tol, ratio))
		out->replicas = ceil32((double)usage / (double)target);
	out->usage_m = (int64_t)ceil((double)usage / (double)status);
	out->has_usage = true;
}

int hpa_replica_calc(const struct hpa_params *p, sim_time now, int32_t current, int32_t status,
		     const struct hpa_pod *pods, size_t npods, const struct hpa_metric *m,
		     struct hpa_calc *out)
{
	memset(out, 0, sizeof(*out));
	if (m->fetch_error)
		return -1;
	switch (m->src) {
	case HPA_SRC_RESOURCE:
	case HPA_SRC_CONTAINER_RESOURCE:
		if (m->ttype == HPA_T_AVERAGE_VALUE)
			return per_pod_calc(p, now, current, pods, npods, m, out, false);
		if (m->ttype == HPA_T_UTILIZATION)
			return per_pod_calc(p, now, current, pods, npods, m, out, true);
		return -1;
	case HPA_SRC_PODS: {
		/* no readiness rules for custom metrics: only Pending pods are unready */
		struct hpa_metric mm = *m;
		mm.cpu = false;
		if (m->ttype != HPA_T_AVERAGE_VALUE)
			return -1;
		return per_pod_calc(p, now, current, pods, npods, &mm, out, false);
	}
	case HPA_SRC_OBJECT:
		if (m->ttype == HPA_T_VALUE) {
			out->usage_m = m->value_m;
			out->has_usage = true;
			return usage_ratio_count(p, current, (double)m->value_m / (double)m->target_m, pods, npods,
						 &out->replicas);
		}
		if (m->ttype == HPA_T_AVERAGE_VALUE) {
			per_pod_value(p, status, m->value_m, m->target_m, out);
			return 0;
		}
		return -1;
	case HPA_SRC_EXTERNAL: {
		int64_t total = 0;
		for (size_t i = 0; i < m->nvalues; i++)
			total += m->values_m[i];
		if (m->ttype == HPA_T_VALUE) {
			out->usage_m = total;
			out->has_usage = true;
			return usage_ratio_count(p, current, (double)total / (double)m->target_m, pods, npods,
						 &out->replicas);
		}
		if (m->ttype == HPA_T_AVERAGE_VALUE) {
			per_pod_value(p, status, total, m->target_m, out);
			return 0;
		}
		return -1;
	}
	default:
		return -1; /* unknown metric source type */
	}
}

/* ---- recommendations and events ---- */

void hpa_state_release(struct hpa_state *s)
{
	free(s->recs);
	free(s->up);
	free(s->down);
	memset(s, 0, sizeof(*s));
}

void hpa_rec_push(struct hpa_state *s, int32_t replicas, sim_time t)
{
	XGROW(s->recs, s->recs_cap, s->nrecs + 1);
	s->recs[s->nrecs++] = (struct hpa_rec){replicas, t};
	s->has_recs = true;
}

int32_t hpa_stabilize_legacy(struct hpa_state *s, sim_time now, sim_time window, int32_t prenormalized)
{
	int32_t best = prenormalized;
	bool old = false;
	size_t old_i = 0;
	sim_time cutoff = now - window;
	for (size_t i = 0; i < s->nrecs; i++) {
		if (s->recs[i].t < cutoff) { /* Before: strictly older than the window */
			old = true;
			old_i = i;
		} else if (s->recs[i].replicas > best) {
			best = s->recs[i].replicas;
		}
	}
	if (old)
		s->recs[old_i] = (struct hpa_rec){prenormalized, now};
	else
		hpa_rec_push(s, prenormalized, now);
	return best;
}

int32_t hpa_legacy_rules(const struct hpa_params *p, int32_t current, int32_t desired, int32_t min,
			 int32_t max, const char **condition)
{
	int32_t limit = (int32_t)fmax(p->legacy_scale_up_factor * (double)current, p->legacy_scale_up_minimum);
	int32_t max_allowed;
	const char *cond;
	if (max > limit) {
		max_allowed = limit;
		cond = "ScaleUpLimit";
	} else {
		max_allowed = max;
		cond = "TooManyReplicas";
	}
	if (desired < min) {
		*condition = "TooFewReplicas";
		return min;
	}
	if (desired > max_allowed) {
		*condition = cond;
		return max_allowed;
	}
	*condition = "DesiredWithinRange";
	return desired;
}

int32_t hpa_stabilize_behavior(struct hpa_state *s, sim_time now, int32_t up_window_s, int32_t down_window_s,
			       int32_t current, int32_t prenormalized)
{
	sim_time up_cut = now - (sim_time)up_window_s * SIM_SEC, down_cut = now - (sim_time)down_window_s * SIM_SEC;
	int32_t up = prenormalized, down = prenormalized, rec = current;
	bool old = false;
	size_t old_i = 0;
	for (size_t i = 0; i < s->nrecs; i++) {
		sim_time t = s->recs[i].t;
		if (t > up_cut && s->recs[i].replicas < up) /* After: strictly inside the window */
			up = s->recs[i].replicas;
		if (t > down_cut && s->recs[i].replicas > down)
			down = s->recs[i].replicas;
		if (t < up_cut && t < down_cut) {
			old = true;
			old_i = i;
		}
	}
	if (rec < up)
		rec = up;
	if (rec > down)
		rec = down;
	if (old)
		s->recs[old_i] = (struct hpa_rec){prenormalized, now};
	else
		hpa_rec_push(s, prenormalized, now);
	return rec;
}

static int32_t change_in_period(const struct hpa_event *ev, size_t n, sim_time now, int32_t period_s)
{
	sim_time cutoff = now - (sim_time)period_s * SIM_SEC;
	int32_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].t > cutoff)
			c += ev[i].change;
	return c;
}

int32_t hpa_policy_limit(const struct hpa_state *s, sim_time now, bool up, int32_t current,
			 const struct hpa_rules_rt *rules)
{
	int64_t result;
	if (rules->select == HPA_SELECT_DISABLED_)
		return current;
	if (up)
		result = rules->select == HPA_SELECT_MIN_ ? INT32_MAX : INT32_MIN;
	else
		result = rules->select == HPA_SELECT_MIN_ ? INT32_MIN : INT32_MAX;
	for (size_t i = 0; i < rules->npolicies; i++) {
		const struct hpa_rule_policy *pl = &rules->policies[i];
		int32_t added = change_in_period(s->up, s->nup, now, pl->period_s);
		int32_t deleted = change_in_period(s->down, s->ndown, now, pl->period_s);
		int32_t start = current - added + deleted;
		int64_t proposed;
		if (up)
			proposed = pl->type == HPA_PODS ? (int64_t)start + pl->value
							: (int64_t)ceil((double)start * (1.0 + (double)pl->value / 100.0));
		else
			proposed = pl->type == HPA_PODS ? (int64_t)start - pl->value
							: (int64_t)((double)start * (1.0 - (double)pl->value / 100.0));
		/* up: Max takes the largest change; down: Max takes the smallest value */
		if (up == (rules->select != HPA_SELECT_MIN_))
			result = proposed > result ? proposed : result;
		else
			result = proposed < result ? proposed : result;
	}
	return (int32_t)result;
}

int32_t hpa_rate_limit(const struct hpa_state *s, sim_time now, const struct hpa_behavior_rt *b,
		       int32_t current, int32_t desired, int32_t min, int32_t max, const char **condition)
{
	if (desired > current) {
		int32_t limit = hpa_policy_limit(s, now, true, current, &b->up), allowed = max;
		const char *cond;
		if (limit < current)
			limit = current; /* no further up until old events age out */
		if (allowed > limit) {
			allowed = limit;
			cond = "ScaleUpLimit";
		} else {
			cond = "TooManyReplicas";
		}
		if (desired > allowed) {
			*condition = cond;
			return allowed;
		}
	} else if (desired < current) {
		int32_t limit = hpa_policy_limit(s, now, false, current, &b->down), allowed = min;
		const char *cond;
		if (limit > current)
			limit = current;
		if (allowed < limit) {
			allowed = limit;
			cond = "ScaleDownLimit";
		} else {
			cond = "TooFewReplicas";
		}
		if (desired < allowed) {
			*condition = cond;
			return allowed;
		}
	}
	*condition = "DesiredWithinRange";
	return desired;
}

static int32_t longest_period(const struct hpa_rules_rt *r)
{
	int32_t m = 0;
	for (size_t i = 0; i < r->npolicies; i++)
		if (r->policies[i].period_s > m)
			m = r->policies[i].period_s;
	return m;
}

static void store(struct hpa_event **ev, size_t *n, size_t *cap, sim_time now, int32_t period_s, int32_t change)
{
	sim_time cutoff = now - (sim_time)period_s * SIM_SEC;
	for (size_t i = 0; i < *n; i++)
		if ((*ev)[i].t < cutoff)
			(*ev)[i].outdated = true; /* kept for reuse */
	for (size_t i = 0; i < *n; i++)
		if ((*ev)[i].outdated) {
			(*ev)[i] = (struct hpa_event){change, now, false};
			return;
		}
	XGROW(*ev, *cap, *n + 1);
	(*ev)[(*n)++] = (struct hpa_event){change, now, false};
}

void hpa_store_event(struct hpa_state *s, sim_time now, const struct hpa_behavior_rt *b, int32_t prev, int32_t next)
{
	if (!b)
		return;
	if (next > prev)
		store(&s->up, &s->nup, &s->up_cap, now, longest_period(&b->up), next - prev);
	else
		store(&s->down, &s->ndown, &s->down_cap, now, longest_period(&b->down), prev - next);
}

void hpa_default_up(struct hpa_rules_rt *r)
{
	if (!r->has_window) {
		r->window_s = 0;
		r->has_window = true;
	}
	if (r->npolicies == 0) {
		r->policies[0] = (struct hpa_rule_policy){HPA_PODS, 4, 15};
		r->policies[1] = (struct hpa_rule_policy){HPA_PERCENT, 100, 15};
		r->npolicies = 2;
	}
}

void hpa_default_down(struct hpa_rules_rt *r)
{
	/* the window stays unset: the controller's downscale stabilisation applies */
	if (r->npolicies == 0) {
		r->policies[0] = (struct hpa_rule_policy){HPA_PERCENT, 100, 15};
		r->npolicies = 1;
	}
}

/* ---- one reconcile ---- */

int32_t hpa_reconcile(const struct hpa_params *p0, struct hpa_state *s, sim_time now, int32_t spec,
		      int32_t status, int32_t min_replicas, int32_t max_replicas,
		      const struct hpa_pod *pods, size_t npods, const struct hpa_metric *metrics,
		      size_t nmetrics, const struct hpa_behavior_rt *behavior, const char **reason)
{
	struct hpa_params p = *p0;
	int32_t min = min_replicas < 0 ? 1 : min_replicas, desired;
	*reason = "";
	/* per-direction tolerances from the behavior (HPAConfigurableTolerance) */
	if (behavior) {
		if (behavior->down.has_tolerance)
			p.tol.down = behavior->down.tolerance;
		if (behavior->up.has_tolerance)
			p.tol.up = behavior->up.tolerance;
	}
	if (!s->has_recs)
		hpa_rec_push(s, spec, now); /* recordInitialRecommendation */
	if (spec == 0 && min != 0) {
		*reason = "ScalingDisabled";
		return spec;
	}
	if (spec > max_replicas) {
		desired = max_replicas;
		*reason = "above maxReplicas";
	} else if (spec < min) {
		desired = min;
		*reason = "below minReplicas";
	} else {
		int32_t best = 0;
		size_t invalid = 0;
		bool any = false;
		const char *cond;
		for (size_t i = 0; i < nmetrics; i++) {
			struct hpa_calc c;
			if (hpa_replica_calc(&p, now, spec, status, pods, npods, &metrics[i], &c)) {
				invalid++;
				continue;
			}
			if (!any || c.replicas > best) {
				best = c.replicas;
				any = true;
			}
		}
		/* all invalid, or some invalid while the rest would scale down: no change */
		if (invalid >= nmetrics || (invalid > 0 && best < spec)) {
			*reason = "FailedGetMetrics";
			return spec;
		}
		desired = best > 0 ? best : 0;
		if (!behavior) {
			int32_t st = hpa_stabilize_legacy(s, now, p.downscale_stabilization, desired);
			desired = hpa_legacy_rules(&p, spec, st, min, max_replicas, &cond);
		} else {
			struct hpa_behavior_rt b = *behavior;
			int32_t st;
			if (!b.down.has_window) { /* maybeInitScaleDownStabilizationWindow */
				b.down.window_s = (int32_t)(p.downscale_stabilization / SIM_SEC);
				b.down.has_window = true;
			}
			st = hpa_stabilize_behavior(s, now, b.up.window_s, b.down.window_s, spec, desired);
			desired = hpa_rate_limit(s, now, &b, spec, st, min, max_replicas, &cond);
		}
		*reason = cond;
	}
	if (desired != spec)
		hpa_store_event(s, now, behavior, spec, desired);
	return desired;
}
