/* sim/run: runs as a library. Two runs alive in one process, slicing,
 * accounting, provenance and the scenario as it ran. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "testutil.h"

/* Two small worlds that differ in everything: a colocated deployment with
 * hedging and a prefix-caching workload, and a disaggregated one with an HPA. */
static const char *SCN_A =
	"name: a\nseed: 5\nduration: 2m\ndrain_timeout: 1m\n"
	"deployments:\n"
	"  - name: chat\n    model: llama-3-8b\n    gpu: h100-sxm\n    replicas: 2\n"
	"    engine: {enable_prefix_caching: true}\n"
	"router: {policy: least-kv, hedge_after: 2s}\n"
	"workloads:\n"
	"  - name: w\n    deployment: chat\n"
	"    arrivals: {process: poisson, rate: 6/s}\n"
	"    lengths: {prompt: {dist: lognormal, p50: 500, p90: 2000}, output: {dist: lognormal, p50: 100, p90: 400}}\n"
	"    prefix: {tokens: 256, groups: 4, share: 0.5}\n";

static const char *SCN_B =
	"name: b\nseed: 9\nduration: 3m\ndrain_timeout: 1m\n"
	"deployments:\n"
	"  - name: pre\n    model: llama-3-8b\n    gpu: h100-sxm\n    replicas: 1\n    role: prefill\n"
	"    kv_transfer: {decode: dec}\n"
	"    autoscaler:\n      type: hpa\n      spec:\n        minReplicas: 1\n        maxReplicas: 3\n"
	"        metrics:\n          - type: Pods\n            pods:\n              metric: {name: 'vllm:num_requests_waiting'}\n"
	"              target: {type: AverageValue, averageValue: '2'}\n"
	"  - name: dec\n    model: llama-3-8b\n    gpu: h100-sxm\n    replicas: 2\n    role: decode\n"
	"workloads:\n"
	"  - name: w\n    deployment: pre\n"
	"    arrivals: {process: gamma, cv: 2, rate: 10/s}\n"
	"    lengths: {prompt: {dist: uniform, min: 100, max: 3000}, output: {dist: uniform, min: 10, max: 300}}\n";

static void load(const char *name, const char *text, struct scenario *s)
{
	struct sim_err e;
	sim_err_clear(&e);
	if (scn_load(s, tu_write(name, text), NULL, 0, &e))
		fail_msg("%s", e.msg);
}

static char *summary_json(struct run *r)
{
	struct rep_json j;
	char *out;
	rep_json_init(&j);
	rep_summary_json(run_summary(r), &j);
	out = xstrdup(j.buf);
	rep_json_release(&j);
	return out;
}

/* A whole run, alone; its summary as JSON. */
static char *run_alone(struct scenario *s, int slices)
{
	struct sim_err e;
	struct run *r;
	char *out;
	sim_err_clear(&e);
	r = run_new(s, NULL, &e);
	assert_non_null(r);
	for (int k = 1; k < slices; k++)
		assert_int_equal(run_until(r, run_end(r) / slices * k, &e), 0);
	assert_int_equal(run_finish(r, &e), 0);
	out = summary_json(r);
	run_free(r);
	return out;
}

static void two_runs_at_once_equal_each_alone(void **state)
{
	struct scenario a, b;
	struct sim_err e;
	struct run *ra, *rb;
	char *alone_a, *alone_b, *ja, *jb;
	(void)state;
	load("a.yaml", SCN_A, &a);
	load("b.yaml", SCN_B, &b);
	alone_a = run_alone(&a, 1);
	alone_b = run_alone(&b, 1);
	sim_err_clear(&e);
	ra = run_new(&a, NULL, &e);
	rb = run_new(&b, NULL, &e);
	assert_non_null(ra);
	assert_non_null(rb);
	/* interleaved in 37 slices each, b a little ahead of a */
	for (int k = 1; k <= 37; k++) {
		assert_int_equal(run_until(rb, run_end(rb) / 37 * k, &e), 0);
		assert_int_equal(run_until(ra, run_end(ra) / 37 * k, &e), 0);
	}
	assert_int_equal(run_finish(rb, &e), 0);
	assert_int_equal(run_finish(ra, &e), 0);
	ja = summary_json(ra);
	jb = summary_json(rb);
	assert_string_equal(ja, alone_a);
	assert_string_equal(jb, alone_b);
	assert_string_not_equal(ja, jb);
	run_free(ra);
	run_free(rb);
	free(alone_a);
	free(alone_b);
	free(ja);
	free(jb);
	scn_release(&a);
	scn_release(&b);
}

