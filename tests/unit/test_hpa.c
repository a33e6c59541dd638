/* sim/scale HPA algorithm: hand-computed cases for the behavior paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_limits),
		cmocka_unit_test(rate_limits),
		cmocka_unit_test(stabilisation_windows),
		cmocka_unit_test(reconcile_with_behavior),
		cmocka_unit_test(reconcile_legacy_and_bounds),
	};
	return cmocka_run_group_tests_name("scale: HPA algorithm", tests, NULL, NULL);
}
