/*
 * sim/scale control loops against a fake deployment: pods become ready
 * `startup` after they are asked for, and each reports the concurrency a
 * load profile gives it. Checks the pipeline's lag and rates, KPA panic
 * entry and exit, KEDA activation and cooldown, the live HPA's timing and
 * the predictive policy's lead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale/scale.h"
#include "scale/hpa.h"
#include "server/server.h"

#define MAXP 64
#define NOT_ASKED (INT64_MIN / 2)

struct fake {
	struct sim sim;
	struct sc_env env;
	int32_t desired;
	sim_time asked[MAXP];  /* when pod i was asked for */
	sim_time startup;
	double (*load)(sim_time t); /* total demand (in-flight requests) */
	double queue;               /* requests buffered while nothing is ready */
	int64_t arrivals;
	/* decisions */
	int ndec, ups, downs;
	sim_time first_up, first_down, panic_in, panic_out;
	int32_t max_seen;
	const char *last_controller;
};

static int32_t ready_of(const struct fake *f)
{
	int32_t n = 0;
	for (int32_t i = 0; i < f->desired && i < MAXP; i++)
		n += f->asked[i] != NOT_ASKED && f->sim.now >= f->asked[i] + f->startup;
	return n;
}

static size_t f_pods(void *ctx, size_t dep, struct sc_pod *out, size_t max)
{
	struct fake *f = ctx;
	size_t n = 0;
	(void)dep;
	for (int32_t i = 0; i < f->desired && i < MAXP; i++) {
		bool ready = f->sim.now >= f->asked[i] + f->startup;
		if (n < max)
			out[n] = (struct sc_pod){i, HPA_POD_RUNNING, ready, false, f->asked[i],
						 ready ? f->asked[i] + f->startup : f->asked[i], ready};
		n++;
	}
	return n;
}

static void f_scrape(void *ctx, size_t dep, struct sc_scrape *x)
{
	struct fake *f = ctx;
	int32_t r = ready_of(f), k = 0;
	double total = f->load(f->sim.now);
	(void)dep;
	x->npods = (size_t)r;
	x->pod_ids = calloc((size_t)r + 1, sizeof(int32_t));
	x->values = calloc((size_t)r * SC_M_POD_METRICS + 1, sizeof(double));
	for (int32_t i = 0; i < f->desired && i < MAXP; i++) {
		if (f->sim.now < f->asked[i] + f->startup)
			continue;
		x->pod_ids[k] = i;
		x->values[SC_M_CONCURRENCY * (size_t)r + (size_t)k] = total / r;
		x->values[SC_M_WAITING * (size_t)r + (size_t)k] = total / r;
		k++;
	}
	/* nothing ready: the router (activator) holds the demand */
	x->router[SC_M_ROUTER_QUEUE - SC_M_POD_METRICS] = r ? 0 : total;
	x->router[SC_M_ROUTER_RATE - SC_M_POD_METRICS] = total;
	x->router[SC_M_ROUTER_TOTAL - SC_M_POD_METRICS] = (double)f->arrivals;
}

static int32_t f_replicas(void *ctx, size_t dep)
{
	(void)dep;
	return ((struct fake *)ctx)->desired;
}

static int32_t f_ready(void *ctx, size_t dep)
{
	(void)dep;
	return ready_of(ctx);
}

static void f_set(void *ctx, size_t dep, int32_t n)
{
	struct fake *f = ctx;
	(void)dep;
	for (int32_t i = f->desired; i < n && i < MAXP; i++)
		f->asked[i] = f->sim.now;
	for (int32_t i = n; i < f->desired && i < MAXP; i++)
		f->asked[i] = NOT_ASKED;
	if (n > f->desired) {
		if (!f->ups++)
			f->first_up = f->sim.now;
	} else if (n < f->desired) {
		if (!f->downs++)
			f->first_down = f->sim.now;
	}
	f->desired = n;
	if (n > f->max_seen)
		f->max_seen = n;
}

static void f_decision(void *ctx, size_t dep, const char *controller, double input, int32_t from, int32_t proposal,
		       int32_t to, const char *reason)
{
	struct fake *f = ctx;
	(void)dep;
	f->ndec++;
	if (getenv("SCALE_DEBUG"))
		fprintf(stderr, "t=%.1f %s in=%g %d->%d (%d) %s\n", sim_time_to_s(f->sim.now), controller, input, from, to, proposal, reason);
	f->last_controller = controller;
	if (!strcmp(reason, "panic") && f->panic_in < 0)
		f->panic_in = f->sim.now;
	if (strcmp(reason, "panic") && f->panic_in >= 0 && f->panic_out < 0)
		f->panic_out = f->sim.now;
}

