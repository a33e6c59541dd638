/*
 * `servesim hpa-eval FILE`: runs HPA golden cases (the schema at the top of
 * ../shared/reference/hpa-cases.yaml) through the controller's algorithm
 * and prints one JSON object per case: {"id": ..., <each field of the
 * case's expected, computed>}. Bad input: file:line:col and exit 2.
 */
#include "cli.h"
#include "../scale/hpa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ev {
	struct cfg_doc *doc;
	struct sim_err *err;
	struct cfg_ctx c;
};

static int bad(struct ev *e, const struct cfg_node *n, const char *fmt, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, what);
	return cfg_error(&e->c, n, "%s", msg);
}

static const struct cfg_node *get(const struct cfg_node *m, const char *k)
{
	return m && m->kind == CFG_MAP ? cfg_map_get(m, k) : NULL;
}

/* A number (int or float) or null; -1 on a wrong type. */
static int num(struct ev *e, const struct cfg_node *m, const char *k, double *out, bool *present)
{
	const struct cfg_node *n = get(m, k);
	char msg[128];
	*present = false;
	if (cfg_is_null(n))
		return 0;
	if (n->kind != CFG_SCALAR || cfg_parse_double(n->str, out, msg, sizeof(msg)))
		return bad(e, n, "%s: expected a number", k);
	*present = true;
	return 0;
}

static int num_req(struct ev *e, const struct cfg_node *m, const char *k, double *out)
{
	bool has;
	if (num(e, m, k, out, &has))
		return -1;
	if (!has)
		return bad(e, m, "missing number '%s'", k);
	return 0;
}

static int boolean(struct ev *e, const struct cfg_node *m, const char *k, bool *out)
{
	const struct cfg_node *n = get(m, k);
	char msg[128];
	*out = false;
	if (cfg_is_null(n))
		return 0;
	if (n->kind != CFG_SCALAR || cfg_parse_bool(n->str, out, msg, sizeof(msg)))
		return bad(e, n, "%s: expected true or false", k);
	return 0;
}

static const char *str(const struct cfg_node *m, const char *k)
{
	const struct cfg_node *n = get(m, k);
	return n && n->kind == CFG_SCALAR ? n->str : NULL;
}

/* An age in seconds before now: a time; null is Go's zero time. */
static int age(struct ev *e, const struct cfg_node *m, const char *k, sim_time *t)
{
	double a;
	bool has;
	if (num(e, m, k, &a, &has))
		return -1;
	*t = has ? (sim_time)llround(-a * 1e9) : HPA_ZERO_TIME;
	return 0;
}

static int seq(struct ev *e, const struct cfg_node *m, const char *k, const struct cfg_node **out)
{
	const struct cfg_node *n = get(m, k);
	*out = NULL;
	if (cfg_is_null(n))
		return 0;
	if (n->kind != CFG_SEQ)
		return bad(e, n, "%s: expected a list", k);
	*out = n;
	return 0;
}

static int parse_pods(struct ev *e, const struct cfg_node *in, struct hpa_pod **pods, size_t *n)
{
	const struct cfg_node *l;
	*pods = NULL;
	*n = 0;
	if (seq(e, in, "pods", &l))
		return -1;
	if (!l)
		return 0;
	*pods = sim_arena_alloc(&e->doc->arena, sizeof(**pods) * (l->n + 1));
	for (size_t i = 0; i < l->n; i++) {
		const struct cfg_node *p = l->vals[i];
		struct hpa_pod *x = &(*pods)[i];
		const char *ph = str(p, "phase");
		double req;
		if (p->kind != CFG_MAP)
			return bad(e, p, "%s", "a pod is a mapping");
		x->phase = !ph || !strcmp(ph, "Running") ? HPA_POD_RUNNING : !strcmp(ph, "Pending") ? HPA_POD_PENDING
			   : !strcmp(ph, "Failed") ? HPA_POD_FAILED : !strcmp(ph, "Succeeded") ? HPA_POD_SUCCEEDED : -1;
		if (x->phase < 0)
			return bad(e, get(p, "phase"), "unknown phase '%s'", ph);
		if (boolean(e, p, "ready", &x->ready) || boolean(e, p, "deleted", &x->deleted) ||
		    age(e, p, "start_age_s", &x->start) || age(e, p, "ready_transition_age_s", &x->ready_transition) ||
		    num(e, p, "request_m", &req, &x->has_request))
			return -1;
		x->request_m = x->has_request ? (int64_t)llround(req) : 0;
	}
	*n = l->n;
	return 0;
}

