/* sim/scale HPA algorithm: hand-computed cases for the behavior paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "scale/hpa.h"

static const struct hpa_params P = {{0.1, 0.1}, 300 * SIM_SEC, 30 * SIM_SEC, 300 * SIM_SEC, 2.0, 4.0};

static struct hpa_rules_rt rules(int select, int type1, int32_t v1, int32_t p1, int type2, int32_t v2, int32_t p2)
{
	struct hpa_rules_rt r;
	memset(&r, 0, sizeof(r));
	r.select = select;
	r.has_window = true;
	r.policies[0] = (struct hpa_rule_policy){type1, v1, p1};
	r.npolicies = 1;
	if (p2) {
		r.policies[1] = (struct hpa_rule_policy){type2, v2, p2};
		r.npolicies = 2;
	}
	return r;
}

static void policy_limits(void **state)
{
	struct hpa_state s;
	struct hpa_event up[1] = {{2, -30 * SIM_SEC, false}}, down[1] = {{3, -10 * SIM_SEC, false}};
	struct hpa_rules_rt r;
	(void)state;
	memset(&s, 0, sizeof(s));
	s.up = up;
	s.nup = 1;
	/* 2 added 30 s ago: the period started at 3; Pods +4 = 7, Percent 100% = 6 */
	r = rules(HPA_SELECT_MAX_, HPA_PODS, 4, 60, HPA_PERCENT, 100, 60);
	assert_int_equal(hpa_policy_limit(&s, 0, true, 5, &r), 7);
	r.select = HPA_SELECT_MIN_;
	assert_int_equal(hpa_policy_limit(&s, 0, true, 5, &r), 6);
	r.select = HPA_SELECT_DISABLED_;
	assert_int_equal(hpa_policy_limit(&s, 0, true, 5, &r), 5);
	/* an event exactly one period old no longer counts (strict) */
	r = rules(HPA_SELECT_MAX_, HPA_PODS, 4, 30, 0, 0, 0);
	assert_int_equal(hpa_policy_limit(&s, 0, true, 5, &r), 9);
	/* down: 3 deleted 10 s ago, the period started at 13; 50% -> trunc(6.5) = 6; Pods -2 -> 11 */
	s.up = NULL;
	s.nup = 0;
	s.down = down;
	s.ndown = 1;
	r = rules(HPA_SELECT_MAX_, HPA_PERCENT, 50, 60, HPA_PODS, 2, 60);
	assert_int_equal(hpa_policy_limit(&s, 0, false, 10, &r), 6); /* Max: the biggest change */
	r.select = HPA_SELECT_MIN_;
	assert_int_equal(hpa_policy_limit(&s, 0, false, 10, &r), 11);
}

static void rate_limits(void **state)
{
	struct hpa_state s;
	struct hpa_behavior_rt b;
	const char *cond;
	(void)state;
	memset(&s, 0, sizeof(s));
	b.up = rules(HPA_SELECT_MAX_, HPA_PODS, 2, 60, 0, 0, 0);
	b.down = rules(HPA_SELECT_MAX_, HPA_PERCENT, 10, 60, 0, 0, 0);
	assert_int_equal(hpa_rate_limit(&s, 0, &b, 4, 9, 1, 20, &cond), 6);
	assert_string_equal(cond, "ScaleUpLimit");
	assert_int_equal(hpa_rate_limit(&s, 0, &b, 4, 9, 1, 5, &cond), 5);
	assert_string_equal(cond, "TooManyReplicas");
	assert_int_equal(hpa_rate_limit(&s, 0, &b, 10, 2, 1, 20, &cond), 9); /* trunc(10 * 0.9) */
	assert_string_equal(cond, "ScaleDownLimit");
	assert_int_equal(hpa_rate_limit(&s, 0, &b, 10, 2, 9, 20, &cond), 9);
	assert_int_equal(hpa_rate_limit(&s, 0, &b, 10, 10, 1, 20, &cond), 10);
	assert_string_equal(cond, "DesiredWithinRange");
	b.up.select = HPA_SELECT_DISABLED_;
	assert_int_equal(hpa_rate_limit(&s, 0, &b, 4, 9, 1, 20, &cond), 4);
	assert_string_equal(cond, "ScaleUpLimit");
}

