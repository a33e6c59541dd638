/*
 * The Cluster Autoscaler (cluster-autoscaler semantics, simply): every
 * scan_interval it removes nodes that did not come up in time, asks for a
 * node for each pending pod that no upcoming node will take (the expander
 * picks the pool), and removes nodes that have been unneeded for
 * scale_down_unneeded_time.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A node group's (pool's) backoff after a node failed to come up. */
struct ca_group {
	sim_time backoff_until, backoff, backoff_failed;
};

struct ca {
	struct clu_cluster *c;
	const struct clu_node_autoscaler_config *cfg;
	struct ca_group *groups; /* one per pool */
};

static int64_t ca_nodes_total(const struct clu_cluster *c)
{
	int64_t n = 0;
	for (size_t k = 0; k < c->npools; k++)
		n += c->pools[k].nodes;
	return n;
}

/* Nodes that did not come up within max_node_provision_time go, and their
 * pool backs off: no scale-up there for initial_node_group_backoff, doubling
 * on each failure up to max_node_group_backoff (cluster-autoscaler's
 * exponential backoff: lifted when a node of the pool comes up, the duration
 * forgotten 3 h after the last failure). */
static void ca_check_provisioning(struct ca *a)
{
	struct clu_cluster *c = a->c;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct clu_node *n = c->nodes[i];
		struct ca_group *pl;
		if (n->pool < 0 || n->state != CLU_NODE_PROVISIONING ||
		    c->sim->now - n->requested < a->cfg->max_node_provision_time)
			continue;
		pl = &a->groups[n->pool];
		/* exponential, forgotten 3 h after the last failure */
		if (pl->backoff_failed > 0 && c->sim->now - pl->backoff_failed > 3 * SIM_HOUR)
			pl->backoff = 0;
		pl->backoff_failed = c->sim->now;
		pl->backoff = pl->backoff ? pl->backoff * 2 : a->cfg->initial_node_group_backoff;
		if (pl->backoff > a->cfg->max_node_group_backoff)
			pl->backoff = a->cfg->max_node_group_backoff;
		pl->backoff_until = c->sim->now + pl->backoff;
		clu_node_gone(c, n, n->reason && !strcmp(n->reason, "boot-failure") ? "boot-failure" : "provision-timeout");
	}
}

static void ca_scale_up(struct ca *a)
{
	struct clu_cluster *c = a->c;
	/* pending pods that upcoming nodes (provisioning, GPUs not yet allocatable)
	 * will not take: each needs a node of a pool that serves it */
	int64_t *upcoming = xcalloc(c->npools + 1, sizeof(int64_t)); /* free GPUs on upcoming nodes */
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct clu_node *n = c->nodes[i];
		if (n->pool >= 0 && (n->state == CLU_NODE_PROVISIONING || n->state == CLU_NODE_GPU_PENDING))
			upcoming[n->pool] += n->gpus - n->gpus_used;
	}
	for (size_t i = 0; i < c->npods; i++) {
		const struct clu_pod *p = c->pods[i];
		const struct dep *d = &c->deps[p->dep];
		size_t best = SIZE_MAX, bv = 0;
		double best_waste = INFINITY;
		if (p->state != CLU_POD_PENDING)
			continue;
		for (size_t v = 0; v < d->nv && best == SIZE_MAX; v++)
			for (size_t k = 0; k < c->npools; k++)
				if (clu_pool_serves(c, k, d, v) && upcoming[k] >= d->v[v].gpus) {
					upcoming[k] -= d->v[v].gpus; /* an upcoming node will take it */
					best = SIZE_MAX - 1;
					break;
				}
		if (best == SIZE_MAX - 1)
			continue;
		best = SIZE_MAX;
		for (size_t v = 0; v < d->nv; v++) {
			for (size_t k = 0; k < c->npools; k++) {
				const struct clu_pool_config *pc = c->pools[k].cfg;
				double waste, key;
				if (!clu_pool_serves(c, k, d, v) || c->pools[k].nodes >= pc->max_nodes ||
				    c->sim->now < a->groups[k].backoff_until ||
				    (a->cfg->max_nodes_total > 0 && ca_nodes_total(c) >= a->cfg->max_nodes_total))
					continue;
				waste = (double)(pc->instance.gpus - d->v[v].gpus) / (double)pc->instance.gpus;
				switch (a->cfg->expander) {
				case CLU_EXPANDER_PRICE: key = c->pools[k].price_per_hour; break;
				case CLU_EXPANDER_PRIORITY: key = -(double)pc->priority; break;
				case CLU_EXPANDER_RANDOM: key = sim_rng_uniform(c->rng_prov); break;
				default: key = waste; /* CLU_EXPANDER_LEAST_WASTE */
				}
				if (key < best_waste) {
					best_waste = key;
					best = k;
					bv = v;
				}
			}
			if (best != SIZE_MAX)
				break; /* the first variant any pool can serve */
		}
		if (best != SIZE_MAX) {
			struct clu_node *n = clu_provision(c, best);
			upcoming[best] += n->gpus - d->v[bv].gpus;
		}
	}
	free(upcoming);
}

