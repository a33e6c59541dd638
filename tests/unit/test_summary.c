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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_percentiles_like_numpy),
		cmocka_unit_test(sketch_matches_exact),
		cmocka_unit_test(summary_json_shape),
	};
	return cmocka_run_group_tests_name("report: summary statistics", tests, NULL, NULL);
}
