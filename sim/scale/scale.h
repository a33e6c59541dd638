/*
 * sim/scale: the metrics pipeline and the control loops. Owns each
 * deployment's `autoscaler:` key (hpa | kpa | keda | predictive | none, the
 * HPA spec verbatim in Kubernetes autoscaling/v2 field names); from the
 * autoscaling issue on, the controllers themselves. (The node autoscalers
 * are the cluster room's.)
 *
 * Invariants:
 *  - Controllers read scraped, delayed metrics, never a server's state.
 *  - A decoded HPA spec is what the API server would accept: minReplicas <=
 *    maxReplicas, every metric has the member its type names, every target
 *    the value its type names.
 */
#ifndef SIM_SCALE_H
#define SIM_SCALE_H

#include "../config/config.h"

enum sc_kind { SC_NONE, SC_HPA, SC_KPA, SC_KEDA, SC_PREDICTIVE };

/*
 * A query: the PromQL subset a scaling rule needs. NAME (a gauge as it is,
 * a counter as its rate over four scrapes), rate(NAME[W]),
 * avg_over_time(NAME[W]), max_over_time(NAME[W]) and
 * histogram_quantile(Q, NAME[W]) (or the long form with
 * sum(rate(NAME_bucket[W])) by (le)), optionally inside sum(...), avg(...)
 * or max(...), which says how the pods are combined for a deployment-level
 * value (sum by default).
 */
enum sc_fn { SC_FN_NONE, SC_FN_RATE, SC_FN_AVG, SC_FN_MAX, SC_FN_QUANTILE };
enum sc_agg { SC_AGG_SUM, SC_AGG_AVG, SC_AGG_MAX };
struct sc_query {
	int metric, fn, agg;
	sim_time window; /* 0: four scrapes */
	double q;
};
/* 0, or -1 with a message saying what is wrong. */


struct sc_pipeline {
	sim_time scrape_interval;
	sim_time lag; /* adapter / metrics-server delay after a scrape */
};

struct sc_hpa_controller {
	sim_time sync_period;
	double tolerance;
	sim_time downscale_stabilization;
	sim_time cpu_initialization_period;
	sim_time initial_readiness_delay;
};

/* autoscaling/v2 MetricTarget */
enum hpa_target_type { HPA_TARGET_UTILIZATION, HPA_TARGET_VALUE, HPA_TARGET_AVERAGE_VALUE };
struct hpa_target {
	int type;
	int64_t averageUtilization;  /* percent */
	int64_t averageValue, value; /* milli-units */
	bool has_averageUtilization, has_averageValue, has_value;
};

struct hpa_metric_id {
	const char *name;
	const struct cfg_node *selector;
	struct sc_query q; /* name, parsed */
};

struct hpa_object_ref {
	const char *apiVersion, *kind, *name;
};

enum hpa_metric_type {
	HPA_METRIC_RESOURCE, HPA_METRIC_PODS, HPA_METRIC_OBJECT, HPA_METRIC_EXTERNAL,
	HPA_METRIC_CONTAINER_RESOURCE
};

struct hpa_source {
	/* Resource / ContainerResource */
	const char *name, *container;
	/* Pods / Object / External */
	struct hpa_metric_id metric;
	struct hpa_object_ref describedObject;
	struct hpa_target target;
};

struct hpa_metric_spec {
	int type; /* enum hpa_metric_type */
	struct hpa_source resource, pods, object, external, containerResource;
	bool has_resource, has_pods, has_object, has_external, has_containerResource;
};

enum hpa_policy_type { HPA_POLICY_PODS, HPA_POLICY_PERCENT };
enum hpa_select { HPA_SELECT_MAX, HPA_SELECT_MIN, HPA_SELECT_DISABLED };

struct hpa_policy {
	int type;
	int64_t value;
	int64_t periodSeconds;
};

struct hpa_rules {
	int64_t stabilizationWindowSeconds;
	bool has_stabilizationWindowSeconds;
	int selectPolicy; /* enum hpa_select */
	bool has_selectPolicy;
	struct cfg_list policies; /* of struct hpa_policy */
	bool has_policies;
	int64_t tolerance; /* milli */
	bool has_tolerance;
};

struct hpa_behavior {
	struct hpa_rules scaleUp, scaleDown;
	bool has_scaleUp, has_scaleDown;
};

struct hpa_spec {
	const struct cfg_node *scaleTargetRef;
	int64_t minReplicas, maxReplicas;
	bool has_minReplicas;
	struct cfg_list metrics; /* of struct hpa_metric_spec */
	struct hpa_behavior behavior;
	bool has_behavior;
};

enum sc_kpa_metric { SC_KPA_CONCURRENCY, SC_KPA_RPS };
enum sc_predictive_method { SC_HOLT_WINTERS, SC_SEASONAL_NAIVE };

