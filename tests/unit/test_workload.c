/* sim/workload: arrival processes, rate profiles, lengths, trace readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload/workload.h"
#include "testutil.h"

static struct cfg_doc doc;
static struct sim_err err;
static struct cfg_doc kept[64]; /* the workloads' docs live until teardown */
static size_t nkept;

/* A workload from YAML (relative paths resolve in the test's scratch dir). */
static const struct wl_config *W(const char *yaml)
{
	struct cfg_ctx c;
	struct wl_config *w = sim_arena_alloc(&doc.arena, sizeof(*w));
	struct cfg_doc d;
	const char *p = tu_write("w.yaml", yaml);
	cfg_doc_init(&d);
	sim_err_clear(&err);
	if (cfg_doc_load_file(&d, p, &err))
		fail_msg("%s", err.msg);
	cfg_ctx_init(&c, &d, &err);
	if (cfg_decode(&c, d.root, &wl_config_schema, w))
		fail_msg("%s", err.msg);
	/* the decoded strings live in d: keep it for the test's lifetime */
	assert_true(nkept < 64);
	kept[nkept++] = d;
	return w;
}

/* All arrivals of a source over `dur` seconds. */
static size_t collect(const struct wl_config *c, double dur, double mult, struct wl_arrival **out)
{
	struct wl_source s;
	struct wl_arrival a;
	size_t n = 0, cap = 0;
	sim_err_clear(&err);
	if (wl_source_init(&s, c, 42, (sim_time)(dur * 1e9), mult, &err))
		fail_msg("%s", err.msg);
	*out = NULL;
	while (wl_source_next(&s, &a)) {
		if (n == cap)
			*out = realloc(*out, (cap = cap ? cap * 2 : 1024) * sizeof(a));
		(*out)[n++] = a;
	}
	assert_false(wl_source_failed(&s));
	wl_source_release(&s);
	return n;
}

static double gaps_cv(const struct wl_arrival *a, size_t n)
{
	double m = 0, v = 0;
	for (size_t i = 1; i < n; i++)
		m += (double)(a[i].t - a[i - 1].t);
	m /= (double)(n - 1);
	for (size_t i = 1; i < n; i++) {
		double d = (double)(a[i].t - a[i - 1].t) - m;
		v += d * d;
	}
	return sqrt(v / (double)(n - 2)) / m;
}

static const char *LEN = "lengths: {prompt: {dist: fixed, value: 10}, output: {dist: fixed, value: 5}}\n";

static char *yaml2(const char *a, const char *b)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s", a, b);
	return buf;
}

static void poisson_gamma_deterministic(void **state)
{
	struct wl_arrival *a;
	size_t n;
	(void)state;
	n = collect(W(yaml2("name: p\narrivals: {process: poisson, rate: 20/s}\n", LEN)), 2000, 1, &a);
	assert_true(fabs((double)n / 40000 - 1) < 0.02); /* 3 sigma of 40000 is 1.5% */
	assert_true(fabs(gaps_cv(a, n) - 1) < 0.03);
	free(a);
	n = collect(W(yaml2("name: g\narrivals: {process: gamma, cv: 3, rate: 20/s}\n", LEN)), 2000, 1, &a);
	assert_true(fabs((double)n / 40000 - 1) < 0.06);
	assert_true(fabs(gaps_cv(a, n) - 3) < 0.2);
	free(a);
	n = collect(W(yaml2("name: d\narrivals: {process: deterministic, rate: 4/s}\n", LEN)), 10, 1, &a);
	assert_int_equal(n, 39); /* 0.25, 0.5, ..., 9.75 */
	assert_int_equal(a[0].t, 250 * SIM_MS);
	assert_int_equal(a[38].t, 9750 * SIM_MS);
	free(a);
	/* the scenario-wide multiplier scales the rate */
	n = collect(W(yaml2("name: d\narrivals: {process: deterministic, rate: 4/s}\n", LEN)), 10, 2, &a);
	assert_int_equal(n, 79);
	free(a);
}

