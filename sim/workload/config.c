/* The `workloads:` section: schema tables and consistency checks. */
#include "workload.h"

#include <stddef.h>
#include <string.h>

static const char *const process_names[] = {"poisson", "gamma", "deterministic", "onoff", NULL};
static const char *const dist_names[] = {"fixed", "uniform", "normal", "lognormal", NULL};
const char *const wl_trace_format_names[] = {"auto", "azure", "mooncake", "burstgpt", "csv", "jsonl", NULL};
static const char *const on_error_names[] = {"fail", "skip", NULL};
static const char *const ts_unit_names[] = {[WL_TS_S] = "s", [WL_TS_MS] = "ms", [WL_TS_US] = "us", [WL_TS_NS] = "ns", NULL};

/* ---- rate: a scalar, or one of steps | ramps | diurnal | csv ---- */

#define T struct wl_diurnal
static const struct cfg_field diurnal_fields[] = {
	{.key = "period", .type = CFG_T_DURATION, .off = offsetof(T, period), .def = "24h",
	 .flags = CFG_GT, .doc = "length of one cycle"},
	{.key = "peak", .type = CFG_T_RATE, .off = offsetof(T, peak), .flags = CFG_REQUIRED,
	 .doc = "highest rate in the cycle"},
	{.key = "trough", .type = CFG_T_RATE, .off = offsetof(T, trough), .flags = CFG_REQUIRED,
	 .doc = "lowest rate in the cycle"},
	{.key = "peak_at", .type = CFG_T_DURATION, .off = offsetof(T, peak_at), .def = "0s",
	 .doc = "time within each period at which the rate peaks (a sinusoid)"},
	{NULL}};
#undef T

static int diurnal_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct wl_diurnal *d = obj;
	if (d->trough > d->peak)
		return cfg_error_at_key(c, n, "trough", "must not exceed peak");
	if (d->peak_at >= d->period)
		return cfg_error_at_key(c, n, "peak_at", "must be less than period");
	return 0;
}

static const struct cfg_schema diurnal_schema = {"diurnal rate", sizeof(struct wl_diurnal),
						 diurnal_fields, diurnal_check, NULL};

#define T struct wl_rate
static const struct cfg_field rate_fields[] = {
	{.key = "steps", .type = CFG_T_CUSTOM, .off = offsetof(T, steps), .fn = cfg_custom_rate_pairs,
	 .doc = "list of [time, rate]: each rate holds until the next point"},
	{.key = "ramps", .type = CFG_T_CUSTOM, .off = offsetof(T, ramps), .fn = cfg_custom_rate_pairs,
	 .doc = "list of [time, rate]: linear between points, the last rate holds after"},
	{.key = "diurnal", .type = CFG_T_STRUCT, .off = offsetof(T, diurnal), .sub = &diurnal_schema,
	 .doc = "a sinusoid between trough and peak"},
	{.key = "csv", .type = CFG_T_PATH, .off = offsetof(T, csv),
	 .doc = "file of `time_s,rate` rows, linear between points"},
	{NULL}};
#undef T

static const struct cfg_schema rate_map_schema = {"rate profile", sizeof(struct wl_rate),
						  rate_fields, NULL, NULL};

static int rate_decode(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	struct wl_rate *r = dst;
	int given = 0;
	if (n->kind == CFG_SCALAR) {
		static const struct cfg_field f = {.key = "rate", .type = CFG_T_RATE};
		r->kind = WL_RATE_CONST;
		return cfg_decode_value(c, n, &f, &r->value);
	}
	if (n->kind != CFG_MAP)
		return cfg_error(c, n, "expected a rate (8/s) or one of steps, ramps, diurnal, csv");
	if (cfg_decode(c, n, &rate_map_schema, r))
		return -1;
	if (cfg_map_get(n, "steps")) { given++; r->kind = WL_RATE_STEPS; }
	if (cfg_map_get(n, "ramps")) { given++; r->kind = WL_RATE_RAMPS; }
	if (cfg_map_get(n, "diurnal")) { given++; r->kind = WL_RATE_DIURNAL; }
	if (cfg_map_get(n, "csv")) { given++; r->kind = WL_RATE_CSV; }
	if (given != 1)
		return cfg_error(c, n, "give exactly one of steps, ramps, diurnal or csv (got %d)", given);
	if ((r->kind == WL_RATE_STEPS && r->steps.n == 0) || (r->kind == WL_RATE_RAMPS && r->ramps.n == 0))
		return cfg_error(c, n, "the rate profile has no points");
	return 0;
}

