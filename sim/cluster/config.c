/* The `cluster:` section and `deployments:` entries. */
#include "cluster.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const capacity_names[] = {[CLU_ON_DEMAND] = "on-demand", [CLU_SPOT] = "spot", NULL};
static const char *const role_names[] = {[CLU_ROLE_COLOCATED] = "colocated", [CLU_ROLE_PREFILL] = "prefill",
					 [CLU_ROLE_DECODE] = "decode", NULL};
static const char *const order_names[] = {[CLU_NEWEST_FIRST] = "newest", [CLU_LEAST_LOADED_FIRST] = "least-loaded",
					  [CLU_DELETION_COST] = "deletion-cost", NULL};
static const char *const source_names[] = {[CLU_WEIGHTS_OBJECT_STORE] = "object-store",
					   [CLU_WEIGHTS_NODE_CACHE] = "node-cache", [CLU_WEIGHTS_PEER] = "peer", NULL};
static const char *const expander_names[] = {[CLU_EXPANDER_LEAST_WASTE] = "least-waste", [CLU_EXPANDER_PRICE] = "price",
					     [CLU_EXPANDER_PRIORITY] = "priority", [CLU_EXPANDER_RANDOM] = "random", NULL};
static const char *const consolidation_names[] = {[CLU_WHEN_EMPTY_OR_UNDERUTILIZED] = "WhenEmptyOrUnderutilized",
						  [CLU_WHEN_EMPTY] = "WhenEmpty", NULL};

/* ---- delays: "4m" or {p50: 3m, p90: 6m} ---- */

#define T struct clu_delay
static const struct cfg_field delay_fields[] = {
	{.key = "p50", .type = CFG_T_DURATION, .off = offsetof(T, p50), .flags = CFG_REQUIRED,
	 .doc = "median"},
	{.key = "p90", .type = CFG_T_DURATION, .off = offsetof(T, p90), .flags = CFG_REQUIRED,
	 .doc = "90th percentile (>= p50; equal means fixed)"},
	{NULL}};
#undef T

static const struct cfg_schema delay_schema = {"lognormal delay", sizeof(struct clu_delay),
					       delay_fields, NULL, NULL};

int clu_decode_delay(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	struct clu_delay *d = dst;
	if (n->kind == CFG_SCALAR) {
		static const struct cfg_field f = {.key = "", .type = CFG_T_DURATION};
		if (cfg_decode_value(c, n, &f, &d->p50))
			return -1;
		d->p90 = d->p50;
		return 0;
	}
	if (n->kind != CFG_MAP)
		return cfg_error(c, n, "expected a duration or {p50, p90}, got %s", cfg_kind_name(n->kind));
	if (cfg_decode(c, n, &delay_schema, d))
		return -1;
	if (d->p90 < d->p50)
		return cfg_error_at_key(c, n, "p90", "must not be below p50");
	return 0;
}

/* ---- node pools ---- */

#define T struct clu_instance
static const struct cfg_field instance_fields[] = {
	{.key = "gpu", .type = CFG_T_STR, .off = offsetof(T, gpu), .flags = CFG_REQUIRED,
	 .doc = "GPU model (catalog name) of every GPU on the node"},
	{.key = "gpus", .type = CFG_T_INT, .off = offsetof(T, gpus), .def = "8",
	 .flags = CFG_MIN | CFG_MAX, .min = 1, .max = 64, .doc = "GPUs per node"},
	{.key = "price_per_hour", .type = CFG_T_DOUBLE, .off = offsetof(T, price_per_hour), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "USD per node-hour (0 = the catalog's GPU price x gpus)"},
	{.key = "cpus", .type = CFG_T_INT, .off = offsetof(T, cpus), .def = "0", .flags = CFG_MIN,
	 .min = 0, .doc = "vCPUs per node (informational)"},
	{.key = "memory", .type = CFG_T_SIZE, .off = offsetof(T, memory), .def = "0",
	 .doc = "host memory per node (informational)"},
	{NULL}};
#undef T

static const struct cfg_schema instance_schema = {"instance type", sizeof(struct clu_instance),
						  instance_fields, NULL, NULL};

