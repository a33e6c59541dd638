/* summary.json and results.h5 of a run. */
#include "report.h"

#include <stddef.h>
#include <stdlib.h>

void rep_summary_json(const struct rep_summary *s, struct rep_json *j)
{
	const struct rep_request_counts *r = &s->requests;
	rep_json_begin_object(j);
	rep_json_key(j, "scenario");
	rep_json_str(j, s->scenario);
	rep_json_key(j, "seed");
	rep_json_int(j, (int64_t)s->seed);
	rep_json_key(j, "requests");
	rep_json_begin_object(j);
	rep_json_key(j, "arrived");
	rep_json_int(j, r->arrived);
	rep_json_key(j, "completed");
	rep_json_int(j, r->completed);
	rep_json_key(j, "failed");
	rep_json_int(j, r->failed);
	rep_json_key(j, "dropped");
	rep_json_int(j, r->dropped);
	rep_json_key(j, "in_flight_at_end");
	rep_json_int(j, r->in_flight_at_end);
	rep_json_end_object(j);
	rep_json_key(j, "sim_time_s");
	rep_json_double(j, sim_time_to_s(s->sim_time));
	rep_json_key(j, "events_processed");
	rep_json_int(j, (int64_t)s->events_processed);
	rep_json_key(j, "wall_time_s");
	rep_json_double(j, s->wall_time_s);
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
};
#undef R

struct rep_results {
	struct rep_h5 *h5;
	struct rep_h5_table *requests;
};

struct rep_results *rep_results_open(const char *path, struct sim_err *err)
{
	struct rep_results *r = xcalloc(1, sizeof(*r));
	r->h5 = rep_h5_create(path, err);
	if (!r->h5) {
		free(r);
		return NULL;
	}
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
	return rep_h5_table_append(r->requests, row, 1);
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
	if (rep_h5_table_close(r->requests)) {
		rc = sim_err_set(err, SIM_EIO, "cannot write /requests");
		commit = false;
	}
	if (rep_h5_close(r->h5, commit, err))
		rc = -1;
	free(r);
	return rc;
}