static void stabilisation_windows(void **state)
{
	struct hpa_state s;
	(void)state;
	memset(&s, 0, sizeof(s));
	hpa_rec_push(&s, 9, -300 * SIM_SEC); /* exactly one window old: neither in nor old */
	hpa_rec_push(&s, 7, -299 * SIM_SEC);
	hpa_rec_push(&s, 2, -400 * SIM_SEC); /* old: its slot is reused */
	/* down window 300: max(3, 7) = 7 (9 is on the edge) */
	assert_int_equal(hpa_stabilize_behavior(&s, 0, 0, 300, 10, 3), 7);
	assert_int_equal(s.nrecs, 3);
	assert_int_equal(s.recs[2].replicas, 3);
	hpa_state_release(&s);
	/* legacy: entries older than the window are replaced, the last of them */
	memset(&s, 0, sizeof(s));
	hpa_rec_push(&s, 8, -600 * SIM_SEC);
	hpa_rec_push(&s, 6, -500 * SIM_SEC);
	hpa_rec_push(&s, 4, -100 * SIM_SEC);
	assert_int_equal(hpa_stabilize_legacy(&s, 0, 300 * SIM_SEC, 3), 4);
	assert_int_equal(s.nrecs, 3);
	assert_int_equal(s.recs[1].replicas, 3);
	assert_int_equal(s.recs[0].replicas, 8);
	hpa_state_release(&s);
}

static struct hpa_metric pods_metric(const int64_t *v, size_t n, int64_t target)
{
	struct hpa_metric m;
	memset(&m, 0, sizeof(m));
	m.src = HPA_SRC_PODS;
	m.ttype = HPA_T_AVERAGE_VALUE;
	m.target_m = target;
	m.pod_values_m = v;
	m.npod_values = n;
	return m;
}

static void reconcile_with_behavior(void **state)
{
	struct hpa_state s;
	struct hpa_pod pods[8];
	struct hpa_behavior_rt b;
	int64_t v[8] = {2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000};
	struct hpa_metric m;
	const char *why;
	int32_t d;
	(void)state;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 8; i++)
		pods[i] = (struct hpa_pod){HPA_POD_RUNNING, true, false, HPA_ZERO_TIME, HPA_ZERO_TIME, 0, false};
	memset(&b, 0, sizeof(b));
	b.up = rules(HPA_SELECT_MAX_, HPA_PODS, 2, 60, 0, 0, 0);
	b.down = rules(HPA_SELECT_MAX_, HPA_PERCENT, 100, 15, 0, 0, 0);
	b.down.has_window = false; /* the controller's 300 s */
	/* 4 pods at twice the target want 8; +2 pods per minute allows 6 */
	m = pods_metric(v, 4, 1000);
	d = hpa_reconcile(&P, &s, 0, 4, 4, 1, 10, pods, 4, &m, 1, &b, &why);
	assert_int_equal(d, 6);
	assert_string_equal(why, "ScaleUpLimit");
	assert_int_equal(s.nup, 1);
	assert_int_equal(s.up[0].change, 2);
	/* 15 s later, 6 pods still at twice the target want 12; 2 were added this minute: no more */
	m = pods_metric(v, 6, 1000);
	d = hpa_reconcile(&P, &s, 15 * SIM_SEC, 6, 6, 1, 10, pods, 6, &m, 1, &b, &why);
	assert_int_equal(d, 6);
	/* 61 s after the first: the event has aged out, +2 again */
	d = hpa_reconcile(&P, &s, 61 * SIM_SEC, 6, 6, 1, 10, pods, 6, &m, 1, &b, &why);
	assert_int_equal(d, 8);
	/* load gone: the 300 s scale-down window holds the recent highest recommendation */
	v[0] = v[1] = v[2] = v[3] = v[4] = v[5] = v[6] = v[7] = 100;
	m = pods_metric(v, 8, 1000);
	d = hpa_reconcile(&P, &s, 90 * SIM_SEC, 8, 8, 1, 10, pods, 8, &m, 1, &b, &why);
	assert_int_equal(d, 8);
	/* 400 s later everything old has left the window: 100% per 15 s allows the drop to 1 */
	d = hpa_reconcile(&P, &s, 500 * SIM_SEC, 8, 8, 1, 10, pods, 8, &m, 1, &b, &why);
	assert_int_equal(d, 1);
	hpa_state_release(&s);
}