#define T struct wl_arrivals
static const struct cfg_field arrivals_fields[] = {
	{.key = "process", .type = CFG_T_ENUM, .off = offsetof(T, process), .enums = process_names,
	 .def = "poisson", .doc = "inter-arrival process: poisson, gamma (with cv), deterministic, onoff"},
	{.key = "cv", .type = CFG_T_DOUBLE, .off = offsetof(T, cv), .def = "1", .flags = CFG_GT,
	 .doc = "gamma: coefficient of variation of inter-arrival times (1 = Poisson, >1 bursty)"},
	{.key = "rate", .type = CFG_T_CUSTOM, .off = offsetof(T, rate), .fn = rate_decode,
	 .sub = &rate_map_schema, .flags = CFG_REQUIRED, .has = true, .has_off = offsetof(T, has_rate),
	 .doc = "mean arrival rate: a rate (8/s), or a profile with one of steps, ramps, diurnal, csv"},
	{.key = "multiplier", .type = CFG_T_DOUBLE, .off = offsetof(T, multiplier), .def = "1",
	 .flags = CFG_MIN, .min = 0, .doc = "scales the whole rate profile"},
	{.key = "on_duration", .type = CFG_T_DURATION, .off = offsetof(T, on_duration), .def = "30s",
	 .flags = CFG_GT, .doc = "onoff: mean length of a burst (exponential)"},
	{.key = "off_duration", .type = CFG_T_DURATION, .off = offsetof(T, off_duration), .def = "30s",
	 .flags = CFG_MIN, .doc = "onoff: mean length of a silent gap (exponential)"},
	{NULL}};
#undef T

static const struct cfg_schema arrivals_schema = {"arrivals", sizeof(struct wl_arrivals),
						  arrivals_fields, NULL, NULL};

#define T struct wl_dist
static const struct cfg_field dist_fields[] = {
	{.key = "dist", .type = CFG_T_ENUM, .off = offsetof(T, dist), .enums = dist_names,
	 .flags = CFG_REQUIRED, .doc = "fixed (value), uniform (min, max), normal (mean, stddev), lognormal (two of mean, p50, p90)"},
	{.key = "value", .type = CFG_T_DOUBLE, .off = offsetof(T, value), .flags = CFG_MIN, .min = 0,
	 .has = true, .has_off = offsetof(T, has_value), .doc = "fixed: the token count"},
	{.key = "min", .type = CFG_T_DOUBLE, .off = offsetof(T, min), .def = "1", .flags = CFG_MIN,
	 .min = 0, .has = true, .has_off = offsetof(T, has_min), .doc = "lower clip (uniform: lower bound)"},
	{.key = "max", .type = CFG_T_DOUBLE, .off = offsetof(T, max), .def = "1000000", .flags = CFG_MIN,
	 .min = 0, .has = true, .has_off = offsetof(T, has_max), .doc = "upper clip (uniform: upper bound)"},
	{.key = "mean", .type = CFG_T_DOUBLE, .off = offsetof(T, mean), .flags = CFG_GT, .min = 0,
	 .has = true, .has_off = offsetof(T, has_mean), .doc = "normal, lognormal: mean"},
	{.key = "stddev", .type = CFG_T_DOUBLE, .off = offsetof(T, stddev), .flags = CFG_MIN, .min = 0,
	 .has = true, .has_off = offsetof(T, has_stddev), .doc = "normal: standard deviation"},
	{.key = "p50", .type = CFG_T_DOUBLE, .off = offsetof(T, p50), .flags = CFG_GT, .min = 0,
	 .has = true, .has_off = offsetof(T, has_p50), .doc = "lognormal: median"},
	{.key = "p90", .type = CFG_T_DOUBLE, .off = offsetof(T, p90), .flags = CFG_GT, .min = 0,
	 .has = true, .has_off = offsetof(T, has_p90), .doc = "lognormal: 90th percentile"},
	{NULL}};