static sim_time f_startup(void *ctx, size_t dep)
{
	(void)dep;
	return ((struct fake *)ctx)->startup;
}

static bool f_active(void *ctx)
{
	(void)ctx;
	return false;
}

static void fake_init(struct fake *f, int32_t replicas, sim_time startup, double (*load)(sim_time))
{
	memset(f, 0, sizeof(*f));
	sim_init(&f->sim, 1);
	f->startup = startup;
	f->load = load;
	f->first_up = f->first_down = f->panic_in = f->panic_out = -1;
	for (int i = 0; i < MAXP; i++)
		f->asked[i] = i < replicas ? -startup : NOT_ASKED; /* the first ones are up */
	f->desired = replicas;
	f->env = (struct sc_env){.ctx = f, .sim = &f->sim, .pods = f_pods, .scrape = f_scrape, .replicas = f_replicas,
				 .ready_replicas = f_ready, .set_replicas = f_set, .decision = f_decision,
				 .startup = f_startup, .active = f_active, .arrivals_end = 0};
}

/* Decodes an autoscaler from YAML. */
static void decode(struct cfg_doc *doc, const char *yaml, struct sc_autoscaler_config *a)
{
	struct sim_err err;
	struct cfg_ctx c;
	sim_err_clear(&err);
	cfg_doc_init(doc);
	assert_int_equal(cfg_doc_load_string(doc, "a.yaml", yaml, strlen(yaml), &err), 0);
	cfg_ctx_init(&c, doc, &err);
	if (sc_autoscaler_decode(&c, doc->root, a))
		fail_msg("%s", err.msg);
}

static struct sc_runtime *start(struct fake *f, const struct sc_autoscaler_config *a, sim_time until)
{
	struct sim_err err;
	struct sc_runtime *rt;
	sim_err_clear(&err);
	f->env.arrivals_end = until;
	rt = sc_runtime_new(&f->env, a, 1, &err);
	if (!rt)
		fail_msg("%s", err.msg);
	return rt;
}

/* ---- the pipeline ---- */

static double ramp(sim_time t)
{
	return (double)(t / SIM_SEC); /* 1 more every second */
}

static void pipeline_lag_and_rate(void **state)
{
	struct fake f;
	struct cfg_doc doc;
	struct sc_autoscaler_config a;
	struct sc_runtime *rt;
	const struct sc_series *s;
	bool has;
	(void)state;
	fake_init(&f, 2, 0, ramp);
	decode(&doc, "type: predictive\ntarget_per_replica: 1000/s\nmin_replicas: 2\n"
		     "metrics_pipeline: {scrape_interval: 10s, lag: 25s}\n", &a);
	rt = start(&f, &a, 200 * SIM_SEC);
	sim_run(&f.sim, 100 * SIM_SEC);
	s = sc_runtime_series(rt, 0);
	/* at 100 s a controller sees the scrape of 70 s (100 - 25 = 75 -> the 70 s scrape) */
	assert_non_null(sc_series_at(s, 75 * SIM_SEC));
	assert_int_equal(sc_series_at(s, 75 * SIM_SEC)->t, 70 * SIM_SEC);
	assert_float_equal(sc_total(s, 75 * SIM_SEC, SIM_MIN, SC_M_CONCURRENCY, &has), 70.0, 1e-9);
	assert_true(has);
	/* nothing was scraped before 0 */
	assert_null(sc_series_at(s, -1));
	/* the router's request counter as a rate over a window */
	f.arrivals = 0;
	sc_runtime_free(rt);
	sim_release(&f.sim);
	cfg_doc_release(&doc);
}

/* ---- KPA ---- */

static double burst(sim_time t)
{
	/* 10 in flight, then a burst of 100 from 120 s to 180 s, then 10 again */
	return t >= 120 * SIM_SEC && t < 180 * SIM_SEC ? 100.0 : 10.0;
}

