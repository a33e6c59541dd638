/*
 * The Kubernetes HorizontalPodAutoscaler's algorithm, as kube-controller-
 * manager runs it (pkg/controller/podautoscaler: replica_calculator.go and
 * horizontal.go, tolerance-aware as of 1.33): the replica calculator for
 * every metric source and target type, pod grouping (ignored, unready,
 * missing), the legacy and the behavior-driven normalisation with their
 * stabilisation windows and rate-limit policies, and the event history.
 *
 * It works on plain data (pods, metric samples, times), so `servesim
 * hpa-eval` and the simulated controller run the same code.
 *
 * Times are int64 ns on one clock; HPA_ZERO_TIME stands for Go's zero
 * time.Time (far in the past, but finite: zero + 30 s is after zero, as in
 * Go). Quantities are milli-units (Quantity.MilliValue()).
 */
#ifndef SIM_SCALE_HPA_H
#define SIM_SCALE_HPA_H

#include "../core/core.h"

#define HPA_ZERO_TIME (INT64_MIN / 4)

enum hpa_phase { HPA_POD_RUNNING, HPA_POD_PENDING, HPA_POD_FAILED, HPA_POD_SUCCEEDED };

struct hpa_pod {
	int phase;
	bool ready;     /* the PodReady condition */
	bool deleted;   /* deletionTimestamp set */
	sim_time start, ready_transition; /* HPA_ZERO_TIME: zero */
	int64_t request_m;
	bool has_request;
};

enum hpa_src {
	HPA_SRC_RESOURCE, HPA_SRC_CONTAINER_RESOURCE, HPA_SRC_PODS, HPA_SRC_OBJECT, HPA_SRC_EXTERNAL,
	HPA_SRC_INVALID
};
enum hpa_ttype { HPA_T_UTILIZATION, HPA_T_VALUE, HPA_T_AVERAGE_VALUE, HPA_T_NONE };

/* One metric of an HPA with the samples the metrics APIs returned. */
struct hpa_metric {
	int src;        /* enum hpa_src */
	bool cpu;       /* a Resource metric of cpu: readiness rules apply */
	int ttype;      /* enum hpa_ttype */
	int64_t target_utilization; /* percent */
	int64_t target_m;           /* value or average value, milli */
	/* per-pod samples (Resource, Pods): index = pod index; past npods: pods not listed */
	const int64_t *pod_values_m;
	const bool *pod_has; /* NULL: every value present */
	size_t npod_values;
	sim_time sample_time, sample_window;
	int64_t value_m;           /* Object */
	const int64_t *values_m;   /* External: summed */
	size_t nvalues;
	bool fetch_error;          /* the metrics API call fails */
};

struct hpa_tolerances {
	double up, down;
};

struct hpa_params {
	struct hpa_tolerances tol;
	sim_time cpu_initialization_period, initial_readiness_delay;
	sim_time downscale_stabilization;
	double legacy_scale_up_factor, legacy_scale_up_minimum; /* 2 and 4 in production */
};

/* What the calculator found for one metric. */
struct hpa_calc {
	int32_t replicas;
	int64_t utilization;   /* percent (Resource Utilization) */
	int64_t raw_average_m; /* Resource Utilization: mean usage over pods with a request */
	int64_t usage_m;       /* Pods, Object, External, Resource AverageValue */
	bool has_utilization, has_raw, has_usage;
};

/* One metric through the replica calculator: 0, or -1 when the metric is
 * invalid (an error in Kubernetes). `current` is spec.replicas, and
 * `status` status.replicas (for AverageValue Object/External targets). */
int hpa_replica_calc(const struct hpa_params *p, sim_time now, int32_t current, int32_t status,
		     const struct hpa_pod *pods, size_t npods, const struct hpa_metric *m,
		     struct hpa_calc *out);

/* ---- normalisation ---- */

enum hpa_policy_kind { HPA_PODS, HPA_PERCENT };
enum hpa_select_kind { HPA_SELECT_MAX_, HPA_SELECT_MIN_, HPA_SELECT_DISABLED_ };

struct hpa_rule_policy {
	int type;
	int32_t value, period_s;
};

/* HPAScalingRules after the API server's defaulting. */
struct hpa_rules_rt {
	int32_t window_s;
	bool has_window; /* scale-down: false = the controller's flag */
	int select;      /* enum hpa_select_kind */
	struct hpa_rule_policy policies[16];
	size_t npolicies;
	double tolerance;
	bool has_tolerance;
};

struct hpa_behavior_rt {
	struct hpa_rules_rt up, down;
};

/* API defaulting (autoscaling/v2 defaults.go) for absent parts. */
void hpa_default_up(struct hpa_rules_rt *r);
void hpa_default_down(struct hpa_rules_rt *r);

struct hpa_rec {
	int32_t replicas;
	sim_time t;
};

struct hpa_event {
	int32_t change;
	sim_time t;
	bool outdated;
};

/* The controller's memory of one HPA (lost on a restart, as in Kubernetes). */
struct hpa_state {
	struct hpa_rec *recs;
	size_t nrecs, recs_cap;
	bool has_recs; /* recordInitialRecommendation has run */
	struct hpa_event *up, *down;
	size_t nup, ndown, up_cap, down_cap;
};

