/* sim/exp: leaves of a summary, the JSON reader, statistics over seeds,
 * seeds.json both ways, comparisons and the regression gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/exp.h"
#include "testutil.h"

static const char *SCN =
	"name: tiny\nseed: 3\nduration: 1m\ndrain_timeout: 1m\n"
	"deployments:\n  - name: chat\n    model: llama-3-8b\n    gpu: h100-sxm\n    replicas: 1\n"
	"workloads:\n  - name: w\n    deployment: chat\n    arrivals: {process: poisson, rate: 2/s}\n"
	"    lengths: {prompt: {dist: fixed, value: 200}, output: {dist: fixed, value: 20}}\n";

static double leaf(const struct exp_leaves *l, const char *path)
{
	double v;
	if (!exp_leaves_get(l, path, &v))
		fail_msg("no leaf %s", path);
	return v;
}

static void leaves_of_a_real_summary(void **state)
{
	struct scenario s;
	struct sim_err e;
	struct run *r;
	struct exp_leaves a, b;
	struct rep_json j;
	struct rep_summary *sum;
	double v;
	(void)state;
	sim_err_clear(&e);
	if (scn_load(&s, tu_write("tiny.yaml", SCN), NULL, 0, &e))
		fail_msg("%s", e.msg);
	r = run_new(&s, NULL, &e);
	assert_non_null(r);
	assert_int_equal(run_finish(r, &e), 0);
	sum = run_summary(r);
	sum->wall_time_s = 1.5;
	exp_leaves_init(&a);
	exp_leaves_from_summary(&a, sum);
	assert_string_equal(a.path[0], "seed");
	assert_true(leaf(&a, "seed") == 3);
	assert_true(leaf(&a, "requests.arrived") == (double)sum->requests.arrived);
	assert_true(sum->requests.arrived > 0);
	assert_true(leaf(&a, "ttft_s.p99") == sum->ttft.p99);
	assert_true(leaf(&a, "slo.classes.default.attainment") == sum->attainment);
	assert_true(leaf(&a, "deployments.chat.replicas_mean") == 1.0);
	assert_true(isnan(leaf(&a, "score"))); /* null: no score: block */
	assert_false(exp_leaves_get(&a, "wall_time_s", &v));
	assert_false(exp_leaves_get(&a, "provenance.version", &v)); /* a string */
	/* the same as flattening the rendered text */
	rep_json_init(&j);
	rep_summary_json(sum, &j);
	exp_leaves_init(&b);
	assert_int_equal(exp_leaves_from_json(&b, "summary.json", j.buf, j.len, &e), 0);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.path[i], b.path[i]);
		assert_true(a.v[i] == b.v[i] || (isnan(a.v[i]) && isnan(b.v[i])));
	}
	rep_json_release(&j);
	exp_leaves_release(&a);
	exp_leaves_release(&b);
	run_free(r);
	scn_release(&s);
}

static void leaves_of_hand_written_json(void **state)
{
	const char *t = " {\"a\": {\"b\": 1.5e2, \"c\": null, \"d\": {\"e\": -0.25}},\n"
			"  \"t\": true, \"f\": false, \"s\": \"x\\\"y\\u00e9\\ud83d\\ude00\",\n"
			"  \"arr\": [1, {\"k\": 2}, [3]], \"q\\\"k\\n\": 7, \"wall_time_s\": 9, \"z\": {}} ";
	struct exp_leaves l;
	struct sim_err e;
	(void)state;
	exp_leaves_init(&l);
	sim_err_clear(&e);
	assert_int_equal(exp_leaves_from_json(&l, "h.json", t, strlen(t), &e), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.path[0], "a.b");
	assert_true(l.v[0] == 150);
	assert_string_equal(l.path[1], "a.c");
	assert_true(isnan(l.v[1]));
	assert_string_equal(l.path[2], "a.d.e");
	assert_true(l.v[2] == -0.25);
	assert_true(leaf(&l, "t") == 1 && leaf(&l, "f") == 0);
	assert_string_equal(l.path[5], "q\"k\n"); /* escapes in keys decoded */
	exp_leaves_release(&l);
}