static void kpa_panic_entry_and_exit(void **state)
{
	struct fake f;
	struct cfg_doc doc;
	struct sc_autoscaler_config a;
	struct sc_runtime *rt;
	(void)state;
	fake_init(&f, 1, 5 * SIM_SEC, burst);
	/* target 10 x 1.0 per pod; stable 60 s, panic 6 s, threshold 200 % */
	decode(&doc, "type: kpa\ntarget: 10\ntarget_utilization: 1.0\nmin_scale: 1\n", &a);
	rt = start(&f, &a, 400 * SIM_SEC);
	sim_run(&f.sim, 119 * SIM_SEC);
	assert_int_equal(f.desired, 1); /* 10 in flight = one pod at target */
	assert_int_equal(f.panic_in, -1);
	sim_run(&f.sim, 400 * SIM_SEC);
	/* the burst fills the 6 s panic window within a couple of ticks: panic */
	assert_true(f.panic_in >= 120 * SIM_SEC && f.panic_in <= 130 * SIM_SEC);
	/* the rate limit (1000x) does not bind: panic goes straight to 10 pods */
	assert_int_equal(f.max_seen, 10);
	/* Panic lasts a stable window after the panic demand last reached 200 % of the
	 * ready pods: 100 in flight over 5 ready pods at 128 s (those asked at 122 s are
	 * ready at 127 s), not over 9 at 130 s; so it ends at the first tick after
	 * 128 + 60 s, though the burst goes on until 180 s. */
	assert_int_equal(f.panic_out, 190 * SIM_SEC);
	/* no scale-down in panic */
	assert_true(f.first_down >= f.panic_out);
	/* the stable window still remembers the burst until 240 s; then back to one pod */
	assert_int_equal(f.desired, 1);
	sc_runtime_free(rt);
	sim_release(&f.sim);
	cfg_doc_release(&doc);
}

static double idle_gap(sim_time t)
{
	/* 5 in flight until 60 s, nothing until 300 s, then 5 again */
	return t < 60 * SIM_SEC || t >= 300 * SIM_SEC ? 5.0 : 0.0;
}

static void kpa_scale_to_zero_and_back(void **state)
{
	struct fake f;
	struct cfg_doc doc;
	struct sc_autoscaler_config a;
	struct sc_runtime *rt;
	(void)state;
	fake_init(&f, 1, 10 * SIM_SEC, idle_gap);
	decode(&doc, "type: kpa\ntarget: 10\nscale_to_zero_grace_period: 30s\n", &a);
	rt = start(&f, &a, 400 * SIM_SEC);
	sim_run(&f.sim, 299 * SIM_SEC);
	/* the stable average reaches 0 once 60 s have no demand (120 s), then 30 s of grace */
	assert_int_equal(f.desired, 0);
	assert_true(f.first_down >= 150 * SIM_SEC && f.first_down <= 156 * SIM_SEC);
	sim_run(&f.sim, 320 * SIM_SEC);
	/* requests buffered by the activator bring one pod back at the next tick */
	assert_int_equal(f.desired, 1);
	assert_true(f.first_up >= 300 * SIM_SEC && f.first_up <= 304 * SIM_SEC);
	sc_runtime_free(rt);
	sim_release(&f.sim);
	cfg_doc_release(&doc);
}

/* ---- KEDA ---- */

static double on_off(sim_time t)
{
	/* 30 waiting from 100 s to 400 s, none otherwise */
	return t >= 100 * SIM_SEC && t < 400 * SIM_SEC ? 30.0 : 0.0;
}

static void keda_activation_and_cooldown(void **state)
{
	struct fake f;
	struct cfg_doc doc;
	struct sc_autoscaler_config a;
	struct sc_runtime *rt;
	(void)state;
	fake_init(&f, 0, 20 * SIM_SEC, on_off);
	decode(&doc,
	       "type: keda\nmetrics_pipeline: {scrape_interval: 5s, lag: 0s}\n"
	       "spec:\n  pollingInterval: 10\n  cooldownPeriod: 120\n  minReplicaCount: 0\n  maxReplicaCount: 8\n"
	       "  triggers:\n    - type: prometheus\n"
	       "      metadata: {query: 'sum(servesim:router_arrival_rate)', threshold: '10', activationThreshold: '5'}\n",
	       &a);
	rt = start(&f, &a, 700 * SIM_SEC);
	sim_run(&f.sim, 99 * SIM_SEC);
	assert_int_equal(f.desired, 0); /* inactive: stays at zero */
	assert_int_equal(f.ndec, 0);    /* and the HPA is disabled at zero */
	sim_run(&f.sim, 111 * SIM_SEC);
	/* activation at the first poll that sees 30 > 5: 0 -> 1 (the 100 s poll runs
	 * before the 100 s scrape, so it is the 110 s poll) */
	assert_int_equal(f.first_up, 110 * SIM_SEC);
	assert_int_equal(f.desired, 1);
	sim_run(&f.sim, 399 * SIM_SEC);
	/* the driven HPA: External AverageValue 10 over a value of 30 -> 3 pods */
	assert_int_equal(f.desired, 3);
	assert_int_equal(f.downs, 0);
	/* the last active poll is at 400 s (it sees the 395 s scrape); cooldown 120 s:
	 * zero at the first poll after 520 s */
	sim_run(&f.sim, 525 * SIM_SEC);
	assert_int_equal(f.desired, 3);
	sim_run(&f.sim, 700 * SIM_SEC);
	assert_int_equal(f.desired, 0);
	assert_int_equal(f.first_down, 530 * SIM_SEC);
	sc_runtime_free(rt);
	sim_release(&f.sim);
	cfg_doc_release(&doc);
}