#undef T

static int dist_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct wl_dist *d = obj;
	int k;
	switch (d->dist) {
	case WL_DIST_FIXED:
		if (!d->has_value)
			return cfg_error(c, n, "dist fixed needs 'value'");
		break;
	case WL_DIST_UNIFORM:
		if (!d->has_min || !d->has_max)
			return cfg_error(c, n, "dist uniform needs 'min' and 'max'");
		break;
	case WL_DIST_NORMAL:
		if (!d->has_mean || !d->has_stddev)
			return cfg_error(c, n, "dist normal needs 'mean' and 'stddev'");
		break;
	case WL_DIST_LOGNORMAL:
		k = d->has_mean + d->has_p50 + d->has_p90;
		if (k != 2)
			return cfg_error(c, n, "dist lognormal needs exactly two of 'mean', 'p50', 'p90' (got %d)", k);
		if (d->has_p50 && d->has_p90 && !(d->p90 > d->p50))
			return cfg_error_at_key(c, n, "p90", "must be greater than p50");
		if (d->has_mean && d->has_p50 && !(d->mean > d->p50))
			return cfg_error_at_key(c, n, "mean", "a lognormal's mean must exceed its median (p50)");
		if (d->has_mean && d->has_p90 && !(d->p90 > d->mean))
			return cfg_error_at_key(c, n, "p90", "must be greater than mean");
		break;
	default:
		break;
	}
	if (d->min > d->max)
		return cfg_error_at_key(c, n, "max", "must not be below min");
	return 0;
}

const struct cfg_schema wl_dist_schema = {"length distribution", sizeof(struct wl_dist),
					  dist_fields, dist_check, NULL};

#define T struct wl_lengths
static const struct cfg_field lengths_fields[] = {
	{.key = "prompt", .type = CFG_T_STRUCT, .off = offsetof(T, prompt), .sub = &wl_dist_schema,
	 .has = true, .has_off = offsetof(T, has_prompt), .doc = "prompt (input) tokens"},
	{.key = "output", .type = CFG_T_STRUCT, .off = offsetof(T, output), .sub = &wl_dist_schema,
	 .has = true, .has_off = offsetof(T, has_output), .doc = "output (generated) tokens"},
	{.key = "empirical", .type = CFG_T_PATH, .off = offsetof(T, empirical),
	 .doc = "CSV of joint (prompt, output) samples, drawn as pairs (keeps their correlation)"},
	{.key = "prompt_column", .type = CFG_T_STR, .off = offsetof(T, prompt_column),
	 .def = "num_prefill_tokens", .doc = "empirical: column of prompt tokens"},
	{.key = "output_column", .type = CFG_T_STR, .off = offsetof(T, output_column),
	 .def = "num_decode_tokens", .doc = "empirical: column of output tokens"},
	{NULL}};
#undef T

static int lengths_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct wl_lengths *l = obj;
	if (l->empirical && (l->has_prompt || l->has_output))
		return cfg_error(c, n, "give either 'empirical' or 'prompt' and 'output', not both");
	if (!l->empirical && (!l->has_prompt || !l->has_output))
		return cfg_error(c, n, "give 'prompt' and 'output' distributions, or 'empirical'");
	return 0;
}

static const struct cfg_schema lengths_schema = {"lengths", sizeof(struct wl_lengths),
						 lengths_fields, lengths_check, NULL};