static int parse_values(struct ev *e, const struct cfg_node *l, int64_t **v, bool **has, size_t *n)
{
	*v = sim_arena_alloc(&e->doc->arena, sizeof(int64_t) * (l->n + 1));
	*has = sim_arena_alloc(&e->doc->arena, sizeof(bool) * (l->n + 1));
	for (size_t i = 0; i < l->n; i++) {
		char msg[128];
		double d;
		if (cfg_is_null(l->vals[i]))
			continue;
		if (l->vals[i]->kind != CFG_SCALAR || cfg_parse_double(l->vals[i]->str, &d, msg, sizeof(msg)))
			return bad(e, l->vals[i], "%s", "expected a number or null");
		(*v)[i] = (int64_t)llround(d);
		(*has)[i] = true;
	}
	*n = l->n;
	return 0;
}

static int parse_metric(struct ev *e, const struct cfg_node *m, struct hpa_metric *x)
{
	const char *type = str(m, "type"), *res = str(m, "resource");
	const struct cfg_node *t = get(m, "target"), *l;
	double d;
	bool has;
	memset(x, 0, sizeof(*x));
	if (m->kind != CFG_MAP)
		return bad(e, m, "%s", "a metric is a mapping");
	if (!type)
		return bad(e, m, "%s", "a metric needs 'type'");
	x->src = !strcmp(type, "resource") ? HPA_SRC_RESOURCE
		 : !strcmp(type, "container_resource") || !strcmp(type, "containerresource") ? HPA_SRC_CONTAINER_RESOURCE
		 : !strcmp(type, "pods") ? HPA_SRC_PODS
		 : !strcmp(type, "object") ? HPA_SRC_OBJECT
		 : !strcmp(type, "external") ? HPA_SRC_EXTERNAL : HPA_SRC_INVALID;
	x->cpu = x->src <= HPA_SRC_CONTAINER_RESOURCE && (!res || !strcmp(res, "cpu"));
	if (boolean(e, m, "fetch_error", &x->fetch_error))
		return -1;
	x->ttype = HPA_T_NONE;
	if (t) {
		const char *tt = str(t, "type");
		x->ttype = !tt ? HPA_T_NONE : !strcmp(tt, "Utilization") ? HPA_T_UTILIZATION
			   : !strcmp(tt, "Value") ? HPA_T_VALUE : !strcmp(tt, "AverageValue") ? HPA_T_AVERAGE_VALUE : HPA_T_NONE;
		if (num(e, t, "average_utilization", &d, &has))
			return -1;
		if (has)
			x->target_utilization = (int64_t)llround(d);
		else if (x->ttype == HPA_T_UTILIZATION)
			x->ttype = HPA_T_NONE; /* a Utilization target without a percentage is no target */
		if (num(e, t, x->ttype == HPA_T_VALUE ? "value_m" : "average_value_m", &d, &has))
			return -1;
		if (has)
			x->target_m = (int64_t)llround(d);
		else if (x->ttype == HPA_T_VALUE || x->ttype == HPA_T_AVERAGE_VALUE)
			x->ttype = HPA_T_NONE;
	}
	if (seq(e, m, "pod_values_m", &l))
		return -1;
	if (l) {
		int64_t *v;
		bool *h;
		if (parse_values(e, l, &v, &h, &x->npod_values))
			return -1;
		x->pod_values_m = v;
		x->pod_has = h;
	}
	if (age(e, m, "sample_age_s", &x->sample_time) || num(e, m, "sample_window_s", &d, &has))
		return -1;
	x->sample_window = has ? (sim_time)llround(d * 1e9) : 60 * SIM_SEC;
	if (num(e, m, "value_m", &d, &has))
		return -1;
	x->value_m = has ? (int64_t)llround(d) : 0;
	if (seq(e, m, "values_m", &l))
		return -1;
	if (l) {
		int64_t *v;
		bool *h;
		if (parse_values(e, l, &v, &h, &x->nvalues))
			return -1;
		x->values_m = v;
	}
	return 0;
}

