/* The `slo:`, `score:` and `outputs:` sections. */
#include "report.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numeric summary.json fields a score may name (DESIGN.md section 4). */
const char *const rep_summary_fields[] = {
	"requests.arrived", "requests.completed", "requests.failed", "requests.dropped",
	"requests.in_flight_at_end",
	"ttft_s.mean", "ttft_s.p50", "ttft_s.p90", "ttft_s.p99", "ttft_s.max",
	"tpot_s.mean", "tpot_s.p50", "tpot_s.p90", "tpot_s.p99", "tpot_s.max",
	"e2e_s.mean", "e2e_s.p50", "e2e_s.p90", "e2e_s.p99", "e2e_s.max",
	"queue_s.mean", "queue_s.p50", "queue_s.p90", "queue_s.p99", "queue_s.max",
	"slo.attainment", "slo.goodput_rps",
	"cost.usd", "cost.gpu_hours", "cost.usd_per_million_tokens",
	"oscillation.scale_events", "oscillation.direction_reversals",
	"oscillation.replica_total_variation",
	"utilization.gpu_busy", "utilization.kv_usage_mean", "utilization.replicas_mean",
	"throughput.input_tokens_per_s", "throughput.output_tokens_per_s",
	"sim_time_s", "events_processed", NULL};

bool rep_summary_field_known(const char *path)
{
	for (size_t i = 0; rep_summary_fields[i]; i++)
		if (!strcmp(rep_summary_fields[i], path))
			return true;
	return false;
}

static size_t nfields(void)
{
	size_t n = 0;
	while (rep_summary_fields[n])
		n++;
	return n;
}

static int field_check(struct cfg_ctx *c, const struct cfg_node *n, const char *f)
{
	const char *near;
	if (rep_summary_field_known(f))
		return 0;
	near = cfg_closest(f, rep_summary_fields, nfields());
	if (near)
		return cfg_error(c, n, "unknown summary field '%s' (did you mean '%s'?)", f, near);
	return cfg_error(c, n, "unknown summary field '%s' (see docs/scoring.md for the list)", f);
}

#define T struct rep_slo_class
static const struct cfg_field slo_fields[] = {
	{.key = "ttft", .type = CFG_T_DURATION, .off = offsetof(T, ttft), .def = "2s",
	 .flags = CFG_GT, .doc = "time-to-first-token threshold"},
	{.key = "tpot", .type = CFG_T_DURATION, .off = offsetof(T, tpot), .def = "100ms",
	 .flags = CFG_GT, .doc = "time-per-output-token threshold"},
	{.key = "e2e", .type = CFG_T_DURATION, .off = offsetof(T, e2e), .def = "0s",
	 .doc = "end-to-end latency threshold (0s = not checked)"},
	{NULL}};
#undef T

const struct cfg_schema rep_slo_class_schema = {"SLO class", sizeof(struct rep_slo_class),
						slo_fields, NULL, NULL};

int rep_decode_slo(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	return cfg_decode_named_map(c, n, &rep_slo_class_schema, dst);
}

/* "field op number", e.g. "ttft_s.p99 <= 2" */
static int constraint_decode(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	static const char *const ops[] = {"<=", "<", ">=", ">", "=="};
	struct rep_constraint *k = dst;
	const char *s, *p;
	char field[128], msg[160];
	size_t fl;
	int op = -1;

	if (n->kind != CFG_SCALAR)
		return cfg_error(c, n, "expected a constraint such as \"ttft_s.p99 <= 2\", got %s",
				 cfg_kind_name(n->kind));
	s = n->str;
	while (*s == ' ')
		s++;
	p = s;
	while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
		p++;
	fl = (size_t)(p - s);
	if (fl == 0 || fl >= sizeof(field))
		return cfg_error(c, n, "expected a constraint such as \"ttft_s.p99 <= 2\", got '%s'", n->str);
	memcpy(field, s, fl);
	field[fl] = '\0';
	while (*p == ' ')
		p++;
	for (int i = 0; i < 5; i++)
		if (!strncmp(p, ops[i], strlen(ops[i]))) {
			op = i;
			p += strlen(ops[i]);
			break;
		}
	if (op < 0)
		return cfg_error(c, n, "constraint '%s': expected one of <=, <, >=, >, == after the field",
				 n->str);
	if (cfg_parse_double(p, &k->value, msg, sizeof(msg)))
		return cfg_error(c, n, "constraint '%s': %s", n->str, msg);
	if (field_check(c, n, field))
		return -1;
	k->field = sim_arena_strdup(&c->doc->arena, field);
	k->op = op;
	k->text = n->str;
	return 0;
}

