/*
 * A Karpenter-style provisioner.
 *
 * Pending pods that upcoming nodes will not take open a batch; it closes
 * once batch_idle_duration passes with no new pending pod, or after
 * batch_max_duration. The batch is then bin-packed onto new nodes: each
 * node from the pool (instance type) with the lowest price per pod it
 * holds, filled before the next is opened. Consolidation: a node that has
 * been empty (WhenEmpty), or whose pods all fit on the free GPUs of other
 * nodes (WhenEmptyOrUnderutilized), for consolidate_after is cordoned, its
 * pods drained (their replacements start on the other nodes) and deleted.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

struct kp {
	struct clu_cluster *c;
	const struct clu_node_autoscaler_config *cfg;
	sim_time tick; /* between scans */
	/* the open batch (batch_start -1: none) */
	sim_time batch_start, last_new, next_disrupt;
	size_t batch_n;
};

/* Pending pods that no upcoming node will take (their count; marks them in `need`). */
static size_t kp_uncovered(struct clu_cluster *c, bool *need)
{
	int64_t *upcoming = xcalloc(c->npools + 1, sizeof(int64_t));
	size_t n = 0;
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct clu_node *x = c->nodes[i];
		if (x->pool >= 0 && (x->state == CLU_NODE_PROVISIONING || x->state == CLU_NODE_GPU_PENDING))
			upcoming[x->pool] += x->gpus - x->gpus_used;
	}
	for (size_t i = 0; i < c->npods; i++) {
		const struct clu_pod *p = c->pods[i];
		const struct dep *d = &c->deps[p->dep];
		bool covered = false;
		need[i] = false;
		if (p->state != CLU_POD_PENDING)
			continue;
		for (size_t v = 0; v < d->nv && !covered; v++)
			for (size_t k = 0; k < c->npools && !covered; k++)
				if (clu_pool_serves(c, k, d, v) && upcoming[k] >= d->v[v].gpus) {
					upcoming[k] -= d->v[v].gpus;
					covered = true;
				}
		if (!covered) {
			need[i] = true;
			n++;
		}
	}
	free(upcoming);
	return n;
}

static void kp_provision(struct clu_cluster *c, bool *need)
{
	for (;;) {
		size_t best = SIZE_MAX;
		double best_cost = INFINITY;
		int64_t best_fit = 0;
		for (size_t k = 0; k < c->npools; k++) {
			const struct clu_pool_config *pc = c->pools[k].cfg;
			int64_t free_gpus = pc->instance.gpus, fits = 0;
			double cost;
			if (c->pools[k].nodes >= pc->max_nodes)
				continue;
			/* how many of the batch one node of this type holds (first fit, oldest first) */
			for (size_t i = 0; i < c->npods; i++) {
				const struct dep *d = &c->deps[c->pods[i]->dep];
				if (!need[i])
					continue;
				for (size_t v = 0; v < d->nv; v++)
					if (clu_pool_serves(c, k, d, v) && free_gpus >= d->v[v].gpus) {
						free_gpus -= d->v[v].gpus;
						fits++;
						break;
					}
			}
			if (!fits)
				continue;
			cost = c->pools[k].price_per_hour / (double)fits;
			if (cost < best_cost || (cost == best_cost && c->pools[k].price_per_hour < c->pools[best].price_per_hour)) {
				best_cost = cost;
				best = k;
				best_fit = fits;
			}
		}
		if (best == SIZE_MAX)
			return;
		clu_provision(c, best);
		/* those pods are now covered */
		{
			int64_t free_gpus = c->pools[best].cfg->instance.gpus, taken = 0;
			for (size_t i = 0; i < c->npods && taken < best_fit; i++) {
				const struct dep *d = &c->deps[c->pods[i]->dep];
				if (!need[i])
					continue;
				for (size_t v = 0; v < d->nv; v++)
					if (clu_pool_serves(c, best, d, v) && free_gpus >= d->v[v].gpus) {
						free_gpus -= d->v[v].gpus;
						need[i] = false;
						taken++;
						break;
					}
			}
		}
	}
}

static void kp_consolidate(struct kp *k)
{
	struct clu_cluster *c = k->c;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct clu_node *n = c->nodes[i];
		bool candidate;
		if (n->pool < 0 || n->state != CLU_NODE_READY ||
		    c->pools[n->pool].nodes <= c->pools[n->pool].cfg->min_nodes) {
			if (n->state != CLU_NODE_READY)
				n->unneeded_since = -1;
			continue;
		}
		candidate = n->pods == 0 || (k->cfg->consolidation_policy == CLU_WHEN_EMPTY_OR_UNDERUTILIZED && clu_fits_elsewhere(c, n));
		if (!candidate) {
			n->unneeded_since = -1;
			continue;
		}
		if (n->unneeded_since < 0)
			n->unneeded_since = c->sim->now;
		if (c->sim->now - n->unneeded_since < k->cfg->consolidate_after)
			continue;
		if (n->pods == 0) {
			clu_node_gone(c, n, "consolidation");
			continue;
		}
		clu_drain_node(c, n, "consolidation");
		return; /* one disruption per scan, as Karpenter does one command at a time */
	}
}

static sim_time kp_scan(void *state)
{
	struct kp *k = state;
	struct clu_cluster *c = k->c;
	sim_time now = c->sim->now;
	bool *need = xcalloc(c->npods + 1, sizeof(bool));
	size_t n = kp_uncovered(c, need);
	if (n > 0) {
		if (k->batch_start < 0) {
			k->batch_start = k->last_new = now;
			k->batch_n = n;
		} else if (n > k->batch_n) {
			k->last_new = now;
			k->batch_n = n;
		}
		if (now - k->last_new >= k->cfg->batch_idle_duration || now - k->batch_start >= k->cfg->batch_max_duration) {
			kp_provision(c, need);
			k->batch_start = -1;
		}
	} else
		k->batch_start = -1;
	free(need);
	if (now >= k->next_disrupt) { /* the disruption controller's own 10 s loop */
		kp_consolidate(k);
		k->next_disrupt = now + 10 * SIM_SEC;
	}
	return k->tick;
}

static void *kp_create(struct clu_cluster *c, const struct clu_node_autoscaler_config *cfg)
{
	struct kp *k = xcalloc(1, sizeof(*k));
	k->c = c;
	k->cfg = cfg;
	k->batch_start = -1;
	/* look as often as the idle window needs, at least once a second */
	k->tick = cfg->batch_idle_duration > 0 && cfg->batch_idle_duration < SIM_SEC ? cfg->batch_idle_duration : SIM_SEC;
	return k;
}

static void kp_destroy(void *state)
{
	free(state);
}

const struct clu_node_autoscaler_ops clu_karpenter_ops = {
	.name = "karpenter",
	.create = kp_create,
	.scan = kp_scan,
	.destroy = kp_destroy,
};
