/*
 * sim/report: what a run tells. Owns the `slo:`, `score:` and `outputs:`
 * sections, the JSON writer behind summary.json, the HDF5 writer behind
 * results.h5 (appendable, chunked, compressed compound tables) and atomic
 * file output (a temporary name, then rename).
 *
 * Invariants:
 *  - Writers never emit a value that depends on wall clock, pointer values
 *    or hash order; keys come out in the order the caller writes them.
 *  - A file is visible under its final name only when it is complete.
 */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include "../config/config.h"

#include <stdio.h>

/* ---- configuration ---- */

struct rep_slo_class {
	sim_time ttft, tpot, e2e; /* e2e 0: not checked */
};

enum rep_cmp { REP_LE, REP_LT, REP_GE, REP_GT, REP_EQ };

struct rep_constraint {
	const char *field; /* a summary.json path, e.g. ttft_s.p99 */
	int op;            /* enum rep_cmp */
	double value;
	const char *text;
};

struct rep_score {
	const char *minimize, *maximize;
	struct cfg_list subject_to; /* of struct rep_constraint */
	struct cfg_list weights;    /* of struct cfg_named (double values) */
};

struct rep_outputs {
	sim_time timeseries_interval;
	bool requests;         /* write /requests rows */
	const char *openmetrics_epoch; /* RFC 3339 time of simulated t=0 */
	sim_time oscillation_window;   /* a change against the previous within it is a reversal */
};

struct rep_config {
	struct cfg_list slo; /* of struct cfg_named (struct rep_slo_class) */
	struct rep_score score;
	struct rep_outputs outputs;
	bool has_score;
};

extern const struct cfg_schema rep_score_schema;
extern const struct cfg_schema rep_outputs_schema;
extern const struct cfg_schema rep_slo_class_schema;
int rep_decode_slo(struct cfg_ctx *c, const struct cfg_node *n, void *dst);
/* True when `path` names a numeric summary.json field usable in a score. */
bool rep_summary_field_known(const char *path);
extern const char *const rep_summary_fields[];

/* ---- JSON ---- */

struct rep_json {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[64];   /* no element written yet at this depth */
	bool after_key;
};

void rep_json_init(struct rep_json *j);
void rep_json_release(struct rep_json *j);
void rep_json_begin_object(struct rep_json *j);
void rep_json_end_object(struct rep_json *j);
void rep_json_begin_array(struct rep_json *j);
void rep_json_end_array(struct rep_json *j);
void rep_json_key(struct rep_json *j, const char *key);
void rep_json_str(struct rep_json *j, const char *s);
void rep_json_int(struct rep_json *j, int64_t v);
/* Shortest text that reads back as the same double; non-finite -> null. */
void rep_json_double(struct rep_json *j, double v);
void rep_json_bool(struct rep_json *j, bool v);
void rep_json_null(struct rep_json *j);
/* Formats v as the shortest round-trip decimal into buf (>= 32 bytes). */
void rep_fmt_double(double v, char *buf, size_t n);
/* Appends s as a JSON string literal (quotes and escapes) to j's buffer. */
void rep_json_escape(struct rep_json *j, const char *s);
/* Appends text as it is (the buffer doubles as a string builder). */
void rep_json_raw(struct rep_json *j, const char *text);

/* ---- files ---- */

/* Writes data to path atomically (temporary file, then rename). */
int rep_write_file(const char *path, const char *data, size_t len, struct sim_err *err);
/* Creates a directory and its parents. */
int rep_mkdir_p(const char *dir, struct sim_err *err);

/* ---- HDF5 tables ---- */

enum rep_col_type { REP_COL_I64, REP_COL_I32, REP_COL_F64, REP_COL_STR };

struct rep_col {
	const char *name;
	enum rep_col_type type;
	size_t off;
	size_t len; /* REP_COL_STR: fixed length including the NUL */
};

struct rep_h5; /* one results file being written */
struct rep_h5_table;

/* Opens path's temporary sibling for writing; rep_h5_close commits it. */
struct rep_h5 *rep_h5_create(const char *path, struct sim_err *err);
/* commit: rename into place; otherwise delete. Returns -1 on I/O error. */
int rep_h5_close(struct rep_h5 *h, bool commit, struct sim_err *err);
/* A chunked, deflate-compressed, appendable table of rows of row_size bytes
 * laid out as cols describe; groups on the path are created. */
