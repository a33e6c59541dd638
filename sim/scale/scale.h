/*
 * sim/scale: the metrics pipeline and the control loops. Owns each
 * deployment's `autoscaler:` key (hpa | kpa | keda | predictive | none, the
 * HPA spec verbatim in Kubernetes autoscaling/v2 field names) and the
 * cluster's node autoscaler (cluster-autoscaler | karpenter | none); from
 * the autoscaling issue on, the controllers themselves.
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

struct sc_kpa {
	int metric; /* 0 concurrency, 1 rps */
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
	int method; /* 0 holt-winters, 1 seasonal-naive */
	const char *metric;
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
	bool has_spec;
	/* kpa, keda, predictive */
	struct sc_kpa kpa;
	struct keda_spec keda;
	struct sc_predictive predictive;
};

enum sc_node_kind { SC_NODE_CA, SC_NODE_KARPENTER, SC_NODE_NONE };

struct sc_node_autoscaler_config {
	int type;
	/* cluster-autoscaler */
	sim_time scan_interval;
	int expander; /* 0 least-waste, 1 price, 2 priority, 3 random */
	bool scale_down_enabled;
	sim_time scale_down_unneeded_time, scale_down_delay_after_add;
	sim_time scale_down_delay_after_delete, scale_down_delay_after_failure;
	double scale_down_utilization_threshold;
	sim_time max_node_provision_time;
	sim_time initial_node_group_backoff, max_node_group_backoff;
	int64_t max_nodes_total;
	/* karpenter */
	sim_time batch_idle_duration, batch_max_duration;
	int consolidation_policy; /* 0 WhenEmptyOrUnderutilized, 1 WhenEmpty */
	sim_time consolidate_after;
};

/* Decode a deployment's `autoscaler:` node (NULL node: type none). */
int sc_autoscaler_decode(struct cfg_ctx *c, const struct cfg_node *n,
			 struct sc_autoscaler_config *out);
int sc_node_autoscaler_decode(struct cfg_ctx *c, const struct cfg_node *n,
			      struct sc_node_autoscaler_config *out);

/* For documentation: the schema of each autoscaler type. */
extern const struct cfg_schema sc_hpa_schema, sc_kpa_schema, sc_keda_schema,
	sc_predictive_schema, sc_node_autoscaler_schema, sc_hpa_spec_schema;

#endif