/* The message for text, e.g. "m.json:2:8: expected a value". */
static const char *bad(const char *text)
{
	static char msg[1024];
	struct exp_leaves l;
	struct sim_err e;
	exp_leaves_init(&l);
	sim_err_clear(&e);
	assert_int_equal(exp_leaves_from_json(&l, "m.json", text, strlen(text), &e), -1);
	assert_int_equal(l.n, 0); /* nothing kept */
	assert_int_equal(e.kind, SIM_EINPUT);
	snprintf(msg, sizeof(msg), "%s", e.msg);
	exp_leaves_release(&l);
	return msg;
}

static void malformed_json_says_where(void **state)
{
	char deep[200];
	(void)state;
	assert_string_equal(bad("{\"a\": 1,\n \"b\": }"), "m.json:2:7: expected a value");
	assert_string_equal(bad(""), "m.json:1:1: unexpected end of input, expected a value");
	assert_string_equal(bad("{\"a\": 1} x"), "m.json:1:10: unexpected text after the value");
	assert_string_equal(bad("{\"a\" 1}"), "m.json:1:6: expected ':' after a key");
	assert_string_equal(bad("{\"a\": \"x"), "m.json:1:9: unterminated string");
	assert_string_equal(bad("{\"a\": 01}"), "m.json:1:8: expected ',' or '}'");
	assert_string_equal(bad("{\"a\": 1.}"), "m.json:1:9: expected a digit after '.'");
	assert_string_equal(bad("{\"a\": \"\\q\"}"), "m.json:1:9: invalid escape in a string");
	assert_string_equal(bad("{\"a\": \"\\ud800\"}"), "m.json:1:14: lone surrogate in \\u escape");
	assert_string_equal(bad("{\"a\": tru}"), "m.json:1:7: expected a value");
	assert_string_equal(bad("{a: 1}"), "m.json:1:2: expected a key (a string)");
	assert_string_equal(bad("[1, 2"), "m.json:1:6: expected ',' or ']'");
	memset(deep, '[', sizeof(deep) - 1); /* bounded nesting: a message, not a stack overflow */
	deep[sizeof(deep) - 1] = '\0';
	assert_non_null(strstr(bad(deep), "nested too deeply"));
}

static void stats_match_hand_values(void **state)
{
	double v[] = {1, 2, 3, 4, 5}, w[] = {1, NAN, 3}, one[] = {4};
	struct exp_stat st;
	(void)state;
	exp_stat_of(v, 5, &st);
	assert_int_equal(st.n, 5);
	assert_float_equal(st.mean, 3, 1e-12);
	assert_float_equal(st.sd, sqrt(2.5), 1e-12);
	/* t(0.975, 4 dof) = 2.776445 */
	assert_float_equal(st.half, 2.776445 * sqrt(2.5) / sqrt(5), 1e-6);
	exp_stat_of(w, 3, &st); /* NaN left out: t(0.975, 1) = 12.7062 */
	assert_int_equal(st.n, 2);
	assert_float_equal(st.mean, 2, 1e-12);
	assert_float_equal(st.half, 12.7062047 * sqrt(2) / sqrt(2), 1e-6);
	exp_stat_of(one, 1, &st);
	assert_int_equal(st.n, 1);
	assert_float_equal(st.mean, 4, 0);
	assert_true(isnan(st.half) && isnan(st.sd));
	exp_stat_of(one, 0, &st);
	assert_int_equal(st.n, 0);
	assert_true(isnan(st.mean));
}

static void paired_over_common_values(void **state)
{
	double a[] = {1, 2, 3, 4, 9}, b[] = {2, 3, 4, 5.5, NAN};
	double c[] = {1, 2, 3, 4}, d[] = {2, 1, 4, 3};
	struct exp_paired p;
	(void)state;
	exp_paired_of(a, b, 5, &p); /* differences 1, 1, 1, 1.5; the NaN pair left out */
	assert_int_equal(p.n, 4);
	assert_float_equal(p.diff, 1.125, 1e-12);
	/* sd 0.25, t(0.975, 3) = 3.182446 */
	assert_float_equal(p.half, 3.182446 * 0.25 / 2, 1e-6);
	assert_true(p.significant);
	exp_paired_of(c, d, 4, &p); /* +1 -1 +1 -1 */
	assert_float_equal(p.diff, 0, 1e-12);
	assert_false(p.significant);
	exp_paired_of(c, c, 1, &p);
	assert_false(p.significant);
	assert_true(isnan(p.half));
}

