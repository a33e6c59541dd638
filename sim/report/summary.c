/* summary.json and results.h5 of a run. */
#include "report.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_dist_of(double *v, size_t n, struct rep_dist *d)
{
	memset(d, 0, sizeof(*d));
	d->n = n;
	if (n == 0)
		return;
	gsl_sort(v, 1, n);
	d->mean = gsl_stats_mean(v, 1, n);
	d->p50 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.50);
	d->p90 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.90);
	d->p99 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.99);
	d->max = v[n - 1];
}

#define SK_MIN 1e-9
#define SK_GROWTH 1.001
#define SK_BINS 39000 /* log(1e17) / log(1.001) */

/* log(SK_GROWTH), as libm's log(1.001) gives it: a constant rather than a
 * lazily set static, so no run writes shared state (test_summary checks
 * that it is libm's value). */
#define SK_LOG_GROWTH 0.00099950033308342321

static double sk_log_growth(void)
{
	return SK_LOG_GROWTH;
}

void rep_sketch_add(struct rep_sketch *s, double v)
{
	long b;
	if (!(v >= 0))
		v = 0;
	s->n++;
	s->sum += v;
	if (v > s->max)
		s->max = v;
	if (v < SK_MIN) {
		s->zeros++;
		return;
	}
	if (!s->bins)
		s->bins = xcalloc(SK_BINS, sizeof(int64_t));
	b = (long)floor(log(v / SK_MIN) / sk_log_growth());
	if (b >= SK_BINS)
		b = SK_BINS - 1;
	s->bins[b]++;
}

void rep_sketch_free(struct rep_sketch *s)
{
	free(s->bins);
	memset(s, 0, sizeof(*s));
}

/* The k-th smallest value (0-based), as its bucket's geometric centre. */
static double sk_value(const struct rep_sketch *s, int64_t k, long *cursor, int64_t *below)
{
	if (k < s->zeros)
		return 0;
	while (*cursor < SK_BINS && *below + s->bins[*cursor] <= k) {
		*below += s->bins[*cursor];
		(*cursor)++;
	}
	return SK_MIN * exp(((double)*cursor + 0.5) * sk_log_growth());
}

static double sk_quantile(const struct rep_sketch *s, double q)
{
	double pos = q * (double)(s->n - 1), lo, hi;
	int64_t k = (int64_t)floor(pos), below = s->zeros;
	long cursor = 0;
	lo = sk_value(s, k, &cursor, &below);
	hi = k + 1 < s->n ? sk_value(s, k + 1, &cursor, &below) : lo;
	if (lo > s->max)
		lo = s->max;
	if (hi > s->max)
		hi = s->max;
	return lo + (pos - (double)k) * (hi - lo);
}

void rep_dist_of_sketch(const struct rep_sketch *s, struct rep_dist *d)
{
	memset(d, 0, sizeof(*d));
	d->n = (size_t)s->n;
	if (!s->n)
		return;
	d->mean = s->sum / (double)s->n;
	d->p50 = sk_quantile(s, 0.50);
	d->p90 = sk_quantile(s, 0.90);
	d->p99 = sk_quantile(s, 0.99);
	d->max = s->max;
}

/* "key": value, the pair summary.json is made of. */
static void json_num(struct rep_json *j, const char *key, double v)
{
	rep_json_key(j, key);
	rep_json_double(j, v);
}

static void json_count(struct rep_json *j, const char *key, int64_t v)
{
	rep_json_key(j, key);
	rep_json_int(j, v);
}

static void json_dist(struct rep_json *j, const char *key, const struct rep_dist *d)
{
	const char *k[] = {"mean", "p50", "p90", "p99", "max"};
	const double v[] = {d->mean, d->p50, d->p90, d->p99, d->max};
	rep_json_key(j, key);
	rep_json_begin_object(j);
	for (size_t i = 0; i < 5; i++) {
		rep_json_key(j, k[i]);
		if (d->n)
			rep_json_double(j, v[i]);
		else
			rep_json_null(j);
	}
	rep_json_end_object(j);
}

