/*
 * sim/workload: where requests come from. Owns the `workloads:` section of a
 * scenario (arrival processes, rate profiles, length models, trace replay)
 * and, from the workload issue on, the sources that turn it into requests.
 *
 * Invariants:
 *  - Each workload draws from its own RNG stream named after it, so two
 *    scenarios that differ only in policy see identical requests.
 *  - A decoded wl_config is internally consistent: exactly one of arrivals
 *    and trace; a length model for synthetic arrivals; ordered rate points.
 */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include "../config/config.h"

#include <stdio.h>

enum wl_process { WL_POISSON, WL_GAMMA, WL_DETERMINISTIC, WL_ONOFF };
enum wl_rate_kind { WL_RATE_CONST, WL_RATE_STEPS, WL_RATE_RAMPS, WL_RATE_DIURNAL, WL_RATE_CSV };

struct wl_diurnal {
	sim_time period;
	double peak, trough; /* per second */
	sim_time peak_at;    /* offset of the peak within the period */
};

struct wl_rate {
	enum wl_rate_kind kind;
	double value;          /* CONST: per second */
	struct cfg_list steps; /* of struct cfg_tpair: rate holds until the next */
	struct cfg_list ramps; /* of struct cfg_tpair: linear between points */
	struct wl_diurnal diurnal;
	const char *csv; /* (time, rate) points, linear between */
};

struct wl_arrivals {
	int process; /* enum wl_process */
	double cv;   /* gamma: coefficient of variation of inter-arrival times */
	struct wl_rate rate;
	double multiplier;
	sim_time on_duration, off_duration; /* onoff: mean burst and gap lengths */
	bool has_rate;
};

enum wl_dist_kind { WL_DIST_FIXED, WL_DIST_UNIFORM, WL_DIST_NORMAL, WL_DIST_LOGNORMAL };

struct wl_dist {
	int dist; /* enum wl_dist_kind */
	double value, min, max, mean, stddev, p50, p90;
	bool has_value, has_min, has_max, has_mean, has_stddev, has_p50, has_p90;
};

struct wl_lengths {
	struct wl_dist prompt, output;
	bool has_prompt, has_output;
	const char *empirical; /* CSV of joint (prompt, output) samples */
	const char *prompt_column, *output_column;
};

enum wl_trace_format { WL_FMT_AUTO, WL_FMT_AZURE, WL_FMT_MOONCAKE, WL_FMT_BURSTGPT, WL_FMT_CSV, WL_FMT_JSONL };
/* Their names, as `trace.format` and `--trace-format` take them (NULL-terminated). */
extern const char *const wl_trace_format_names[];
enum wl_on_error { WL_ON_ERROR_FAIL, WL_ON_ERROR_SKIP };

enum wl_ts_unit { WL_TS_S, WL_TS_MS, WL_TS_US, WL_TS_NS };

struct wl_columns {
	const char *timestamp, *prompt, *output, *hash_ids;
	int timestamp_unit; /* enum wl_ts_unit */
};

struct wl_trace {
	const char *path;
	int format; /* enum wl_trace_format */
	double time_scale, rate_scale;
	sim_time start, end; /* window of trace time; end 0 = to the end */
	bool loop, sort;
	int on_error; /* enum wl_on_error */
	int64_t max_prompt_tokens, max_output_tokens; /* 0 = no cap */
	const char *model, *log_type; /* BurstGPT filters */
	struct wl_columns columns;
};

/* Shared prompt prefixes (system prompts, few-shot examples): each request
 * falls in one of `groups`; requests of a group share their first tokens. */
struct wl_prefix {
	int64_t tokens, groups;
	double share; /* fraction of requests that carry a prefix */
};

struct wl_config {
	const char *name;
	const char *deployment; /* target deployment (or NULL: by model) */
	const char *model;
	const char *tenant, *slo_class, *lora;
	int64_t priority;
	struct wl_arrivals arrivals;
	struct wl_lengths lengths;
	struct wl_trace trace;
	struct wl_prefix prefix;
	bool has_arrivals, has_lengths, has_trace, has_prefix;
	sim_time start, end; /* active window in simulated time; end 0 = duration */
};

extern const struct cfg_schema wl_config_schema;

/* ---- trace readers ---- */

