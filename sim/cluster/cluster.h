/*
 * sim/cluster: node pools, nodes, pods and deployments. Owns the `cluster:`
 * section (node pools and `cluster.autoscaler`, the node autoscaler) and
 * each entry of `deployments:` (model, hardware variants, engine, perf,
 * replicas, startup phases, drain), and, from the cluster issue on, their
 * simulation: placement, startup, scale-down, faults and billing, and the
 * node autoscalers (one file each behind struct clu_node_autoscaler_ops),
 * which act on pending pods and node state only this room has.
 *
 * Invariants:
 *  - Names of pools and of deployments are unique within a scenario.
 *  - min_nodes <= initial_nodes <= max_nodes for every pool.
 *  - A node autoscaler's type names are its ops table's name: one list.
 *  - A node knows the image and weights of any number of deployments.
 */
#ifndef SIM_CLUSTER_H
#define SIM_CLUSTER_H

#include "../config/config.h"
#include "../perf/perf.h"
#include "../server/server.h"

/* Enumerated keys, in the order of their names in config.c. */
enum clu_capacity { CLU_ON_DEMAND, CLU_SPOT };
enum clu_expander { CLU_EXPANDER_LEAST_WASTE, CLU_EXPANDER_PRICE, CLU_EXPANDER_PRIORITY, CLU_EXPANDER_RANDOM };
enum clu_consolidation { CLU_WHEN_EMPTY_OR_UNDERUTILIZED, CLU_WHEN_EMPTY };
enum clu_weights_source { CLU_WEIGHTS_OBJECT_STORE, CLU_WEIGHTS_NODE_CACHE, CLU_WEIGHTS_PEER };
enum clu_scale_down_order { CLU_NEWEST_FIRST, CLU_LEAST_LOADED_FIRST, CLU_DELETION_COST };

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
	int capacity; /* enum clu_capacity */
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
	const struct cfg_node *autoscaler; /* kept raw; decoded by clu_node_autoscaler_decode */
};

/* Indexed like clu_node_autoscalers[]; the names are the ops tables'. */
enum clu_node_autoscaler_kind { CLU_NA_CA, CLU_NA_KARPENTER, CLU_NA_NONE, CLU_NA_KINDS };

/* `cluster.autoscaler`: one node autoscaler for all pools. */
struct clu_node_autoscaler_config {
	int type; /* enum clu_node_autoscaler_kind */
	/* cluster-autoscaler */
	sim_time scan_interval;
	int expander; /* enum clu_expander */
	bool scale_down_enabled;
	sim_time scale_down_unneeded_time, scale_down_delay_after_add;
	sim_time scale_down_delay_after_delete, scale_down_delay_after_failure;
	double scale_down_utilization_threshold;
	sim_time max_node_provision_time;
	sim_time initial_node_group_backoff, max_node_group_backoff;
	int64_t max_nodes_total;
	/* karpenter */
	sim_time batch_idle_duration, batch_max_duration;
	int consolidation_policy; /* enum clu_consolidation */
	sim_time consolidate_after;
};

extern const struct cfg_schema clu_node_autoscaler_schema;
/* Decodes `cluster.autoscaler` (NULL node: type none). */
int clu_node_autoscaler_decode(struct cfg_ctx *c, const struct cfg_node *n,
			       struct clu_node_autoscaler_config *out);

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
	int source; /* enum clu_weights_source */
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

enum clu_role { CLU_ROLE_COLOCATED, CLU_ROLE_PREFILL, CLU_ROLE_DECODE };

struct clu_deployment_config {
	const char *name;
	const char *model; /* catalog name or path to an LLM yaml */
	const char *gpu;   /* one GPU type, or hardware variants below */
	struct cfg_list hardware; /* of struct clu_hw_variant */
	int role; /* enum clu_role */
	struct srv_engine_config engine;
	struct perf_config perf;
	int64_t replicas;
	bool cold_start;
	struct cfg_list replicas_schedule; /* of struct cfg_tpair */
	struct clu_startup startup;
	sim_time termination_grace_period;
	int scale_down_order; /* enum clu_scale_down_order */
	int64_t warm_replicas;
	struct clu_pod_faults faults;
	const struct cfg_node *autoscaler; /* decoded by sim/scale */
	const char *node_pool;             /* pin to one pool (optional) */
	const struct cfg_node *kv_transfer; /* role prefill; decoded by sim/disagg */
	bool has_kv_transfer;
};