#define T struct clu_warm_pool
static const struct cfg_field warm_fields[] = {
	{.key = "size", .type = CFG_T_INT, .off = offsetof(T, size), .def = "0", .flags = CFG_MIN,
	 .min = 0, .doc = "stopped (hibernated) nodes kept ready to resume"},
	{.key = "resume_delay", .type = CFG_T_DURATION, .off = offsetof(T, resume_delay), .def = "40s",
	 .doc = "time for a warm node to resume and become Ready"},
	{.key = "idle_cost_fraction", .type = CFG_T_DOUBLE, .off = offsetof(T, idle_cost_fraction),
	 .def = "0.1", .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 1,
	 .doc = "share of the node price billed while it waits in the warm pool"},
	{NULL}};
#undef T

static const struct cfg_schema warm_schema = {"warm pool", sizeof(struct clu_warm_pool),
					      warm_fields, NULL, NULL};

#define T struct clu_spot
static const struct cfg_field spot_fields[] = {
	{.key = "rate_per_node_hour", .type = CFG_T_DOUBLE, .off = offsetof(T, rate_per_node_hour),
	 .def = "0", .flags = CFG_MIN, .min = 0, .doc = "mean interruptions per node-hour (Poisson)"},
	{.key = "notice", .type = CFG_T_DURATION, .off = offsetof(T, notice), .def = "2m",
	 .doc = "warning before the node goes"},
	{.key = "schedule", .type = CFG_T_LIST, .off = offsetof(T, schedule), .elem = CFG_T_DURATION,
	 .doc = "list of times at which one node of the pool gets an interruption notice"},
	{NULL}};
#undef T

static const struct cfg_schema spot_schema = {"spot interruptions", sizeof(struct clu_spot),
					      spot_fields, NULL, NULL};

#define T struct clu_pool_config
static const struct cfg_field pool_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "unique pool name"},
	{.key = "instance", .type = CFG_T_STRUCT, .off = offsetof(T, instance), .sub = &instance_schema,
	 .flags = CFG_REQUIRED, .doc = "what one node is"},
	{.key = "capacity", .type = CFG_T_ENUM, .off = offsetof(T, capacity), .enums = capacity_names,
	 .def = "on-demand", .doc = "on-demand or spot"},
	{.key = "min_nodes", .type = CFG_T_INT, .off = offsetof(T, min_nodes), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "the node autoscaler keeps at least this many"},
	{.key = "max_nodes", .type = CFG_T_INT, .off = offsetof(T, max_nodes), .def = "10",
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 100000, .doc = "and at most this many"},
	{.key = "initial_nodes", .type = CFG_T_INT, .off = offsetof(T, initial_nodes), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "nodes at time 0 (ready unless cold_start)"},
	{.key = "provisioning_delay", .type = CFG_T_CUSTOM, .off = offsetof(T, provisioning_delay),
	 .fn = clu_decode_delay, .sub = &delay_schema, .def = "{p50: 3m, p90: 6m}",
	 .doc = "request to node Ready: one duration, or lognormal {p50, p90}"},
	{.key = "gpu_ready_delay", .type = CFG_T_DURATION, .off = offsetof(T, gpu_ready_delay),
	 .def = "45s", .doc = "node Ready to GPUs allocatable (driver, device plugin)"},
	{.key = "boot_failure_probability", .type = CFG_T_DOUBLE,
	 .off = offsetof(T, boot_failure_probability), .def = "0", .flags = CFG_MIN | CFG_MAX,
	 .min = 0, .max = 1, .doc = "chance that a new node never becomes Ready"},
	{.key = "warm_pool", .type = CFG_T_STRUCT, .off = offsetof(T, warm_pool), .sub = &warm_schema,
	 .doc = "hibernated nodes that resume faster than a new node provisions"},
	{.key = "spot_interruptions", .type = CFG_T_STRUCT, .off = offsetof(T, spot_interruptions),
	 .sub = &spot_schema, .doc = "spot: interruption notices (rate or schedule)"},
	{.key = "node_failure_rate_per_hour", .type = CFG_T_DOUBLE,
	 .off = offsetof(T, node_failure_rate_per_hour), .def = "0", .flags = CFG_MIN, .min = 0,
	 .doc = "mean sudden node losses per node-hour (no notice)"},
	{.key = "image_pull_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, image_pull_bandwidth),
	 .def = "0", .doc = "per-node registry bandwidth (0 = the deployment's startup.image.pull_bandwidth)"},
	{.key = "priority", .type = CFG_T_INT, .off = offsetof(T, priority), .def = "0",
	 .doc = "priority expander: higher is tried first"},
	{NULL}};
#undef T