struct rep_h5_table *rep_h5_table_new(struct rep_h5 *h, const char *path,
				      const struct rep_col *cols, size_t ncols,
				      size_t row_size, struct sim_err *err);
int rep_h5_table_append(struct rep_h5_table *t, const void *rows, size_t n);
/* Flushes buffered rows; the table handle is freed. */
int rep_h5_table_close(struct rep_h5_table *t);
int rep_h5_attr_str(struct rep_h5 *h, const char *obj, const char *name,
		    const char *value);

/* ---- run results ---- */

enum rep_status { REP_COMPLETED, REP_FAILED, REP_DROPPED, REP_IN_FLIGHT, REP_REJECTED };

/* One /requests row: what happened to one request (times in seconds). */
struct rep_request_row {
	int64_t id;
	int32_t workload, deployment, replica, status;
	char tenant[32], slo_class[32];
	double arrival_s, first_scheduled_s, first_token_s, finish_s;
	int64_t prompt_tokens, output_tokens, cached_tokens;
	int32_t preemptions, retries, priority;
	/* disaggregation (-1 / NaN / 0 when colocated) */
	int32_t prefill_replica, decode_replica;
	double transfer_start_s, transfer_end_s, kv_bytes;
};

struct rep_request_counts {
	int64_t arrived, completed, failed, dropped, in_flight_at_end;
};

/* mean and percentiles of a sample (seconds); n = 0: all null */
struct rep_dist {
	size_t n;
	double mean, p50, p90, p99, max;
};
/* Sorts v in place and summarises it (percentiles interpolate linearly,
 * as numpy's default does). */
void rep_dist_of(double *v, size_t n, struct rep_dist *d);

/*
 * A streaming quantile sketch for non-negative values (seconds): buckets
 * 0.1% wide on a log scale from 1 ns to about 3 years, so memory is fixed
 * whatever the number of samples. Count, mean and max are exact;
 * percentiles interpolate between bucket centres as numpy interpolates
 * between samples, within 0.05% of the exact value.
 */
struct rep_sketch {
	int64_t *bins; /* allocated at the first sample */
	int64_t n, zeros;
	double sum, max;
};
void rep_sketch_add(struct rep_sketch *s, double v);
void rep_sketch_free(struct rep_sketch *s);
void rep_dist_of_sketch(const struct rep_sketch *s, struct rep_dist *d);

/* One workload's part (trace counts only for trace workloads). */
struct rep_workload {
	const char *name;
	int64_t arrived;
	bool trace;
	int64_t rows, skipped, filtered, failures, capped, thinned, copies;
};

/* One slice of the requests (an SLO class, a deployment, a tenant). */
struct rep_group {
	const char *name;
	int64_t arrived, completed, failed, dropped, met;
	struct rep_sketch ttft, tpot;
	/* filled by rep_group_finish */
	struct rep_dist ttft_d, tpot_d;
	double attainment, goodput_rps;
	/* a class: its thresholds; a deployment: its mean ready replicas and scaling */
	double ttft_thr, tpot_thr;
	double replicas_mean;
	int64_t scale_events, reversals, total_variation;
};
/* A request that ended; slo: its class's thresholds (e2e 0: not checked). */
void rep_group_end(struct rep_group *g, int status, double ttft_s, double tpot_s, double e2e_s,
		   const struct rep_slo_class *slo);
void rep_group_finish(struct rep_group *g, double sim_time_s);
void rep_group_release(struct rep_group *g);
/* Did a completed request meet its SLO? tpot_s < 0: one output token (no TPOT). */
bool rep_slo_met(const struct rep_slo_class *slo, double ttft_s, double tpot_s, double e2e_s);

/* Oscillation of a replica series: changes, reversals (a change against the
 * previous one's direction within `window`), total variation. */
struct rep_osc {
	int64_t last, events, reversals, total_variation;
	int dir; /* last change: +1, -1, 0 none */
	double last_t;
	bool started;
};
void rep_osc_add(struct rep_osc *o, double t_s, int64_t replicas, double window_s);