struct sc_kpa {
	int metric; /* enum sc_kpa_metric */
	double target, target_utilization;
	sim_time stable_window;
	double panic_window_percentage, panic_threshold_percentage;
	int64_t min_scale, max_scale, initial_scale, activation_scale;
	sim_time scale_to_zero_grace_period, scale_down_delay, tick_interval;
	double max_scale_up_rate, max_scale_down_rate, target_burst_capacity;
};

struct keda_trigger {
	const char *type, *name;
	int metricType; /* enum hpa_target_type */
	const struct cfg_node *metadata;
	bool useCachedMetrics;
	/* from the metadata */
	struct sc_query q; /* from query / metricName */
	int64_t threshold_m, activation_m;
};

struct keda_fallback {
	int64_t failureThreshold, replicas;
};

struct keda_hpa_config {
	const char *name;
	struct hpa_behavior behavior;
	bool has_behavior;
};

struct keda_advanced {
	bool restoreToOriginalReplicaCount;
	struct keda_hpa_config horizontalPodAutoscalerConfig;
};

struct keda_spec {
	const struct cfg_node *scaleTargetRef;
	int64_t pollingInterval, cooldownPeriod, initialCooldownPeriod;
	int64_t idleReplicaCount;
	bool has_idleReplicaCount;
	int64_t minReplicaCount, maxReplicaCount;
	struct keda_fallback fallback;
	bool has_fallback;
	struct keda_advanced advanced;
	struct cfg_list triggers; /* of struct keda_trigger */
};

struct sc_predictive {
	int method; /* enum sc_predictive_method */
	const char *metric;
	struct sc_query q; /* metric, parsed */
	double target_per_replica;
	sim_time season, horizon, history, sync_period;
	int64_t min_replicas, max_replicas;
	double headroom;
};

struct sc_autoscaler_config {
	int type; /* enum sc_kind */
	struct sc_pipeline metrics_pipeline;
	/* hpa */
	struct sc_hpa_controller controller;
	struct hpa_spec spec;
	const char *manifest;
	const struct cfg_node *manifest_node; /* the manifest's root, once loaded */
	bool has_spec;
	/* kpa, keda, predictive */
	struct sc_kpa kpa;
	struct keda_spec keda;
	struct sc_predictive predictive;
};

/* Decode a deployment's `autoscaler:` node (NULL node: type none). */
int sc_autoscaler_decode(struct cfg_ctx *c, const struct cfg_node *n,
			 struct sc_autoscaler_config *out);

/* ---- the metrics pipeline ---- */

/* The metric catalog: per pod (vLLM, DCGM-like, container) and per
 * deployment (router). */
enum sc_metric {
	SC_M_RUNNING, SC_M_WAITING, SC_M_SWAPPED, SC_M_KV, SC_M_PROMPT_TOTAL, SC_M_GEN_TOTAL,
	SC_M_SUCCESS_TOTAL, SC_M_GPU_UTIL, SC_M_SM_ACTIVE, SC_M_POWER, SC_M_CPU, SC_M_MEMORY,
	SC_M_CONCURRENCY,
	/* histograms (vLLM's buckets): the value is the observation count, the buckets are in hist */
	SC_M_TTFT, SC_M_TPOT, SC_M_E2E, SC_M_QUEUE_TIME,
	SC_M_POD_METRICS, /* per pod above, per deployment below */
	SC_M_ROUTER_QUEUE = SC_M_POD_METRICS, SC_M_ROUTER_RATE, SC_M_ROUTER_TOTAL, SC_M_METRICS
};
#define SC_HISTS 4 /* SC_M_TTFT.. in the order of enum srv_hist_kind */
#define SC_HIST_BUCKETS 24
extern const char *const sc_metric_names[SC_M_METRICS];
/* The catalog id of a plain metric name, or -1. */
int sc_metric_id(const char *name);
bool sc_metric_is_counter(int id);
bool sc_metric_is_hist(int id);

int sc_query_parse(const char *text, struct sc_query *out, char *msg, size_t n);

/* The status of one pod as the API server has it (no lag). */
struct sc_pod {
	int32_t id;
	int phase;     /* enum hpa_phase */
	bool ready, deleted;
	sim_time start, ready_transition;
	bool scraped;  /* its /metrics endpoint answers */
};

/* One scrape of a deployment. */
struct sc_scrape {
	sim_time t;
	size_t npods;
	int32_t *pod_ids;
	double *values; /* [metric * npods + pod] for per-pod metrics */
	double *hist;   /* [(h * SC_HIST_BUCKETS + bucket) * npods + pod] cumulative, when want_hist */
	bool want_hist;
	double router[SC_M_METRICS - SC_M_POD_METRICS];
};

