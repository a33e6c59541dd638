/*
 * The experiment file: which scenario, which seeds, which design over which
 * parameters (--set paths), which objectives. Parameters are written as
 * the keys of a mapping, so their positions come from the keys' nodes.
 */
#include "exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const design_names[] = {[EXP_GRID] = "grid", [EXP_RANDOM] = "random",
					   [EXP_SOBOL] = "sobol", [EXP_LHS] = "lhs", NULL};

/* A number of a parameter's spec, with its position in messages. */
static int num(struct cfg_ctx *c, const struct cfg_node *n, double *out)
{
	static const struct cfg_field f = {.key = "", .type = CFG_T_DOUBLE};
	if (!n || n->kind != CFG_SCALAR)
		return cfg_error(c, n, "expected a number");
	return cfg_decode_value(c, n, &f, out);
}

static int pair(struct cfg_ctx *c, const struct cfg_node *n, double *lo, double *hi)
{
	if (!n || n->kind != CFG_SEQ || n->n != 2)
		return cfg_error(c, n, "expected [low, high]");
	if (num(c, n->vals[0], lo) || num(c, n->vals[1], hi))
		return -1;
	if (!(*lo < *hi))
		return cfg_error(c, n, "expected low < high, got [%g, %g]", *lo, *hi);
	return 0;
}

/* One parameter: a list of values, {range: [lo, hi], step: s | log: true}, or {int: [lo, hi]}. */
static int decode_param(struct cfg_ctx *c, struct exp_param *p, const struct cfg_node *k, const struct cfg_node *v)
{
	p->path = k->str;
	p->at = k;
	if (v->kind == CFG_SEQ) {
		if (v->n == 0)
			return cfg_error(c, v, "a parameter needs at least one value");
		p->kind = EXP_VALUES;
		p->nvalues = v->n;
		p->values = sim_arena_alloc(&c->doc->arena, v->n * sizeof(*p->values));
		for (size_t i = 0; i < v->n; i++) {
			char *y;
			if (v->vals[i]->kind == CFG_SCALAR) {
				p->values[i] = v->vals[i]->str;
				continue;
			}
			y = cfg_to_yaml(v->vals[i]); /* a mapping or list, set whole */
			p->values[i] = sim_arena_strdup(&c->doc->arena, y);
			free(y);
		}
		return 0;
	}
	if (v->kind != CFG_MAP)
		return cfg_error(c, v, "expected a list of values, {range: [low, high], step: S}, "
				       "{range: [low, high], log: true} or {int: [low, high]}");
	for (size_t i = 0; i < v->n; i++) {
		const char *key = v->keys[i]->str;
		if (strcmp(key, "range") && strcmp(key, "step") && strcmp(key, "log") && strcmp(key, "int")) {
			static const char *const keys[] = {"range", "step", "log", "int"};
			const char *near = cfg_closest(key, keys, 4);
			return cfg_error(c, v->keys[i], "unknown key '%s'%s%s%s", key, near ? " (did you mean '" : "",
					 near ? near : "", near ? "'?)" : "");
		}
	}
	if (cfg_map_get(v, "int")) {
		if (cfg_map_get(v, "range") || cfg_map_get(v, "step") || cfg_map_get(v, "log"))
			return cfg_error(c, v, "int: [low, high] stands alone");
		p->kind = EXP_INT;
		if (pair(c, cfg_map_get(v, "int"), &p->lo, &p->hi))
			return -1;
		if (p->lo != floor(p->lo) || p->hi != floor(p->hi))
			return cfg_error(c, cfg_map_get(v, "int"), "int bounds must be whole numbers");
		p->step = 1;
		return 0;
	}
	if (!cfg_map_get(v, "range"))
		return cfg_error(c, v, "a parameter mapping needs range: [low, high] or int: [low, high]");
	p->kind = EXP_RANGE;
	if (pair(c, cfg_map_get(v, "range"), &p->lo, &p->hi))
		return -1;
	if (cfg_map_get(v, "log")) {
		static const struct cfg_field f = {.key = "", .type = CFG_T_BOOL};
		if (cfg_decode_value(c, cfg_map_get(v, "log"), &f, &p->log))
			return -1;
		if (p->log && !(p->lo > 0))
			return cfg_error(c, cfg_map_get(v, "range"), "a log range needs low > 0");
	}
	if (cfg_map_get(v, "step")) {
		if (p->log)
			return cfg_error(c, cfg_map_get(v, "step"), "step and log: true exclude each other");
		if (num(c, cfg_map_get(v, "step"), &p->step))
			return -1;
		if (!(p->step > 0))
			return cfg_error(c, cfg_map_get(v, "step"), "step must be > 0");
		if ((p->hi - p->lo) / p->step > 1e6)
			return cfg_error(c, cfg_map_get(v, "step"), "more than a million steps");
	}
	return 0;
}