/* ---- HPA ---- */

static double step_up(sim_time t)
{
	return t >= 60 * SIM_SEC ? 40.0 : 4.0; /* total waiting, shared by the ready pods */
}

static void hpa_follows_with_sync_and_lag(void **state)
{
	struct fake f;
	struct cfg_doc doc;
	struct sc_autoscaler_config a;
	struct sc_runtime *rt;
	(void)state;
	fake_init(&f, 1, 30 * SIM_SEC, step_up);
	decode(&doc,
	       "type: hpa\nmetrics_pipeline: {scrape_interval: 15s, lag: 15s}\n"
	       "spec:\n  minReplicas: 1\n  maxReplicas: 10\n  metrics:\n"
	       "    - type: Pods\n      pods: {metric: {name: 'vllm:num_requests_waiting'}, target: {type: AverageValue, averageValue: '4'}}\n",
	       &a);
	rt = start(&f, &a, 300 * SIM_SEC);
	sim_run(&f.sim, 300 * SIM_SEC);
	/* The step at 60 s is scraped at 60 s, visible from 75 s, acted on at the 75 s sync:
	 * 40/4 = 10 pods, but without behavior (the legacy path) one sync may go to at
	 * most max(2 x current, 4): 1 -> 4 -> 8 -> 10. */
	assert_int_equal(f.first_up, 75 * SIM_SEC);
	assert_int_equal(f.ups, 3);
	assert_int_equal(f.desired, 10);
	assert_string_equal(f.last_controller, "hpa");
	sc_runtime_free(rt);
	sim_release(&f.sim);
	cfg_doc_release(&doc);
}

/* ---- predictive ---- */

static double daily(sim_time t)
{
	/* a 10-minute "season": 10/s in the first half, 50/s in the second */
	return (t / SIM_SEC) % 600 < 300 ? 10.0 : 50.0;
}

static void predictive_scales_ahead(void **state)
{
	struct fake f;
	struct cfg_doc doc;
	struct sc_autoscaler_config a;
	struct sc_runtime *rt;
	(void)state;
	fake_init(&f, 1, 60 * SIM_SEC, daily);
	decode(&doc,
	       "type: predictive\nmethod: seasonal-naive\nmetric: servesim:router_arrival_rate\n"
	       "target_per_replica: 10/s\nseason: 10m\nsync_period: 30s\nheadroom: 0\nmax_replicas: 20\n"
	       "metrics_pipeline: {scrape_interval: 10s, lag: 0s}\n",
	       &a);
	rt = start(&f, &a, 1500 * SIM_SEC);
	/* second season: the rise at 900 s is foreseen one startup (60 s) ahead */
	sim_run(&f.sim, 880 * SIM_SEC);
	assert_int_equal(f.desired, 5);
	/* and the fall at 1200 s is not anticipated: it keeps what the present needs */
	sim_run(&f.sim, 1190 * SIM_SEC);
	assert_int_equal(f.desired, 5);
	sc_runtime_free(rt);
	sim_release(&f.sim);
	cfg_doc_release(&doc);
}

/* ---- queries ---- */

static void query_parsing(void **state)
{
	struct sc_query q;
	char msg[256];
	(void)state;
	assert_int_equal(sc_query_parse("sum(rate(vllm:generation_tokens_total[1m]))", &q, msg, sizeof(msg)), 0);
	assert_int_equal(q.metric, SC_M_GEN_TOTAL);
	assert_int_equal(q.fn, SC_FN_RATE);
	assert_int_equal(q.agg, SC_AGG_SUM);
	assert_int_equal(q.window, 60 * SIM_SEC);
	assert_int_equal(sc_query_parse("histogram_quantile(0.9, sum(rate(vllm:time_to_first_token_seconds_bucket[2m])) by (le))",
					&q, msg, sizeof(msg)), 0);
	assert_int_equal(q.fn, SC_FN_QUANTILE);
	assert_int_equal(q.metric, SC_M_TTFT);
	assert_float_equal(q.q, 0.9, 0);
	assert_int_equal(q.window, 120 * SIM_SEC);
	assert_int_equal(sc_query_parse("avg(vllm:kv_cache_usage_perc)", &q, msg, sizeof(msg)), 0);
	assert_int_equal(q.agg, SC_AGG_AVG);
	assert_int_equal(q.fn, SC_FN_NONE);
	assert_int_equal(sc_query_parse("max_over_time(servesim:router_queue_length[30s])", &q, msg, sizeof(msg)), 0);
	assert_int_equal(q.fn, SC_FN_MAX);
	/* what a user gets wrong */
	assert_int_equal(sc_query_parse("rate(vllm:num_requests_waiting[1m])", &q, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "counter"));
	assert_int_equal(sc_query_parse("rate(vllm:prompt_tokens_total)", &q, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "window"));
	assert_int_equal(sc_query_parse("histogram_quantile(1.5, vllm:time_to_first_token_seconds[1m])", &q, msg, sizeof(msg)), -1);
	assert_int_equal(sc_query_parse("vllm:time_to_first_token_seconds", &q, msg, sizeof(msg)), -1);
	assert_int_equal(sc_query_parse("vllm:gpu_cache_usage", &q, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "catalog"));
	assert_int_equal(sc_query_parse("sum(vllm:num_requests_waiting", &q, msg, sizeof(msg)), -1);
}