static int pool_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct clu_pool_config *p = obj;
	if (p->min_nodes > p->max_nodes)
		return cfg_error_at_key(c, n, "min_nodes", "must not exceed max_nodes (%lld)",
					(long long)p->max_nodes);
	if (p->initial_nodes > p->max_nodes)
		return cfg_error_at_key(c, n, "initial_nodes", "must not exceed max_nodes (%lld)",
					(long long)p->max_nodes);
	if (p->capacity == CLU_ON_DEMAND && (p->spot_interruptions.rate_per_node_hour > 0 ||
				 p->spot_interruptions.schedule.n))
		return cfg_error_at_key(c, n, "spot_interruptions",
					"only a spot pool is interrupted (capacity: spot)");
	return 0;
}

static const struct cfg_schema pool_schema = {"node pool", sizeof(struct clu_pool_config),
					      pool_fields, pool_check, NULL};

#define T struct clu_cluster_config
static const struct cfg_field cluster_fields[] = {
	{.key = "node_pools", .type = CFG_T_LIST, .off = offsetof(T, node_pools), .sub = &pool_schema,
	 .doc = "groups of identical nodes"},
	{.key = "autoscaler", .type = CFG_T_ANY, .off = offsetof(T, autoscaler),
	 .doc = "node autoscaler for all pools (see the node autoscaler keys)"},
	{NULL}};
#undef T

static int cluster_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct clu_cluster_config *cl = obj;
	for (size_t i = 0; i < cl->node_pools.n; i++)
		for (size_t j = 0; j < i; j++) {
			const struct clu_pool_config *a = CFG_LIST_AT(cl->node_pools, struct clu_pool_config, i);
			const struct clu_pool_config *b = CFG_LIST_AT(cl->node_pools, struct clu_pool_config, j);
			if (!strcmp(a->name, b->name)) {
				char key[64];
				snprintf(key, sizeof(key), "node_pools[%zu].name", i);
				return cfg_error_at_key(c, n, key, "duplicate pool name '%s'", a->name);
			}
		}
	return 0;
}

const struct cfg_schema clu_cluster_schema = {"cluster", sizeof(struct clu_cluster_config),
					      cluster_fields, cluster_check, NULL};

/* ---- deployments ---- */

#define T struct clu_hw_variant
static const struct cfg_field hw_fields[] = {
	{.key = "gpu", .type = CFG_T_STR, .off = offsetof(T, gpu), .flags = CFG_REQUIRED,
	 .doc = "GPU model (catalog name)"},
	{.key = "count", .type = CFG_T_INT, .off = offsetof(T, count), .def = "1",
	 .flags = CFG_MIN | CFG_MAX, .min = 1, .max = 64, .doc = "GPUs per replica"},
	{.key = "tensor_parallel_size", .type = CFG_T_INT, .off = offsetof(T, tensor_parallel_size),
	 .def = "0", .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 64,
	 .doc = "tensor parallelism on this variant (0 = count)"},
	{NULL}};
#undef T

static const struct cfg_schema hw_schema = {"hardware variant", sizeof(struct clu_hw_variant),
					    hw_fields, NULL, NULL};

#define T struct clu_image
static const struct cfg_field image_fields[] = {
	{.key = "size", .type = CFG_T_SIZE, .off = offsetof(T, size), .def = "12GB",
	 .doc = "container image size"},
	{.key = "pull_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, pull_bandwidth),
	 .def = "250MB/s", .flags = CFG_GT, .doc = "registry to node"},
	{NULL}};
#undef T
#define T struct clu_weights
static const struct cfg_field weights_fields[] = {
	{.key = "source", .type = CFG_T_ENUM, .off = offsetof(T, source), .enums = source_names,
	 .def = "object-store", .doc = "object-store, node-cache (a local copy) or peer (a node that has them)"},
	{.key = "bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, bandwidth),
	 .def = "500MB/s", .flags = CFG_GT, .doc = "per-node download bandwidth from the source"},
	{.key = "size", .type = CFG_T_SIZE, .off = offsetof(T, size), .def = "0",
	 .doc = "weights size (0 = parameters x bytes of the dtype)"},
	{.key = "peer_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, peer_bandwidth),
	 .def = "10GB/s", .flags = CFG_GT, .doc = "source peer: node-to-node bandwidth"},
	{NULL}};