static void reconcile_legacy_and_bounds(void **state)
{
	struct hpa_state s;
	struct hpa_pod pods[4];
	int64_t v[4] = {100, 100, 100, 100};
	struct hpa_metric m = pods_metric(v, 4, 1000);
	const char *why;
	(void)state;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 4; i++)
		pods[i] = (struct hpa_pod){HPA_POD_RUNNING, true, false, HPA_ZERO_TIME, HPA_ZERO_TIME, 0, false};
	/* the first sync records the current size: a scale-down waits for the window */
	assert_int_equal(hpa_reconcile(&P, &s, 0, 4, 4, 1, 10, pods, 4, &m, 1, NULL, &why), 4);
	assert_int_equal(hpa_reconcile(&P, &s, 301 * SIM_SEC, 4, 4, 1, 10, pods, 4, &m, 1, NULL, &why), 1);
	hpa_state_release(&s);
	/* above max: straight to max, metrics not read */
	memset(&s, 0, sizeof(s));
	m.fetch_error = true;
	assert_int_equal(hpa_reconcile(&P, &s, 0, 12, 12, 1, 10, pods, 4, &m, 1, NULL, &why), 10);
	/* every metric invalid: no change */
	assert_int_equal(hpa_reconcile(&P, &s, 0, 5, 5, 1, 10, pods, 4, &m, 1, NULL, &why), 5);
	assert_string_equal(why, "FailedGetMetrics");
	/* scaled to zero by hand with min 1: autoscaling is off */
	assert_int_equal(hpa_reconcile(&P, &s, 0, 0, 0, 1, 10, pods, 4, &m, 1, NULL, &why), 0);
	assert_string_equal(why, "ScalingDisabled");
	hpa_state_release(&s);
}

/* ---- golden cases (hpa_cases.c) ---- */

