/*
 * Knative's KPA (pkg/autoscaler/scaling/autoscaler.go): every tick it
 * averages the observed concurrency (or request rate) over the stable and
 * the panic window, turns each into pods at target x target_utilization
 * per pod, bounds them by max_scale_up/down_rate times the ready pods, and
 * enters panic when the panic demand reaches panic_threshold x ready pods.
 * In panic it takes the larger of the two and never goes below what it has
 * asked for; it leaves once more than a stable window has passed since the
 * threshold was last reached. scale_down_delay holds the
 * maximum over that delay. Scale to zero waits scale_to_zero_grace_period
 * after the demand fell to zero; while at zero the router (the activator)
 * buffers requests, and its queue counts as demand, read at once.
 *
 * Knative's autoscaler scrapes the queue-proxies itself (every second),
 * so the KPA bypasses the Prometheus pipeline (kpa_pipeline).
 */
#include "ctl.h"

#include <math.h>
#include <stdlib.h>

struct kpa_ctl {
	const struct sc_autoscaler_config *cfg;
	const struct sc_env *env;
	size_t dep;
	sim_time panic_since; /* -1: not in panic */
	int32_t max_panic_pods;
	sim_time zero_since; /* the demand has been zero since (-1: it is not) */
	/* scale_down_delay: recent recommendations */
	struct {
		sim_time t;
		int32_t n;
	} *recent;
	size_t nrecent, cap;
	int32_t last_desired;
	bool last_panic;
};

static void *kpa_create(const struct sc_autoscaler_config *cfg, const struct sc_env *env, size_t dep,
			struct sim_err *err)
{
	struct kpa_ctl *k = xcalloc(1, sizeof(*k));
	(void)err;
	k->cfg = cfg;
	k->env = env;
	k->dep = dep;
	k->panic_since = -1;
	k->zero_since = -1;
	k->last_desired = -1;
	return k;
}

/* Demand averaged over (now - w, now]: in-flight requests on every pod plus the activator's buffer. */
static double demand(const struct kpa_ctl *k, const struct sc_series *s, sim_time w, bool *has)
{
	sim_time now = k->env->sim->now;
	bool h1, h2;
	double v;
	if (k->cfg->kpa.metric == SC_KPA_RPS) {
		v = sc_window_avg(s, now - w, now, SC_M_ROUTER_RATE, &h1);
		*has = h1;
		return v;
	}
	v = sc_window_avg(s, now - w, now, SC_M_CONCURRENCY, &h1) + sc_window_avg(s, now - w, now, SC_M_ROUTER_QUEUE, &h2);
	*has = h1 || h2;
	return v;
}

/* Bounded above by hi, then below by lo. */
static int32_t clamp(int32_t x, int32_t lo, int32_t hi)
{
	x = x > hi ? hi : x;
	return x < lo ? lo : x;
}

static sim_time kpa_tick(void *state, const struct sc_series *series)
{
	struct kpa_ctl *k = state;
	const struct sc_kpa *c = &k->cfg->kpa;
	const struct sc_env *e = k->env;
	sim_time now = e->sim->now;
	sim_time panic_w = (sim_time)llround((double)c->stable_window * c->panic_window_percentage / 100.0);
	int32_t cur = e->replicas(e->ctx, k->dep), ready = e->ready_replicas(e->ctx, k->dep);
	double target = c->target * c->target_utilization, stable, panic;
	double rp = ready > 1 ? ready : 1;
	int32_t dspc, dppc, max_up, max_down, desired;
	bool has_s, has_p, over;
	const char *reason = "stable";

	stable = demand(k, series, c->stable_window, &has_s);
	panic = demand(k, series, panic_w, &has_p);
	if (!has_s)
		return c->tick_interval;
	dspc = (int32_t)ceil(stable / target);
	dppc = (int32_t)ceil(panic / target);
	max_up = (int32_t)ceil(c->max_scale_up_rate * rp);
	max_down = c->max_scale_down_rate > 0 ? (int32_t)floor(rp / c->max_scale_down_rate) : 0;
	/* the threshold compares the unclamped panic recommendation */
	over = ceil(panic / target) / rp >= c->panic_threshold_percentage / 100.0;
	dspc = clamp(dspc, max_down, max_up);
	dppc = clamp(dppc, max_down, max_up);
	if (over)
		k->panic_since = now; /* entering, or extending */
	else if (k->panic_since >= 0 && now > k->panic_since + c->stable_window) {
		k->panic_since = -1; /* the surge has reached the stable window */
		k->max_panic_pods = 0;
	}
	desired = dspc;
	if (k->panic_since >= 0) {
		/* the larger of the two, and never below what panic already asked for */
		if (dppc > desired)
			desired = dppc;
		if (desired > k->max_panic_pods)
			k->max_panic_pods = desired;
		desired = k->max_panic_pods;
		reason = "panic";
	}
	/* scale_down_delay: the maximum recommendation over the delay */
	if (c->scale_down_delay > 0) {
		size_t j = 0;
		int32_t mx = desired;
		for (size_t i = 0; i < k->nrecent; i++)
			if (k->recent[i].t > now - c->scale_down_delay) {
				k->recent[j++] = k->recent[i];
				if (k->recent[i].n > mx)
					mx = k->recent[i].n;
			}
		k->nrecent = j;
		XGROW(k->recent, k->cap, k->nrecent + 1);
		k->recent[k->nrecent].t = now;
		k->recent[k->nrecent++].n = desired;
		if (mx > desired)
			reason = "scale-down delay";
		desired = mx;
	}
	/* the reconciler: bounds, scale to zero after the grace period, activation scale */
	if (desired == 0) {
		if (k->zero_since < 0)
			k->zero_since = now;
		if (c->min_scale == 0 && now - k->zero_since >= c->scale_to_zero_grace_period) {
			reason = "scale to zero";
		} else {
			desired = cur > 0 ? cur : 0;
			if (desired > 1 && c->min_scale == 0)
				desired = 1; /* keep one pod through the grace period */
			reason = "scale-to-zero grace period";
		}
	} else
		k->zero_since = -1;
	if (cur == 0 && desired > 0 && desired < c->activation_scale) {
		desired = (int32_t)c->activation_scale;
		reason = "activation";
	}
	if (desired < c->min_scale)
		desired = (int32_t)c->min_scale;
	if (c->max_scale > 0 && desired > c->max_scale)
		desired = (int32_t)c->max_scale;
	if (desired != cur)
		e->set_replicas(e->ctx, k->dep, desired);
	if (desired != k->last_desired || (k->panic_since >= 0) != k->last_panic)
		e->decision(e->ctx, k->dep, sc_kpa_ops.name, k->panic_since >= 0 ? panic : stable, cur, dspc, desired, reason);
	k->last_desired = desired;
	k->last_panic = k->panic_since >= 0;
	return c->tick_interval;
}

static void kpa_destroy(void *state)
{
	struct kpa_ctl *k = state;
	free(k->recent);
	free(k);
}

static sim_time kpa_first(const struct sc_autoscaler_config *cfg)
{
	return cfg->kpa.tick_interval;
}

/* Knative's autoscaler scrapes the queue-proxies each second, directly: no adapter lag. */
static struct sc_pipeline kpa_pipeline(const struct sc_autoscaler_config *cfg)
{
	(void)cfg;
	return (struct sc_pipeline){SIM_SEC, 0};
}

const struct autoscaler_ops sc_kpa_ops = {.name = "kpa", .create = kpa_create, .tick = kpa_tick,
					  .destroy = kpa_destroy, .first = kpa_first, .pipeline = kpa_pipeline};