static void ramps_steps_and_diurnal_are_exact(void **state)
{
	struct wl_arrival *a;
	size_t n, in_first = 0;
	double expect;
	(void)state;
	/* ramp 0 -> 40/s over 100 s, then 40/s: Lambda(200) = 2000 + 4000 */
	n = collect(W(yaml2("name: r\narrivals: {rate: {ramps: [[0s, 0/s], [100s, 40/s]]}}\n", LEN)), 200, 1, &a);
	assert_true(fabs((double)n - 6000) < 3 * sqrt(6000));
	for (size_t i = 0; i < n; i++)
		in_first += a[i].t < 50 * SIM_SEC; /* Lambda(50) = 500 */
	assert_true(fabs((double)in_first - 500) < 3 * sqrt(500));
	free(a);
	/* steps: 10/s for 100 s, 0 for 100 s, 30/s after */
	n = collect(W(yaml2("name: s\narrivals: {rate: {steps: [[0s, 10/s], [100s, 0/s], [200s, 30/s]]}}\n", LEN)), 300,
		    1, &a);
	assert_true(fabs((double)n - 4000) < 3 * sqrt(4000));
	for (size_t i = 0; i < n; i++)
		assert_false(a[i].t >= 100 * SIM_SEC && a[i].t < 200 * SIM_SEC);
	free(a);
	/* diurnal: 8 periods of 1000 s between 2/s and 18/s: 8000 * 10 on average */
	n = collect(W(yaml2("name: di\narrivals: {rate: {diurnal: {period: 1000s, peak: 18/s, trough: 2/s, peak_at: 250s}}}\n",
			    LEN)),
		    8000, 1, &a);
	expect = 8000.0 * 10;
	assert_true(fabs((double)n - expect) < 3 * sqrt(expect));
	{ /* busier around the peak than around the trough */
		size_t peak = 0, trough = 0;
		for (size_t i = 0; i < n; i++) {
			double ph = fmod(sim_time_to_s(a[i].t), 1000.0);
			peak += fabs(ph - 250) < 50;
			trough += fabs(ph - 750) < 50;
		}
		assert_true(peak > 5 * trough);
	}
	free(a);
	/* csv: linear between points */
	tu_write("rate.csv", "time_s,rate\n0,0\n100,20\n");
	n = collect(W(yaml2("name: c\narrivals: {rate: {csv: rate.csv}}\n", LEN)), 100, 1, &a);
	assert_true(fabs((double)n - 1000) < 3 * sqrt(1000));
	free(a);
}

static void onoff_bursts(void **state)
{
	struct wl_arrival *a;
	size_t n;
	(void)state;
	/* bursts of 10 s, gaps of 30 s: a quarter of the time at 40/s */
	n = collect(W(yaml2("name: o\narrivals: {process: onoff, rate: 40/s, on_duration: 10s, off_duration: 30s}\n",
			    LEN)),
		    20000, 1, &a);
	assert_true(fabs((double)n / (20000 * 10) - 1) < 0.1);
	assert_true(gaps_cv(a, n) > 2); /* bursty */
	free(a);
}

static void length_models(void **state)
{
	struct wl_arrival *a;
	size_t n;
	double *p;
	(void)state;
	n = collect(W("name: l\narrivals: {rate: 100/s}\nlengths: {prompt: {dist: lognormal, p50: 800, p90: 3000, "
		      "max: 100000}, output: {dist: normal, mean: 200, stddev: 20}}\n"),
		    500, 1, &a);
	p = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		p[i] = (double)a[i].prompt;
	{
		size_t below50 = 0, below90 = 0;
		double mo = 0;
		for (size_t i = 0; i < n; i++) {
			below50 += a[i].prompt <= 800;
			below90 += a[i].prompt <= 3000;
			mo += (double)a[i].output;
		}
		assert_true(fabs((double)below50 / (double)n - 0.5) < 0.02);
		assert_true(fabs((double)below90 / (double)n - 0.9) < 0.02);
		assert_true(fabs(mo / (double)n - 200) < 1);
	}
	free(p);
	free(a);
	/* clipping and uniform integers */
	n = collect(W("name: u\narrivals: {rate: 100/s}\nlengths: {prompt: {dist: uniform, min: 5, max: 7}, "
		      "output: {dist: lognormal, mean: 100, p50: 50, max: 120}}\n"),
		    100, 1, &a);
	{
		int seen[8] = {0};
		for (size_t i = 0; i < n; i++) {
			assert_true(a[i].prompt >= 5 && a[i].prompt <= 7);
			seen[a[i].prompt]++;
			assert_true(a[i].output >= 1 && a[i].output <= 120);
		}
		assert_true(seen[5] > 0 && seen[6] > 0 && seen[7] > 0);
	}
	free(a);
	/* empirical pairs keep their pairing */
	tu_write("pairs.csv", "num_prefill_tokens,num_decode_tokens,x\n100,7,a\n2000,9,b\n");
	n = collect(W("name: e\narrivals: {rate: 100/s}\nlengths: {empirical: pairs.csv}\n"), 10, 1, &a);
	for (size_t i = 0; i < n; i++)
		assert_true((a[i].prompt == 100 && a[i].output == 7) || (a[i].prompt == 2000 && a[i].output == 9));
	free(a);
}