static int parse_rules(struct ev *e, const struct cfg_node *r, struct hpa_rules_rt *out, bool up)
{
	const struct cfg_node *pl;
	const char *sel;
	double d;
	bool has;
	memset(out, 0, sizeof(*out));
	if (cfg_is_null(r)) {
		if (up)
			hpa_default_up(out);
		else
			hpa_default_down(out);
		return 0;
	}
	if (num(e, r, "stabilization_window_s", &d, &has))
		return -1;
	out->window_s = has ? (int32_t)d : 0;
	out->has_window = has;
	sel = str(r, "select_policy");
	out->select = !sel || !strcmp(sel, "Max") ? HPA_SELECT_MAX_ : !strcmp(sel, "Min") ? HPA_SELECT_MIN_ : HPA_SELECT_DISABLED_;
	if (num(e, r, "tolerance", &d, &has))
		return -1;
	out->tolerance = d;
	out->has_tolerance = has;
	if (seq(e, r, "policies", &pl))
		return -1;
	for (size_t i = 0; pl && i < pl->n && i < 16; i++) {
		const char *ty = str(pl->vals[i], "type");
		double v, per;
		if (num_req(e, pl->vals[i], "value", &v) || num_req(e, pl->vals[i], "period_s", &per))
			return -1;
		out->policies[i] = (struct hpa_rule_policy){ty && !strcmp(ty, "Percent") ? HPA_PERCENT : HPA_PODS,
							    (int32_t)v, (int32_t)per};
		out->npolicies++;
	}
	if (!pl) { /* policies absent: the API's defaults */
		if (up)
			hpa_default_up(out);
		else
			hpa_default_down(out);
	}
	if (up && !out->has_window) {
		out->window_s = 0;
		out->has_window = true;
	}
	return 0;
}

static int parse_events(struct ev *e, const struct cfg_node *in, const char *k, struct hpa_event **ev, size_t *n,
			size_t *cap)
{
	const struct cfg_node *l;
	if (seq(e, in, k, &l))
		return -1;
	for (size_t i = 0; l && i < l->n; i++) {
		double ch, a;
		if (num_req(e, l->vals[i], "change", &ch) || num_req(e, l->vals[i], "age_s", &a))
			return -1;
		XGROW(*ev, *cap, *n + 1);
		(*ev)[(*n)++] = (struct hpa_event){(int32_t)ch, (sim_time)llround(-a * 1e9), false};
	}
	return 0;
}

static int parse_recs(struct ev *e, const struct cfg_node *in, struct hpa_state *s, bool *null)
{
	const struct cfg_node *l;
	*null = cfg_is_null(get(in, "recommendations"));
	if (seq(e, in, "recommendations", &l))
		return -1;
	for (size_t i = 0; l && i < l->n; i++) {
		double r, a;
		if (num_req(e, l->vals[i], "replicas", &r) || num_req(e, l->vals[i], "age_s", &a))
			return -1;
		hpa_rec_push(s, (int32_t)r, (sim_time)llround(-a * 1e9));
	}
	s->has_recs = !*null;
	return 0;
}

static int params(struct ev *e, const struct cfg_node *defaults, const struct cfg_node *ctl, struct hpa_params *p)
{
	static const char *const keys[] = {"tolerance_up", "tolerance_down", "cpu_initialization_period_s",
					   "initial_readiness_delay_s", "downscale_stabilization_window_s",
					   "legacy_scale_up_factor", "legacy_scale_up_minimum"};
	double v[7] = {0.1, 0.1, 300, 30, 300, 2, 4};
	for (int pass = 0; pass < 2; pass++) {
		const struct cfg_node *m = pass ? ctl : defaults;
		for (int k = 0; k < 7; k++) {
			double d;
			bool has;
			if (num(e, m, keys[k], &d, &has))
				return -1;
			if (has)
				v[k] = d;
		}
	}
	p->tol.up = v[0];
	p->tol.down = v[1];
	p->cpu_initialization_period = (sim_time)llround(v[2] * 1e9);
	p->initial_readiness_delay = (sim_time)llround(v[3] * 1e9);
	p->downscale_stabilization = (sim_time)llround(v[4] * 1e9);
	p->legacy_scale_up_factor = v[5];
	p->legacy_scale_up_minimum = v[6];
	return 0;
}

/* The computed values a case can name. */
struct result {
	bool error;
	int64_t replicas, desired, utilization, raw, usage, history_length, limit;
	bool has_util, has_raw, has_usage;
	const char *condition;
	int32_t *stored;
	size_t nstored;
};