/* What summary.json says; grows with the rooms that fill it. */
struct rep_summary {
	const char *scenario;
	uint64_t seed;
	/* provenance: the build's version, and the SHA-256 of the resolved scenario text */
	const char *version, *scenario_sha256;
	sim_time sim_time;
	double wall_time_s; /* the only field that may differ between identical runs */
	uint64_t events_processed;
	struct rep_request_counts requests;
	struct rep_dist ttft, tpot, e2e, queue;
	double input_tokens_per_s, output_tokens_per_s;
	double gpu_busy, kv_usage_mean, replicas_mean;
	double cost_usd, gpu_hours, usd_per_million_tokens;
	const struct rep_workload *workloads;
	size_t nworkloads;
	/* slo: thresholds of the default class, attainment over every request that ended */
	double slo_ttft, slo_tpot, attainment, goodput_rps;
	int64_t scale_events, direction_reversals, replica_total_variation;
	const struct rep_group *classes, *deployments, *tenants;
	size_t nclasses, ndeployments, ntenants;
	/* disaggregation: KV transfers (count 0: none) */
	int64_t kv_transfers, kv_waits;
	double kv_bytes;
	struct rep_dist kv_transfer;
	/* score: NaN when no score: block; feasible = false when a constraint is violated */
	bool has_score, feasible;
	double score;
	const char *violated[8];
	double violated_value[8];
	size_t nviolated;
};
/* A numeric summary field by its path (rep_summary_fields); false when unknown. */
bool rep_summary_value(const struct rep_summary *s, const char *path, double *v);
/* Evaluates the score: block into s->score / feasible / violated. */
void rep_score_eval(const struct rep_score *sc, struct rep_summary *s);

/* Renders summary.json (keys in the contract's order). */
void rep_summary_json(const struct rep_summary *s, struct rep_json *j);

/* One /pods row: a pod's life, times in seconds (NaN: never). */
struct rep_pod_row {
	int32_t id, deployment, node, variant, restarts;
	char gpu[24], state[16], reason[32];
	double created_s, scheduled_s, image_pulled_s, weights_ready_s, loaded_s, ready_s, endpoint_s,
		terminated_s;
};

/* One /nodes row. */
struct rep_node_row {
	int32_t id, gpus;
	char pool[32], state[16], reason[32];
	double requested_s, ready_s, gpus_ready_s, deleted_s, cost_usd;
};

/* One /scale_events row: an autoscaler decision. */
struct rep_scale_event_row {
	double t_s;
	int32_t deployment;
	char controller[16];
	double input; /* what the controller saw (its first metric), NaN: nothing */
	int32_t from, proposal, to;
	char reason[48];
};

struct rep_results; /* results.h5 being written */
/* requests: whether /requests is written (outputs.requests); without it,
 * rep_results_add_request() keeps nothing. */
struct rep_results *rep_results_open(const char *path, bool requests, struct sim_err *err);
int rep_results_add_request(struct rep_results *r, const struct rep_request_row *row);
int rep_results_pods(struct rep_results *r, const struct rep_pod_row *rows, size_t n);
int rep_results_nodes(struct rep_results *r, const struct rep_node_row *rows, size_t n);
int rep_results_scale_events(struct rep_results *r, const struct rep_scale_event_row *rows, size_t n);
int rep_results_set_scenario(struct rep_results *r, const char *yaml_text);
/* Appends (t, value) to /timeseries/<deployment>/<metric>. */
int rep_results_series(struct rep_results *r, const char *deployment, const char *metric,
		       double t_s, double value);
/* ---- OpenMetrics export ---- */
struct rep_om;
/* "2026-01-01T00:00:00Z" (UTC only) as Unix seconds; -1 when malformed. */
int rep_parse_rfc3339(const char *s, double *out);
struct rep_om *rep_om_new(double epoch_s);
/* The OpenMetrics family of a /timeseries metric: kube-state-metrics',
 * vLLM's, DCGM's or servesim's own name; *help its HELP text. */
const char *rep_om_family(const char *metric, const char **help);
/* {namespace="default",deployment="D",model_name="M"}, values escaped. */
void rep_om_deployment_labels(char *out, size_t n, const char *deployment, const char *model);
void rep_om_free(struct rep_om *o);
/* One sample of a family's series; labels rendered, e.g. {deployment="chat"} or "". */
void rep_om_add(struct rep_om *o, const char *family, const char *help, const char *labels, double t_s, double v);
/* Writes every family, then "# EOF" (temporary name, then renamed). */
int rep_om_write(const struct rep_om *o, const char *path, struct sim_err *err);

/* commit: complete the file and rename it into place; else discard. */
int rep_results_close(struct rep_results *r, bool commit, struct sim_err *err);

#endif
