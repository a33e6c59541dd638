/*
 * KEDA's ScaledObject: the KEDA operator polls every trigger each
 * pollingInterval and owns 0 <-> 1 (activation when a trigger's value
 * exceeds its activationThreshold, scale to zero or idleReplicaCount once
 * no trigger has been active for cooldownPeriod); between 1 and N the HPA
 * it creates scales on External metrics, one per trigger, with target
 * AverageValue (or Value) = threshold, on its own 15 s sync.
 */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keda_ctl {
	const struct sc_autoscaler_config *cfg;
	const struct sc_env *env;
	size_t dep;
	void *hpa;
	sim_time created, last_active, next_poll, next_hpa;
	bool ever_active;
};

static void *keda_create(const struct sc_autoscaler_config *cfg, const struct sc_env *env, size_t dep,
			 struct sim_err *err)
{
	struct keda_ctl *k = xcalloc(1, sizeof(*k));
	struct hpa_spec none;
	const struct keda_spec *s = &cfg->keda;
	const struct keda_hpa_config *hc = &s->advanced.horizontalPodAutoscalerConfig;
	struct sc_query metric[16];
	int64_t target[16];
	bool avg[16];
	size_t n = s->triggers.n < 16 ? s->triggers.n : 16;
	char where[64];
	memset(&none, 0, sizeof(none));
	snprintf(where, sizeof(where), "deployments[%zu].autoscaler.spec", dep);
	k->cfg = cfg;
	k->env = env;
	k->dep = dep;
	k->created = env->sim->now;
	k->hpa = sc_hpa_create_with(cfg, &none, &hc->behavior, hc->has_behavior, env, dep, where, err);
	if (!k->hpa) {
		free(k);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct keda_trigger *t = CFG_LIST_AT(s->triggers, struct keda_trigger, i);
		metric[i] = t->q;
		target[i] = t->threshold_m;
		avg[i] = t->metricType != HPA_TARGET_VALUE;
	}
	sc_hpa_set_external(k->hpa, n, metric, target, avg);
	k->next_poll = k->created;
	k->next_hpa = k->created + cfg->controller.sync_period;
	return k;
}

/* The operator's poll: is any trigger active? Sets *value to the first trigger's value. */
static bool poll(struct keda_ctl *k, const struct sc_series *series, double *value)
{
	const struct keda_spec *s = &k->cfg->keda;
	sim_time at = k->env->sim->now - k->cfg->metrics_pipeline.lag;
	bool active = false;
	*value = 0;
	for (size_t i = 0; i < s->triggers.n; i++) {
		const struct keda_trigger *t = CFG_LIST_AT(s->triggers, struct keda_trigger, i);
		bool has;
		double v = sc_query_total(series, at, &t->q, &has);
		if (i == 0)
			*value = v;
		/* IsActive: value > activationThreshold */
		if (has && v * 1000.0 > (double)t->activation_m)
			active = true;
	}
	return active;
}

static sim_time keda_tick(void *state, const struct sc_series *series)
{
	struct keda_ctl *k = state;
	const struct keda_spec *s = &k->cfg->keda;
	const struct sc_env *e = k->env;
	sim_time now = e->sim->now, polling = s->pollingInterval * SIM_SEC;
	int32_t cur = e->replicas(e->ctx, k->dep);
	int32_t floor_ = s->has_idleReplicaCount ? (int32_t)s->idleReplicaCount : (int32_t)s->minReplicaCount;
	int32_t min1 = s->minReplicaCount > 1 ? (int32_t)s->minReplicaCount : 1;
	if (now >= k->next_poll) {
		double v;
		bool active = poll(k, series, &v);
		k->next_poll = now + polling;
		if (active) {
			k->last_active = now;
			k->ever_active = true;
		}
		if (active && cur < min1 && cur <= floor_) {
			e->set_replicas(e->ctx, k->dep, min1);
			e->decision(e->ctx, k->dep, sc_keda_ops.name, v, cur, min1, min1, "activated");
			cur = min1;
		} else if (!active && cur > floor_ && floor_ < min1) {
			sim_time since = k->ever_active ? k->last_active : k->created;
			sim_time cool = (k->ever_active ? s->cooldownPeriod : (s->initialCooldownPeriod > s->cooldownPeriod
									       ? s->initialCooldownPeriod
									       : s->cooldownPeriod)) * SIM_SEC;
			if (now - since > cool) { /* lastActiveTime + cooldownPeriod < now */
				e->set_replicas(e->ctx, k->dep, floor_);
				e->decision(e->ctx, k->dep, sc_keda_ops.name, v, cur, floor_, floor_,
					    floor_ ? "idle after cooldownPeriod" : "scaled to zero after cooldownPeriod");
				cur = floor_;
			}
		} else if (!active && cur < floor_) {
			e->set_replicas(e->ctx, k->dep, floor_);
			cur = floor_;
		}
	}
	if (now >= k->next_hpa) {
		k->next_hpa = now + k->cfg->controller.sync_period;
		/* at zero or idle the HPA is disabled (KEDA keeps it from scaling 0 -> 1) */
		if (cur > floor_ || floor_ >= min1) {
			double in;
			const char *reason;
			int32_t to = sc_hpa_reconcile(k->hpa, series, min1, (int32_t)s->maxReplicaCount, &in, &reason);
			if (to != cur)
				e->set_replicas(e->ctx, k->dep, to);
			e->decision(e->ctx, k->dep, "keda-hpa", in, cur, to, to, reason);
		}
	}
	return (k->next_poll < k->next_hpa ? k->next_poll : k->next_hpa) - now;
}

static void keda_destroy(void *state)
{
	struct keda_ctl *k = state;
	sc_hpa_destroy(k->hpa);
	free(k);
}

static sim_time keda_first(const struct sc_autoscaler_config *cfg)
{
	(void)cfg;
	return 0;
}

const struct autoscaler_ops sc_keda_ops = {.name = "keda", .create = keda_create, .tick = keda_tick, .destroy = keda_destroy, .first = keda_first};