/* Two scrapes of two pods with TTFT buckets: the quantile of the increase. */
static void query_histogram_quantile(void **state)
{
	struct sc_scrape buf[2];
	struct sc_series s = {buf, 0, 2, 2};
	struct sc_query q;
	char msg[128];
	size_t nb;
	const double *b = srv_hist_bounds(SRV_H_TTFT, &nb);
	bool has;
	double v;
	(void)state;
	memset(buf, 0, sizeof(buf));
	for (int k = 0; k < 2; k++) {
		int32_t *ids = calloc(2, sizeof(int32_t));
		ids[0] = 7, ids[1] = 9;
		buf[k].t = k * 30 * SIM_SEC;
		buf[k].npods = 2;
		buf[k].pod_ids = ids;
		buf[k].values = calloc(2 * SC_M_POD_METRICS, sizeof(double));
		buf[k].hist = calloc((size_t)SC_HISTS * SC_HIST_BUCKETS * 2, sizeof(double));
	}
	/* in the window: pod 7 adds 10 observations in bucket 3, pod 9 adds 10 in bucket 5;
	 * before it, pod 7 had 100 in bucket 0 (which must not count) */
	for (int bk = 0; bk < SC_HIST_BUCKETS; bk++) {
		buf[0].hist[(size_t)bk * 2 + 0] = 100;
		buf[1].hist[(size_t)bk * 2 + 0] = 100 + (bk >= 3 ? 10 : 0);
		buf[1].hist[(size_t)bk * 2 + 1] = bk >= 5 ? 10 : 0;
	}
	assert_int_equal(sc_query_parse("histogram_quantile(0.5, vllm:time_to_first_token_seconds[1m])", &q, msg, sizeof(msg)), 0);
	/* rank 10 of 20 reaches bucket 3 exactly: its upper bound */
	v = sc_query_total(&s, 30 * SIM_SEC, &q, &has);
	assert_true(has);
	assert_float_equal(v, b[3], 1e-12);
	/* p75: rank 15, half-way through bucket 5 (between bounds 4 and 5) */
	q.q = 0.75;
	v = sc_query_total(&s, 30 * SIM_SEC, &q, &has);
	assert_float_equal(v, b[4] + (b[5] - b[4]) * 0.5, 1e-12);
	/* per pod: pod 9's median is half-way through its only bucket */
	q.q = 0.5;
	v = sc_query_pod(&s, 30 * SIM_SEC, &q, 9, &has);
	assert_true(has);
	assert_float_equal(v, b[4] + (b[5] - b[4]) * 0.5, 1e-12);
	/* nothing observed in a window that holds only one scrape: no data */
	q.window = 10 * SIM_SEC;
	v = sc_query_total(&s, 30 * SIM_SEC, &q, &has);
	assert_false(has);
	for (int k = 0; k < 2; k++) {
		free(buf[k].pod_ids);
		free(buf[k].values);
		free(buf[k].hist);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipeline_lag_and_rate),
		cmocka_unit_test(kpa_panic_entry_and_exit),
		cmocka_unit_test(kpa_scale_to_zero_and_back),
		cmocka_unit_test(keda_activation_and_cooldown),
		cmocka_unit_test(hpa_follows_with_sync_and_lag),
		cmocka_unit_test(predictive_scales_ahead),
		cmocka_unit_test(query_parsing),
		cmocka_unit_test(query_histogram_quantile),
	};
	return cmocka_run_group_tests_name("scale: pipeline and controllers", tests, NULL, NULL);
}
