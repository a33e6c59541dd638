/*
 * Autoscaler configuration. The HPA spec uses the Kubernetes autoscaling/v2
 * field names verbatim and the API server's validation rules; KPA keys are
 * Knative's annotation names in snake case; KEDA's spec is a ScaledObject
 * spec verbatim.
 */
#include "scale.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* `type:` names: the ops tables' (one list), in enum sc_kind order. */
const struct autoscaler_ops sc_none_ops = {.name = "none"};
static const char *const kind_names[] = {sc_none_ops.name, sc_hpa_ops.name, sc_kpa_ops.name, sc_keda_ops.name,
					 sc_predictive_ops.name, NULL};
static const char *const target_names[] = {"Utilization", "Value", "AverageValue", NULL};
static const char *const metric_type_names[] = {"Resource", "Pods", "Object", "External",
						"ContainerResource", NULL};
static const char *const policy_type_names[] = {"Pods", "Percent", NULL};
static const char *const select_names[] = {"Max", "Min", "Disabled", NULL};
static const char *const kpa_metric_names[] = {[SC_KPA_CONCURRENCY] = "concurrency", [SC_KPA_RPS] = "rps", NULL};
static const char *const method_names[] = {[SC_HOLT_WINTERS] = "holt-winters", [SC_SEASONAL_NAIVE] = "seasonal-naive", NULL};

#define T struct sc_pipeline
static const struct cfg_field pipeline_fields[] = {
	{.key = "scrape_interval", .type = CFG_T_DURATION, .off = offsetof(T, scrape_interval),
	 .def = "15s", .flags = CFG_GT, .doc = "Prometheus scrape interval of every server and the router"},
	{.key = "lag", .type = CFG_T_DURATION, .off = offsetof(T, lag), .def = "15s",
	 .doc = "delay from a scrape to the controller seeing it (adapter, metrics-server)"},
	{NULL}};
#undef T
static const struct cfg_schema pipeline_schema = {"metrics pipeline", sizeof(struct sc_pipeline),
						  pipeline_fields, NULL, NULL};

#define T struct sc_hpa_controller
static const struct cfg_field controller_fields[] = {
	{.key = "sync_period", .type = CFG_T_DURATION, .off = offsetof(T, sync_period), .def = "15s",
	 .flags = CFG_GT, .doc = "--horizontal-pod-autoscaler-sync-period"},
	{.key = "tolerance", .type = CFG_T_DOUBLE, .off = offsetof(T, tolerance), .def = "0.1",
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 1, .doc = "--horizontal-pod-autoscaler-tolerance"},
	{.key = "downscale_stabilization", .type = CFG_T_DURATION, .off = offsetof(T, downscale_stabilization),
	 .def = "5m", .doc = "--horizontal-pod-autoscaler-downscale-stabilization"},
	{.key = "cpu_initialization_period", .type = CFG_T_DURATION,
	 .off = offsetof(T, cpu_initialization_period), .def = "5m",
	 .doc = "--horizontal-pod-autoscaler-cpu-initialization-period"},
	{.key = "initial_readiness_delay", .type = CFG_T_DURATION,
	 .off = offsetof(T, initial_readiness_delay), .def = "30s",
	 .doc = "--horizontal-pod-autoscaler-initial-readiness-delay"},
	{NULL}};
#undef T
static const struct cfg_schema controller_schema = {"HPA controller", sizeof(struct sc_hpa_controller),
						    controller_fields, NULL, NULL};

/* ---- autoscaling/v2 HorizontalPodAutoscalerSpec ---- */

#define T struct hpa_target
static const struct cfg_field target_fields[] = {
	{.key = "type", .type = CFG_T_ENUM, .off = offsetof(T, type), .enums = target_names,
	 .flags = CFG_REQUIRED, .doc = "Utilization, Value or AverageValue"},
	{.key = "averageUtilization", .type = CFG_T_INT, .off = offsetof(T, averageUtilization),
	 .flags = CFG_GT, .min = 0, .has = true, .has_off = offsetof(T, has_averageUtilization),
	 .doc = "percent of the pods' resource request"},
	{.key = "averageValue", .type = CFG_T_QUANTITY, .off = offsetof(T, averageValue),
	 .flags = CFG_GT, .min = 0, .has = true, .has_off = offsetof(T, has_averageValue),
	 .doc = "target value per pod (a quantity, e.g. \"4\" or 500m)"},
	{.key = "value", .type = CFG_T_QUANTITY, .off = offsetof(T, value), .flags = CFG_GT, .min = 0,
	 .has = true, .has_off = offsetof(T, has_value), .doc = "target value of the metric (a quantity)"},
	{NULL}};
#undef T

static int target_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct hpa_target *t = obj;
	if (t->type == HPA_TARGET_UTILIZATION && !t->has_averageUtilization)
		return cfg_error(c, n, "target type Utilization needs averageUtilization");
	if (t->type == HPA_TARGET_AVERAGE_VALUE && !t->has_averageValue)
		return cfg_error(c, n, "target type AverageValue needs averageValue");
	if (t->type == HPA_TARGET_VALUE && !t->has_value)
		return cfg_error(c, n, "target type Value needs value");
	return 0;
}
static const struct cfg_schema target_schema = {"MetricTarget", sizeof(struct hpa_target),
						target_fields, target_check, NULL};