static void emit(struct rep_json *j, const char *id, const struct cfg_node *expected, const struct result *r)
{
	rep_json_begin_object(j);
	rep_json_key(j, "id");
	rep_json_str(j, id);
	for (size_t i = 0; expected && expected->kind == CFG_MAP && i < expected->n; i++) {
		const char *k = expected->keys[i]->str;
		rep_json_key(j, k);
		if (!strcmp(k, "error"))
			rep_json_bool(j, r->error);
		else if (r->error)
			rep_json_null(j);
		else if (!strcmp(k, "replicas"))
			rep_json_int(j, r->replicas);
		else if (!strcmp(k, "desired_replicas"))
			rep_json_int(j, r->desired);
		else if (!strcmp(k, "utilization_pct") && r->has_util)
			rep_json_int(j, r->utilization);
		else if (!strcmp(k, "raw_average_m") && r->has_raw)
			rep_json_int(j, r->raw);
		else if (!strcmp(k, "usage_m") && r->has_usage)
			rep_json_int(j, r->usage);
		else if (!strcmp(k, "history_length"))
			rep_json_int(j, r->history_length);
		else if (!strcmp(k, "limit"))
			rep_json_int(j, r->limit);
		else if (!strcmp(k, "condition") && r->condition)
			rep_json_str(j, r->condition);
		else if (!strcmp(k, "stored_recommendations")) {
			rep_json_begin_array(j);
			for (size_t q = 0; q < r->nstored; q++)
				rep_json_int(j, r->stored[q]);
			rep_json_end_array(j);
		} else
			rep_json_null(j);
	}
	rep_json_end_object(j);
}

/* --check: does the computed value of field k equal the expected one? */
static bool same(const struct cfg_node *x, const char *k, const struct result *r)
{
	char msg[64];
	int64_t want;
	bool b;
	if (!strcmp(k, "error"))
		return x->kind == CFG_SCALAR && !cfg_parse_bool(x->str, &b, msg, sizeof(msg)) && b == r->error;
	if (r->error)
		return cfg_is_null(x);
	if (!strcmp(k, "condition"))
		return x->kind == CFG_SCALAR && r->condition && !strcmp(x->str, r->condition);
	if (!strcmp(k, "stored_recommendations")) {
		if (x->kind != CFG_SEQ || x->n != r->nstored)
			return false;
		for (size_t i = 0; i < x->n; i++)
			if (cfg_parse_int(x->vals[i]->str, &want, msg, sizeof(msg)) || want != r->stored[i])
				return false;
		return true;
	}
	if (x->kind != CFG_SCALAR || cfg_parse_int(x->str, &want, msg, sizeof(msg)))
		return false;
	if (!strcmp(k, "replicas"))
		return want == r->replicas;
	if (!strcmp(k, "desired_replicas"))
		return want == r->desired;
	if (!strcmp(k, "utilization_pct"))
		return r->has_util && want == r->utilization;
	if (!strcmp(k, "raw_average_m"))
		return r->has_raw && want == r->raw;
	if (!strcmp(k, "usage_m"))
		return r->has_usage && want == r->usage;
	if (!strcmp(k, "history_length"))
		return want == r->history_length;
	if (!strcmp(k, "limit"))
		return want == r->limit;
	return false;
}

