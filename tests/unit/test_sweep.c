/* sim/exp: experiment files, designs, row files, sweeps, shards and merge. */
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
	"name: small\nseed: 11\nduration: 20s\ndrain_timeout: 10s\n"
	"deployments:\n  - name: chat\n    model: llama-3-8b\n    gpu: h100-sxm\n    replicas: 1\n"
	"workloads:\n  - name: w\n    deployment: chat\n    arrivals: {process: poisson, rate: 4/s}\n"
	"    lengths: {prompt: {dist: uniform, min: 100, max: 900}, output: {dist: uniform, min: 10, max: 90}}\n";

static void load(const char *text, struct exp_file *e)
{
	struct sim_err err;
	tu_write("s.yaml", SCN);
	sim_err_clear(&err);
	if (exp_load(e, tu_write("e.yaml", text), &err))
		fail_msg("%s", err.msg);
}

static void expect_error(const char *text, const char *want)
{
	struct exp_file e;
	struct sim_err err;
	tu_write("s.yaml", SCN);
	sim_err_clear(&err);
	if (!exp_load(&e, tu_write("e.yaml", text), &err)) {
		exp_release(&e);
		fail_msg("loaded, expected '%s'", want);
	}
	if (!strstr(err.msg, want))
		fail_msg("got '%s', expected '%s'", err.msg, want);
}

static void grid_takes_every_combination(void **state)
{
	struct exp_file e;
	struct exp_points p;
	struct sim_err err;
	(void)state;
	load("scenario: s.yaml\nseeds: 3\nparameters:\n"
	     "  deployments[0].replicas: {int: [1, 3]}\n"
	     "  deployments[0].engine.gpu_memory_utilization: {range: [0.7, 0.9], step: 0.1}\n",
	     &e);
	assert_int_equal(e.nseeds, 3);
	assert_int_equal(e.seeds[0], 11); /* the scenario's seed, seed + 1, ... */
	assert_int_equal(e.seeds[2], 13);
	sim_err_clear(&err);
	assert_int_equal(exp_design_points(&e, &p, &err), 0);
	assert_int_equal(p.n, 9);
	/* the last parameter varies fastest; 0.7 + 0.1 steps print as written */
	assert_string_equal(p.value[0 * 2 + 0], "1");
	assert_string_equal(p.value[0 * 2 + 1], "0.7");
	assert_string_equal(p.value[1 * 2 + 1], "0.8");
	assert_string_equal(p.value[2 * 2 + 1], "0.9");
	assert_string_equal(p.value[3 * 2 + 0], "2");
	assert_string_equal(p.value[8 * 2 + 0], "3");
	exp_points_release(&p);
	exp_release(&e);
}

static void sampled_designs(void **state)
{
	static const char *designs[] = {"random", "sobol", "lhs"};
	(void)state;
	for (int d = 0; d < 3; d++) {
		struct exp_file e;
		struct exp_points p, q;
		struct sim_err err;
		char text[512];
		int hit[20] = {0};
		snprintf(text, sizeof(text),
			 "scenario: s.yaml\ndesign: %s\nsamples: 20\nparameters:\n"
			 "  router.max_queue: {int: [0, 19]}\n"
			 "  deployments[0].engine.gpu_memory_utilization: {range: [0.5, 0.9]}\n"
			 "  router.affinity_load_factor: {range: [1, 100], log: true}\n"
			 "  router.policy: [round-robin, least-kv]\n",
			 designs[d]);
		load(text, &e);
		sim_err_clear(&err);
		assert_int_equal(exp_design_points(&e, &p, &err), 0);
		assert_int_equal(exp_design_points(&e, &q, &err), 0);
		assert_int_equal(p.n, 20);
		for (size_t i = 0; i < p.n; i++) {
			double m = atof(p.value[i * 4 + 1]), g = atof(p.value[i * 4 + 2]);
			int k = atoi(p.value[i * 4 + 0]);
			assert_true(m >= 0.5 && m < 0.9);
			assert_true(g >= 1 && g < 100);
			assert_true(k >= 0 && k <= 19);
			hit[k]++;
			assert_true(!strcmp(p.value[i * 4 + 3], "round-robin") || !strcmp(p.value[i * 4 + 3], "least-kv"));
			for (size_t j = 0; j < 4; j++) /* deterministic */
				assert_string_equal(p.value[i * 4 + j], q.value[i * 4 + j]);
		}
		if (d == 2) /* a Latin hypercube stratifies: 20 samples over 20 integers hit each once */
			for (int k = 0; k < 20; k++)
				assert_int_equal(hit[k], 1);
		exp_points_release(&p);
		exp_points_release(&q);
		exp_release(&e);
	}
}