void hpa_state_release(struct hpa_state *s);
void hpa_rec_push(struct hpa_state *s, int32_t replicas, sim_time t);

/* Legacy (no behavior) stabilisation: the max over the window; returns it
 * and records the prenormalised value (reusing the last old slot). */
int32_t hpa_stabilize_legacy(struct hpa_state *s, sim_time now, sim_time window, int32_t prenormalized);
/* convertDesiredReplicasWithRules; *condition: DesiredWithinRange,
 * ScaleUpLimit, TooManyReplicas or TooFewReplicas. */
int32_t hpa_legacy_rules(const struct hpa_params *p, int32_t current, int32_t desired, int32_t min,
			 int32_t max, const char **condition);
/* stabilizeRecommendationWithBehaviors. */
int32_t hpa_stabilize_behavior(struct hpa_state *s, sim_time now, int32_t up_window_s,
			       int32_t down_window_s, int32_t current, int32_t prenormalized);
/* calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
int32_t hpa_policy_limit(const struct hpa_state *s, sim_time now, bool up, int32_t current,
			 const struct hpa_rules_rt *rules);
/* convertDesiredReplicasWithBehaviorRate. */
int32_t hpa_rate_limit(const struct hpa_state *s, sim_time now, const struct hpa_behavior_rt *b,
		       int32_t current, int32_t desired, int32_t min, int32_t max, const char **condition);
/* storeScaleEvent. */
void hpa_store_event(struct hpa_state *s, sim_time now, const struct hpa_behavior_rt *b, int32_t prev,
		     int32_t next);

/* One reconcile of an HPA: the replicas it sets (== spec when nothing
 * changes). behavior NULL: the legacy path. min_replicas < 0: unset (1). */
int32_t hpa_reconcile(const struct hpa_params *p, struct hpa_state *s, sim_time now, int32_t spec,
		      int32_t status, int32_t min_replicas, int32_t max_replicas,
		      const struct hpa_pod *pods, size_t npods, const struct hpa_metric *metrics,
		      size_t nmetrics, const struct hpa_behavior_rt *behavior, const char **reason);

/* ---- golden cases (`servesim hpa-eval`) ---- */

/* The cases of a file in the format of ../shared/reference/hpa-cases.yaml
 * (schema 1: defaults, cases with id, kind, controller, input, expected),
 * decoded into the plain data above. Owned by hpa_cases.c: the cases point
 * into the loaded document, which lives until hpa_cases_release. */
struct cfg_doc;
struct cfg_node;

enum hpa_case_kind {
	HPA_CASE_REPLICA_CALC, HPA_CASE_CONTROLLER_SYNC, HPA_CASE_STABILIZE_LEGACY, HPA_CASE_STABILIZE_BEHAVIOR,
	HPA_CASE_RATE_LIMIT, HPA_CASE_POLICY_LIMIT, HPA_CASE_LEGACY_RULES
};

/* What a case computes; the fields its kind does not set stay 0/false/NULL. */
struct hpa_case_result {
	bool error; /* replica_calc: the metric is invalid */
	int64_t replicas, desired, utilization, raw, usage, history_length, limit;
	bool has_util, has_raw, has_usage;
	const char *condition; /* rate_limit, legacy_rules (static strings) */
	int32_t *stored;       /* stabilize_behavior: the recommendations kept, in slot order */
	size_t nstored;
};

struct hpa_case {
	const char *id;
	int kind;                        /* enum hpa_case_kind */
	const struct cfg_node *expected; /* the case's `expected:` (any node, or NULL) */
	struct hpa_params params;        /* defaults, then the case's `controller:` */
	/* input, as each kind reads it */
	struct hpa_pod *pods;
	size_t npods;
	struct hpa_metric *metrics; /* replica_calc: one */
	size_t nmetrics;
	int32_t current, prenormalized, spec, status, min, max; /* min -1: unset */
	sim_time window;                 /* stabilize_legacy */
	int32_t up_window_s, down_window_s; /* stabilize_behavior */
	bool has_behavior, up;           /* controller_sync: behavior given; policy_limit: direction */
	struct hpa_behavior_rt behavior; /* controller_sync, rate_limit */
	struct hpa_rules_rt rules;       /* policy_limit */
	struct hpa_state history;        /* recommendations and scale events as given */
	struct hpa_case_result got;      /* set by hpa_case_eval */
};

struct hpa_cases {
	struct cfg_doc *doc;
	size_t listed;       /* cases in the file's list */
	struct hpa_case *v;  /* the decoded ones, in order */
	size_t n, cap;
};

/* Loads and decodes a cases file. On bad input: -1 and err names the
 * file:line:col (SIM_EINPUT; exit 2); the cases before the bad one stay
 * decoded in cs (hpa-eval prints them first, as it always did). Release cs
 * in every case. */
int hpa_cases_load(struct hpa_cases *cs, const char *path, struct sim_err *err);
void hpa_cases_release(struct hpa_cases *cs);
/* Runs a case through the algorithm into c->got, at now = 0 on a copy of
 * its history (so it may run again). */
void hpa_case_eval(struct hpa_case *c);
/* --check: whether the computed value named `field` equals `want` (a node
 * of the case's expected map); unknown fields never do. */
bool hpa_case_matches(const struct hpa_case *c, const char *field, const struct cfg_node *want);

#endif