#define T struct hpa_metric_id
static const struct cfg_field metric_id_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "metric name, e.g. vllm:num_requests_waiting"},
	{.key = "selector", .type = CFG_T_ANY, .off = offsetof(T, selector),
	 .doc = "label selector (kept, not evaluated: one series per deployment)"},
	{NULL}};
#undef T
static const struct cfg_schema metric_id_schema = {"MetricIdentifier", sizeof(struct hpa_metric_id),
						   metric_id_fields, NULL, NULL};

#define T struct hpa_object_ref
static const struct cfg_field objref_fields[] = {
	{.key = "apiVersion", .type = CFG_T_STR, .off = offsetof(T, apiVersion), .doc = "referent API version"},
	{.key = "kind", .type = CFG_T_STR, .off = offsetof(T, kind), .flags = CFG_REQUIRED,
	 .doc = "referent kind (e.g. Service, Deployment)"},
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "referent name"},
	{NULL}};
#undef T
static const struct cfg_schema objref_schema = {"CrossVersionObjectReference",
						sizeof(struct hpa_object_ref), objref_fields, NULL, NULL};

#define T struct hpa_source
static const struct cfg_field resource_src_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "resource name: cpu, memory or nvidia.com/gpu"},
	{.key = "target", .type = CFG_T_STRUCT, .off = offsetof(T, target), .sub = &target_schema,
	 .flags = CFG_REQUIRED, .doc = "target"},
	{NULL}};
static const struct cfg_field cresource_src_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "resource name"},
	{.key = "container", .type = CFG_T_STR, .off = offsetof(T, container), .flags = CFG_REQUIRED,
	 .doc = "container name"},
	{.key = "target", .type = CFG_T_STRUCT, .off = offsetof(T, target), .sub = &target_schema,
	 .flags = CFG_REQUIRED, .doc = "target"},
	{NULL}};
static const struct cfg_field pods_src_fields[] = {
	{.key = "metric", .type = CFG_T_STRUCT, .off = offsetof(T, metric), .sub = &metric_id_schema,
	 .flags = CFG_REQUIRED, .doc = "which per-pod metric"},
	{.key = "target", .type = CFG_T_STRUCT, .off = offsetof(T, target), .sub = &target_schema,
	 .flags = CFG_REQUIRED, .doc = "target (AverageValue)"},
	{NULL}};
static const struct cfg_field object_src_fields[] = {
	{.key = "describedObject", .type = CFG_T_STRUCT, .off = offsetof(T, describedObject),
	 .sub = &objref_schema, .flags = CFG_REQUIRED, .doc = "the object the metric describes"},
	{.key = "metric", .type = CFG_T_STRUCT, .off = offsetof(T, metric), .sub = &metric_id_schema,
	 .flags = CFG_REQUIRED, .doc = "which metric"},
	{.key = "target", .type = CFG_T_STRUCT, .off = offsetof(T, target), .sub = &target_schema,
	 .flags = CFG_REQUIRED, .doc = "target (Value or AverageValue)"},
	{NULL}};
static const struct cfg_field external_src_fields[] = {
	{.key = "metric", .type = CFG_T_STRUCT, .off = offsetof(T, metric), .sub = &metric_id_schema,
	 .flags = CFG_REQUIRED, .doc = "which external metric"},
	{.key = "target", .type = CFG_T_STRUCT, .off = offsetof(T, target), .sub = &target_schema,
	 .flags = CFG_REQUIRED, .doc = "target (Value or AverageValue)"},
	{NULL}};
#undef T
static const struct cfg_schema resource_src_schema = {"ResourceMetricSource", sizeof(struct hpa_source), resource_src_fields, NULL, NULL};
static const struct cfg_schema cresource_src_schema = {"ContainerResourceMetricSource", sizeof(struct hpa_source), cresource_src_fields, NULL, NULL};
static const struct cfg_schema pods_src_schema = {"PodsMetricSource", sizeof(struct hpa_source), pods_src_fields, NULL, NULL};
static const struct cfg_schema object_src_schema = {"ObjectMetricSource", sizeof(struct hpa_source), object_src_fields, NULL, NULL};
static const struct cfg_schema external_src_schema = {"ExternalMetricSource", sizeof(struct hpa_source), external_src_fields, NULL, NULL};

#define T struct hpa_metric_spec
static const struct cfg_field metric_fields[] = {
	{.key = "type", .type = CFG_T_ENUM, .off = offsetof(T, type), .enums = metric_type_names,
	 .flags = CFG_REQUIRED, .doc = "Resource, Pods, Object, External or ContainerResource"},
	{.key = "resource", .type = CFG_T_STRUCT, .off = offsetof(T, resource), .sub = &resource_src_schema,
	 .has = true, .has_off = offsetof(T, has_resource), .doc = "type Resource"},
	{.key = "pods", .type = CFG_T_STRUCT, .off = offsetof(T, pods), .sub = &pods_src_schema,
	 .has = true, .has_off = offsetof(T, has_pods), .doc = "type Pods"},
	{.key = "object", .type = CFG_T_STRUCT, .off = offsetof(T, object), .sub = &object_src_schema,
	 .has = true, .has_off = offsetof(T, has_object), .doc = "type Object"},
	{.key = "external", .type = CFG_T_STRUCT, .off = offsetof(T, external), .sub = &external_src_schema,
	 .has = true, .has_off = offsetof(T, has_external), .doc = "type External"},
	{.key = "containerResource", .type = CFG_T_STRUCT, .off = offsetof(T, containerResource),
	 .sub = &cresource_src_schema, .has = true, .has_off = offsetof(T, has_containerResource),
	 .doc = "type ContainerResource"},
	{NULL}};
