/* sim/report: distributions, the streaming sketch, summary.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static void exact_percentiles_like_numpy(void **state)
{
	double v[] = {5, 1, 4, 2, 3};
	struct rep_dist d;
	(void)state;
	rep_dist_of(v, 5, &d);
	assert_true(d.mean == 3 && d.p50 == 3 && d.max == 5);
	assert_true(fabs(d.p90 - 4.6) < 1e-12); /* numpy.percentile([1..5], 90) */
	assert_true(fabs(d.p99 - 4.96) < 1e-12);
	assert_true(d.p50 <= d.p90 && d.p90 <= d.p99 && d.p99 <= d.max);
	rep_dist_of(v, 0, &d);
	assert_int_equal(d.n, 0);
}

/* summary.c's SK_LOG_GROWTH literal is libm's log(1.001), bit for bit. */
static void sketch_log_constant(void **state)
{
	volatile double g = 1.001;
	(void)state;
	assert_true(log(g) == 0.00099950033308342321);
}

static void sketch_matches_exact(void **state)
{
	struct sim_rng *r = sim_rng_new(3, "sketch");
	const size_t n = 200000;
	double *v = malloc(n * sizeof(double));
	struct rep_sketch s = {0};
	struct rep_dist e, a;
	(void)state;
	for (size_t i = 0; i < n; i++) {
		v[i] = i % 1000 == 0 ? 0.0 : sim_rng_lognormal(r, -3, 1.5); /* some zeros too */
		rep_sketch_add(&s, v[i]);
	}
	rep_dist_of_sketch(&s, &a);
	rep_dist_of(v, n, &e);
	assert_int_equal(a.n, n);
	assert_true(fabs(a.mean / e.mean - 1) < 1e-9);
	assert_true(a.max == e.max);
	assert_true(fabs(a.p50 / e.p50 - 1) < 6e-4);
	assert_true(fabs(a.p90 / e.p90 - 1) < 6e-4);
	assert_true(fabs(a.p99 / e.p99 - 1) < 6e-4);
	assert_true(a.p50 <= a.p90 && a.p90 <= a.p99 && a.p99 <= a.max);
	rep_sketch_free(&s);
	/* one sample, and all zeros */
	rep_sketch_add(&s, 0.25);
	rep_dist_of_sketch(&s, &a);
	assert_true(fabs(a.p50 / 0.25 - 1) < 6e-4 && a.max == 0.25);
	rep_sketch_free(&s);
	rep_sketch_add(&s, 0);
	rep_sketch_add(&s, 0);
	rep_dist_of_sketch(&s, &a);
	assert_true(a.p99 == 0 && a.mean == 0);
	rep_sketch_free(&s);
	free(v);
	sim_rng_free(r);
}

static void summary_json_shape(void **state)
{
	struct rep_summary s;
	struct rep_workload w = {"chat", 7, true, 9, 1, 0, 1, 0, 0, 0};
	struct rep_json j;
	(void)state;
	memset(&s, 0, sizeof(s));
	s.scenario = "x";
	s.seed = 5;
	s.requests.arrived = 7;
	s.requests.completed = 7;
	s.workloads = &w;
	s.nworkloads = 1;
	rep_json_init(&j);
	rep_summary_json(&s, &j);
	assert_non_null(strstr(j.buf, "\"ttft_s\": {\n    \"mean\": null,"));
	assert_non_null(strstr(j.buf, "\"workloads\": {\n    \"chat\": {\n      \"arrived\": 7,\n      \"trace_rows\": 9,"));
	assert_non_null(strstr(j.buf, "\"requests\": {\n    \"arrived\": 7,"));
	rep_json_release(&j);
}

/* Oscillation on hand-made replica series. */
static void oscillation_counts(void **state)
{
	struct rep_osc o;
	(void)state;
	memset(&o, 0, sizeof(o));
	/* 2 -> 4 -> 4 -> 3 -> 6 -> 1: five changes, TV 2+1+3+5 = 11; down at 20 s, up at 30 s
	 * and down at 40 s reverse within a 60 s window */
	rep_osc_add(&o, 0, 2, 60);
	rep_osc_add(&o, 10, 4, 60);
	rep_osc_add(&o, 15, 4, 60);
	rep_osc_add(&o, 20, 3, 60);
	rep_osc_add(&o, 30, 6, 60);
	rep_osc_add(&o, 40, 1, 60);
	assert_int_equal(o.events, 4);
	assert_int_equal(o.total_variation, 11);
	assert_int_equal(o.reversals, 3);
	/* a change against the last one long after it is not a reversal */
	rep_osc_add(&o, 1000, 2, 60);
	assert_int_equal(o.reversals, 3);
	assert_int_equal(o.events, 5);
	/* the same direction never is */
	rep_osc_add(&o, 1010, 5, 60);
	assert_int_equal(o.reversals, 3);
}

