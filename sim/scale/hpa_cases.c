/*
 * HPA golden cases (../shared/reference/hpa-cases.yaml, schema 1): decoding
 * a cases file into hpa_case structs, with file:line:col on bad input, and
 * running a case through the algorithm in hpa.c. `servesim hpa-eval` only
 * prints what these compute.
 */
#include "hpa.h"

#include "../config/config.h"

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

/* ---- one case ---- */

/* Decodes a case's controller and input, in the order (and with the errors)
 * hpa-eval always had. */
static int decode_case(struct ev *e, const struct cfg_node *defaults, const struct cfg_node *cs, struct hpa_case *c)
{
	const char *kind = str(cs, "kind");
	const struct cfg_node *in = get(cs, "input");
	struct hpa_state *s = &c->history;
	double cur, pre, min, max;
	bool rnull;
	if (!kind)
		return bad(e, cs, "%s", "a case needs 'kind'");
	if (!in || in->kind != CFG_MAP)
		return bad(e, cs, "%s", "a case needs an 'input' mapping");
	if (params(e, defaults, get(cs, "controller"), &c->params))
		return -1;
	c->min = -1;
	if (!strcmp(kind, "replica_calc")) {
		const struct cfg_node *mn = get(in, "metric");
		c->kind = HPA_CASE_REPLICA_CALC;
		if (parse_pods(e, in, &c->pods, &c->npods) || num_req(e, in, "current_replicas", &cur))
			return -1;
		if (!mn)
			return bad(e, in, "%s", "replica_calc needs 'metric'");
		c->current = (int32_t)cur;
		c->metrics = sim_arena_alloc(&e->doc->arena, sizeof(*c->metrics));
		c->nmetrics = 1;
		return parse_metric(e, mn, &c->metrics[0]);
	}
	if (!strcmp(kind, "controller_sync")) {
		const struct cfg_node *ml, *bn = get(in, "behavior");
		double spec, status;
		bool has_min, has;
		c->kind = HPA_CASE_CONTROLLER_SYNC;
		if (parse_pods(e, in, &c->pods, &c->npods) || num_req(e, in, "spec_replicas", &spec) ||
		    num_req(e, in, "max_replicas", &max) || num(e, in, "min_replicas", &min, &has_min) ||
		    seq(e, in, "metrics", &ml) || parse_recs(e, in, s, &rnull) ||
		    parse_events(e, in, "scale_up_events", &s->up, &s->nup, &s->up_cap) ||
		    parse_events(e, in, "scale_down_events", &s->down, &s->ndown, &s->down_cap))
			return -1;
		if (num(e, in, "status_replicas", &status, &has))
			return -1;
		if (!has)
			status = spec;
		c->spec = (int32_t)spec;
		c->status = (int32_t)status;
		c->min = has_min ? (int32_t)min : -1;
		c->max = (int32_t)max;
		c->nmetrics = ml ? ml->n : 0;
		c->metrics = sim_arena_alloc(&e->doc->arena, sizeof(*c->metrics) * (c->nmetrics + 1));
		for (size_t i = 0; i < c->nmetrics; i++)
			if (parse_metric(e, ml->vals[i], &c->metrics[i]))
				return -1;
		c->has_behavior = !cfg_is_null(bn);
		if (c->has_behavior) {
			const struct cfg_node *up = get(bn, "scale_up"), *dn = get(bn, "scale_down");
			if (!up)
				up = get(bn, "scaleUp");
			if (!dn)
				dn = get(bn, "scaleDown");
			if (parse_rules(e, up, &c->behavior.up, true) || parse_rules(e, dn, &c->behavior.down, false))
				return -1;
		}
		return 0;
	}
	if (!strcmp(kind, "stabilize_legacy")) {
		double w;
		c->kind = HPA_CASE_STABILIZE_LEGACY;
		if (num_req(e, in, "window_s", &w) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    parse_recs(e, in, s, &rnull))
			return -1;
		c->window = (sim_time)llround(w * 1e9);
		c->prenormalized = (int32_t)pre;
		return 0;
	}
	if (!strcmp(kind, "stabilize_behavior")) {
		double uw, dw;
		c->kind = HPA_CASE_STABILIZE_BEHAVIOR;
		if (num_req(e, in, "current_replicas", &cur) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    num_req(e, in, "scale_up_window_s", &uw) || num_req(e, in, "scale_down_window_s", &dw) ||
		    parse_recs(e, in, s, &rnull))
			return -1;
		c->current = (int32_t)cur;
		c->prenormalized = (int32_t)pre;
		c->up_window_s = (int32_t)uw;
		c->down_window_s = (int32_t)dw;
		return 0;
	}
	if (!strcmp(kind, "rate_limit")) {
		c->kind = HPA_CASE_RATE_LIMIT;
		if (num_req(e, in, "current_replicas", &cur) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    num_req(e, in, "min_replicas", &min) || num_req(e, in, "max_replicas", &max) ||
		    parse_rules(e, get(in, "scale_up_rules"), &c->behavior.up, true) ||
		    parse_rules(e, get(in, "scale_down_rules"), &c->behavior.down, false) ||
		    parse_events(e, in, "scale_up_events", &s->up, &s->nup, &s->up_cap) ||
		    parse_events(e, in, "scale_down_events", &s->down, &s->ndown, &s->down_cap))
			return -1;
		c->current = (int32_t)cur;
		c->prenormalized = (int32_t)pre;
		c->min = (int32_t)min;
		c->max = (int32_t)max;
		return 0;
	}
	if (!strcmp(kind, "policy_limit")) {
		const char *dir = str(in, "direction");
		bool up = !dir || !strcmp(dir, "up") || !strcmp(dir, "scale_up") || !strcmp(dir, "ScaleUp");
		c->kind = HPA_CASE_POLICY_LIMIT;
		c->up = up;
		if (num_req(e, in, "current_replicas", &cur) || parse_rules(e, get(in, "rules"), &c->rules, up) ||
		    parse_events(e, in, "scale_up_events", &s->up, &s->nup, &s->up_cap) ||
		    parse_events(e, in, "scale_down_events", &s->down, &s->ndown, &s->down_cap) ||
		    parse_events(e, in, "events", up ? &s->up : &s->down, up ? &s->nup : &s->ndown,
				 up ? &s->up_cap : &s->down_cap))
			return -1;
		c->current = (int32_t)cur;
		return 0;
	}
	if (!strcmp(kind, "legacy_rules")) {
		c->kind = HPA_CASE_LEGACY_RULES;
		if (num_req(e, in, "current_replicas", &cur) || num_req(e, in, "prenormalized_replicas", &pre) ||
		    num_req(e, in, "min_replicas", &min) || num_req(e, in, "max_replicas", &max))
			return -1;
		c->current = (int32_t)cur;
		c->prenormalized = (int32_t)pre;
		c->min = (int32_t)min;
		c->max = (int32_t)max;
		return 0;
	}
	return bad(e, get(cs, "kind"), "unknown case kind '%s'", kind);
}