#undef T

static int metric_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	static const char *const member[] = {"resource", "pods", "object", "external", "containerResource"};
	const struct hpa_metric_spec *m = obj;
	const bool has[] = {m->has_resource, m->has_pods, m->has_object, m->has_external,
			    m->has_containerResource};
	const struct hpa_source *src[] = {&m->resource, &m->pods, &m->object, &m->external,
					  &m->containerResource};
	int t;
	if (!has[m->type])
		return cfg_error(c, n, "metric type %s needs '%s'", metric_type_names[m->type], member[m->type]);
	for (int i = 0; i < 5; i++) {
		if (i != m->type && has[i])
			return cfg_error_at_key(c, n, member[i], "must not be set when type is %s",
						metric_type_names[m->type]);
	}
	t = src[m->type]->target.type;
	switch (m->type) {
	case HPA_METRIC_RESOURCE:
	case HPA_METRIC_CONTAINER_RESOURCE:
		if (t == HPA_TARGET_VALUE)
			return cfg_error(c, n, "a %s metric's target must be Utilization or AverageValue",
					 metric_type_names[m->type]);
		break;
	case HPA_METRIC_PODS:
		if (t != HPA_TARGET_AVERAGE_VALUE)
			return cfg_error(c, n, "a Pods metric's target must be AverageValue");
		break;
	default:
		if (t == HPA_TARGET_UTILIZATION)
			return cfg_error(c, n, "an %s metric's target must be Value or AverageValue",
					 metric_type_names[m->type]);
	}
	if (m->type == HPA_METRIC_RESOURCE || m->type == HPA_METRIC_CONTAINER_RESOURCE) {
		const char *r = src[m->type]->name;
		if (r && strcmp(r, "cpu") && strcmp(r, "memory"))
			return cfg_error(c, cfg_map_get(cfg_map_get(n, member[m->type]), "name"),
					 "servesim models the resources cpu and memory, not '%s'", r);
	} else {
		struct hpa_source *sm = (struct hpa_source *)src[m->type]; /* the parsed query is kept */
		const char *name = sm->metric.name;
		const struct cfg_node *at = cfg_map_get(cfg_map_get(cfg_map_get(n, member[m->type]), "metric"), "name");
		char msg[256];
		if (sc_query_parse(name ? name : "", &sm->metric.q, msg, sizeof(msg)))
			return cfg_error(c, at ? at : n, "%s", msg);
		if (m->type == HPA_METRIC_PODS && sm->metric.q.metric >= SC_M_POD_METRICS)
			return cfg_error(c, at, "'%s' is a deployment-level series: use an Object or External metric", name);
	}
	return 0;
}
static const struct cfg_schema metric_schema = {"MetricSpec", sizeof(struct hpa_metric_spec),
						metric_fields, metric_check, NULL};

#define T struct hpa_policy
static const struct cfg_field policy_fields[] = {
	{.key = "type", .type = CFG_T_ENUM, .off = offsetof(T, type), .enums = policy_type_names,
	 .flags = CFG_REQUIRED, .doc = "Pods or Percent"},
	{.key = "value", .type = CFG_T_INT, .off = offsetof(T, value), .flags = CFG_REQUIRED | CFG_GT,
	 .min = 0, .doc = "pods, or percent of the current replicas"},
	{.key = "periodSeconds", .type = CFG_T_INT, .off = offsetof(T, periodSeconds),
	 .flags = CFG_REQUIRED | CFG_MIN | CFG_MAX, .min = 1, .max = 1800,
	 .doc = "window the policy looks back over (1 to 1800)"},
	{NULL}};
#undef T
static const struct cfg_schema policy_schema = {"HPAScalingPolicy", sizeof(struct hpa_policy),
						policy_fields, NULL, NULL};

#define T struct hpa_rules
static const struct cfg_field rules_fields[] = {
	{.key = "stabilizationWindowSeconds", .type = CFG_T_INT, .off = offsetof(T, stabilizationWindowSeconds),
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 3600, .has = true,
	 .has_off = offsetof(T, has_stabilizationWindowSeconds),
	 .doc = "0 to 3600; default 0 up, the controller's downscale stabilization down"},
	{.key = "selectPolicy", .type = CFG_T_ENUM, .off = offsetof(T, selectPolicy), .enums = select_names,
	 .has = true, .has_off = offsetof(T, has_selectPolicy), .doc = "Max (default), Min or Disabled"},
	{.key = "policies", .type = CFG_T_LIST, .off = offsetof(T, policies), .sub = &policy_schema,
	 .has = true, .has_off = offsetof(T, has_policies),
	 .doc = "rate limits; default up: 4 pods or 100% per 15 s, down: 100% per 15 s"},
	{.key = "tolerance", .type = CFG_T_QUANTITY, .off = offsetof(T, tolerance), .flags = CFG_MIN,
	 .min = 0, .has = true, .has_off = offsetof(T, has_tolerance),
	 .doc = "per-direction tolerance (a quantity, e.g. 50m = 5%); default the controller's"},
	{NULL}};