static void attainment_in_unit_interval(void **state)
{
	struct rep_group g;
	const struct rep_slo_class slo = {2 * SIM_SEC, 100 * SIM_MS, 0};
	(void)state;
	memset(&g, 0, sizeof(g));
	rep_group_end(&g, 0, 1.0, 0.05, 3, &slo);  /* met */
	rep_group_end(&g, 0, 2.5, 0.05, 3, &slo);  /* TTFT missed */
	rep_group_end(&g, 0, 1.0, 0.2, 3, &slo);   /* TPOT missed */
	rep_group_end(&g, 0, 1.0, -1, 3, &slo);    /* one output token: no TPOT, met */
	rep_group_end(&g, 1, 0, 0, 0, &slo);       /* failed: missed */
	rep_group_end(&g, 2, 0, 0, 0, &slo);       /* dropped: missed */
	rep_group_finish(&g, 10);
	assert_int_equal(g.met, 2);
	assert_float_equal(g.attainment, 2.0 / 6.0, 1e-12);
	assert_float_equal(g.goodput_rps, 0.2, 1e-12);
	assert_true(g.attainment >= 0 && g.attainment <= 1);
	assert_true(g.ttft_d.p50 <= g.ttft_d.p90 && g.ttft_d.p90 <= g.ttft_d.p99 && g.ttft_d.p99 <= g.ttft_d.max);
	rep_group_release(&g);
	memset(&g, 0, sizeof(g));
	rep_group_finish(&g, 10);
	assert_true(isnan(g.attainment)); /* nothing ended: no attainment */
	/* an e2e threshold when given */
	{
		const struct rep_slo_class e = {2 * SIM_SEC, 100 * SIM_MS, 5 * SIM_SEC};
		assert_false(rep_slo_met(&e, 1, 0.05, 6));
		assert_true(rep_slo_met(&e, 1, 0.05, 4));
	}
}

static void score_with_constraints(void **state)
{
	struct rep_summary s;
	struct rep_score sc;
	struct rep_constraint k[2] = {{"ttft_s.p99", REP_LE, 2, "ttft_s.p99 <= 2"},
				      {"slo.attainment", REP_GE, 0.99, "slo.attainment >= 0.99"}};
	double w1 = 1.0, w2 = 10.0;
	struct cfg_named wn[2] = {{"cost.usd", NULL, &w1}, {"ttft_s.p99", NULL, &w2}};
	double v;
	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&sc, 0, sizeof(sc));
	s.cost_usd = 12.5;
	s.ttft.n = 10;
	s.ttft.p99 = 1.5;
	s.attainment = 0.995;
	assert_true(rep_summary_value(&s, "ttft_s.p99", &v) && v == 1.5);
	assert_false(rep_summary_value(&s, "ttft_s.p42", &v));
	sc.minimize = "cost.usd";
	sc.subject_to = (struct cfg_list){k, 2};
	rep_score_eval(&sc, &s);
	assert_true(s.feasible);
	assert_float_equal(s.score, 12.5, 0);
	/* violate one: infinite, with the reason */
	s.ttft.p99 = 3.0;
	rep_score_eval(&sc, &s);
	assert_false(s.feasible);
	assert_true(isinf(s.score));
	assert_int_equal(s.nviolated, 1);
	assert_string_equal(s.violated[0], "ttft_s.p99 <= 2");
	/* no data (no request completed) cannot satisfy a constraint */
	s.ttft.n = 0;
	rep_score_eval(&sc, &s);
	assert_false(s.feasible);
	/* a weighted sum; maximize negates */
	s.ttft.n = 10;
	memset(&sc, 0, sizeof(sc));
	sc.weights = (struct cfg_list){wn, 2};
	rep_score_eval(&sc, &s);
	assert_float_equal(s.score, 12.5 + 30.0, 1e-12);
	memset(&sc, 0, sizeof(sc));
	sc.maximize = "slo.attainment";
	rep_score_eval(&sc, &s);
	assert_float_equal(s.score, -0.995, 1e-12);
	{ /* infinite score is null in summary.json, with the violations listed */
		struct rep_json j;
		s.ttft.p99 = 3.0;
		memset(&sc, 0, sizeof(sc));
		sc.minimize = "cost.usd";
		sc.subject_to = (struct cfg_list){k, 2};
		rep_score_eval(&sc, &s);
		s.scenario = "x";
		rep_json_init(&j);
		rep_summary_json(&s, &j);
		assert_non_null(strstr(j.buf, "\"score\": null,\n  \"score_violations\": [\n    \"ttft_s.p99 <= 2 (was 3.0)\""));
		rep_json_release(&j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_percentiles_like_numpy),
		cmocka_unit_test(sketch_log_constant),
		cmocka_unit_test(sketch_matches_exact),
		cmocka_unit_test(summary_json_shape),
		cmocka_unit_test(oscillation_counts),
		cmocka_unit_test(attainment_in_unit_interval),
		cmocka_unit_test(score_with_constraints),
	};
	return cmocka_run_group_tests_name("report: summary statistics", tests, NULL, NULL);
}