static void copy_events(struct hpa_event **dst, size_t *n, size_t *cap, const struct hpa_event *src, size_t ns)
{
	if (!ns)
		return;
	XGROW(*dst, *cap, ns);
	memcpy(*dst, src, ns * sizeof(*src));
	*n = ns;
}

/* The algorithm changes the history it is given: it works on a copy. */
static void history_copy(struct hpa_state *d, const struct hpa_state *s)
{
	memset(d, 0, sizeof(*d));
	d->has_recs = s->has_recs;
	if (s->nrecs) {
		XGROW(d->recs, d->recs_cap, s->nrecs);
		memcpy(d->recs, s->recs, s->nrecs * sizeof(*s->recs));
		d->nrecs = s->nrecs;
	}
	copy_events(&d->up, &d->nup, &d->up_cap, s->up, s->nup);
	copy_events(&d->down, &d->ndown, &d->down_cap, s->down, s->ndown);
}

void hpa_case_eval(struct hpa_case *c)
{
	struct hpa_case_result *r = &c->got;
	struct hpa_state s;
	free(r->stored);
	memset(r, 0, sizeof(*r));
	history_copy(&s, &c->history);
	switch (c->kind) {
	case HPA_CASE_REPLICA_CALC: {
		struct hpa_calc k;
		if (hpa_replica_calc(&c->params, 0, c->current, c->current, c->pods, c->npods, &c->metrics[0], &k)) {
			r->error = true;
			break;
		}
		r->replicas = k.replicas;
		r->utilization = k.utilization;
		r->raw = k.raw_average_m;
		r->usage = k.usage_m;
		r->has_util = k.has_utilization;
		r->has_raw = k.has_raw;
		r->has_usage = k.has_usage;
		break;
	}
	case HPA_CASE_CONTROLLER_SYNC: {
		const char *why;
		r->desired = hpa_reconcile(&c->params, &s, 0, c->spec, c->status, c->min, c->max, c->pods, c->npods,
					   c->metrics, c->nmetrics, c->has_behavior ? &c->behavior : NULL, &why);
		r->replicas = r->desired;
		break;
	}
	case HPA_CASE_STABILIZE_LEGACY:
		r->replicas = hpa_stabilize_legacy(&s, 0, c->window, c->prenormalized);
		r->history_length = (int64_t)s.nrecs;
		break;
	case HPA_CASE_STABILIZE_BEHAVIOR:
		r->replicas = hpa_stabilize_behavior(&s, 0, c->up_window_s, c->down_window_s, c->current, c->prenormalized);
		r->stored = xmalloc(sizeof(int32_t) * (s.nrecs + 1));
		for (size_t i = 0; i < s.nrecs; i++)
			r->stored[i] = s.recs[i].replicas;
		r->nstored = s.nrecs;
		r->history_length = (int64_t)s.nrecs;
		break;
	case HPA_CASE_RATE_LIMIT:
		r->replicas = hpa_rate_limit(&s, 0, &c->behavior, c->current, c->prenormalized, c->min, c->max,
					     &r->condition);
		break;
	case HPA_CASE_POLICY_LIMIT:
		r->limit = hpa_policy_limit(&s, 0, c->up, c->current, &c->rules);
		r->replicas = r->limit;
		break;
	case HPA_CASE_LEGACY_RULES:
		r->replicas = hpa_legacy_rules(&c->params, c->current, c->prenormalized, c->min, c->max, &r->condition);
		break;
	default:
		break;
	}
	hpa_state_release(&s);
}