static int decode_seeds(struct cfg_ctx *c, struct exp_file *e, const struct cfg_node *n, int64_t first)
{
	static const struct cfg_field f = {.key = "", .type = CFG_T_INT, .flags = CFG_MIN | CFG_MAX, .min = 0,
					   .max = 9.2e18};
	if (!n) { /* the scenario's seed alone */
		e->nseeds = 1;
		e->seeds = sim_arena_alloc(&e->doc.arena, sizeof(int64_t));
		e->seeds[0] = first;
		return 0;
	}
	if (n->kind == CFG_SCALAR) {
		int64_t k;
		if (cfg_decode_value(c, n, &f, &k))
			return -1;
		if (k < 1 || k > 100000)
			return cfg_error(c, n, "seeds: expected 1 to 100000 seeds, got %lld", (long long)k);
		e->nseeds = (size_t)k;
		e->seeds = sim_arena_alloc(&e->doc.arena, e->nseeds * sizeof(int64_t));
		for (size_t i = 0; i < e->nseeds; i++) /* the scenario's seed, seed + 1, ... */
			e->seeds[i] = first + (int64_t)i;
		return 0;
	}
	if (n->kind != CFG_SEQ || n->n == 0)
		return cfg_error(c, n, "seeds: expected a count or a list of seeds");
	e->nseeds = n->n;
	e->seeds = sim_arena_alloc(&e->doc.arena, e->nseeds * sizeof(int64_t));
	for (size_t i = 0; i < n->n; i++) {
		if (cfg_decode_value(c, n->vals[i], &f, &e->seeds[i]))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (e->seeds[j] == e->seeds[i])
				return cfg_error(c, n->vals[i], "seed %lld is listed twice", (long long)e->seeds[i]);
	}
	return 0;
}

/* The scenario must accept each parameter: its first and last values are
 * tried, and a rejection is reported at the parameter's key. */
static int try_values(struct cfg_ctx *c, struct exp_file *e)
{
	struct exp_points pts;
	int rc = 0;
	if (exp_design_points(e, &pts, c->err))
		return -1;
	for (size_t k = 0; k < 2 && !rc && pts.n; k++) {
		size_t point = k ? pts.n - 1 : 0;
		char **sets = exp_point_sets(e, &pts, point);
		for (size_t i = 0; i < e->nparams && !rc; i++) {
			struct scenario s;
			struct sim_err err;
			sim_err_clear(&err);
			if (scn_load(&s, e->scenario, (const char *const *)&sets[i], 1, &err)) {
				rc = cfg_error(c, e->params[i].at, "the scenario rejects %s: %s", sets[i], err.msg);
				break;
			}
			scn_release(&s);
		}
		for (size_t i = 0; i < e->nparams; i++)
			free(sets[i]);
		free(sets);
	}
	exp_points_release(&pts);
	return rc;
}