/* Every kind, hand-computed (and checked against hpa-eval before the move). */
static const char cases_yaml[] =
	"defaults: {tolerance_up: 0.1, tolerance_down: 0.1, cpu_initialization_period_s: 120, initial_readiness_delay_s: 10, downscale_stabilization_window_s: 300, legacy_scale_up_factor: 8, legacy_scale_up_minimum: 4}\n"
	"cases:\n"
	"- id: calc\n"
	"  kind: replica_calc\n"
	"  input:\n"
	"    current_replicas: 3\n"
	"    pods:\n"
	"    - {phase: Running, ready: true, request_m: 1000}\n"
	"    - {phase: Running, ready: true, request_m: 1000}\n"
	"    - {phase: Running, ready: true, request_m: 1000}\n"
	"    metric: {type: resource, resource: cpu, target: {type: Utilization, average_utilization: 50}, pod_values_m: [1000, 1000, 1000]}\n"
	"  expected: {replicas: 6, utilization_pct: 100, raw_average_m: 1000}\n"
	"- id: invalid\n"
	"  kind: replica_calc\n"
	"  input: {current_replicas: 3, metric: {type: invalid}}\n"
	"  expected: {error: true, replicas: null}\n"
	"- id: sync\n"
	"  kind: controller_sync\n"
	"  input:\n"
	"    spec_replicas: 3\n"
	"    min_replicas: 1\n"
	"    max_replicas: 10\n"
	"    pods:\n"
	"    - {phase: Running, ready: true, request_m: 1000}\n"
	"    - {phase: Running, ready: true, request_m: 1000}\n"
	"    - {phase: Running, ready: true, request_m: 1000}\n"
	"    metrics:\n"
	"    - {type: resource, resource: cpu, target: {type: Utilization, average_utilization: 50}, pod_values_m: [1000, 1000, 1000]}\n"
	"    behavior: null\n"
	"    recommendations: null\n"
	"  expected: {desired_replicas: 6}\n"
	"- id: legacy\n"
	"  kind: stabilize_legacy\n"
	"  input: {window_s: 300, prenormalized_replicas: 2, recommendations: [{replicas: 5, age_s: 100}, {replicas: 3, age_s: 400}]}\n"
	"  expected: {replicas: 5, history_length: 2}\n"
	"- id: behavior\n"
	"  kind: stabilize_behavior\n"
	"  input: {current_replicas: 4, prenormalized_replicas: 2, scale_up_window_s: 0, scale_down_window_s: 300, recommendations: [{replicas: 6, age_s: 100}]}\n"
	"  expected: {replicas: 4, stored_recommendations: [6, 2]}\n"
	"- id: rate\n"
	"  kind: rate_limit\n"
	"  input:\n"
	"    current_replicas: 4\n"
	"    prenormalized_replicas: 9\n"
	"    min_replicas: 1\n"
	"    max_replicas: 20\n"
	"    scale_up_rules: {select_policy: Max, policies: [{type: Pods, value: 2, period_s: 60}]}\n"
	"    scale_down_rules: null\n"
	"  expected: {replicas: 6, condition: ScaleUpLimit}\n"
	"- id: policy\n"
	"  kind: policy_limit\n"
	"  input:\n"
	"    direction: up\n"
	"    current_replicas: 5\n"
	"    rules: {select_policy: Max, policies: [{type: Pods, value: 4, period_s: 60}, {type: Percent, value: 100, period_s: 60}]}\n"
	"    events: [{change: 2, age_s: 30}]\n"
	"  expected: {limit: 7}\n"
	"- id: rules\n"
	"  kind: legacy_rules\n"
	"  input: {current_replicas: 2, prenormalized_replicas: 30, min_replicas: 1, max_replicas: 100}\n"
	"  expected: {replicas: 16, condition: ScaleUpLimit}\n";

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const struct hpa_case *find(const struct hpa_cases *cs, const char *id)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!strcmp(cs->v[i].id, id))
			return &cs->v[i];
	fail_msg("no case %s", id);
	return NULL;
}

/* Every field of the case's expected map matches what it computed. */
static void assert_matches(const struct hpa_case *c)
{
	const struct cfg_node *x = c->expected;
	assert_non_null(x);
	for (size_t k = 0; k < x->n; k++)
		if (!hpa_case_matches(c, x->keys[k]->str, x->vals[k]))
			fail_msg("%s: %s differs", c->id, x->keys[k]->str);
}