static void bad_experiments(void **state)
{
	(void)state;
	expect_error("scenario: s.yaml\nparamters:\n  x: [1]\n", "e.yaml:2:1: unknown key 'paramters' (did you mean 'parameters'?)");
	expect_error("seeds: 2\nparameters:\n  x: [1]\n", "needs scenario");
	expect_error("scenario: s.yaml\nparameters:\n  duration: {range: [1, 5]}\n", "e.yaml:3:13: a grid needs discrete values");
	expect_error("scenario: s.yaml\nparameters:\n  deployments[0].replica: [1]\n",
		     "e.yaml:3:3: the scenario rejects deployments[0].replica=1");
	expect_error("scenario: s.yaml\nparameters:\n  duration: [1m, 2h, forever]\n", "e.yaml:3:3: the scenario rejects duration=forever");
	expect_error("scenario: s.yaml\nseeds: [1, 2, 1]\nparameters:\n  duration: [1m]\n", "e.yaml:2:15: seed 1 is listed twice");
	expect_error("scenario: s.yaml\ndesign: lhs\nparameters:\n  duration: [1m]\n", "design lhs needs samples");
	expect_error("scenario: s.yaml\nparameters:\n  x: {range: [5, 1], step: 1}\n", "expected low < high");
	expect_error("scenario: s.yaml\nparameters:\n  x: {rnage: [1, 5]}\n", "unknown key 'rnage' (did you mean 'range'?)");
	expect_error("scenario: s.yaml\nparameters:\n  duration: [1m]\nobjectives: [{a: 1}]\n", "an objective is a summary.json path");
}