#undef T

static int rules_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct hpa_rules *r = obj;
	if (r->has_policies && r->policies.n == 0)
		return cfg_error_at_key(c, n, "policies", "must specify at least one Policy");
	return 0;
}
static const struct cfg_schema rules_schema = {"HPAScalingRules", sizeof(struct hpa_rules),
					       rules_fields, rules_check, NULL};

#define T struct hpa_behavior
static const struct cfg_field behavior_fields[] = {
	{.key = "scaleUp", .type = CFG_T_STRUCT, .off = offsetof(T, scaleUp), .sub = &rules_schema,
	 .has = true, .has_off = offsetof(T, has_scaleUp), .doc = "rules for scaling up"},
	{.key = "scaleDown", .type = CFG_T_STRUCT, .off = offsetof(T, scaleDown), .sub = &rules_schema,
	 .has = true, .has_off = offsetof(T, has_scaleDown), .doc = "rules for scaling down"},
	{NULL}};
#undef T
static const struct cfg_schema behavior_schema = {"HorizontalPodAutoscalerBehavior",
						  sizeof(struct hpa_behavior), behavior_fields, NULL, NULL};

#define T struct hpa_spec
static const struct cfg_field spec_fields[] = {
	{.key = "scaleTargetRef", .type = CFG_T_ANY, .off = offsetof(T, scaleTargetRef),
	 .doc = "kept for manifests; the target is always the enclosing deployment"},
	{.key = "minReplicas", .type = CFG_T_INT, .off = offsetof(T, minReplicas), .def = "1",
	 .flags = CFG_MIN, .min = 0, .has = true, .has_off = offsetof(T, has_minReplicas),
	 .doc = "lower bound (default 1; 0 only with an Object or External metric, as with HPAScaleToZero)"},
	{.key = "maxReplicas", .type = CFG_T_INT, .off = offsetof(T, maxReplicas),
	 .flags = CFG_REQUIRED | CFG_MIN, .min = 1, .doc = "upper bound"},
	{.key = "metrics", .type = CFG_T_LIST, .off = offsetof(T, metrics), .sub = &metric_schema,
	 .doc = "metrics; the largest proposal wins (default: cpu Utilization 80%)"},
	{.key = "behavior", .type = CFG_T_STRUCT, .off = offsetof(T, behavior), .sub = &behavior_schema,
	 .has = true, .has_off = offsetof(T, has_behavior),
	 .doc = "scaling behavior; absent = the legacy (pre-behavior) path"},
	{NULL}};
#undef T

static int spec_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct hpa_spec *s = obj;
	bool obj_or_ext = false;
	if (s->minReplicas > s->maxReplicas)
		return cfg_error_at_key(c, n, "minReplicas", "must not exceed maxReplicas (%lld)",
					(long long)s->maxReplicas);
	/* HPAScaleToZero (taken as enabled): minReplicas 0 needs an Object or External metric,
	 * since Resource and Pods metrics have no pods to read at zero */
	for (size_t i = 0; i < s->metrics.n; i++) {
		int t = CFG_LIST_AT(s->metrics, struct hpa_metric_spec, i)->type;
		obj_or_ext |= t == HPA_METRIC_OBJECT || t == HPA_METRIC_EXTERNAL;
	}
	if (s->has_minReplicas && s->minReplicas == 0 && !obj_or_ext)
		return cfg_error_at_key(c, n, "minReplicas",
					"0 is allowed only with at least one Object or External metric (HPAScaleToZero)");
	return 0;
}
const struct cfg_schema sc_hpa_spec_schema = {"HorizontalPodAutoscalerSpec", sizeof(struct hpa_spec),
					      spec_fields, spec_check, NULL};

/* A whole HorizontalPodAutoscaler object in its own file. */
struct hpa_object {
	const char *apiVersion, *kind;
	const struct cfg_node *metadata, *status;
	struct hpa_spec spec;
};
#define T struct hpa_object
static const struct cfg_field object_fields[] = {
	{.key = "apiVersion", .type = CFG_T_STR, .off = offsetof(T, apiVersion), .flags = CFG_REQUIRED,
	 .doc = "autoscaling/v2"},
	{.key = "kind", .type = CFG_T_STR, .off = offsetof(T, kind), .flags = CFG_REQUIRED,
	 .doc = "HorizontalPodAutoscaler"},
	{.key = "metadata", .type = CFG_T_ANY, .off = offsetof(T, metadata), .doc = "ignored"},
	{.key = "status", .type = CFG_T_ANY, .off = offsetof(T, status), .doc = "ignored"},
	{.key = "spec", .type = CFG_T_STRUCT, .off = offsetof(T, spec), .sub = &sc_hpa_spec_schema,
	 .flags = CFG_REQUIRED, .doc = "the spec"},
	{NULL}};