int exp_load(struct exp_file *e, const char *path, struct sim_err *err)
{
	static const char *const top[] = {"scenario", "seeds", "design", "samples", "design_seed", "parameters",
					  "objectives"};
	struct cfg_ctx c;
	const struct cfg_node *root, *n;
	struct scenario s;
	int64_t first;
	memset(e, 0, sizeof(*e));
	cfg_doc_init(&e->doc);
	if (cfg_doc_load_file(&e->doc, path, err))
		goto fail;
	e->path = path;
	root = e->doc.root;
	cfg_ctx_init(&c, &e->doc, err);
	for (size_t i = 0; i < root->n; i++) {
		size_t k = 0;
		while (k < sizeof(top) / sizeof(top[0]) && strcmp(top[k], root->keys[i]->str))
			k++;
		if (k == sizeof(top) / sizeof(top[0])) {
			const char *near = cfg_closest(root->keys[i]->str, top, sizeof(top) / sizeof(top[0]));
			cfg_error(&c, root->keys[i], "unknown key '%s'%s%s%s", root->keys[i]->str,
				  near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			goto fail;
		}
	}
	n = cfg_map_get(root, "scenario");
	if (!n || n->kind != CFG_SCALAR || !*n->str) {
		cfg_error(&c, n ? n : root, "an experiment needs scenario: PATH (relative to this file)");
		goto fail;
	}
	e->scenario = cfg_resolve_path(&c, n, n->str);
	sim_err_clear(err);
	if (scn_load(&s, e->scenario, NULL, 0, err)) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		sim_err_clear(err);
		cfg_error(&c, n, "%s", msg);
		goto fail;
	}
	first = s.seed;
	scn_release(&s);
	if (decode_seeds(&c, e, cfg_map_get(root, "seeds"), first))
		goto fail;
	e->design = EXP_GRID;
	if ((n = cfg_map_get(root, "design"))) {
		static const struct cfg_field f = {.key = "", .type = CFG_T_ENUM, .enums = design_names};
		if (cfg_decode_value(&c, n, &f, &e->design))
			goto fail;
	}
	if ((n = cfg_map_get(root, "samples"))) {
		static const struct cfg_field f = {.key = "", .type = CFG_T_INT, .flags = CFG_MIN | CFG_MAX,
						   .min = 1, .max = 10000000};
		if (cfg_decode_value(&c, n, &f, &e->samples))
			goto fail;
		if (e->design == EXP_GRID) {
			cfg_error(&c, n, "samples is for design random, sobol or lhs; a grid takes every combination");
			goto fail;
		}
	} else if (e->design != EXP_GRID) {
		cfg_error(&c, cfg_map_get(root, "design"), "design %s needs samples: N", design_names[e->design]);
		goto fail;
	}
	e->design_seed = 1;
	if ((n = cfg_map_get(root, "design_seed"))) {
		static const struct cfg_field f = {.key = "", .type = CFG_T_INT, .flags = CFG_MIN, .min = 0};
		if (cfg_decode_value(&c, n, &f, &e->design_seed))
			goto fail;
	}
	n = cfg_map_get(root, "parameters");
	if (!n || n->kind != CFG_MAP || n->n == 0) {
		cfg_error(&c, n ? n : root, "an experiment needs parameters: a mapping of --set paths to their values");
		goto fail;
	}
	e->nparams = n->n;
	e->params = sim_arena_alloc(&e->doc.arena, n->n * sizeof(*e->params));
	for (size_t i = 0; i < n->n; i++) {
		if (decode_param(&c, &e->params[i], n->keys[i], n->vals[i]))
			goto fail;
		if (e->design == EXP_GRID && e->params[i].kind == EXP_RANGE && e->params[i].step == 0) {
			cfg_error(&c, n->vals[i], "a grid needs discrete values: give step: S, or use design random, "
						  "sobol or lhs");
			goto fail;
		}
	}
	if (e->design == EXP_SOBOL && e->nparams > 40) {
		cfg_error(&c, n, "sobol designs take at most 40 parameters (GSL's generator)");
		goto fail;
	}
	if ((n = cfg_map_get(root, "objectives"))) {
		if (n->kind != CFG_SEQ) {
			cfg_error(&c, n, "objectives: expected a list of summary.json paths");
			goto fail;
		}
		e->nobjectives = n->n;
		e->objectives = sim_arena_alloc(&e->doc.arena, (n->n + 1) * sizeof(*e->objectives));
		for (size_t i = 0; i < n->n; i++) {
			const struct cfg_node *o = n->vals[i];
			if (o->kind != CFG_SCALAR || !*o->str) {
				cfg_error(&c, o, "an objective is a summary.json path, e.g. ttft_s.p99 or -slo.attainment");
				goto fail;
			}
			e->objectives[i].maximize = o->str[0] == '-';
			e->objectives[i].path = o->str + (o->str[0] == '-');
			if (!rep_summary_field_known(e->objectives[i].path) && !strchr(e->objectives[i].path, '.')) {
				cfg_error(&c, o, "'%s' is not a summary.json path", e->objectives[i].path);
				goto fail;
			}
		}
	}
	if (try_values(&c, e))
		goto fail;
	return 0;
fail:
	exp_release(e);
	return -1;
}

void exp_release(struct exp_file *e)
{
	cfg_doc_release(&e->doc);
	memset(e, 0, sizeof(*e));
}