static void json_group(struct rep_json *j, const struct rep_group *g, bool dep, bool cls)
{
	rep_json_key(j, g->name);
	rep_json_begin_object(j);
	rep_json_key(j, "requests");
	rep_json_begin_object(j);
	json_count(j, "arrived", g->arrived);
	json_count(j, "completed", g->completed);
	json_count(j, "failed", g->failed);
	json_count(j, "dropped", g->dropped);
	rep_json_end_object(j);
	if (cls) {
		json_num(j, "ttft_s", g->ttft_thr);
		json_num(j, "tpot_s", g->tpot_thr);
	} else {
		json_dist(j, "ttft_s", &g->ttft_d);
		json_dist(j, "tpot_s", &g->tpot_d);
	}
	json_num(j, "attainment", g->attainment);
	json_num(j, "goodput_rps", g->goodput_rps);
	if (dep) {
		json_num(j, "replicas_mean", g->replicas_mean);
		json_count(j, "scale_events", g->scale_events);
		json_count(j, "direction_reversals", g->reversals);
		json_count(j, "replica_total_variation", g->total_variation);
	}
	rep_json_end_object(j);
}

void rep_summary_json(const struct rep_summary *s, struct rep_json *j)
{
	const struct rep_request_counts *r = &s->requests;
	rep_json_begin_object(j);
	rep_json_key(j, "scenario");
	rep_json_str(j, s->scenario);
	json_count(j, "seed", (int64_t)s->seed);
	/* what produced it: the binary, the seed and the scenario text that ran */
	rep_json_key(j, "provenance");
	rep_json_begin_object(j);
	rep_json_key(j, "version");
	rep_json_str(j, s->version ? s->version : "");
	json_count(j, "seed", (int64_t)s->seed);
	rep_json_key(j, "scenario_sha256");
	rep_json_str(j, s->scenario_sha256 ? s->scenario_sha256 : "");
	rep_json_end_object(j);
	rep_json_key(j, "requests");
	rep_json_begin_object(j);
	json_count(j, "arrived", r->arrived);
	json_count(j, "completed", r->completed);
	json_count(j, "failed", r->failed);
	json_count(j, "dropped", r->dropped);
	json_count(j, "in_flight_at_end", r->in_flight_at_end);
	rep_json_end_object(j);
	json_dist(j, "ttft_s", &s->ttft);
	json_dist(j, "tpot_s", &s->tpot);
	json_dist(j, "e2e_s", &s->e2e);
	json_dist(j, "queue_s", &s->queue);
	rep_json_key(j, "slo");
	rep_json_begin_object(j);
	json_num(j, "ttft_s", s->slo_ttft);
	json_num(j, "tpot_s", s->slo_tpot);
	json_num(j, "attainment", s->attainment);
	json_num(j, "goodput_rps", s->goodput_rps);
	rep_json_key(j, "classes");
	rep_json_begin_object(j);
	for (size_t i = 0; i < s->nclasses; i++)
		json_group(j, &s->classes[i], false, true);
	rep_json_end_object(j);
	rep_json_end_object(j);
	rep_json_key(j, "cost");
	rep_json_begin_object(j);
	json_num(j, "usd", s->cost_usd);
	json_num(j, "gpu_hours", s->gpu_hours);
	json_num(j, "usd_per_million_tokens", s->usd_per_million_tokens);
	rep_json_end_object(j);
	rep_json_key(j, "oscillation");
	rep_json_begin_object(j);
	json_count(j, "scale_events", s->scale_events);
	json_count(j, "direction_reversals", s->direction_reversals);
	json_count(j, "replica_total_variation", s->replica_total_variation);
	rep_json_end_object(j);
	rep_json_key(j, "kv_transfer");
	rep_json_begin_object(j);
	json_count(j, "transfers", s->kv_transfers);
	json_num(j, "bytes", s->kv_bytes);
	json_num(j, "p50_s", s->kv_transfer.n ? s->kv_transfer.p50 : NAN);
	json_num(j, "p99_s", s->kv_transfer.n ? s->kv_transfer.p99 : NAN);
	json_count(j, "waits", s->kv_waits);
	rep_json_end_object(j);
	rep_json_key(j, "throughput");
	rep_json_begin_object(j);
	json_num(j, "input_tokens_per_s", s->input_tokens_per_s);
	json_num(j, "output_tokens_per_s", s->output_tokens_per_s);
	rep_json_end_object(j);
	rep_json_key(j, "utilization");
	rep_json_begin_object(j);
	json_num(j, "gpu_busy", s->gpu_busy);
	json_num(j, "kv_usage_mean", s->kv_usage_mean);
	json_num(j, "replicas_mean", s->replicas_mean);
	rep_json_end_object(j);
	rep_json_key(j, "workloads");
	rep_json_begin_object(j);
	for (size_t i = 0; i < s->nworkloads; i++) {
		const struct rep_workload *w = &s->workloads[i];
		rep_json_key(j, w->name);
		rep_json_begin_object(j);
		json_count(j, "arrived", w->arrived);
		if (w->trace) {
			const char *k[] = {"trace_rows", "skipped_rows", "filtered_rows", "failed_rows", "capped_rows",
					   "thinned_rows", "superposed_copies"};
			const int64_t v[] = {w->rows, w->skipped, w->filtered, w->failures, w->capped, w->thinned, w->copies};
			for (size_t q = 0; q < 7; q++) {
				rep_json_key(j, k[q]);
				rep_json_int(j, v[q]);
			}
		}
		rep_json_end_object(j);
	}
	rep_json_end_object(j);
	rep_json_key(j, "deployments");
	rep_json_begin_object(j);
	for (size_t i = 0; i < s->ndeployments; i++)
		json_group(j, &s->deployments[i], true, false);
	rep_json_end_object(j);
	rep_json_key(j, "tenants");
	rep_json_begin_object(j);
	for (size_t i = 0; i < s->ntenants; i++)
		json_group(j, &s->tenants[i], false, false);
	rep_json_end_object(j);
	rep_json_key(j, "score");
	if (s->has_score)
		rep_json_double(j, s->score); /* infinite (a violated constraint): null */
	else
		rep_json_null(j);
	if (s->has_score && !s->feasible) {
		rep_json_key(j, "score_violations");
		rep_json_begin_array(j);
		for (size_t i = 0; i < s->nviolated; i++) {
			char b[160], v[40];
			rep_fmt_double(s->violated_value[i], v, sizeof(v));
			snprintf(b, sizeof(b), "%s (was %s)", s->violated[i], v);
			rep_json_str(j, b);
		}
		rep_json_end_array(j);
	}
	json_num(j, "sim_time_s", sim_time_to_s(s->sim_time));
	json_count(j, "events_processed", (int64_t)s->events_processed);
	json_num(j, "wall_time_s", s->wall_time_s);
	rep_json_end_object(j);
}