#define T struct wl_columns
static const struct cfg_field columns_fields[] = {
	{.key = "timestamp", .type = CFG_T_STR, .off = offsetof(T, timestamp), .def = "timestamp",
	 .doc = "csv/jsonl: arrival time column (a number in timestamp_unit, or an ISO date-time)"},
	{.key = "prompt", .type = CFG_T_STR, .off = offsetof(T, prompt), .def = "prompt_tokens",
	 .doc = "csv/jsonl: prompt token column"},
	{.key = "output", .type = CFG_T_STR, .off = offsetof(T, output), .def = "output_tokens",
	 .doc = "csv/jsonl: output token column"},
	{.key = "hash_ids", .type = CFG_T_STR, .off = offsetof(T, hash_ids),
	 .doc = "jsonl: optional column with a list of prefix block hash ids"},
	{.key = "timestamp_unit", .type = CFG_T_ENUM, .off = offsetof(T, timestamp_unit),
	 .enums = ts_unit_names, .def = "s", .doc = "unit of numeric timestamps: s, ms, us, ns"},
	{NULL}};
#undef T

static const struct cfg_schema columns_schema = {"trace columns", sizeof(struct wl_columns),
						 columns_fields, NULL, NULL};

#define T struct wl_trace
static const struct cfg_field trace_fields[] = {
	{.key = "path", .type = CFG_T_PATH, .off = offsetof(T, path), .flags = CFG_REQUIRED,
	 .doc = "trace file, relative to the scenario file"},
	{.key = "format", .type = CFG_T_ENUM, .off = offsetof(T, format), .enums = wl_trace_format_names,
	 .def = "auto", .doc = "azure, mooncake, burstgpt, csv, jsonl, or auto (detected from the header)"},
	{.key = "time_scale", .type = CFG_T_DOUBLE, .off = offsetof(T, time_scale), .def = "1",
	 .flags = CFG_GT, .doc = "multiplies trace time: 0.5 replays twice as fast"},
	{.key = "rate_scale", .type = CFG_T_DOUBLE, .off = offsetof(T, rate_scale), .def = "1",
	 .flags = CFG_GT, .doc = "rescales the request rate: <1 thins rows at random, >1 superposes shifted copies"},
	{.key = "start", .type = CFG_T_DURATION, .off = offsetof(T, start), .def = "0s",
	 .doc = "window start, in trace time from the first row"},
	{.key = "end", .type = CFG_T_DURATION, .off = offsetof(T, end), .def = "0s",
	 .doc = "window end in trace time (0s = to the end of the trace)"},
	{.key = "loop", .type = CFG_T_BOOL, .off = offsetof(T, loop), .def = "false",
	 .doc = "start again from the window start when the trace ends, until duration"},
	{.key = "sort", .type = CFG_T_BOOL, .off = offsetof(T, sort), .def = "false",
	 .doc = "accept rows out of time order (sorted in memory); otherwise a timestamp going backwards is an error"},
	{.key = "on_error", .type = CFG_T_ENUM, .off = offsetof(T, on_error), .enums = on_error_names,
	 .def = "fail", .doc = "a broken row stops the run (fail) or is skipped and counted (skip)"},
	{.key = "max_prompt_tokens", .type = CFG_T_INT, .off = offsetof(T, max_prompt_tokens), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "cap on prompt tokens (0 = none); capped rows are counted"},
	{.key = "max_output_tokens", .type = CFG_T_INT, .off = offsetof(T, max_output_tokens), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "cap on output tokens (0 = none); capped rows are counted"},
	{.key = "model", .type = CFG_T_STR, .off = offsetof(T, model),
	 .doc = "burstgpt: keep only rows of this Model"},
	{.key = "log_type", .type = CFG_T_STR, .off = offsetof(T, log_type),
	 .doc = "burstgpt: keep only rows of this Log Type"},
	{.key = "columns", .type = CFG_T_STRUCT, .off = offsetof(T, columns), .sub = &columns_schema,
	 .doc = "csv/jsonl: column mapping"},
	{NULL}};
#undef T

static int trace_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct wl_trace *t = obj;
	if (t->end && t->end <= t->start)
		return cfg_error_at_key(c, n, "end", "must be after start");
	return 0;
}

static const struct cfg_schema trace_schema = {"trace", sizeof(struct wl_trace), trace_fields,
					       trace_check, NULL};