static void golden_cases_load_and_evaluate(void **state)
{
	char path[] = "/tmp/servesim-hpa-cases-XXXXXX";
	struct hpa_cases cs;
	struct sim_err err;
	const struct hpa_case *c;
	(void)state;
	write_file(path, cases_yaml);
	assert_int_equal(hpa_cases_load(&cs, path, &err), 0);
	assert_int_equal(cs.listed, 8);
	assert_int_equal(cs.n, 8);
	for (size_t i = 0; i < cs.n; i++) {
		hpa_case_eval(&cs.v[i]);
		assert_matches(&cs.v[i]);
	}
	/* decoded as the schema says: the case's controller, then its input */
	c = find(&cs, "calc");
	assert_int_equal(c->kind, HPA_CASE_REPLICA_CALC);
	assert_true(c->params.cpu_initialization_period == 120 * SIM_SEC);
	assert_true(c->params.legacy_scale_up_factor == 8);
	assert_int_equal(c->npods, 3);
	assert_int_equal(c->nmetrics, 1);
	assert_int_equal(c->metrics[0].target_utilization, 50);
	assert_int_equal(c->got.replicas, 6);
	assert_int_equal(c->got.utilization, 100);
	assert_true(find(&cs, "invalid")->got.error);
	c = find(&cs, "sync");
	assert_int_equal(c->got.desired, 6);
	assert_int_equal(c->min, 1);
	assert_false(c->has_behavior);
	assert_false(c->history.has_recs); /* recommendations: null */
	c = find(&cs, "legacy");
	assert_int_equal(c->got.replicas, 5);
	assert_int_equal(c->got.history_length, 2);
	c = find(&cs, "behavior");
	assert_int_equal(c->got.nstored, 2);
	assert_int_equal(c->got.stored[0], 6);
	assert_int_equal(c->got.stored[1], 2);
	c = find(&cs, "rate");
	assert_int_equal(c->got.replicas, 6);
	assert_string_equal(c->got.condition, "ScaleUpLimit");
	assert_int_equal(find(&cs, "policy")->got.limit, 7);
	assert_int_equal(find(&cs, "rules")->got.replicas, 16);
	/* a wrong expectation does not match */
	c = find(&cs, "rules");
	assert_false(hpa_case_matches(c, "replicas", c->expected->vals[1]));
	assert_false(hpa_case_matches(c, "no_such_field", c->expected->vals[0]));
	/* evaluation works on a copy of the history: again, the same */
	for (size_t i = 0; i < cs.n; i++) {
		hpa_case_eval(&cs.v[i]);
		assert_matches(&cs.v[i]);
	}
	assert_int_equal(find(&cs, "legacy")->history.nrecs, 2);
	hpa_cases_release(&cs);
	unlink(path);
}

static void golden_cases_bad_input(void **state)
{
	char path[] = "/tmp/servesim-hpa-cases-XXXXXX", want[128];
	const char *third = strstr(cases_yaml, "- id: sync");
	char *text = strdup(cases_yaml);
	struct hpa_cases cs;
	struct sim_err err;
	(void)state;
	/* the third case's max_replicas is not a number */
	memcpy(strstr(text + (third - cases_yaml), "max_replicas: 10"), "max_replicas: xy", 16);
	write_file(path, text);
	assert_int_equal(hpa_cases_load(&cs, path, &err), -1);
	assert_int_equal(err.kind, SIM_EINPUT);
	assert_int_equal(sim_err_exit_code(&err), 2);
	snprintf(want, sizeof(want), "%s:22:19: max_replicas: expected a number", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(cs.n, 2); /* the cases before it stay */
	assert_string_equal(cs.v[1].id, "invalid");
	hpa_cases_release(&cs);
	unlink(path);

	/* no list of cases */
	strcpy(path, "/tmp/servesim-hpa-cases-XXXXXX");
	write_file(path, "cases: 3\n");
	assert_int_equal(hpa_cases_load(&cs, path, &err), -1);
	snprintf(want, sizeof(want), "%s:1:8: expected 'cases:' with a list of cases", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(cs.n, 0);
	hpa_cases_release(&cs);
	unlink(path);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_limits),
		cmocka_unit_test(rate_limits),
		cmocka_unit_test(stabilisation_windows),
		cmocka_unit_test(reconcile_with_behavior),
		cmocka_unit_test(reconcile_legacy_and_bounds),
		cmocka_unit_test(golden_cases_load_and_evaluate),
		cmocka_unit_test(golden_cases_bad_input),
	};
	return cmocka_run_group_tests_name("scale: HPA algorithm", tests, NULL, NULL);
}