#define R struct rep_request_row
static const struct rep_col request_cols[] = {
	{"id", REP_COL_I64, offsetof(R, id), 0},
	{"workload", REP_COL_I32, offsetof(R, workload), 0},
	{"deployment", REP_COL_I32, offsetof(R, deployment), 0},
	{"replica", REP_COL_I32, offsetof(R, replica), 0},
	{"status", REP_COL_I32, offsetof(R, status), 0},
	{"tenant", REP_COL_STR, offsetof(R, tenant), sizeof(((R *)0)->tenant)},
	{"slo_class", REP_COL_STR, offsetof(R, slo_class), sizeof(((R *)0)->slo_class)},
	{"arrival_s", REP_COL_F64, offsetof(R, arrival_s), 0},
	{"first_scheduled_s", REP_COL_F64, offsetof(R, first_scheduled_s), 0},
	{"first_token_s", REP_COL_F64, offsetof(R, first_token_s), 0},
	{"finish_s", REP_COL_F64, offsetof(R, finish_s), 0},
	{"prompt_tokens", REP_COL_I64, offsetof(R, prompt_tokens), 0},
	{"output_tokens", REP_COL_I64, offsetof(R, output_tokens), 0},
	{"cached_tokens", REP_COL_I64, offsetof(R, cached_tokens), 0},
	{"preemptions", REP_COL_I32, offsetof(R, preemptions), 0},
	{"retries", REP_COL_I32, offsetof(R, retries), 0},
	{"priority", REP_COL_I32, offsetof(R, priority), 0},
	{"prefill_replica", REP_COL_I32, offsetof(R, prefill_replica), 0},
	{"decode_replica", REP_COL_I32, offsetof(R, decode_replica), 0},
	{"transfer_start_s", REP_COL_F64, offsetof(R, transfer_start_s), 0},
	{"transfer_end_s", REP_COL_F64, offsetof(R, transfer_end_s), 0},
	{"kv_bytes", REP_COL_F64, offsetof(R, kv_bytes), 0},
};
#undef R