/* Asking for an earlier time does nothing: time never goes back. */
static void time_never_goes_back(void **state)
{
	struct scenario a;
	struct sim_err e;
	struct run *r;
	char *alone, *j;
	(void)state;
	load("a.yaml", SCN_A, &a);
	alone = run_alone(&a, 1);
	sim_err_clear(&e);
	r = run_new(&a, NULL, &e);
	assert_int_equal(run_until(r, 100 * SIM_SEC, &e), 0);
	assert_int_equal(run_now(r), 100 * SIM_SEC);
	assert_int_equal(run_until(r, 50 * SIM_SEC, &e), 0);
	assert_int_equal(run_until(r, -5, &e), 0);
	assert_int_equal(run_now(r), 100 * SIM_SEC);
	assert_int_equal(run_finish(r, &e), 0);
	assert_int_equal(run_finish(r, &e), 0); /* twice: the same */
	j = summary_json(r);
	assert_string_equal(j, alone);
	run_free(r);
	free(j);
	free(alone);
	scn_release(&a);
}

static void slicing_changes_nothing(void **state)
{
	struct scenario b;
	char *one, *many;
	(void)state;
	load("b.yaml", SCN_B, &b);
	one = run_alone(&b, 1);
	many = run_alone(&b, 1000); /* events_processed included */
	assert_string_equal(one, many);
	free(one);
	free(many);
	scn_release(&b);
}

static void every_request_is_accounted(void **state)
{
	const char *scns[] = {SCN_A, SCN_B};
	(void)state;
	for (int i = 0; i < 2; i++) {
		struct scenario s;
		struct sim_err e;
		struct run *r;
		const struct rep_request_counts *c;
		load("s.yaml", scns[i], &s);
		/* a short drain leaves some in flight */
		s.drain_timeout = 1 * SIM_SEC;
		sim_err_clear(&e);
		r = run_new(&s, NULL, &e);
		assert_int_equal(run_finish(r, &e), 0);
		c = &run_summary(r)->requests;
		assert_true(c->arrived > 100);
		assert_int_equal(c->arrived, c->completed + c->failed + c->dropped + c->in_flight_at_end);
		assert_true(c->in_flight_at_end > 0);
		run_free(r);
		scn_release(&s);
	}
}

static void provenance_names_what_ran(void **state)
{
	struct scenario s;
	struct sim_err e;
	struct run *r;
	char *yaml, sha[65];
	const struct rep_summary *sum;
	(void)state;
	load("a.yaml", SCN_A, &s);
	assert_int_equal(scn_set_seed(&s, 31, NULL), 0);
	yaml = scn_resolved_yaml(&s);
	assert_non_null(strstr(yaml, "seed: 31\n"));
	sim_sha256_hex(yaml, strlen(yaml), sha);
	sim_err_clear(&e);
	r = run_new(&s, NULL, &e);
	assert_int_equal(run_finish(r, &e), 0);
	sum = run_summary(r);
	assert_int_equal(sum->seed, 31);
	assert_int_equal(scn_set_seed(&s, UINT64_MAX, &e), -1); /* not a seed: refused, nothing changes */
	assert_int_equal(s.seed, 31);
	assert_string_equal(sum->scenario_sha256, sha);
	assert_string_equal(sum->version, servesim_version);
	assert_true(strlen(servesim_version) > 0);
	run_free(r);
	free(yaml);
	scn_release(&s);
}