#undef T
#define T struct clu_probe
static const struct cfg_field probe_fields[] = {
	{.key = "initial_delay", .type = CFG_T_DURATION, .off = offsetof(T, initial_delay),
	 .def = "10s", .doc = "initialDelaySeconds after the container starts"},
	{.key = "period", .type = CFG_T_DURATION, .off = offsetof(T, period), .def = "10s",
	 .flags = CFG_GT, .doc = "periodSeconds between probes"},
	{NULL}};
#undef T

static const struct cfg_schema image_schema = {"image", sizeof(struct clu_image), image_fields, NULL, NULL};
static const struct cfg_schema weights_schema = {"weights", sizeof(struct clu_weights), weights_fields, NULL, NULL};
static const struct cfg_schema probe_schema = {"readiness probe", sizeof(struct clu_probe), probe_fields, NULL, NULL};


#define T struct clu_startup
static const struct cfg_field startup_fields[] = {
	{.key = "image", .type = CFG_T_STRUCT, .off = offsetof(T, image), .sub = &image_schema,
	 .doc = "container image pull (skipped when the node has the image)"},
	{.key = "weights", .type = CFG_T_STRUCT, .off = offsetof(T, weights), .sub = &weights_schema,
	 .doc = "weight download (skipped when the node has them cached)"},
	{.key = "object_store_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, object_store_bandwidth),
	 .def = "10GB/s", .flags = CFG_GT,
	 .doc = "total object-store bandwidth shared by all concurrent downloads"},
	{.key = "load_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, load_bandwidth),
	 .def = "5GB/s", .flags = CFG_GT, .doc = "weights from node storage into GPU memory"},
	{.key = "container_start", .type = CFG_T_DURATION, .off = offsetof(T, container_start),
	 .def = "5s", .doc = "container start to engine process start"},
	{.key = "warmup", .type = CFG_T_DURATION, .off = offsetof(T, warmup), .def = "30s",
	 .doc = "engine warm-up after loading (CUDA-graph capture, profiling run)"},
	{.key = "readiness_probe", .type = CFG_T_STRUCT, .off = offsetof(T, readiness_probe),
	 .sub = &probe_schema, .doc = "readiness probe timing"},
	{.key = "endpoint_propagation", .type = CFG_T_DURATION, .off = offsetof(T, endpoint_propagation),
	 .def = "2s", .doc = "pod Ready to the router sending it traffic"},
	{NULL}};
#undef T

static const struct cfg_schema startup_schema = {"startup", sizeof(struct clu_startup),
						 startup_fields, NULL, NULL};

#define T struct clu_pod_faults
static const struct cfg_field faults_fields[] = {
	{.key = "crash_rate_per_pod_hour", .type = CFG_T_DOUBLE, .off = offsetof(T, crash_rate_per_pod_hour),
	 .def = "0", .flags = CFG_MIN, .min = 0, .doc = "mean container crashes per pod-hour"},
	{.key = "restart_backoff", .type = CFG_T_DURATION, .off = offsetof(T, restart_backoff),
	 .def = "10s", .doc = "first CrashLoopBackOff delay (doubles per crash)"},
	{.key = "max_restart_backoff", .type = CFG_T_DURATION, .off = offsetof(T, max_restart_backoff),
	 .def = "5m", .doc = "cap on the restart delay"},
	{NULL}};
#undef T

static const struct cfg_schema faults_schema = {"pod faults", sizeof(struct clu_pod_faults),
						faults_fields, NULL, NULL};