/* One trace row: time in ns of trace time (absolute for date-times). */
struct wl_row {
	int64_t t;
	int64_t prompt, output;
	const uint64_t *ids; /* prefix block hash ids (Mooncake), valid until the next row */
	size_t nids;
	int64_t line;
};

struct wl_trace_reader {
	const struct wl_trace *cfg;
	struct sim_err *err;
	const char *path;
	int format; /* resolved from auto after opening */
	FILE *f;
	char *buf;
	size_t cap;
	int64_t line;
	bool pending; /* buf holds a row already (JSONL has no header) */
	size_t ncols;
	int c_ts, c_prompt, c_output, c_model, c_log;
	double unit_ns;
	uint64_t *ids;
	size_t nids, ids_cap;
	int64_t rows, skipped, filtered, failures;
};

/* format: enum wl_trace_format (auto: from the header or first line). */
int wl_trace_open(struct wl_trace_reader *r, const struct wl_trace *cfg, const char *path, int format,
		  struct sim_err *err);
/* 1: a row; 0: the end; -1: an error in r->err ("file:line[:col]: ..."). */
int wl_trace_next(struct wl_trace_reader *r, struct wl_row *row);
int wl_trace_rewind(struct wl_trace_reader *r);
void wl_trace_close(struct wl_trace_reader *r);
/* "2023-11-16 18:17:03.9799600", "2024-05-10 00:00:00.009930+00:00": ns since the epoch. */
int wl_parse_datetime(const char *s, int64_t *ns);
/* The mean token block size of Mooncake hash ids. */
#define WL_MOONCAKE_BLOCK 512

/* ---- sources ---- */

/* A piece of the rate profile: rate goes linearly from r0 to r1 over [t0, t1). */
struct wl_seg {
	double t0, t1, r0, r1; /* seconds, per second */
};

/* Turns a workload's configuration into arrivals. Arrival times come from
 * the stream "workload/<name>/arrivals", lengths from ".../lengths", so a
 * change of length model never moves an arrival. Non-homogeneous rates are
 * sampled exactly: unit-rate arrivals in operational time, mapped through
 * the inverse of the cumulative rate. */
struct wl_trace_state;

struct wl_source {
	const struct wl_config *cfg;
	struct sim_rng *arr, *len, *pre, *onoff;
	struct wl_seg *segs;
	size_t nsegs, seg;  /* current segment */
	double lambda_at;   /* cumulative rate at the start of the current segment */
	double op;          /* operational time of the last arrival */
	double end_s;       /* no arrivals at or after this time */
	double on_until, off_until; /* onoff: the current burst and the gap after it */
	int64_t *emp;       /* empirical (prompt, output) pairs */
	size_t nemp;
	int64_t emitted;
	struct wl_trace_state *tr;
	double rate_multiplier; /* scenario-wide */
};

/* What a trace workload read, for the summary. */
struct wl_trace_stats {
	int64_t rows, skipped, filtered, failures, capped, thinned, copies;
};

/* rate_multiplier scales every rate (and a trace's rate_scale). */
int wl_source_init(struct wl_source *w, const struct wl_config *cfg, uint64_t seed,
		   sim_time duration, double rate_multiplier, struct sim_err *err);
/* Trace workloads: counts so far (zeros otherwise). */
void wl_source_trace_stats(const struct wl_source *w, struct wl_trace_stats *out);
/* After wl_source_next returned false: an error, if that is why. */
bool wl_source_failed(const struct wl_source *w);
void wl_source_release(struct wl_source *w);
/* One arrival. prefix_key identifies the shared prefix (0: none) of the
 * first prefix_tokens prompt tokens; or ids are a trace's block hash chain,
 * one id per ids_block tokens (valid until the next call). */
struct wl_arrival {
	sim_time t;
	int64_t prompt, output;
	uint64_t prefix_key;
	int64_t prefix_tokens;
	const uint64_t *ids;
	size_t nids;
	int64_t ids_block;
};
/* The next arrival: false when the source is exhausted. */
bool wl_source_next(struct wl_source *w, struct wl_arrival *a);
/* One draw from a length distribution (>= 1, clipped to [min, max]). */
int64_t wl_dist_draw(const struct wl_dist *d, struct sim_rng *r);
/* The lognormal's (mu, sigma) from two of mean, p50, p90. */
void wl_lognormal_params(const struct wl_dist *d, double *mu, double *sigma);

#endif