extern const struct cfg_schema clu_cluster_schema;
extern const struct cfg_schema clu_deployment_schema;

/* ---- runtime ---- */

enum clu_node_state {
	CLU_NODE_WARM,         /* hibernated in a warm pool: billed at idle_cost_fraction */
	CLU_NODE_PROVISIONING, /* requested (or resuming), not Ready */
	CLU_NODE_GPU_PENDING,  /* Ready; GPUs not allocatable yet (driver, device plugin) */
	CLU_NODE_READY,        /* GPUs allocatable */
	CLU_NODE_CORDONED,     /* spot notice: no new pods, goes at the end of the notice */
	CLU_NODE_GONE          /* deleted, failed, interrupted, or never booted */
};

enum clu_pod_state {
	CLU_POD_PENDING,  /* nothing fits */
	CLU_POD_STARTING, /* scheduled: image, weights, load, warm-up, probes */
	CLU_POD_READY,    /* serving (its endpoint is in the router) */
	CLU_POD_DRAINING, /* terminating: no new requests, in-flight ones finish or are aborted */
	CLU_POD_CRASHED,  /* container crashed: restarting after the back-off */
	CLU_POD_WARM,     /* a warm replica: started, loaded and probed, held out of the router */
	CLU_POD_GONE
};

struct clu_node {
	int32_t id, pool; /* pool -1: a dedicated node (no cluster section) */
	int state;
	int32_t gpus, gpus_used, pods;
	sim_time requested, ready, gpus_ready, deleted;
	sim_time warm_since, warm_until; /* warm-pool time, billed at the idle fraction */
	/* deployments whose image / weights the node has: bitsets of
	 * clu_node_cache_words(ndeps) words (see clu_node_has_image) */
	uint64_t *images, *weights;
	double price_per_hour;
	const char *reason; /* why it went */
	sim_handle ev;
	sim_time unneeded_since; /* the node autoscaler's clock (-1: needed) */
};

struct clu_pod {
	int32_t id, dep, variant;
	struct clu_node *node;
	int state;
	sim_time created, scheduled, pulled, weights_ready, loaded, ready, endpoint, terminated;
	const char *reason;
	struct srv_replica *replica;
	sim_handle ev;
	int phase;
	double dl_left, dl_rate; /* weight download: bytes left, bytes/s now */
	sim_time dl_since;
	int32_t restarts;
	sim_time warm_done;     /* warm-up ends */
	sim_time container_up;  /* container started (probes count from here) */
	double weight;          /* capacity relative to the deployment's first variant */
	bool counted_ready;
	bool held; /* a warm replica (deployment warm_replicas): not serving until promoted */
};

struct clu_cluster;

/* What the cluster tells the room above it (the router, the records). */
struct clu_hooks {
	void *ctx;
	void (*endpoint_up)(void *ctx, struct clu_pod *p);   /* route to it */
	void (*endpoint_down)(void *ctx, struct clu_pod *p); /* stop routing to it */
	/* a request its replica gave back (lost, crashed, drained too long) */
	void (*aborted)(void *ctx, struct srv_req *q);
	struct srv_hooks srv; /* passed to every replica */
	/* a deployment's desired replicas changed (autoscaler or schedule); may be NULL */
	void (*replicas_changed)(void *ctx, size_t dep, int64_t n);
};

/* A deployment's resolved hardware: variant i runs on gpus[i]. */
struct clu_dep_setup {
	const struct clu_deployment_config *cfg;
	const struct perf_llm *llm;
	const struct perf_gpu **gpus; /* one per hardware variant */
};