/* What the pipeline and the controllers need from the simulation. */
struct sc_env {
	void *ctx;
	struct sim *sim;
	/* current pods of a deployment (the API server's view) */
	size_t (*pods)(void *ctx, size_t dep, struct sc_pod *out, size_t max);
	/* scrape every serving pod and the router now */
	void (*scrape)(void *ctx, size_t dep, struct sc_scrape *out);
	int32_t (*replicas)(void *ctx, size_t dep);         /* spec.replicas */
	int32_t (*ready_replicas)(void *ctx, size_t dep);   /* status: ready pods */
	void (*set_replicas)(void *ctx, size_t dep, int32_t n);
	/* a decision: recorded in /scale_events (and printed with --explain) */
	void (*decision)(void *ctx, size_t dep, const char *controller, double input, int32_t from,
			 int32_t proposal, int32_t to, const char *reason);
	/* mean pod startup (created -> serving) measured so far in the run */
	sim_time (*startup)(void *ctx, size_t dep);
	/* the loops stop once this is false and the arrivals are over */
	bool (*active)(void *ctx);
	sim_time arrivals_end;
};

/* A deployment's scrape history, kept as long as a window may look back. */
struct sc_series {
	struct sc_scrape *buf;
	size_t head, n, cap;
};

/* Latest scrape visible at `at` (t <= at), or NULL. */
const struct sc_scrape *sc_series_at(const struct sc_series *s, sim_time at);
/* A per-pod value of the latest visible scrape: counters as a rate over
 * `window` (per second), gauges as they are. has = false when not scraped. */
double sc_pod_value(const struct sc_series *s, sim_time at, sim_time window, int metric, int32_t pod, bool *has);
/* Sum over the deployment (per-pod metrics) or the router's value. */
double sc_total(const struct sc_series *s, sim_time at, sim_time window, int metric, bool *has);
/* Mean of a deployment-level value over a window (for KPA-like averages). */
double sc_window_avg(const struct sc_series *s, sim_time from, sim_time to, int metric, bool *has);
/* A query for one pod, or for the deployment, as seen at `at`; has = false: no data. */
double sc_query_pod(const struct sc_series *s, sim_time at, const struct sc_query *q, int32_t pod, bool *has);
double sc_query_total(const struct sc_series *s, sim_time at, const struct sc_query *q, bool *has);
/* Does any query of this autoscaler need histogram buckets in the scrapes? */
bool sc_config_wants_hist(const struct sc_autoscaler_config *cfg);
/* The longest window an autoscaler looks back over (0: none). */
sim_time sc_config_max_window(const struct sc_autoscaler_config *cfg);

/* ---- autoscalers ---- */

struct sc_controller;

/* One file per autoscaler; a new one is one file and one entry in sc_autoscalers. */
struct autoscaler_ops {
	/* the `type:` name; an array, so that the config's list of names can be
	 * made of the ops tables' in a static initializer */
	const char name[24];
	/* state for deployment `dep`; its first tick is scheduled by the caller */
	void *(*create)(const struct sc_autoscaler_config *cfg, const struct sc_env *env, size_t dep,
			struct sim_err *err);
	/* one control-loop pass; returns the delay to the next */
	sim_time (*tick)(void *state, const struct sc_series *metrics);
	void (*destroy)(void *state);
	/* the first pass comes this long after creation */
	sim_time (*first)(const struct sc_autoscaler_config *cfg);
	/* optional: how this controller sees metrics, when not through the
	 * configured Prometheus pipeline (Knative scrapes its pods itself) */
	struct sc_pipeline (*pipeline)(const struct sc_autoscaler_config *cfg);
};

extern const struct autoscaler_ops sc_hpa_ops, sc_kpa_ops, sc_keda_ops, sc_predictive_ops;
/* type none: a name only (sc_autoscalers[SC_NONE] is NULL) */
extern const struct autoscaler_ops sc_none_ops;
/* Indexed by enum sc_kind; NULL for none. */
extern const struct autoscaler_ops *const sc_autoscalers[];

/* The pipeline and the controllers of a run. */
struct sc_runtime;
struct sc_runtime *sc_runtime_new(const struct sc_env *env, const struct sc_autoscaler_config *cfgs,
				  size_t ndeps, struct sim_err *err);
void sc_runtime_free(struct sc_runtime *rt);
const struct sc_series *sc_runtime_series(const struct sc_runtime *rt, size_t dep);

/* For documentation: the schema of each autoscaler type. */
extern const struct cfg_schema sc_hpa_schema, sc_kpa_schema, sc_keda_schema,
	sc_predictive_schema, sc_hpa_spec_schema;

#endif