/* JSON on one line: the writer indents, so fold it. */
static void print_line(const char *s)
{
	bool in_str = false, esc = false;
	for (const char *p = s; *p; p++) {
		if (in_str) {
			putchar(*p);
			if (esc)
				esc = false;
			else if (*p == '\\')
				esc = true;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"')
			in_str = true;
		if (*p == '\n')
			continue;
		if (*p == ' ' && (p[1] == ' ' || p[-1] == '\n' || p[-1] == ' '))
			continue;
		putchar(*p);
	}
	putchar('\n');
}

static int run_case(struct ev *e, const struct cfg_node *defaults, const struct cfg_node *cs, struct result *r)
{
	const char *kind = str(cs, "kind");
	const struct cfg_node *in = get(cs, "input");
	struct hpa_params p;
	struct hpa_state s;
	double d;
	bool has;
	int rc = -1;
	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	if (!kind)
		return bad(e, cs, "%s", "a case needs 'kind'");
	if (!in || in->kind != CFG_MAP)
		return bad(e, cs, "%s", "a case needs an 'input' mapping");
	if (params(e, defaults, get(cs, "controller"), &p))
		return -1;
	if (!strcmp(kind, "replica_calc")) {
		struct hpa_pod *pods;
		size_t np;
		struct hpa_metric m;
		struct hpa_calc c;
		double cur;
		const struct cfg_node *mn = get(in, "metric");
		if (parse_pods(e, in, &pods, &np) || num_req(e, in, "current_replicas", &cur))
			goto out;
		if (!mn)
			return bad(e, in, "%s", "replica_calc needs 'metric'");
		if (parse_metric(e, mn, &m))
			goto out;
		if (hpa_replica_calc(&p, 0, (int32_t)cur, (int32_t)cur, pods, np, &m, &c)) {
			r->error = true;
		} else {
			r->replicas = c.replicas;
			r->utilization = c.utilization;
			r->raw = c.raw_average_m;
			r->usage = c.usage_m;
			r->has_util = c.has_utilization;
			r->has_raw = c.has_raw;
			r->has_usage = c.has_usage;
		}
	} else if (!strcmp(kind, "controller_sync")) {
		struct hpa_pod *pods;
		size_t np, nm;
		const struct cfg_node *ml, *bn = get(in, "behavior");
		struct hpa_metric *ms;
		struct hpa_behavior_rt b;
		double spec, status, max, min;
		bool has_min, rnull;
		const char *why;
		if (parse_pods(e, in, &pods, &np) || num_req(e, in, "spec_replicas", &spec) ||
		    num_req(e, in, "max_replicas", &max) || num(e, in, "min_replicas", &min, &has_min) ||
		    seq(e, in, "metrics", &ml) || parse_recs(e, in, &s, &rnull) ||
		    parse_events(e, in, "scale_up_events", &s.up, &s.nup, &s.up_cap) ||
		    parse_events(e, in, "scale_down_events", &s.down, &s.ndown, &s.down_cap))
			goto out;
		if (num(e, in, "status_replicas", &status, &has))
			goto out;
		if (!has)
			status = spec;
		nm = ml ? ml->n : 0;
		ms = sim_arena_alloc(&e->doc->arena, sizeof(*ms) * (nm + 1));
		for (size_t i = 0; i < nm; i++)
			if (parse_metric(e, ml->vals[i], &ms[i]))
				goto out;
		if (!cfg_is_null(bn)) {
			const struct cfg_node *up = get(bn, "scale_up"), *dn = get(bn, "scale_down");
			if (!up)
				up = get(bn, "scaleUp");
			if (!dn)
				dn = get(bn, "scaleDown");
			if (parse_rules(e, up, &b.up, true) || parse_rules(e, dn, &b.down, false))
				goto out;
		}
		r->desired = hpa_reconcile(&p, &s, 0, (int32_t)spec, (int32_t)status, has_min ? (int32_t)min : -1,
					   (int32_t)max, pods, np, ms, nm, cfg_is_null(bn) ? NULL : &b, &why);
		r->replicas = r->desired;
	} else if (!strcmp(kind, "stabilize_legacy")) {
		double w, pre;
		bool rnull;
		if (num_req(e, in, "window_s", &w) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    parse_recs(e, in, &s, &rnull))
			goto out;
		r->replicas = hpa_stabilize_legacy(&s, 0, (sim_time)llround(w * 1e9), (int32_t)pre);
		r->history_length = (int64_t)s.nrecs;
	} else if (!strcmp(kind, "stabilize_behavior")) {
		double cur, pre, uw, dw;
		bool rnull;
		if (num_req(e, in, "current_replicas", &cur) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    num_req(e, in, "scale_up_window_s", &uw) || num_req(e, in, "scale_down_window_s", &dw) ||
		    parse_recs(e, in, &s, &rnull))
			goto out;
		r->replicas = hpa_stabilize_behavior(&s, 0, (int32_t)uw, (int32_t)dw, (int32_t)cur, (int32_t)pre);
		r->stored = sim_arena_alloc(&e->doc->arena, sizeof(int32_t) * (s.nrecs + 1));
		for (size_t i = 0; i < s.nrecs; i++)
			r->stored[i] = s.recs[i].replicas;
		r->nstored = s.nrecs;
		r->history_length = (int64_t)s.nrecs;
	} else if (!strcmp(kind, "rate_limit")) {
		struct hpa_behavior_rt b;
		double cur, pre, min, max;
		if (num_req(e, in, "current_replicas", &cur) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    num_req(e, in, "min_replicas", &min) || num_req(e, in, "max_replicas", &max) ||
		    parse_rules(e, get(in, "scale_up_rules"), &b.up, true) ||
		    parse_rules(e, get(in, "scale_down_rules"), &b.down, false) ||
		    parse_events(e, in, "scale_up_events", &s.up, &s.nup, &s.up_cap) ||
		    parse_events(e, in, "scale_down_events", &s.down, &s.ndown, &s.down_cap))
			goto out;
		r->replicas = hpa_rate_limit(&s, 0, &b, (int32_t)cur, (int32_t)pre, (int32_t)min, (int32_t)max, &r->condition);
	} else if (!strcmp(kind, "policy_limit")) {
		struct hpa_rules_rt rules;
		double cur;
		const char *dir = str(in, "direction");
		bool up = !dir || !strcmp(dir, "up") || !strcmp(dir, "scale_up") || !strcmp(dir, "ScaleUp");
		if (num_req(e, in, "current_replicas", &cur) || parse_rules(e, get(in, "rules"), &rules, up) ||
		    parse_events(e, in, "scale_up_events", &s.up, &s.nup, &s.up_cap) ||
		    parse_events(e, in, "scale_down_events", &s.down, &s.ndown, &s.down_cap) ||
		    parse_events(e, in, "events", up ? &s.up : &s.down, up ? &s.nup : &s.ndown, up ? &s.up_cap : &s.down_cap))
			goto out;
		r->limit = hpa_policy_limit(&s, 0, up, (int32_t)cur, &rules);
		r->replicas = r->limit;
	} else if (!strcmp(kind, "legacy_rules")) {
		double cur, pre, min, max;
		if (num_req(e, in, "current_replicas", &cur) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    num_req(e, in, "min_replicas", &min) || num_req(e, in, "max_replicas", &max))
			goto out;
		r->replicas = hpa_legacy_rules(&p, (int32_t)cur, (int32_t)pre, (int32_t)min, (int32_t)max, &r->condition);
	} else {
		bad(e, get(cs, "kind"), "unknown case kind '%s'", kind);
		goto out;
	}
	(void)d;
	rc = 0;
out:
	hpa_state_release(&s);
	return rc;
}

int cmd_hpa_eval(int argc, char **argv)
{
	struct cli_opts o;
	struct cfg_doc doc;
	struct sim_err err;
	struct ev e;
	const struct cfg_node *cases, *defaults;
	int rc;

	size_t ndiff = 0;
	if ((rc = cli_parse(argc, argv, "hpa-eval", "check", &o)))
		return rc;
	if (!o.scenario) {
		fprintf(stderr, "servesim hpa-eval: no case file given (usage: servesim hpa-eval FILE)\n");
		return 2;
	}
	cfg_doc_init(&doc);
	sim_err_clear(&err);
	e.doc = &doc;
	e.err = &err;
	cfg_ctx_init(&e.c, &doc, &err);
	if (cfg_doc_load_file(&doc, o.scenario, &err))
		goto fail;
	defaults = cfg_map_get(doc.root, "defaults");
	cases = cfg_map_get(doc.root, "cases");
	if (!cases || cases->kind != CFG_SEQ) {
		cfg_error(&e.c, cases ? cases : doc.root, "expected 'cases:' with a list of cases");
		goto fail;
	}
	for (size_t i = 0; i < cases->n; i++) {
		const struct cfg_node *cs = cases->vals[i];
		const char *id = str(cs, "id");
		struct result res;
		struct rep_json j;
		if (cs->kind != CFG_MAP || !id) {
			cfg_error(&e.c, cs, "a case is a mapping with an 'id'");
			goto fail;
		}
		if (run_case(&e, defaults, cs, &res))
			goto fail;
		if (o.check) {
			const struct cfg_node *x = get(cs, "expected");
			bool ok = true;
			for (size_t k = 0; x && x->kind == CFG_MAP && k < x->n; k++)
				if (!same(x->vals[k], x->keys[k]->str, &res)) {
					if (ok)
						ndiff++;
					ok = false;
					printf("%s: %s differs\n", id, x->keys[k]->str);
				}
			continue;
		}
		rep_json_init(&j);
		emit(&j, id, get(cs, "expected"), &res);
		print_line(j.buf);
		rep_json_release(&j);
	}
	if (o.check)
		printf("hpa-eval: %zu cases, %zu differ\n", cases->n, ndiff);
	cfg_doc_release(&doc);
	cli_opts_release(&o);
	return ndiff ? 1 : 0;
fail:
	fflush(stdout);
	fprintf(stderr, "%s\n", err.msg);
	cfg_doc_release(&doc);
	cli_opts_release(&o);
	return sim_err_exit_code(&err);
}