/* A seed given to the API is the seed that runs (not the file's). */
static void seed_changes_the_run(void **state)
{
	struct scenario s;
	char *a, *b, *c;
	(void)state;
	load("a.yaml", SCN_A, &s);
	a = run_alone(&s, 1);
	assert_int_equal(scn_set_seed(&s, 6, NULL), 0);
	b = run_alone(&s, 1);
	assert_int_equal(scn_set_seed(&s, 5, NULL), 0);
	c = run_alone(&s, 1);
	assert_string_not_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
	scn_release(&s);
}

/* An HPA manifest is stored inlined: the stored text runs without the file
 * and gives the same run. */
static void manifest_inlined(void **state)
{
	static const char *hpa =
		"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: pre}\n"
		"spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: pre}\n"
		"  minReplicas: 1\n  maxReplicas: 4\n"
		"  metrics:\n    - type: Pods\n      pods:\n        metric: {name: 'vllm:num_requests_waiting'}\n"
		"        target: {type: AverageValue, averageValue: '1'}\n";
	struct scenario s, t;
	char *yaml, *sa, *sb;
	const char *p;
	char *text;
	(void)state;
	tu_write("hpa.yaml", hpa);
	text = xstrdup(SCN_B);
	/* the inline spec replaced by a manifest file */
	{
		char *at = strstr(text, "      spec:\n"), *end = strstr(text, "  - name: dec");
		char *m = xasprintf("%.*s      manifest: hpa.yaml\n%s", (int)(at - text), text, end);
		free(text);
		text = m;
	}
	load("m.yaml", text, &s);
	yaml = scn_resolved_yaml(&s);
	assert_null(strstr(yaml, "manifest:"));
	assert_non_null(strstr(yaml, "maxReplicas: 4"));
	p = tu_write("resolved.yaml", yaml);
	{
		struct sim_err e;
		sim_err_clear(&e);
		if (scn_load(&t, p, NULL, 0, &e))
			fail_msg("%s", e.msg);
	}
	sa = run_alone(&s, 1);
	sb = run_alone(&t, 1);
	assert_string_equal(sa, sb); /* same scenario text, same sha256 and run */
	free(sa);
	free(sb);
	free(yaml);
	free(text);
	scn_release(&s);
	scn_release(&t);
}

static void bad_trace_is_an_error_not_a_crash(void **state)
{
	struct scenario s;
	struct sim_err e;
	struct run *r;
	(void)state;
	{
		/* 50 good rows, then a broken one: the run stops there with its line */
		char text[4096];
		size_t n = (size_t)snprintf(text, sizeof(text), "TIMESTAMP,ContextTokens,GeneratedTokens\n");
		for (int i = 0; i < 50; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "2023-11-16 18:00:%02d.0000000,100,10\n", i);
		snprintf(text + n, sizeof(text) - n, "2023-11-16 18:00:51.0000000,abc,10\n");
		tu_write("broken.csv", text);
	}
	load("t.yaml",
	     "name: t\nduration: 1m\ndeployments:\n  - name: chat\n    model: llama-3-8b\n    gpu: h100-sxm\n"
	     "workloads:\n  - name: w\n    deployment: chat\n    trace: {path: broken.csv, format: azure}\n",
	     &s);
	sim_err_clear(&e);
	r = run_new(&s, NULL, &e);
	assert_non_null(r);
	assert_int_equal(run_finish(r, &e), -1);
	assert_int_equal(e.kind, SIM_EINPUT);
	assert_non_null(strstr(e.msg, "broken.csv:52"));
	run_free(r);
	scn_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_runs_at_once_equal_each_alone),
		cmocka_unit_test(slicing_changes_nothing),
		cmocka_unit_test(time_never_goes_back),
		cmocka_unit_test(every_request_is_accounted),
		cmocka_unit_test(provenance_names_what_ran),
		cmocka_unit_test(seed_changes_the_run),
		cmocka_unit_test(manifest_inlined),
		cmocka_unit_test(bad_trace_is_an_error_not_a_crash),
	};
	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