static void row_files_read_back_exactly(void **state)
{
	struct exp_row w, r;
	struct sim_err err;
	(void)state;
	memset(&w, 0, sizeof(w));
	w.point = 7;
	w.seed = 3;
	w.ok = false;
	w.error = xstrdup("a\tb\nc\\d");
	w.nparams = 1;
	w.param = xcalloc(2, sizeof(char *));
	w.value = xcalloc(2, sizeof(char *));
	w.param[0] = xstrdup("deployments[0].autoscaler");
	w.value[0] = xstrdup("type: hpa\nspec: {}\n");
	w.feasible = NAN;
	exp_leaves_init(&w.leaves);
	exp_leaves_add(&w.leaves, "ttft_s.p99", 0.1 + 0.2);
	exp_leaves_add(&w.leaves, "score", NAN);
	exp_leaves_add(&w.leaves, "cost.usd", 1e-300);
	sim_err_clear(&err);
	assert_int_equal(rep_mkdir_p(tu_path("rows"), &err), 0);
	assert_int_equal(exp_row_write(tu_dir, &w, &err), 0);
	assert_int_equal(exp_row_read(tu_path("rows/p7-s3.tsv"), &r, &err), 0);
	assert_int_equal(r.point, 7);
	assert_int_equal(r.seed, 3);
	assert_false(r.ok);
	assert_string_equal(r.error, w.error);
	assert_string_equal(r.value[0], w.value[0]);
	assert_true(isnan(r.feasible));
	assert_int_equal(r.leaves.n, 3);
	assert_true(r.leaves.v[0] == 0.1 + 0.2); /* the same double, bit for bit */
	assert_true(isnan(r.leaves.v[1]));
	assert_true(r.leaves.v[2] == 1e-300);
	exp_row_release(&w);
	exp_row_release(&r);
	tu_write("rows/bad.tsv", "servesim-row 1\npoint\n");
	assert_int_equal(exp_row_read(tu_path("rows/bad.tsv"), &r, &err), -1);
	assert_non_null(strstr(err.msg, "not a servesim row file"));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = xcalloc((size_t)n + 1, 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return b;
}

static void same_tables(const char *a, const char *b)
{
	static const char *files[] = {"points.csv", "summary.csv", "pareto.csv", "sweep.meta"};
	for (int i = 0; i < 4; i++) {
		char *pa = xasprintf("%s/%s", a, files[i]), *pb = xasprintf("%s/%s", b, files[i]);
		char *x = slurp(pa), *y = slurp(pb);
		if (strcmp(x, y))
			fail_msg("%s and %s differ", pa, pb);
		free(x);
		free(y);
		free(pa);
		free(pb);
	}
}

static void workers_shards_and_merge_agree(void **state)
{
	struct exp_file e;
	struct exp_sweep_opts o;
	struct exp_sweep_result res;
	struct sim_err err;
	char *one = xasprintf("%s/one", tu_dir), *two = xasprintf("%s/two", tu_dir);
	char *s0 = xasprintf("%s/s0", tu_dir), *s1 = xasprintf("%s/s1", tu_dir), *m = xasprintf("%s/m", tu_dir);
	const char *dirs[2] = {s0, s1};
	char *pts;
	(void)state;
	load("scenario: s.yaml\nseeds: 2\nparameters:\n  deployments[0].replicas: [1, 2]\n"
	     "  workloads[0].arrivals.rate: [2/s, 6/s]\nobjectives: [cost.usd, ttft_s.p99]\n",
	     &e);
	sim_err_clear(&err);
	memset(&o, 0, sizeof(o));
	o.nshards = 1;
	o.jobs = 1;
	o.out = one;
	assert_int_equal(exp_sweep(&e, &o, &res, &err), 0);
	assert_int_equal(res.rows, 8);
	assert_int_equal(res.failed, 0);
	exp_sweep_result_release(&res);
	o.jobs = 3;
	o.out = two;
	assert_int_equal(exp_sweep(&e, &o, &res, &err), 0);
	exp_sweep_result_release(&res);
	same_tables(one, two);
	o.nshards = 2;
	o.out = s0;
	assert_int_equal(exp_sweep(&e, &o, &res, &err), 0);
	assert_int_equal(res.rows, 4);
	exp_sweep_result_release(&res);
	o.shard = 1;
	o.out = s1;
	assert_int_equal(exp_sweep(&e, &o, &res, &err), 0);
	exp_sweep_result_release(&res);
	assert_int_equal(exp_merge(dirs, 1, m, &res, &err), -1); /* one shard alone is not the sweep */
	exp_sweep_result_release(&res);
	sim_err_clear(&err);
	assert_int_equal(exp_merge(dirs, 2, m, &res, &err), 0);
	exp_sweep_result_release(&res);
	same_tables(one, m);
	/* a row is what a run of its point and seed gives */
	pts = slurp(tu_path("one/points.csv"));
	assert_non_null(strstr(pts, "\n3,12,ok,,2,6/s,nan,"));
	free(pts);
	exp_release(&e);
	free(one);
	free(two);
	free(s0);
	free(s1);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grid_takes_every_combination),
		cmocka_unit_test(sampled_designs),
		cmocka_unit_test(bad_experiments),
		cmocka_unit_test(row_files_read_back_exactly),
		cmocka_unit_test(workers_shards_and_merge_agree),
	};
	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