/* A one-seed summary with a TTFT p99 and an attainment. */
static void one(struct exp_seeds *x, double ttft, double att)
{
	char t[256];
	struct sim_err e;
	snprintf(t, sizeof(t), "{\"scenario\": \"g\", \"seed\": 7, \"ttft_s\": {\"p99\": %.17g}, \"slo\": {\"attainment\": %.17g}}",
		 ttft, att);
	sim_err_clear(&e);
	assert_int_equal(exp_seeds_from_json(x, "s.json", t, strlen(t), &e), 0);
}

static bool gate(const struct exp_seeds *base, const struct exp_seeds *now, const char *tol,
		 const char *regressed)
{
	struct exp_gate g;
	struct exp_tol t;
	struct sim_err e;
	bool any;
	sim_err_clear(&e);
	if (tol)
		assert_int_equal(exp_tol_parse(tol, &t, &e), 0);
	assert_int_equal(exp_gate_check(base, now, &t, tol ? 1 : 0, &g, &e), 0);
	any = g.nregressed > 0;
	for (size_t i = 0; regressed && i < g.n; i++)
		if (!strcmp(g.row[i].path, regressed))
			assert_true(g.row[i].regressed);
	exp_gate_release(&g);
	return any;
}

static void gate_one_seed(void **state)
{
	struct exp_seeds base, now;
	struct exp_gate g;
	struct exp_tol t;
	struct sim_err e;
	(void)state;
	exp_seeds_init(&base);
	exp_seeds_init(&now);
	one(&base, 1.0, 0.9);
	one(&now, 1.1, 0.9); /* 10 % worse, beyond 5 % */
	assert_true(gate(&base, &now, NULL, "ttft_s.p99"));
	assert_false(gate(&base, &now, "ttft_s.p99=0.2", NULL)); /* an override */
	one(&now, 1.04, 0.9); /* within */
	assert_false(gate(&base, &now, NULL, NULL));
	one(&now, 0.5, 1.0); /* improvements never fail */
	assert_false(gate(&base, &now, NULL, NULL));
	one(&now, 1.0, 0.8); /* lower attainment is worse */
	assert_true(gate(&base, &now, NULL, "slo.attainment"));
	one(&now, 1.0, 0.86); /* 0.9 - 5 % = 0.855 */
	assert_false(gate(&base, &now, NULL, NULL));
	/* a tolerance on a metric the baseline lacks, and malformed ones */
	sim_err_clear(&e);
	assert_int_equal(exp_tol_parse("nothing.here=0.1", &t, &e), 0);
	assert_int_equal(exp_gate_check(&base, &now, &t, 1, &g, &e), -1);
	assert_non_null(strstr(e.msg, "nothing.here"));
	assert_int_equal(exp_tol_parse("ttft_s.p99", &t, &e), -1);
	sim_err_clear(&e);
	assert_int_equal(exp_tol_parse("ttft_s.p99=-1", &t, &e), -1);
	sim_err_clear(&e);
	assert_int_equal(exp_tol_parse("ttft_s.p99=1x", &t, &e), -1);
	assert_int_equal(exp_worse_dir("deployments.chat.goodput_rps"), -1);
	assert_int_equal(exp_worse_dir("tpot_s.p50"), 1);
	exp_seeds_release(&base);
	exp_seeds_release(&now);
}

/* A seeds.json of three seeds 1..3 with ttft_s.p99 values. */
static void three(struct exp_seeds *x, double a, double b, double c)
{
	char t[512];
	struct sim_err e;
	snprintf(t, sizeof(t),
		 "{\"scenario\": \"g\", \"seeds\": [1, 2, 3], \"metrics\": {\"ttft_s.p99\": {\"n\": 3, "
		 "\"mean\": 0, \"values\": [%.17g, %.17g, %.17g]}}, \"provenance\": {\"version\": \"v\"}}",
		 a, b, c);
	sim_err_clear(&e);
	assert_int_equal(exp_seeds_from_json(x, "seeds.json", t, strlen(t), &e), 0);
	assert_int_equal(x->n, 3);
}