static void lengths_do_not_move_arrivals(void **state)
{
	struct wl_arrival *a, *b;
	size_t n1, n2;
	(void)state;
	n1 = collect(W("name: same\narrivals: {rate: 10/s}\nlengths: {prompt: {dist: fixed, value: 10}, output: {dist: fixed, value: 5}}\n"), 100, 1, &a);
	n2 = collect(W("name: same\narrivals: {rate: 10/s}\nlengths: {prompt: {dist: lognormal, p50: 9, p90: 90}, output: {dist: fixed, value: 5}}\nprefix: {tokens: 4}\n"), 100, 1, &b);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++)
		assert_int_equal(a[i].t, b[i].t);
	free(a);
	free(b);
}

static void datetimes(void **state)
{
	int64_t t;
	(void)state;
	assert_int_equal(wl_parse_datetime("1970-01-01 00:00:00", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(wl_parse_datetime("2023-11-16 18:17:03.9799600", &t), 0);
	assert_int_equal(t, 1700158623979960000LL); /* exact to 100 ns */
	assert_int_equal(wl_parse_datetime("2024-05-10 00:00:00.009930+00:00", &t), 0);
	assert_int_equal(t, 1715299200009930000LL);
	assert_int_equal(wl_parse_datetime("2024-05-10 00:00:00+00:00", &t), 0);
	assert_int_equal(t, 1715299200000000000LL);
	assert_int_equal(wl_parse_datetime("2024-05-10T02:00:00+02:00", &t), 0);
	assert_int_equal(t, 1715299200000000000LL);
	assert_int_equal(wl_parse_datetime("2024-02-29 12:00:00Z", &t), 0);
	assert_int_equal(wl_parse_datetime("2024-13-01 00:00:00", &t), -1);
	assert_int_equal(wl_parse_datetime("yesterday", &t), -1);
	assert_int_equal(wl_parse_datetime("2024-05-10 00:00:00.", &t), -1);
	assert_int_equal(wl_parse_datetime("2024-05-10 00:00:00 junk", &t), -1);
}

/* Reads a trace file through a workload; returns arrivals (or -1: error). */
static long replay(const char *yaml, struct wl_arrival **out, struct wl_trace_stats *st)
{
	struct wl_source s;
	struct wl_arrival a;
	size_t n = 0, cap = 0;
	const struct wl_config *c = W(yaml);
	sim_err_clear(&err);
	*out = NULL;
	if (wl_source_init(&s, c, 1, 100000 * SIM_SEC, 1, &err)) {
		wl_source_release(&s);
		return -1;
	}
	while (wl_source_next(&s, &a)) {
		if (n == cap)
			*out = realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(a));
		(*out)[n++] = a;
		(*out)[n - 1].ids = NULL; /* valid only until the next call */
		if (a.nids) /* check the chain while it is valid */
			assert_int_equal(a.ids_block, 512);
	}
	if (st)
		wl_source_trace_stats(&s, st);
	if (wl_source_failed(&s)) {
		wl_source_release(&s);
		free(*out);
		return -1;
	}
	wl_source_release(&s);
	return (long)n;
}

static void azure_readers(void **state)
{
	struct wl_arrival *a;
	struct wl_trace_stats st;
	(void)state;
	tu_write("az23.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
			     "2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n"
			     "2023-11-16 18:15:51.0000000,10,1\n");
	assert_int_equal(replay("name: t\ntrace: {path: az23.csv}\n", &a, &st), 3);
	assert_int_equal(a[0].t, 0);
	assert_int_equal(a[1].t, 4314579000LL);
	assert_int_equal(a[0].prompt, 374);
	assert_int_equal(a[1].output, 109);
	assert_int_equal(st.rows, 3);
	free(a);
	tu_write("az24.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
			     "2024-05-10 00:00:00+00:00,100,10\n2024-05-10 00:00:00.009930+00:00,200,20\n"
			     "2024-05-10 00:00:01.5+00:00,300,30\n");
	assert_int_equal(replay("name: t\ntrace: {path: az24.csv, format: azure, time_scale: 2}\n", &a, NULL), 3);
	assert_int_equal(a[1].t, 19860000LL); /* 9.93 ms, twice as slow */
	assert_int_equal(a[2].t, 3000000000LL);
	free(a);
}

static void mooncake_burstgpt_generic(void **state)
{
	struct wl_arrival *a;
	struct wl_trace_stats st;
	(void)state;
	tu_write("mc.jsonl", "{\"timestamp\": 0, \"input_length\": 1200, \"output_length\": 5, \"hash_ids\": [0, 1, 2]}\n"
			     "{\"timestamp\": 1500, \"input_length\": 600, \"output_length\": 9, \"hash_ids\": [0, 7]}\n");
	assert_int_equal(replay("name: t\ntrace: {path: mc.jsonl}\n", &a, NULL), 2);
	assert_int_equal(a[1].t, 1500 * SIM_MS);
	assert_int_equal(a[0].nids, 3);
	assert_int_equal(a[1].nids, 2);
	free(a);
	tu_write("bg.csv", "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type,Session ID,Elapsed time\n"
			   "5,ChatGPT,472,18,490,Conversation log,1,2.0\n"
			   "45,ChatGPT,1087,0,1087,Conversation log,2,1.0\n"
			   "46,GPT-4,417,276,693,Conversation log,3,3.0\n"
			   "47,ChatGPT,417,276,693,API log,4,3.0\n"
			   "58,ChatGPT,10,20,30,Conversation log,5,3.0\n");
	assert_int_equal(replay("name: t\ntrace: {path: bg.csv, model: ChatGPT, log_type: Conversation log}\n", &a, &st), 2);
	assert_int_equal(st.failures, 1); /* zero response tokens: a failure, counted, skipped */
	assert_int_equal(st.filtered, 2);
	assert_int_equal(a[1].t, 53 * SIM_SEC);
	free(a);
	tu_write("g.csv", "when_ms,in,out\n0,5,6\n250,7,8\n");
	assert_int_equal(replay("name: t\ntrace: {path: g.csv, format: csv, columns: {timestamp: when_ms, prompt: in, "
				"output: out, timestamp_unit: ms}}\n", &a, NULL), 2);
	assert_int_equal(a[1].t, 250 * SIM_MS);
	assert_int_equal(a[1].output, 8);
	free(a);
	tu_write("g.jsonl", "{\"t\": \"2024-01-01 00:00:00\", \"p\": 3, \"o\": 4}\n{\"t\": \"2024-01-01 00:00:02\", \"p\": 5, \"o\": 6}\n");
	assert_int_equal(replay("name: t\ntrace: {path: g.jsonl, columns: {timestamp: t, prompt: p, output: o}}\n", &a, NULL), 2);
	assert_int_equal(a[1].t, 2 * SIM_SEC);
	free(a);
}

static void window_scale_loop_caps(void **state)
{
	struct wl_arrival *a;
	struct wl_trace_stats st;
	char text[1 << 16];
	size_t o = 0;
	long n;
	(void)state;
	o += (size_t)sprintf(text, "timestamp,prompt_tokens,output_tokens\n");
	for (int i = 0; i < 1000; i++)
		o += (size_t)sprintf(text + o, "%d,%d,%d\n", i, 100 + i, 1 + i % 50);
	tu_write("lin.csv", text);
	/* window [100 s, 200 s) */
	n = replay("name: t\ntrace: {path: lin.csv, start: 100s, end: 200s}\n", &a, NULL);
	assert_int_equal(n, 100);
	assert_int_equal(a[0].t, 0);
	assert_int_equal(a[0].prompt, 200);
	free(a);
	/* caps */
	n = replay("name: t\ntrace: {path: lin.csv, max_prompt_tokens: 500, max_output_tokens: 10}\n", &a, &st);
	assert_int_equal(n, 1000);
	assert_int_equal(a[999].prompt, 500);
	assert_true(st.capped >= 600);
	free(a);
	/* loop: three passes of the 100-s window within 300 s */
	{
		struct wl_source s;
		struct wl_arrival x;
		long k = 0;
		sim_err_clear(&err);
		assert_int_equal(wl_source_init(&s, W("name: t\ntrace: {path: lin.csv, end: 100s, loop: true}\n"), 1,
						300 * SIM_SEC, 1, &err), 0);
		while (wl_source_next(&s, &x))
			k++;
		assert_int_equal(k, 300);
		wl_source_release(&s);
	}
	/* thinning and superposition keep about rate_scale times the rows */
	n = replay("name: t\ntrace: {path: lin.csv, rate_scale: 0.25}\n", &a, &st);
	assert_true(fabs((double)n - 250) < 3 * sqrt(250 * 0.75));
	assert_int_equal((long)st.thinned + n, 1000);
	free(a);
	n = replay("name: t\ntrace: {path: lin.csv, rate_scale: 2.5}\n", &a, &st);
	assert_true(fabs((double)n - 2500) < 100);
	for (long i = 1; i < n; i++)
		assert_true(a[i].t >= a[i - 1].t); /* still in time order */
	free(a);
}

static void trace_errors(void **state)
{
	struct wl_arrival *a;
	struct wl_trace_stats st;
	(void)state;
	tu_write("broken.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6,374,44\n"
			       "2023-11-16 18:15:47.0,many,44\n2023-11-16 18:15:48.0,1,1\n");
	assert_int_equal(replay("name: t\ntrace: {path: broken.csv}\n", &a, NULL), -1);
	if (!strstr(err.msg, "broken.csv:3: prompt tokens: expected a whole number, got 'many'"))
		fail_msg("%s", err.msg);
	assert_int_equal(replay("name: t\ntrace: {path: broken.csv, on_error: skip}\n", &a, &st), 2);
	assert_int_equal(st.skipped, 1);
	free(a);
	tu_write("back.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\n"
			     "2023-11-16 18:15:45,2,2\n");
	assert_int_equal(replay("name: t\ntrace: {path: back.csv}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "back.csv:3: timestamp goes backwards"));
	assert_int_equal(replay("name: t\ntrace: {path: back.csv, sort: true}\n", &a, NULL), 2);
	assert_int_equal(a[0].prompt, 2);
	free(a);
	tu_write("empty.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
	assert_int_equal(replay("name: t\ntrace: {path: empty.csv}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "empty trace"));
	tu_write("nothing.csv", "");
	assert_int_equal(replay("name: t\ntrace: {path: nothing.csv}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "empty trace"));
	assert_int_equal(replay("name: t\ntrace: {path: back.csv, sort: true, start: 1h}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "no rows inside the trace window"));
	tu_write("badjson.jsonl", "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 5, \"input_length\": [1}\n");
	assert_int_equal(replay("name: t\ntrace: {path: badjson.jsonl}\n", &a, NULL), -1);
	if (!strstr(err.msg, "badjson.jsonl:2:"))
		fail_msg("%s", err.msg);
	tu_write("cols.csv", "a,b\n1,2\n");
	assert_int_equal(replay("name: t\ntrace: {path: cols.csv}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "cols.csv:1:1: no column 'timestamp'"));
	assert_int_equal(replay("name: t\ntrace: {path: missing.csv}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "cannot open"));
	tu_write("bin.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\n\xff\xfe\x01\x02\n");
	assert_int_equal(replay("name: t\ntrace: {path: bin.csv}\n", &a, NULL), -1);
	assert_non_null(strstr(err.msg, "bin.csv:3:"));
}

static int teardown(void **state)
{
	for (size_t i = 0; i < nkept; i++)
		cfg_doc_release(&kept[i]);
	cfg_doc_release(&doc);
	return tu_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(poisson_gamma_deterministic),
		cmocka_unit_test(ramps_steps_and_diurnal_are_exact),
		cmocka_unit_test(onoff_bursts),
		cmocka_unit_test(length_models),
		cmocka_unit_test(lengths_do_not_move_arrivals),
		cmocka_unit_test(datetimes),
		cmocka_unit_test(azure_readers),
		cmocka_unit_test(mooncake_burstgpt_generic),
		cmocka_unit_test(window_scale_loop_caps),
		cmocka_unit_test(trace_errors),
	};
	cfg_doc_init(&doc);
	return cmocka_run_group_tests_name("workload: arrivals, lengths, traces", tests, tu_setup, teardown);
}