#undef T

static int object_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct hpa_object *o = obj;
	if (strcmp(o->apiVersion, "autoscaling/v2") && strcmp(o->apiVersion, "autoscaling/v2beta2"))
		return cfg_error_at_key(c, n, "apiVersion", "expected autoscaling/v2, got '%s'", o->apiVersion);
	if (strcmp(o->kind, "HorizontalPodAutoscaler"))
		return cfg_error_at_key(c, n, "kind", "expected HorizontalPodAutoscaler, got '%s'", o->kind);
	return 0;
}
static const struct cfg_schema object_schema = {"HorizontalPodAutoscaler", sizeof(struct hpa_object),
						object_fields, object_check, NULL};

/* ---- autoscaler types ---- */

#define T struct sc_autoscaler_config
#define COMMON_FIELDS                                                                          \
	{.key = "type", .type = CFG_T_ENUM, .off = offsetof(T, type), .enums = kind_names,       \
	 .flags = CFG_REQUIRED, .doc = "hpa, kpa, keda, predictive or none"},                    \
	{.key = "metrics_pipeline", .type = CFG_T_STRUCT, .off = offsetof(T, metrics_pipeline),  \
	 .sub = &pipeline_schema, .doc = "how the controller sees metrics"}

static const struct cfg_field hpa_fields[] = {
	COMMON_FIELDS,
	{.key = "controller", .type = CFG_T_STRUCT, .off = offsetof(T, controller), .sub = &controller_schema,
	 .doc = "kube-controller-manager HPA flags"},
	{.key = "spec", .type = CFG_T_STRUCT, .off = offsetof(T, spec), .sub = &sc_hpa_spec_schema,
	 .has = true, .has_off = offsetof(T, has_spec), .doc = "an autoscaling/v2 HorizontalPodAutoscaler spec, verbatim"},
	{.key = "manifest", .type = CFG_T_PATH, .off = offsetof(T, manifest),
	 .doc = "path to a whole HorizontalPodAutoscaler manifest (instead of spec)"},
	{NULL}};

static const struct cfg_field kpa_fields[] = {
	COMMON_FIELDS,
	{.key = "metric", .type = CFG_T_ENUM, .off = offsetof(T, kpa.metric), .enums = kpa_metric_names,
	 .def = "concurrency", .doc = "autoscaling.knative.dev/metric: concurrency or rps"},
	{.key = "target", .type = CFG_T_DOUBLE, .off = offsetof(T, kpa.target), .def = "100",
	 .flags = CFG_GT, .doc = "autoscaling.knative.dev/target: per-pod concurrency or rps"},
	{.key = "target_utilization", .type = CFG_T_DOUBLE, .off = offsetof(T, kpa.target_utilization),
	 .def = "0.7", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 1,
	 .doc = "container-concurrency-target-percentage as a fraction"},
	{.key = "stable_window", .type = CFG_T_DURATION, .off = offsetof(T, kpa.stable_window),
	 .def = "60s", .flags = CFG_MIN | CFG_MAX, .min = 6, .max = 3600, .doc = "window-stable (6s to 1h)"},
	{.key = "panic_window_percentage", .type = CFG_T_DOUBLE, .off = offsetof(T, kpa.panic_window_percentage),
	 .def = "10", .flags = CFG_MIN | CFG_MAX, .min = 1, .max = 100, .doc = "panic window as a percentage of the stable window"},
	{.key = "panic_threshold_percentage", .type = CFG_T_DOUBLE,
	 .off = offsetof(T, kpa.panic_threshold_percentage), .def = "200", .flags = CFG_MIN | CFG_MAX,
	 .min = 110, .max = 1000, .doc = "enter panic when demand exceeds this percentage of capacity"},
	{.key = "min_scale", .type = CFG_T_INT, .off = offsetof(T, kpa.min_scale), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "min-scale (0 allows scale to zero)"},
	{.key = "max_scale", .type = CFG_T_INT, .off = offsetof(T, kpa.max_scale), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "max-scale (0 = unbounded)"},
	{.key = "initial_scale", .type = CFG_T_INT, .off = offsetof(T, kpa.initial_scale), .def = "1",
	 .flags = CFG_MIN, .min = 0, .doc = "initial-scale"},
	{.key = "activation_scale", .type = CFG_T_INT, .off = offsetof(T, kpa.activation_scale), .def = "1",
	 .flags = CFG_MIN, .min = 1, .doc = "activation-scale: replicas when scaling from zero"},
	{.key = "scale_to_zero_grace_period", .type = CFG_T_DURATION,
	 .off = offsetof(T, kpa.scale_to_zero_grace_period), .def = "30s",
	 .doc = "scale-to-zero-grace-period"},
	{.key = "scale_down_delay", .type = CFG_T_DURATION, .off = offsetof(T, kpa.scale_down_delay),
	 .def = "0s", .doc = "scale-down-delay"},
	{.key = "tick_interval", .type = CFG_T_DURATION, .off = offsetof(T, kpa.tick_interval), .def = "2s",
	 .flags = CFG_GT, .doc = "autoscaler tick"},
	{.key = "max_scale_up_rate", .type = CFG_T_DOUBLE, .off = offsetof(T, kpa.max_scale_up_rate),
	 .def = "1000", .flags = CFG_GT, .min = 1, .doc = "max-scale-up-rate (factor per tick)"},
	{.key = "max_scale_down_rate", .type = CFG_T_DOUBLE, .off = offsetof(T, kpa.max_scale_down_rate),
	 .def = "2", .flags = CFG_GT, .min = 1, .doc = "max-scale-down-rate (factor per tick)"},
	{.key = "target_burst_capacity", .type = CFG_T_DOUBLE, .off = offsetof(T, kpa.target_burst_capacity),
	 .def = "211", .flags = CFG_MIN, .min = -1, .doc = "target-burst-capacity (-1 = activator always in path)"},
	{NULL}};