#define P struct rep_pod_row
static const struct rep_col pod_cols[] = {
	{"id", REP_COL_I32, offsetof(P, id), 0},
	{"deployment", REP_COL_I32, offsetof(P, deployment), 0},
	{"node", REP_COL_I32, offsetof(P, node), 0},
	{"variant", REP_COL_I32, offsetof(P, variant), 0},
	{"gpu", REP_COL_STR, offsetof(P, gpu), sizeof(((P *)0)->gpu)},
	{"state", REP_COL_STR, offsetof(P, state), sizeof(((P *)0)->state)},
	{"created_s", REP_COL_F64, offsetof(P, created_s), 0},
	{"scheduled_s", REP_COL_F64, offsetof(P, scheduled_s), 0},
	{"image_pulled_s", REP_COL_F64, offsetof(P, image_pulled_s), 0},
	{"weights_ready_s", REP_COL_F64, offsetof(P, weights_ready_s), 0},
	{"loaded_s", REP_COL_F64, offsetof(P, loaded_s), 0},
	{"ready_s", REP_COL_F64, offsetof(P, ready_s), 0},
	{"endpoint_s", REP_COL_F64, offsetof(P, endpoint_s), 0},
	{"terminated_s", REP_COL_F64, offsetof(P, terminated_s), 0},
	{"restarts", REP_COL_I32, offsetof(P, restarts), 0},
	{"reason", REP_COL_STR, offsetof(P, reason), sizeof(((P *)0)->reason)},
};
#undef P
#define N struct rep_node_row
static const struct rep_col node_cols[] = {
	{"id", REP_COL_I32, offsetof(N, id), 0},
	{"pool", REP_COL_STR, offsetof(N, pool), sizeof(((N *)0)->pool)},
	{"gpus", REP_COL_I32, offsetof(N, gpus), 0},
	{"state", REP_COL_STR, offsetof(N, state), sizeof(((N *)0)->state)},
	{"requested_s", REP_COL_F64, offsetof(N, requested_s), 0},
	{"ready_s", REP_COL_F64, offsetof(N, ready_s), 0},
	{"gpus_ready_s", REP_COL_F64, offsetof(N, gpus_ready_s), 0},
	{"deleted_s", REP_COL_F64, offsetof(N, deleted_s), 0},
	{"cost_usd", REP_COL_F64, offsetof(N, cost_usd), 0},
	{"reason", REP_COL_STR, offsetof(N, reason), sizeof(((N *)0)->reason)},
};
#undef N

#define E struct rep_scale_event_row
static const struct rep_col event_cols[] = {
	{"t_s", REP_COL_F64, offsetof(E, t_s), 0},
	{"deployment", REP_COL_I32, offsetof(E, deployment), 0},
	{"controller", REP_COL_STR, offsetof(E, controller), sizeof(((E *)0)->controller)},
	{"input", REP_COL_F64, offsetof(E, input), 0},
	{"from", REP_COL_I32, offsetof(E, from), 0},
	{"proposal", REP_COL_I32, offsetof(E, proposal), 0},
	{"to", REP_COL_I32, offsetof(E, to), 0},
	{"reason", REP_COL_STR, offsetof(E, reason), sizeof(((E *)0)->reason)},
};
#undef E

struct series {
	char *path;
	struct rep_h5_table *t;
};

struct rep_results {
	struct rep_h5 *h5;
	struct rep_h5_table *requests;
	struct series *series;
	size_t nseries, cap;
	bool failed;
};

struct ts_row {
	double t_s, value;
};