struct clu_setup {
	const struct clu_cluster_config *cluster; /* NULL: dedicated GPUs */
	const struct perf_gpu **pool_gpus;        /* one per node pool */
	const struct clu_dep_setup *deps;
	size_t ndeps;
	uint64_t seed;
	bool fast_stepping;
	sim_time end; /* billing stops here for what is still up */
	struct clu_hooks hooks;
	/* NULL or type none: no node autoscaler; ignored without a cluster.
	 * Read during the run: it must outlive the cluster. */
	const struct clu_node_autoscaler_config *node_autoscaler;
};

/* One file per node autoscaler; a new one is one file, one entry in
 * clu_node_autoscalers and one in enum clu_node_autoscaler_kind. The cluster
 * calls scan at t=0, then again after the delay each scan returns, until
 * the run's end. */
struct clu_node_autoscaler_ops {
	/* the `type:` name; an array so that the config's enum names can be
	 * taken from it in a static initializer (the one list of names) */
	const char name[24];
	/* state for cluster c (its pools are set up, no event has run yet) */
	void *(*create)(struct clu_cluster *c, const struct clu_node_autoscaler_config *cfg);
	/* one pass; returns the delay to the next */
	sim_time (*scan)(void *state);
	void (*destroy)(void *state);
	/* optional: a provisioning node's instance never registered; true: the
	 * autoscaler notices it itself (it stays provisioning), false: it goes now */
	bool (*boot_failed)(void *state, struct clu_node *n);
	/* optional: a provisioning node became Ready */
	void (*node_ready)(void *state, struct clu_node *n);
};

/* clu_no_node_autoscaler_ops has a name only. */
extern const struct clu_node_autoscaler_ops clu_ca_ops, clu_karpenter_ops, clu_no_node_autoscaler_ops;
/* Indexed by enum clu_node_autoscaler_kind. */
extern const struct clu_node_autoscaler_ops *const clu_node_autoscalers[CLU_NA_KINDS];

struct clu_cluster *clu_new(struct sim *s, const struct clu_setup *setup, struct sim_err *err);
void clu_free(struct clu_cluster *c);
/* Sets a deployment's desired replicas: new pods start, extra ones drain. */
void clu_set_replicas(struct clu_cluster *c, size_t dep, int64_t n);
int64_t clu_desired(const struct clu_cluster *c, size_t dep);
/* Pods that serve now (their endpoint is published). */
size_t clu_ready_pods(const struct clu_cluster *c, size_t dep);
/* All pods and nodes, ever (for records and metrics). */
size_t clu_npods(const struct clu_cluster *c);
const struct clu_pod *clu_pod_at(const struct clu_cluster *c, size_t i);
size_t clu_nnodes(const struct clu_cluster *c);
const struct clu_node *clu_node_at(const struct clu_cluster *c, size_t i);
/* Billing up to `now`: USD, GPU-hours of provisioned GPUs, and GPU-seconds
 * with an engine step in flight. */
void clu_cost(const struct clu_cluster *c, sim_time now, double *usd, double *gpu_hours,
	      double *busy_gpu_seconds);
/* Nodes by state, for metrics. */
void clu_node_counts(const struct clu_cluster *c, int64_t counts[CLU_NODE_GONE + 1]);
const char *clu_node_state_name(int s);
const char *clu_pod_state_name(int s);
int64_t clu_pending_pods(const struct clu_cluster *c);
/* Decode tokens per second of a variant at a reference batch (64 sequences,
 * 1k context): what the router weighs replicas by. */
double clu_variant_capacity(const struct clu_cluster *c, size_t dep, size_t variant);
struct srv_replica *clu_pod_replica(const struct clu_pod *p);
/* Words of a node's image / weight bitset for ndeps deployments. */
static inline size_t clu_node_cache_words(size_t ndeps) { return (ndeps + 63) / 64; }
/* Does node n have deployment dep's image (weights)? */
static inline bool clu_node_has_image(const struct clu_node *n, size_t dep)
{
	return n->images[dep / 64] >> (dep % 64) & 1;
}
static inline bool clu_node_has_weights(const struct clu_node *n, size_t dep)
{
	return n->weights[dep / 64] >> (dep % 64) & 1;
}

#endif