#define T struct clu_deployment_config
static const struct cfg_field dep_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "unique deployment name"},
	{.key = "model", .type = CFG_T_STR, .off = offsetof(T, model), .flags = CFG_REQUIRED,
	 .doc = "LLM: a catalog name (models/llms) or a path to an LLM yaml"},
	{.key = "gpu", .type = CFG_T_STR, .off = offsetof(T, gpu),
	 .doc = "one GPU type for every replica (instead of hardware)"},
	{.key = "hardware", .type = CFG_T_LIST, .off = offsetof(T, hardware), .sub = &hw_schema,
	 .doc = "hardware variants in order of preference; a pod runs on the first that fits"},
	{.key = "role", .type = CFG_T_ENUM, .off = offsetof(T, role), .enums = role_names,
	 .def = "colocated", .doc = "colocated, prefill or decode (disaggregated serving)"},
	{.key = "engine", .type = CFG_T_STRUCT, .off = offsetof(T, engine), .sub = &srv_engine_schema,
	 .doc = "vLLM engine arguments"},
	{.key = "perf", .type = CFG_T_STRUCT, .off = offsetof(T, perf), .sub = &perf_config_schema,
	 .doc = "step-time model"},
	{.key = "replicas", .type = CFG_T_INT, .off = offsetof(T, replicas), .def = "1",
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 100000,
	 .doc = "initial replicas; an autoscaler takes over from here"},
	{.key = "cold_start", .type = CFG_T_BOOL, .off = offsetof(T, cold_start), .def = "false",
	 .doc = "false: initial replicas and nodes are ready at t=0; true: they start up like any other"},
	{.key = "replicas_schedule", .type = CFG_T_CUSTOM, .off = offsetof(T, replicas_schedule),
	 .fn = cfg_custom_count_pairs, .doc = "manual scaling: list of [time, replicas]"},
	{.key = "startup", .type = CFG_T_STRUCT, .off = offsetof(T, startup), .sub = &startup_schema,
	 .doc = "pod startup phases"},
	{.key = "termination_grace_period", .type = CFG_T_DURATION,
	 .off = offsetof(T, termination_grace_period), .def = "30s",
	 .doc = "terminationGracePeriodSeconds: in-flight requests may finish within it, then are retried"},
	{.key = "scale_down_order", .type = CFG_T_ENUM, .off = offsetof(T, scale_down_order),
	 .enums = order_names, .def = "newest", .doc = "which pod goes first: newest, least-loaded, deletion-cost"},
	{.key = "kv_transfer", .type = CFG_T_ANY, .off = offsetof(T, kv_transfer),
	 .has = true, .has_off = offsetof(T, has_kv_transfer),
	 .doc = "role prefill: the decode deployment and the network the KV crosses (see the KV transfer keys)"},
	{.key = "warm_replicas", .type = CFG_T_INT, .off = offsetof(T, warm_replicas), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "pods kept started and loaded but out of the router"},
	{.key = "faults", .type = CFG_T_STRUCT, .off = offsetof(T, faults), .sub = &faults_schema,
	 .doc = "pod crash faults"},
	{.key = "node_pool", .type = CFG_T_STR, .off = offsetof(T, node_pool),
	 .doc = "place pods only on this pool"},
	{.key = "autoscaler", .type = CFG_T_ANY, .off = offsetof(T, autoscaler),
	 .doc = "replica autoscaler (see the autoscaler keys)"},
	{NULL}};
#undef T

static int dep_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	struct clu_deployment_config *d = obj;
	if (!d->gpu && d->hardware.n == 0)
		return cfg_error(c, n, "deployment '%s' needs 'gpu' or 'hardware'", d->name);
	if (d->gpu && d->hardware.n)
		return cfg_error_at_key(c, n, "gpu", "give 'gpu' or 'hardware', not both");
	if (d->gpu) {
		/* `gpu: X` is one variant of one GPU */
		struct clu_hw_variant *v = sim_arena_alloc(&c->doc->arena, sizeof(*v));
		v->gpu = d->gpu;
		v->count = d->engine.tensor_parallel_size ? d->engine.tensor_parallel_size : 1;
		d->hardware.items = v;
		d->hardware.n = 1;
	}
	return 0;
}

const struct cfg_schema clu_deployment_schema = {"deployment", sizeof(struct clu_deployment_config),
						 dep_fields, dep_check, NULL};

/* ---- cluster.autoscaler ---- */

const struct clu_node_autoscaler_ops clu_no_node_autoscaler_ops = {.name = "none"};

const struct clu_node_autoscaler_ops *const clu_node_autoscalers[CLU_NA_KINDS] = {
	[CLU_NA_CA] = &clu_ca_ops,
	[CLU_NA_KARPENTER] = &clu_karpenter_ops,
	[CLU_NA_NONE] = &clu_no_node_autoscaler_ops,
};

/* The type names, in enum order, are the ops tables' own. */
static const char *const node_kind_names[CLU_NA_KINDS + 1] = {
	[CLU_NA_CA] = clu_ca_ops.name,
	[CLU_NA_KARPENTER] = clu_karpenter_ops.name,
	[CLU_NA_NONE] = clu_no_node_autoscaler_ops.name,
	[CLU_NA_KINDS] = NULL,
};