static int kpa_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct sc_autoscaler_config *a = obj;
	if (a->kpa.max_scale && a->kpa.min_scale > a->kpa.max_scale)
		return cfg_error_at_key(c, n, "min_scale", "must not exceed max_scale");
	return 0;
}
#undef T

static int trigger_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj);

#define T struct keda_trigger
static const struct cfg_field trigger_fields[] = {
	{.key = "type", .type = CFG_T_STR, .off = offsetof(T, type), .flags = CFG_REQUIRED,
	 .doc = "scaler type, e.g. prometheus (metadata.query names a catalog metric)"},
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .doc = "trigger name"},
	{.key = "metricType", .type = CFG_T_ENUM, .off = offsetof(T, metricType), .enums = target_names,
	 .def = "AverageValue", .doc = "AverageValue (default), Value or Utilization"},
	{.key = "metadata", .type = CFG_T_ANY, .off = offsetof(T, metadata), .flags = CFG_REQUIRED,
	 .doc = "scaler metadata: query / metricName, threshold, activationThreshold"},
	{.key = "useCachedMetrics", .type = CFG_T_BOOL, .off = offsetof(T, useCachedMetrics), .def = "false",
	 .doc = "serve the HPA from the last poll"},
	{NULL}};
#undef T
static const struct cfg_schema trigger_schema = {"ScaleTriggers", sizeof(struct keda_trigger),
						 trigger_fields, trigger_check, NULL};

#define T struct keda_fallback
static const struct cfg_field fallback_fields[] = {
	{.key = "failureThreshold", .type = CFG_T_INT, .off = offsetof(T, failureThreshold),
	 .flags = CFG_REQUIRED | CFG_MIN, .min = 0, .doc = "failed polls before falling back"},
	{.key = "replicas", .type = CFG_T_INT, .off = offsetof(T, replicas), .flags = CFG_REQUIRED | CFG_MIN,
	 .min = 0, .doc = "replicas while falling back"},
	{NULL}};
#undef T
static const struct cfg_schema fallback_schema = {"Fallback", sizeof(struct keda_fallback),
						  fallback_fields, NULL, NULL};

#define T struct keda_hpa_config
static const struct cfg_field khpa_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .doc = "name of the generated HPA"},
	{.key = "behavior", .type = CFG_T_STRUCT, .off = offsetof(T, behavior), .sub = &behavior_schema,
	 .has = true, .has_off = offsetof(T, has_behavior), .doc = "behavior of the HPA KEDA drives"},
	{NULL}};
#undef T
static const struct cfg_schema khpa_schema = {"HorizontalPodAutoscalerConfig", sizeof(struct keda_hpa_config),
					      khpa_fields, NULL, NULL};

#define T struct keda_advanced
static const struct cfg_field advanced_fields[] = {
	{.key = "restoreToOriginalReplicaCount", .type = CFG_T_BOOL,
	 .off = offsetof(T, restoreToOriginalReplicaCount), .def = "false", .doc = "on deletion"},
	{.key = "horizontalPodAutoscalerConfig", .type = CFG_T_STRUCT,
	 .off = offsetof(T, horizontalPodAutoscalerConfig), .sub = &khpa_schema, .doc = "the HPA KEDA drives"},
	{NULL}};
#undef T
static const struct cfg_schema advanced_schema = {"AdvancedConfig", sizeof(struct keda_advanced),
						  advanced_fields, NULL, NULL};