static int constraints_decode(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	struct cfg_list *l = dst;
	struct rep_constraint *k;
	if (n->kind != CFG_SEQ)
		return cfg_error(c, n, "expected a list of constraints, got %s", cfg_kind_name(n->kind));
	k = sim_arena_alloc(&c->doc->arena, sizeof(*k) * (n->n ? n->n : 1));
	for (size_t i = 0; i < n->n; i++) {
		size_t mark = cfg_path_push_index(c, i);
		if (constraint_decode(c, n->vals[i], &k[i]))
			return -1;
		cfg_path_pop(c, mark);
	}
	l->items = k;
	l->n = n->n;
	return 0;
}

static int weights_decode(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	struct cfg_list *l = dst;
	if (cfg_decode_number_map(c, n, l))
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct cfg_named *w = CFG_LIST_AT(*l, struct cfg_named, i);
		size_t mark = cfg_path_push_key(c, w->name);
		int rc = field_check(c, n->keys[i], w->name);
		cfg_path_pop(c, mark);
		if (rc)
			return -1;
	}
	return 0;
}

static int objective_decode(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	if (n->kind != CFG_SCALAR)
		return cfg_error(c, n, "expected a summary field such as cost.usd, got %s",
				 cfg_kind_name(n->kind));
	if (field_check(c, n, n->str))
		return -1;
	*(const char **)dst = n->str;
	return 0;
}

#define T struct rep_score
static const struct cfg_field score_fields[] = {
	{.key = "minimize", .type = CFG_T_CUSTOM, .off = offsetof(T, minimize), .fn = objective_decode,
	 .doc = "summary field to minimise (the score is its value)"},
	{.key = "maximize", .type = CFG_T_CUSTOM, .off = offsetof(T, maximize), .fn = objective_decode,
	 .doc = "summary field to maximise (the score is minus its value)"},
	{.key = "subject_to", .type = CFG_T_CUSTOM, .off = offsetof(T, subject_to), .fn = constraints_decode,
	 .doc = "constraints \"field op number\"; a violated one makes the score infinite"},
	{.key = "weights", .type = CFG_T_CUSTOM, .off = offsetof(T, weights), .fn = weights_decode,
	 .doc = "weighted sum of summary fields (instead of minimize/maximize)"},
	{NULL}};
#undef T

static int score_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct rep_score *s = obj;
	int k = (s->minimize != NULL) + (s->maximize != NULL) + (s->weights.n > 0);
	if (k != 1)
		return cfg_error(c, n, "give exactly one of minimize, maximize or weights");
	return 0;
}

const struct cfg_schema rep_score_schema = {"score", sizeof(struct rep_score), score_fields,
					    score_check, NULL};

#define T struct rep_outputs
static const struct cfg_field outputs_fields[] = {
	{.key = "timeseries_interval", .type = CFG_T_DURATION, .off = offsetof(T, timeseries_interval),
	 .def = "10s", .flags = CFG_GT, .doc = "sampling interval of /timeseries"},
	{.key = "requests", .type = CFG_T_BOOL, .off = offsetof(T, requests), .def = "true",
	 .doc = "write one /requests row per request"},
	{.key = "oscillation_window", .type = CFG_T_DURATION, .off = offsetof(T, oscillation_window),
	 .def = "10m", .flags = CFG_GT, .doc = "a replica change against the previous one's direction within this window is a direction reversal"},
	{.key = "openmetrics_epoch", .type = CFG_T_STR, .off = offsetof(T, openmetrics_epoch),
	 .def = "2026-01-01T00:00:00Z", .doc = "wall-clock time (RFC 3339, UTC) of simulated t=0 in exports"},
	{NULL}};
#undef T

static int outputs_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct rep_outputs *o = obj;
	double t;
	if (o->openmetrics_epoch && rep_parse_rfc3339(o->openmetrics_epoch, &t))
		return cfg_error_at_key(c, n, "openmetrics_epoch",
					"expected an RFC 3339 time in UTC such as 2026-01-01T00:00:00Z, got '%s'",
					o->openmetrics_epoch);
	return 0;
}

const struct cfg_schema rep_outputs_schema = {"outputs", sizeof(struct rep_outputs),
					      outputs_fields, outputs_check, NULL};