#define T struct clu_node_autoscaler_config
static const struct cfg_field node_fields[] = {
	{.key = "type", .type = CFG_T_ENUM, .off = offsetof(T, type), .enums = node_kind_names,
	 .def = "cluster-autoscaler", .doc = "cluster-autoscaler, karpenter or none"},
	{.key = "scan_interval", .type = CFG_T_DURATION, .off = offsetof(T, scan_interval), .def = "10s",
	 .flags = CFG_GT, .doc = "cluster-autoscaler: --scan-interval"},
	{.key = "expander", .type = CFG_T_ENUM, .off = offsetof(T, expander), .enums = expander_names,
	 .def = "least-waste", .doc = "cluster-autoscaler: --expander (least-waste, price, priority, random)"},
	{.key = "scale_down_enabled", .type = CFG_T_BOOL, .off = offsetof(T, scale_down_enabled),
	 .def = "true", .doc = "cluster-autoscaler: --scale-down-enabled"},
	{.key = "scale_down_unneeded_time", .type = CFG_T_DURATION, .off = offsetof(T, scale_down_unneeded_time),
	 .def = "10m", .doc = "cluster-autoscaler: --scale-down-unneeded-time"},
	{.key = "scale_down_delay_after_add", .type = CFG_T_DURATION,
	 .off = offsetof(T, scale_down_delay_after_add), .def = "10m",
	 .doc = "cluster-autoscaler: --scale-down-delay-after-add"},
	{.key = "scale_down_delay_after_delete", .type = CFG_T_DURATION,
	 .off = offsetof(T, scale_down_delay_after_delete), .def = "0s",
	 .doc = "cluster-autoscaler: --scale-down-delay-after-delete (0s = scan_interval)"},
	{.key = "scale_down_delay_after_failure", .type = CFG_T_DURATION,
	 .off = offsetof(T, scale_down_delay_after_failure), .def = "3m",
	 .doc = "cluster-autoscaler: --scale-down-delay-after-failure"},
	{.key = "scale_down_utilization_threshold", .type = CFG_T_DOUBLE,
	 .off = offsetof(T, scale_down_utilization_threshold), .def = "0.5", .flags = CFG_MIN | CFG_MAX,
	 .min = 0, .max = 1, .doc = "cluster-autoscaler: --scale-down-utilization-threshold (GPU requests / allocatable)"},
	{.key = "max_node_provision_time", .type = CFG_T_DURATION, .off = offsetof(T, max_node_provision_time),
	 .def = "15m", .flags = CFG_GT, .doc = "cluster-autoscaler: --max-node-provision-time"},
	{.key = "initial_node_group_backoff", .type = CFG_T_DURATION,
	 .off = offsetof(T, initial_node_group_backoff), .def = "5m",
	 .doc = "cluster-autoscaler: --initial-node-group-backoff-duration"},
	{.key = "max_node_group_backoff", .type = CFG_T_DURATION, .off = offsetof(T, max_node_group_backoff),
	 .def = "30m", .doc = "cluster-autoscaler: --max-node-group-backoff-duration"},
	{.key = "max_nodes_total", .type = CFG_T_INT, .off = offsetof(T, max_nodes_total), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "cluster-autoscaler: --max-nodes-total (0 = no limit)"},
	{.key = "batch_idle_duration", .type = CFG_T_DURATION, .off = offsetof(T, batch_idle_duration),
	 .def = "1s", .doc = "karpenter: BATCH_IDLE_DURATION"},
	{.key = "batch_max_duration", .type = CFG_T_DURATION, .off = offsetof(T, batch_max_duration),
	 .def = "10s", .doc = "karpenter: BATCH_MAX_DURATION"},
	{.key = "consolidation_policy", .type = CFG_T_ENUM, .off = offsetof(T, consolidation_policy),
	 .enums = consolidation_names, .def = "WhenEmptyOrUnderutilized",
	 .doc = "karpenter: disruption.consolidationPolicy"},
	{.key = "consolidate_after", .type = CFG_T_DURATION, .off = offsetof(T, consolidate_after),
	 .def = "0s", .doc = "karpenter: disruption.consolidateAfter"},
	{NULL}};
#undef T

const struct cfg_schema clu_node_autoscaler_schema = {"node autoscaler",
						      sizeof(struct clu_node_autoscaler_config),
						      node_fields, NULL, NULL};

int clu_node_autoscaler_decode(struct cfg_ctx *c, const struct cfg_node *n,
			       struct clu_node_autoscaler_config *out)
{
	memset(out, 0, sizeof(*out));
	if (cfg_is_null(n)) {
		cfg_defaults(c, &clu_node_autoscaler_schema, out);
		out->type = CLU_NA_NONE;
		return 0;
	}
	return cfg_decode(c, n, &clu_node_autoscaler_schema, out);
}
