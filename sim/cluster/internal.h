/*
 * The cluster's internals, shared by runtime.c and the node autoscalers
 * (ca.c, karpenter.c). Nothing outside sim/cluster includes this.
 *
 * Invariants:
 *  - c->nodes and c->pods hold every node and pod ever, by id; gone ones stay.
 *  - pools[k].nodes counts the pool's nodes that are not gone, warm ones excluded.
 */
#ifndef SIM_CLUSTER_INTERNAL_H
#define SIM_CLUSTER_INTERNAL_H

#include "cluster.h"

struct variant {
	const struct perf_gpu *gpu;
	struct perf_model perf;
	struct srv_params sp;
	int gpus;
	double price_per_hour; /* dedicated: GPUs x catalog price */
	double weight_bytes;
};

struct dep {
	const struct clu_deployment_config *cfg;
	struct variant *v;
	size_t nv;
	int64_t desired;
	struct clu_pod **pods; /* live (not gone), oldest first */
	size_t npods, cap;
	sim_handle crash_ev;
};

struct pool {
	const struct clu_pool_config *cfg;
	const struct perf_gpu *gpu;
	double price_per_hour;
	int64_t nodes; /* not gone (warm ones excluded) */
};

struct clu_cluster {
	struct sim *sim;
	struct clu_setup su;
	struct dep *deps;
	size_t ndeps;
	struct pool *pools;
	size_t npools;
	struct clu_node **nodes; /* every node ever, by id */
	size_t nnodes, node_cap;
	struct clu_pod **pods;   /* every pod ever, by id */
	size_t npods, pod_cap;
	struct clu_pod **dl;     /* object-store downloads in progress */
	size_t ndl, dl_cap;
	sim_time dl_at;          /* when the download rates were last set */
	struct sim_rng *rng_prov, *rng_fault;
	sim_time last_scale_up;  /* when clu_provision last asked for a node */
	/* the node autoscaler (NULL: none) */
	const struct clu_node_autoscaler_ops *na;
	void *na_state;
	sim_handle na_ev;
	double busy_gpu_s; /* of replicas already freed */
};

/* Can variant v of deployment d run on a node of pool `pool`? */
bool clu_pool_serves(const struct clu_cluster *c, size_t pool, const struct dep *d, size_t v);
/* A new node for a pool: from its warm pool when one is left, else provisioned. */
struct clu_node *clu_provision(struct clu_cluster *c, size_t pool);
/* The node goes now, with its pods; their deployments start replacements. */
void clu_node_gone(struct clu_cluster *c, struct clu_node *n, const char *reason);
/* Cordon, drain (replacements start on other nodes), delete after the longest grace period. */
void clu_drain_node(struct clu_cluster *c, struct clu_node *n, const char *reason);
/* Could every pod of n run on the free GPUs of the other ready nodes? */
bool clu_fits_elsewhere(struct clu_cluster *c, const struct clu_node *n);

#endif