#define T struct keda_spec
static const struct cfg_field keda_spec_fields[] = {
	{.key = "scaleTargetRef", .type = CFG_T_ANY, .off = offsetof(T, scaleTargetRef),
	 .doc = "kept for manifests; the target is the enclosing deployment"},
	{.key = "pollingInterval", .type = CFG_T_INT, .off = offsetof(T, pollingInterval), .def = "30",
	 .flags = CFG_MIN, .min = 1, .doc = "seconds between trigger polls"},
	{.key = "cooldownPeriod", .type = CFG_T_INT, .off = offsetof(T, cooldownPeriod), .def = "300",
	 .flags = CFG_MIN, .min = 0, .doc = "seconds after the last active trigger before scaling to zero"},
	{.key = "initialCooldownPeriod", .type = CFG_T_INT, .off = offsetof(T, initialCooldownPeriod),
	 .def = "0", .flags = CFG_MIN, .min = 0, .doc = "seconds after creation before the first scale to zero"},
	{.key = "idleReplicaCount", .type = CFG_T_INT, .off = offsetof(T, idleReplicaCount), .flags = CFG_MIN,
	 .min = 0, .has = true, .has_off = offsetof(T, has_idleReplicaCount), .doc = "replicas when no trigger is active"},
	{.key = "minReplicaCount", .type = CFG_T_INT, .off = offsetof(T, minReplicaCount), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "lower bound (0: scale to zero)"},
	{.key = "maxReplicaCount", .type = CFG_T_INT, .off = offsetof(T, maxReplicaCount), .def = "100",
	 .flags = CFG_MIN, .min = 1, .doc = "upper bound"},
	{.key = "fallback", .type = CFG_T_STRUCT, .off = offsetof(T, fallback), .sub = &fallback_schema,
	 .has = true, .has_off = offsetof(T, has_fallback), .doc = "replicas when polls fail"},
	{.key = "advanced", .type = CFG_T_STRUCT, .off = offsetof(T, advanced), .sub = &advanced_schema,
	 .doc = "advanced settings"},
	{.key = "triggers", .type = CFG_T_LIST, .off = offsetof(T, triggers), .sub = &trigger_schema,
	 .flags = CFG_REQUIRED, .doc = "what to scale on"},
	{NULL}};
#undef T

/* KEDA passes metadata values as strings; threshold and activationThreshold are quantities. */
static int trigger_value(struct cfg_ctx *c, const struct cfg_node *md, const char *k, bool required, int64_t *out)
{
	const struct cfg_node *v = cfg_map_get(md, k);
	char msg[128];
	if (cfg_is_null(v)) {
		if (required)
			return cfg_error(c, md, "trigger metadata needs '%s'", k);
		*out = 0;
		return 0;
	}
	if (v->kind != CFG_SCALAR || cfg_parse_quantity(v->str, out, msg, sizeof(msg)))
		return cfg_error(c, v, "'%s': expected a number or a quantity like 500m", k);
	return 0;
}

static int trigger_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	struct keda_trigger *t = obj;
	const struct cfg_node *md = t->metadata, *q;
	if (!md || md->kind != CFG_MAP)
		return cfg_error_at_key(c, n, "metadata", "expected a mapping");
	q = cfg_map_get(md, "query");
	if (cfg_is_null(q))
		q = cfg_map_get(md, "metricName");
	if (cfg_is_null(q) || q->kind != CFG_SCALAR)
		return cfg_error(c, md, "trigger metadata needs 'query' (a catalog metric, e.g. sum(vllm:num_requests_waiting))");
	{
		char msg[256];
		if (sc_query_parse(q->str, &t->q, msg, sizeof(msg)))
			return cfg_error(c, q, "%s", msg);
	}
	if (t->metricType == HPA_TARGET_UTILIZATION)
		return cfg_error_at_key(c, n, "metricType", "servesim's triggers take Value or AverageValue");
	if (trigger_value(c, md, "threshold", true, &t->threshold_m) ||
	    trigger_value(c, md, "activationThreshold", false, &t->activation_m))
		return -1;
	if (t->threshold_m <= 0)
		return cfg_error(c, cfg_map_get(md, "threshold"), "'threshold' must be positive");
	return 0;
}

static int keda_spec_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct keda_spec *k = obj;
	if (k->triggers.n == 0)
		return cfg_error_at_key(c, n, "triggers", "a ScaledObject needs at least one trigger");
	if (k->minReplicaCount > k->maxReplicaCount)
		return cfg_error_at_key(c, n, "minReplicaCount", "must not exceed maxReplicaCount (%lld)",
					(long long)k->maxReplicaCount);
	if (k->has_idleReplicaCount && k->idleReplicaCount >= k->minReplicaCount && k->minReplicaCount > 0)
		return cfg_error_at_key(c, n, "idleReplicaCount", "must be less than minReplicaCount");
	return 0;
}
static const struct cfg_schema keda_spec_schema = {"ScaledObjectSpec", sizeof(struct keda_spec),
						   keda_spec_fields, keda_spec_check, NULL};

#define T struct sc_autoscaler_config
static const struct cfg_field keda_fields[] = {
	COMMON_FIELDS,
	{.key = "controller", .type = CFG_T_STRUCT, .off = offsetof(T, controller), .sub = &controller_schema,
	 .doc = "kube-controller-manager settings of the HPA KEDA creates"},
	{.key = "spec", .type = CFG_T_STRUCT, .off = offsetof(T, keda), .sub = &keda_spec_schema,
	 .flags = CFG_REQUIRED, .doc = "a KEDA ScaledObject spec, verbatim"},
	{NULL}};

