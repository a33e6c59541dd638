/*
 * `servesim hpa-eval FILE`: runs HPA golden cases (the schema at the top of
 * ../shared/reference/hpa-cases.yaml) through the controller's algorithm
 * and prints one JSON object per case: {"id": ..., <each field of the
 * case's expected, computed>}. Bad input: file:line:col and exit 2.
 * Decoding and evaluating the cases is sim/scale's (hpa_cases.c); this file
 * parses the options and prints.
 */
#include "cli.h"
#include "../scale/hpa.h"

#include <stdio.h>
#include <string.h>

static void emit(struct rep_json *j, const char *id, const struct cfg_node *expected, const struct hpa_case_result *r)
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

/* --check: one line per field that differs; returns whether any did. */
static bool check(const struct hpa_case *c)
{
	const struct cfg_node *x = c->expected;
	bool ok = true;
	for (size_t k = 0; x && x->kind == CFG_MAP && k < x->n; k++)
		if (!hpa_case_matches(c, x->keys[k]->str, x->vals[k])) {
			ok = false;
			printf("%s: %s differs\n", c->id, x->keys[k]->str);
		}
	return !ok;
}

int cmd_hpa_eval(int argc, char **argv)
{
	struct cli_opts o;
	struct hpa_cases cs;
	struct sim_err err;
	size_t ndiff = 0;
	int rc, bad;

	if ((rc = cli_parse(argc, argv, "hpa-eval", "check", &o)))
		return rc;
	if (!o.scenario) {
		fprintf(stderr, "servesim hpa-eval: no case file given (usage: servesim hpa-eval FILE)\n");
		return 2;
	}
	bad = hpa_cases_load(&cs, o.scenario, &err);
	/* on bad input, the cases before the bad one are printed first */
	for (size_t i = 0; i < cs.n; i++) {
		struct hpa_case *c = &cs.v[i];
		struct rep_json j;
		hpa_case_eval(c);
		if (o.check) {
			ndiff += check(c);
			continue;
		}
		rep_json_init(&j);
		emit(&j, c->id, c->expected, &c->got);
		print_line(j.buf);
		rep_json_release(&j);
	}
	if (bad) {
		fflush(stdout);
		fprintf(stderr, "%s\n", err.msg);
		rc = sim_err_exit_code(&err);
	} else {
		if (o.check)
			printf("hpa-eval: %zu cases, %zu differ\n", cs.listed, ndiff);
		rc = ndiff ? 1 : 0;
	}
	hpa_cases_release(&cs);
	cli_opts_release(&o);
	return rc;
}
