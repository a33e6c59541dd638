/*
 * sim/cluster: node pools, nodes, pods and deployments. Owns the `cluster:`
 * section (node pools; the node autoscaler's raw node is handed to scale)
 * and each entry of `deployments:` (model, hardware variants, engine, perf,
 * replicas, startup phases, drain), and, from the cluster issue on, their
 * simulation: placement, startup, scale-down, faults and billing.
 *
 * Invariants:
 *  - Names of pools and of deployments are unique within a scenario.
 *  - min_nodes <= initial_nodes <= max_nodes for every pool.
 */
#ifndef SIM_CLUSTER_H
#define SIM_CLUSTER_H

#include "../config/config.h"
#include "../perf/perf.h"
#include "../server/server.h"

/* A delay drawn per use: fixed, or lognormal by p50 and p90. */
struct clu_delay {
	sim_time p50, p90; /* p90 == p50: fixed */
};
int clu_decode_delay(struct cfg_ctx *c, const struct cfg_node *n, void *dst);

struct clu_instance {
	const char *gpu;
	int64_t gpus;
	double price_per_hour; /* 0: the catalog's GPU price x gpus */
	int64_t cpus;
	int64_t memory;
};

struct clu_warm_pool {
	int64_t size;
	sim_time resume_delay;
	double idle_cost_fraction;
};

struct clu_spot {
	double rate_per_node_hour;
	sim_time notice;
	struct cfg_list schedule; /* of sim_time: interruption notices */
};

struct clu_pool_config {
	const char *name;
	struct clu_instance instance;
	int capacity; /* 0 on-demand, 1 spot */
	int64_t min_nodes, max_nodes, initial_nodes;
	struct clu_delay provisioning_delay;
	sim_time gpu_ready_delay;
	double boot_failure_probability;
	struct clu_warm_pool warm_pool;
	struct clu_spot spot_interruptions;
	double node_failure_rate_per_hour;
	double image_pull_bandwidth; /* bytes/s; 0 = the deployment's pull_bandwidth */
	int64_t priority;            /* expander priority: higher first */
};

struct clu_cluster_config {
	struct cfg_list node_pools; /* of struct clu_pool_config */
	const struct cfg_node *autoscaler; /* decoded by sim/scale */
};

struct clu_hw_variant {
	const char *gpu;
	int64_t count;
	int64_t tensor_parallel_size; /* 0 = count */
};

struct clu_image {
	int64_t size;
	double pull_bandwidth;
};

struct clu_weights {
	int source; /* 0 object-store, 1 node-cache, 2 peer */
	double bandwidth;
	int64_t size; /* 0: from the model's parameters and dtype */
	double peer_bandwidth;
};

struct clu_probe {
	sim_time initial_delay, period;
};

struct clu_startup {
	struct clu_image image;
	struct clu_weights weights;
	double object_store_bandwidth;
	double load_bandwidth;
	sim_time container_start;
	sim_time warmup;
	struct clu_probe readiness_probe;
	sim_time endpoint_propagation;
};

struct clu_pod_faults {
	double crash_rate_per_pod_hour;
	sim_time restart_backoff, max_restart_backoff;
};

struct clu_deployment_config {
	const char *name;
	const char *model; /* catalog name or path to an LLM yaml */
	const char *gpu;   /* one GPU type, or hardware variants below */
	struct cfg_list hardware; /* of struct clu_hw_variant */
	int role; /* 0 colocated, 1 prefill, 2 decode */
	struct srv_engine_config engine;
	struct perf_config perf;
	int64_t replicas;
	bool cold_start;
	struct cfg_list replicas_schedule; /* of struct cfg_tpair */
	struct clu_startup startup;
	sim_time termination_grace_period;
	int scale_down_order; /* 0 newest, 1 least-loaded, 2 deletion-cost */
	int64_t warm_replicas;
	struct clu_pod_faults faults;
	const struct cfg_node *autoscaler; /* decoded by sim/scale */
	const char *node_pool;             /* pin to one pool (optional) */
};

extern const struct cfg_schema clu_cluster_schema;
extern const struct cfg_schema clu_deployment_schema;

#endif