#define T struct wl_prefix
static const struct cfg_field prefix_fields[] = {
	{.key = "tokens", .type = CFG_T_INT, .off = offsetof(T, tokens), .flags = CFG_REQUIRED | CFG_MIN,
	 .min = 1, .doc = "length of the shared prefix (capped at each prompt's length minus one)"},
	{.key = "groups", .type = CFG_T_INT, .off = offsetof(T, groups), .def = "1", .flags = CFG_MIN,
	 .min = 1, .doc = "distinct prefixes; each request picks one uniformly"},
	{.key = "share", .type = CFG_T_DOUBLE, .off = offsetof(T, share), .def = "1",
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 1, .doc = "fraction of requests that carry a prefix"},
	{NULL}};
#undef T

static const struct cfg_schema prefix_schema = {"shared prefix", sizeof(struct wl_prefix),
						prefix_fields, NULL, NULL};

#define T struct wl_config
static const struct cfg_field wl_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "unique name; also names the workload's random stream"},
	{.key = "deployment", .type = CFG_T_STR, .off = offsetof(T, deployment),
	 .doc = "deployment that receives the requests (default: the only one, or the one serving model)"},
	{.key = "model", .type = CFG_T_STR, .off = offsetof(T, model),
	 .doc = "route to the deployment serving this model, when deployment is not given"},
	{.key = "tenant", .type = CFG_T_STR, .off = offsetof(T, tenant), .def = "default",
	 .doc = "tenant name carried on each request into the records"},
	{.key = "priority", .type = CFG_T_INT, .off = offsetof(T, priority), .def = "0",
	 .doc = "request priority (scheduling_policy priority: lower runs first, as in vLLM)"},
	{.key = "slo_class", .type = CFG_T_STR, .off = offsetof(T, slo_class), .def = "default",
	 .doc = "SLO class from the slo section"},
	{.key = "lora", .type = CFG_T_STR, .off = offsetof(T, lora),
	 .doc = "LoRA adapter name carried on each request (lora-affinity routing)"},
	{.key = "arrivals", .type = CFG_T_STRUCT, .off = offsetof(T, arrivals), .sub = &arrivals_schema,
	 .has = true, .has_off = offsetof(T, has_arrivals), .doc = "synthetic arrival process"},
	{.key = "lengths", .type = CFG_T_STRUCT, .off = offsetof(T, lengths), .sub = &lengths_schema,
	 .has = true, .has_off = offsetof(T, has_lengths), .doc = "token lengths of synthetic requests"},
	{.key = "prefix", .type = CFG_T_STRUCT, .off = offsetof(T, prefix), .sub = &prefix_schema,
	 .has = true, .has_off = offsetof(T, has_prefix),
	 .doc = "shared prompt prefixes, for prefix caching (synthetic arrivals)"},
	{.key = "trace", .type = CFG_T_STRUCT, .off = offsetof(T, trace), .sub = &trace_schema,
	 .has = true, .has_off = offsetof(T, has_trace), .doc = "replay a recorded trace instead of arrivals"},
	{.key = "start", .type = CFG_T_DURATION, .off = offsetof(T, start), .def = "0s",
	 .doc = "simulated time at which the workload starts"},
	{.key = "end", .type = CFG_T_DURATION, .off = offsetof(T, end), .def = "0s",
	 .doc = "simulated time at which it stops (0s = the scenario's duration)"},
	{NULL}};
#undef T

static int wl_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct wl_config *w = obj;
	if (w->has_arrivals == w->has_trace)
		return cfg_error(c, n, "workload '%s': give exactly one of 'arrivals' and 'trace'", w->name);
	if (w->has_arrivals && !w->has_lengths)
		return cfg_error(c, n, "workload '%s': synthetic arrivals need 'lengths'", w->name);
	if (w->has_trace && w->has_lengths)
		return cfg_error_at_key(c, n, "lengths", "a trace brings its own lengths");
	if (w->end && w->end <= w->start)
		return cfg_error_at_key(c, n, "end", "must be after start");
	return 0;
}

const struct cfg_schema wl_config_schema = {"workload", sizeof(struct wl_config), wl_fields,
					    wl_check, NULL};