int rep_results_series(struct rep_results *r, const char *deployment, const char *metric,
		       double t_s, double value)
{
	static const struct rep_col cols[] = {{"t_s", REP_COL_F64, offsetof(struct ts_row, t_s), 0},
					      {"value", REP_COL_F64, offsetof(struct ts_row, value), 0}};
	char path[256];
	struct ts_row row = {t_s, value};
	size_t i;
	struct sim_err e;
	snprintf(path, sizeof(path), "/timeseries/%s/%s", deployment, metric);
	for (i = 0; i < r->nseries; i++) /* a handful of series: a scan is fine */
		if (!strcmp(r->series[i].path, path))
			break;
	if (i == r->nseries) {
		XGROW(r->series, r->cap, r->nseries + 1);
		sim_err_clear(&e);
		r->series[i].path = xstrdup(path);
		r->series[i].t = rep_h5_table_new(r->h5, path, cols, 2, sizeof(struct ts_row), &e);
		r->nseries++;
		if (!r->series[i].t) {
			r->failed = true;
			return -1;
		}
	}
	if (!r->series[i].t || rep_h5_table_append(r->series[i].t, &row, 1)) {
		r->failed = true;
		return -1;
	}
	return 0;
}

struct rep_results *rep_results_open(const char *path, bool requests, struct sim_err *err)
{
	struct rep_results *r = xcalloc(1, sizeof(*r));
	r->h5 = rep_h5_create(path, err);
	if (!r->h5) {
		free(r);
		return NULL;
	}
	if (!requests)
		return r;
	r->requests = rep_h5_table_new(r->h5, "/requests", request_cols,
				       sizeof(request_cols) / sizeof(request_cols[0]),
				       sizeof(struct rep_request_row), err);
	if (!r->requests) {
		rep_h5_close(r->h5, false, err);
		free(r);
		return NULL;
	}
	return r;
}

int rep_results_add_request(struct rep_results *r, const struct rep_request_row *row)
{
	return r->requests ? rep_h5_table_append(r->requests, row, 1) : 0;
}

static int table_once(struct rep_results *r, const char *path, const struct rep_col *cols, size_t ncols,
		      size_t row_size, const void *rows, size_t n)
{
	struct sim_err e;
	struct rep_h5_table *t;
	int rc;
	sim_err_clear(&e);
	t = rep_h5_table_new(r->h5, path, cols, ncols, row_size, &e);
	if (!t) {
		r->failed = true;
		return -1;
	}
	rc = rep_h5_table_append(t, rows, n);
	if (rep_h5_table_close(t) || rc) {
		r->failed = true;
		return -1;
	}
	return 0;
}

int rep_results_pods(struct rep_results *r, const struct rep_pod_row *rows, size_t n)
{
	return table_once(r, "/pods", pod_cols, sizeof(pod_cols) / sizeof(pod_cols[0]), sizeof(*rows), rows, n);
}

int rep_results_nodes(struct rep_results *r, const struct rep_node_row *rows, size_t n)
{
	return table_once(r, "/nodes", node_cols, sizeof(node_cols) / sizeof(node_cols[0]), sizeof(*rows), rows, n);
}

int rep_results_scale_events(struct rep_results *r, const struct rep_scale_event_row *rows, size_t n)
{
	return table_once(r, "/scale_events", event_cols, sizeof(event_cols) / sizeof(event_cols[0]), sizeof(*rows),
			  rows, n);
}

int rep_results_set_scenario(struct rep_results *r, const char *yaml_text)
{
	return rep_h5_attr_str(r->h5, "/", "scenario", yaml_text);
}

int rep_results_close(struct rep_results *r, bool commit, struct sim_err *err)
{
	int rc = 0;
	if (!r)
		return 0;
	if ((r->requests && rep_h5_table_close(r->requests)) || r->failed) {
		rc = sim_err_set(err, SIM_EIO, "cannot write results.h5 tables");
		commit = false;
	}
	for (size_t i = 0; i < r->nseries; i++) {
		if (rep_h5_table_close(r->series[i].t) && commit) {
			rc = sim_err_set(err, SIM_EIO, "cannot write %s", r->series[i].path);
			commit = false;
		}
		free(r->series[i].path);
	}
	free(r->series);
	if (rep_h5_close(r->h5, commit, err))
		rc = -1;
	free(r);
	return rc;
}