static void gate_several_seeds_needs_significance(void **state)
{
	struct exp_seeds base, now;
	struct exp_gate g;
	struct rep_json j;
	struct sim_err e;
	(void)state;
	exp_seeds_init(&base);
	exp_seeds_init(&now);
	three(&base, 1.0, 2.0, 3.0);
	three(&now, 1.2, 2.2, 3.15); /* consistently worse: regressed */
	assert_true(gate(&base, &now, NULL, "ttft_s.p99"));
	three(&now, 0.5, 2.0, 4.0); /* mean 2.17 > 2.1, but noise: not significant */
	assert_false(gate(&base, &now, NULL, NULL));
	/* JUnit names the metric and carries a failure */
	three(&now, 1.2, 2.2, 3.15);
	sim_err_clear(&e);
	assert_int_equal(exp_gate_check(&base, &now, NULL, 0, &g, &e), 0);
	assert_int_equal(g.n, 1);
	rep_json_init(&j);
	exp_gate_junit(&g, "g", &j);
	assert_non_null(strstr(j.buf, "name=\"ttft_s.p99\""));
	assert_non_null(strstr(j.buf, "<failure"));
	assert_non_null(strstr(j.buf, "tests=\"1\" failures=\"1\""));
	rep_json_release(&j);
	rep_json_init(&j);
	exp_gate_markdown(&g, &j);
	assert_non_null(strstr(j.buf, "| `ttft_s.p99` |"));
	rep_json_release(&j);
	exp_gate_release(&g);
	/* seeds.json with a missing value for a seed is refused */
	const char *t = "{\"seeds\": [1, 2], \"metrics\": {\"x\": {\"n\": 1, \"values\": [1]}}}";
	sim_err_clear(&e);
	assert_int_equal(exp_seeds_from_json(&now, "s.json", t, strlen(t), &e), -1);
	assert_non_null(strstr(e.msg, "metric x has 1 values for 2 seeds"));
	exp_seeds_release(&base);
	exp_seeds_release(&now);
}

static void seeds_json_round_trip_and_compare(void **state)
{
	struct exp_seeds x, y, in[2];
	struct exp_compare c;
	struct rep_json j;
	struct sim_err e;
	double v[3];
	(void)state;
	exp_seeds_init(&x);
	exp_seeds_init(&y);
	three(&x, 1.0, 2.0, 3.0);
	rep_json_init(&j);
	exp_seeds_json(&x, &j);
	sim_err_clear(&e);
	assert_int_equal(exp_seeds_from_json(&y, "again.json", j.buf, j.len, &e), 0);
	rep_json_release(&j);
	assert_int_equal(y.n, 3);
	assert_int_equal(y.seed[2], 3);
	assert_int_equal(exp_seeds_values(&y, "ttft_s.p99", v), 3);
	assert_true(v[0] == 1 && v[1] == 2 && v[2] == 3);
	assert_string_equal(y.scenario, "g");
	/* compare: delta against the first, paired over the common seeds */
	exp_seeds_init(&in[0]);
	exp_seeds_init(&in[1]);
	three(&in[0], 1.0, 2.0, 3.0);
	three(&in[1], 1.5, 2.5, 3.5);
	exp_compare_build(in, 2, false, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.row[0].path, "ttft_s.p99");
	assert_float_equal(c.row[0].cell[1].delta, 0.5, 1e-12);
	assert_true(c.row[0].cell[1].has_paired && c.row[0].cell[1].paired.significant);
	assert_false(c.row[0].cell[0].has_paired);
	exp_compare_release(&c);
	for (int k = 0; k < 2; k++)
		exp_seeds_release(&in[k]);
	exp_seeds_release(&x);
	exp_seeds_release(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leaves_of_a_real_summary),
		cmocka_unit_test(leaves_of_hand_written_json),
		cmocka_unit_test(malformed_json_says_where),
		cmocka_unit_test(stats_match_hand_values),
		cmocka_unit_test(paired_over_common_values),
		cmocka_unit_test(gate_one_seed),
		cmocka_unit_test(gate_several_seeds_needs_significance),
		cmocka_unit_test(seeds_json_round_trip_and_compare),
	};
	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