static void ca_scale_down(struct ca *a)
{
	struct clu_cluster *c = a->c;
	if (!a->cfg->scale_down_enabled || c->sim->now - c->last_scale_up < a->cfg->scale_down_delay_after_add)
		return;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct clu_node *n = c->nodes[i];
		double util;
		if (n->pool < 0 || n->state != CLU_NODE_READY)
			continue;
		util = (double)n->gpus_used / (double)n->gpus;
		/* under the threshold (GPU requests / allocatable), and its pods fit elsewhere */
		if (util > a->cfg->scale_down_utilization_threshold || c->pools[n->pool].nodes <= c->pools[n->pool].cfg->min_nodes ||
		    (n->pods > 0 && !clu_fits_elsewhere(c, n))) {
			n->unneeded_since = -1;
			continue;
		}
		if (n->unneeded_since < 0)
			n->unneeded_since = c->sim->now;
		else if (c->sim->now - n->unneeded_since >= a->cfg->scale_down_unneeded_time) {
			if (n->pods == 0) {
				clu_node_gone(c, n, "scale-down"); /* empty nodes go together */
				continue;
			}
			clu_drain_node(c, n, "scale-down");
			return; /* one drain per scan: the next scan sees where the pods went */
		}
	}
}

static sim_time ca_scan(void *state)
{
	struct ca *a = state;
	if (a->cfg->max_node_provision_time > 0)
		ca_check_provisioning(a);
	ca_scale_up(a);
	ca_scale_down(a);
	return a->cfg->scan_interval;
}

static void *ca_create(struct clu_cluster *c, const struct clu_node_autoscaler_config *cfg)
{
	struct ca *a = xcalloc(1, sizeof(*a));
	a->c = c;
	a->cfg = cfg;
	a->groups = xcalloc(c->npools + 1, sizeof(*a->groups));
	return a;
}

static void ca_destroy(void *state)
{
	struct ca *a = state;
	free(a->groups);
	free(a);
}

/* It notices the node after max_node_provision_time, as with one that is slow. */
static bool ca_boot_failed(void *state, struct clu_node *n)
{
	struct ca *a = state;
	if (a->cfg->max_node_provision_time <= 0)
		return false;
	n->reason = "boot-failure";
	return true;
}

/* A node of the group came up: the group is no longer backed off. */
static void ca_node_ready(void *state, struct clu_node *n)
{
	struct ca *a = state;
	a->groups[n->pool].backoff_until = 0;
}

const struct clu_node_autoscaler_ops clu_ca_ops = {
	.name = "cluster-autoscaler",
	.create = ca_create,
	.scan = ca_scan,
	.destroy = ca_destroy,
	.boot_failed = ca_boot_failed,
	.node_ready = ca_node_ready,
};