bool hpa_case_matches(const struct hpa_case *c, const char *k, const struct cfg_node *x)
{
	const struct hpa_case_result *r = &c->got;
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

/* ---- a file ---- */

int hpa_cases_load(struct hpa_cases *cs, const char *path, struct sim_err *err)
{
	struct ev e;
	const struct cfg_node *cases, *defaults;
	memset(cs, 0, sizeof(*cs));
	cs->doc = xmalloc(sizeof(*cs->doc));
	cfg_doc_init(cs->doc);
	sim_err_clear(err);
	e.doc = cs->doc;
	e.err = err;
	cfg_ctx_init(&e.c, cs->doc, err);
	if (cfg_doc_load_file(cs->doc, path, err))
		return -1;
	defaults = cfg_map_get(cs->doc->root, "defaults");
	cases = cfg_map_get(cs->doc->root, "cases");
	if (!cases || cases->kind != CFG_SEQ)
		return cfg_error(&e.c, cases ? cases : cs->doc->root, "expected 'cases:' with a list of cases");
	cs->listed = cases->n;
	for (size_t i = 0; i < cases->n; i++) {
		const struct cfg_node *n = cases->vals[i];
		struct hpa_case c;
		memset(&c, 0, sizeof(c));
		c.id = str(n, "id");
		if (n->kind != CFG_MAP || !c.id)
			return cfg_error(&e.c, n, "a case is a mapping with an 'id'");
		c.expected = get(n, "expected");
		if (decode_case(&e, defaults, n, &c)) {
			hpa_state_release(&c.history);
			return -1;
		}
		XGROW(cs->v, cs->cap, cs->n + 1);
		cs->v[cs->n++] = c;
	}
	return 0;
}

void hpa_cases_release(struct hpa_cases *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		hpa_state_release(&cs->v[i].history);
		free(cs->v[i].got.stored);
	}
	free(cs->v);
	if (cs->doc) {
		cfg_doc_release(cs->doc);
		free(cs->doc);
	}
	memset(cs, 0, sizeof(*cs));
}