static const struct cfg_field predictive_fields[] = {
	COMMON_FIELDS,
	{.key = "method", .type = CFG_T_ENUM, .off = offsetof(T, predictive.method), .enums = method_names,
	 .def = "holt-winters", .doc = "holt-winters or seasonal-naive forecast of the arrival rate"},
	{.key = "metric", .type = CFG_T_STR, .off = offsetof(T, predictive.metric),
	 .def = "servesim:router_arrival_rate", .doc = "the rate metric to forecast"},
	{.key = "target_per_replica", .type = CFG_T_RATE, .off = offsetof(T, predictive.target_per_replica),
	 .flags = CFG_REQUIRED | CFG_GT, .min = 0, .doc = "rate one replica should carry"},
	{.key = "season", .type = CFG_T_DURATION, .off = offsetof(T, predictive.season), .def = "24h",
	 .flags = CFG_GT, .doc = "seasonal period"},
	{.key = "horizon", .type = CFG_T_DURATION, .off = offsetof(T, predictive.horizon), .def = "0s",
	 .doc = "how far ahead to scale (0s = the measured startup time)"},
	{.key = "history", .type = CFG_T_DURATION, .off = offsetof(T, predictive.history), .def = "0s",
	 .doc = "history kept for fitting (0s = two seasons)"},
	{.key = "sync_period", .type = CFG_T_DURATION, .off = offsetof(T, predictive.sync_period),
	 .def = "30s", .flags = CFG_GT, .doc = "decision interval"},
	{.key = "min_replicas", .type = CFG_T_INT, .off = offsetof(T, predictive.min_replicas), .def = "1",
	 .flags = CFG_MIN, .min = 0, .doc = "lower bound"},
	{.key = "max_replicas", .type = CFG_T_INT, .off = offsetof(T, predictive.max_replicas), .def = "10",
	 .flags = CFG_MIN, .min = 1, .doc = "upper bound"},
	{.key = "headroom", .type = CFG_T_DOUBLE, .off = offsetof(T, predictive.headroom), .def = "0.1",
	 .flags = CFG_MIN, .min = 0, .doc = "extra capacity over the forecast, as a fraction"},
	{NULL}};

static int predictive_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	struct sc_autoscaler_config *a = obj;
	char msg[256];
	if (a->predictive.min_replicas > a->predictive.max_replicas)
		return cfg_error_at_key(c, n, "min_replicas", "must not exceed max_replicas");
	if (sc_query_parse(a->predictive.metric, &a->predictive.q, msg, sizeof(msg))) {
		const struct cfg_node *m = cfg_map_get(n, "metric");
		return cfg_error(c, m ? m : n, "%s", msg);
	}
	return 0;
}

static const struct cfg_field none_fields[] = {COMMON_FIELDS, {NULL}};

static int hpa_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	struct sc_autoscaler_config *a = obj;
	if (a->has_spec == (a->manifest != NULL))
		return cfg_error(c, n, "an hpa autoscaler needs exactly one of 'spec' and 'manifest'");
	if (a->manifest) {
		struct hpa_object o;
		const struct cfg_node *m = cfg_doc_load_extra(c->doc, a->manifest, c->err);
		struct cfg_ctx mc;
		if (!m) {
			if (c->err->kind == SIM_EIO) {
				char msg[sizeof(c->err->msg)];
				snprintf(msg, sizeof(msg), "%s", c->err->msg);
				sim_err_clear(c->err);
				return cfg_error_at_key(c, n, "manifest", "%s", msg);
			}
			return -1;
		}
		cfg_ctx_init(&mc, c->doc, c->err);
		memset(&o, 0, sizeof(o));
		if (cfg_decode(&mc, m, &object_schema, &o))
			return -1;
		a->spec = o.spec;
		a->has_spec = true;
		a->manifest_node = m;
	}
	return 0;
}
#undef T

const struct cfg_schema sc_hpa_schema = {"hpa autoscaler", sizeof(struct sc_autoscaler_config), hpa_fields, hpa_check, NULL};
const struct cfg_schema sc_kpa_schema = {"kpa autoscaler", sizeof(struct sc_autoscaler_config), kpa_fields, kpa_check, NULL};
const struct cfg_schema sc_keda_schema = {"keda autoscaler", sizeof(struct sc_autoscaler_config), keda_fields, NULL, NULL};
const struct cfg_schema sc_predictive_schema = {"predictive autoscaler", sizeof(struct sc_autoscaler_config), predictive_fields, predictive_check, NULL};
static const struct cfg_schema none_schema = {"autoscaler none", sizeof(struct sc_autoscaler_config), none_fields, NULL, NULL};

int sc_autoscaler_decode(struct cfg_ctx *c, const struct cfg_node *n,
			 struct sc_autoscaler_config *out)
{
	static const struct cfg_schema *const by_kind[] = {&none_schema, &sc_hpa_schema, &sc_kpa_schema,
							    &sc_keda_schema, &sc_predictive_schema};
	static const struct cfg_field type_field = {.key = "type", .type = CFG_T_ENUM, .enums = kind_names};
	const struct cfg_node *t;
	int kind;
	size_t mark;

	memset(out, 0, sizeof(*out));
	if (cfg_is_null(n)) {
		cfg_defaults(c, &none_schema, out);
		out->type = SC_NONE;
		return 0;
	}
	if (n->kind != CFG_MAP)
		return cfg_error(c, n, "expected a mapping with 'type', got %s", cfg_kind_name(n->kind));
	t = cfg_map_get(n, "type");
	if (cfg_is_null(t))
		return cfg_error(c, n, "missing required key 'type' (hpa, kpa, keda, predictive or none)");
	mark = cfg_path_push_key(c, "type");
	if (cfg_decode_value(c, t, &type_field, &kind))
		return -1;
	cfg_path_pop(c, mark);
	return cfg_decode(c, n, by_kind[kind], out);
}
