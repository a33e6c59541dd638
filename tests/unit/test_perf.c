/* sim/perf: catalog, roofline step times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "perf/perf.h"
#include "testutil.h"

static struct cfg_doc doc;
static struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"test", 1, 1}};

static const struct perf_gpu *G(const char *n)
{
	struct sim_err e;
	struct cfg_ctx c;
	const struct perf_gpu *g;
	sim_err_clear(&e);
	cfg_ctx_init(&c, &doc, &e);
	g = perf_find_gpu(&c, &at, n, NULL);
	if (!g)
		fail_msg("%s", e.msg);
	return g;
}

static const struct perf_llm *M(const char *n)
{
	struct sim_err e;
	struct cfg_ctx c;
	const struct perf_llm *l;
	sim_err_clear(&e);
	cfg_ctx_init(&c, &doc, &e);
	l = perf_find_llm(&c, &at, n, NULL);
	if (!l)
		fail_msg("%s", e.msg);
	return l;
}

static double step_ms(const char *gpu, const char *llm, int tp, int dtype, const struct perf_batch *b,
		      struct perf_breakdown *bd)
{
	struct perf_model m;
	struct sim_err e;
	double t;
	sim_err_clear(&e);
	if (perf_model_init(&m, G(gpu), M(llm), tp, dtype, dtype, NULL, &e))
		fail_msg("%s", e.msg);
	t = sim_time_to_s(perf_step_time(&m, b, bd)) * 1e3;
	perf_model_release(&m);
	return t;
}

static struct perf_batch prefill(int64_t tokens, int64_t batch)
{
	struct perf_batch b = {0};
	b.prefill_tokens = tokens * batch;
	b.prefill_pairs = (double)batch * (double)tokens * ((double)tokens + 1) / 2;
	b.prefills = batch;
	b.logits = batch;
	return b;
}

static struct perf_batch decode(int64_t batch, int64_t ctx)
{
	struct perf_batch b = {0};
	b.decodes = batch;
	b.decode_ctx = batch * ctx;
	b.logits = batch;
	return b;
}

static void every_catalog_entry_loads(void **state)
{
	const char *names[64];
	size_t n;
	(void)state;
	n = perf_catalog_names("gpus", names, 64);
	assert_int_equal(n, 11);
	for (size_t i = 0; i < n; i++) {
		const struct perf_gpu *g = G(names[i]);
		assert_string_equal(g->name, names[i]);
		assert_true(g->has_calibration);
		assert_true(g->price_per_hour > 0);
		assert_non_null(g->source);
	}
	n = perf_catalog_names("llms", names, 64);
	assert_true(n >= 13);
	for (size_t i = 0; i < n; i++) {
		const struct perf_llm *l = M(names[i]);
		assert_string_equal(l->name, names[i]);
		/* shape-derived parameter count within 10% of the published one (dense models) */
		if (!l->experts && l->params_b > 0) {
			struct perf_llm x = *l;
			double pub = l->params_b * 1e9;
			x.params_b = 0;
			if (fabs(perf_llm_params(&x) / pub - 1) > 0.1)
				fail_msg("%s: %g params from the shape vs %g published", l->name, perf_llm_params(&x), pub);
		}
	}
	assert_true(G("h100-sxm")->memory == 81559LL * 1048576);
	assert_true(G("h100-sxm")->memory_bandwidth == 3.35e12);
	assert_int_equal(M("llama-3-8b")->kv_heads, 8);
}

static void unknown_names_suggest(void **state)
{
	struct sim_err e;
	struct cfg_ctx c;
	(void)state;
	sim_err_clear(&e);
	cfg_ctx_init(&c, &doc, &e);
	assert_null(perf_find_gpu(&c, &at, "h100-sx", NULL));
	assert_non_null(strstr(e.msg, "unknown GPU 'h100-sx' (did you mean 'h100-sxm'?)"));
	sim_err_clear(&e);
	assert_null(perf_find_llm(&c, &at, "gpt-5", NULL));
	assert_non_null(strstr(e.msg, "unknown model 'gpt-5'"));
	sim_err_clear(&e);
	assert_null(perf_find_llm(&c, &at, "missing/model.yaml", NULL));
	assert_non_null(strstr(e.msg, "cannot open"));
}

static void kv_bytes(void **state)
{
	(void)state;
	/* llama-3-8b: 2 x 32 layers x 8 kv heads x 128 x 2 bytes = 131072 per token */
	assert_true(perf_kv_bytes_per_token(M("llama-3-8b"), PERF_FP16, 1) == 131072.0);
	assert_true(perf_kv_bytes_per_token(M("llama-2-70b"), PERF_FP16, 2) == 327680.0 / 2);
	assert_true(perf_kv_bytes_per_token(M("llama-3-8b"), PERF_FP8, 1) == 65536.0);
	/* deepseek-v3 MLA: 61 x (512 + 64) x 2 */
	assert_true(perf_kv_bytes_per_token(M("deepseek-v3"), PERF_BF16, 8) == 61.0 * 576 * 2);
}

static void step_time_grows_with_work(void **state)
{
	double last = 0;
	(void)state;
	for (int64_t t = 64; t <= 8192; t *= 2) {
		struct perf_batch b = prefill(t, 1);
		double ms = step_ms("a100-80g", "llama-2-70b", 4, PERF_FP16, &b, NULL);
		assert_true(ms > last);
		last = ms;
	}
	last = 0;
	for (int64_t bs = 1; bs <= 256; bs *= 2) {
		struct perf_batch b = decode(bs, 1000);
		double ms = step_ms("a100-80g", "llama-2-70b", 4, PERF_FP16, &b, NULL);
		assert_true(ms > last);
		last = ms;
	}
	{ /* decode is memory-bound: batch 1 and 8 cost nearly the same */
		struct perf_batch b1 = decode(1, 500), b8 = decode(8, 500);
		double t1 = step_ms("h100-sxm", "llama-3-8b", 1, PERF_FP16, &b1, NULL);
		double t8 = step_ms("h100-sxm", "llama-3-8b", 1, PERF_FP16, &b8, NULL);
		assert_true(t8 < 1.5 * t1);
	}
}

static void parallelism_hardware_and_dtype(void **state)
{
	struct perf_batch b = prefill(4096, 1);
	double tp2 = step_ms("a100-80g", "llama-2-70b", 2, PERF_FP16, &b, NULL);
	double tp8 = step_ms("a100-80g", "llama-2-70b", 8, PERF_FP16, &b, NULL);
	double h = step_ms("h100-sxm", "llama-2-70b", 2, PERF_FP16, &b, NULL);
	double f8 = step_ms("h100-sxm", "llama-2-70b", 2, PERF_FP8, &b, NULL);
	(void)state;
	assert_true(tp8 < tp2 / 2.5); /* compute-bound prefill splits across GPUs */
	assert_true(h < tp2);           /* H100 beats A100 */
	assert_true(f8 < h * 0.75);     /* FP8 doubles the tensor peak */
}

static void breakdown_adds_up_and_measured_anchor(void **state)
{
	struct perf_breakdown bd;
	struct perf_batch b = decode(1, 576);
	double ms = step_ms("a100-80g", "llama-2-70b", 4, PERF_FP16, &b, &bd);
	(void)state;
	assert_true(fabs(bd.total * 1e3 - ms) < 1e-3);
	assert_true(fabs(bd.linear + bd.attention + bd.elementwise + bd.allreduce + bd.lm_head + bd.overhead - bd.total) < 1e-12);
	/* Splitwise measured 44.5 ms for this decode step (llama2-70b, A100, TP4) */
	assert_true(ms > 44.5 * 0.8 && ms < 44.5 * 1.2);
	b = prefill(2048, 1); /* measured 403 ms */
	ms = step_ms("a100-80g", "llama-2-70b", 4, PERF_FP16, &b, NULL);
	assert_true(ms > 403 * 0.6 && ms < 403 * 1.4);
}

static void moe_reads_only_touched_experts(void **state)
{
	struct perf_batch one = decode(1, 100), many = decode(256, 100);
	struct perf_breakdown b1, b2;
	(void)state;
	step_ms("h100-sxm", "mixtral-8x7b", 2, PERF_BF16, &one, &b1);
	step_ms("h100-sxm", "mixtral-8x7b", 2, PERF_BF16, &many, &b2);
	/* one token touches 2 of 8 experts; 256 touch nearly all */
	assert_true(b2.linear > 2.5 * b1.linear);
}

static void bad_parallelism_is_an_error(void **state)
{
	struct perf_model m;
	struct sim_err e;
	(void)state;
	sim_err_clear(&e);
	assert_int_equal(perf_model_init(&m, G("a100-80g"), M("llama-2-70b"), 3, PERF_FP16, PERF_FP16, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "does not divide"));
}

/* A Vidur-format mlp.csv for llama-3-8b at TP 1 and 2, where every operator
 * takes `tokens` microseconds at TP 1 (so a layer takes 10 x tokens us). */
static void write_tables(const char *dir_name, bool attention, const char *broken)
{
	static const char *const ops[] = {"emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj",
					  "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"};
	char name[128], *text = calloc(1, 1 << 16);
	size_t o = 0;
	mkdir(tu_path(dir_name), 0700);
	for (size_t i = 0; i < 10; i++)
		for (const char *st = "min\0max\0mean\0median\0std\0"; *st; st += strlen(st) + 1)
			o += (size_t)sprintf(text + o, "time_stats.%s.%s,", ops[i], st);
	o += (size_t)sprintf(text + o, "n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers\n");
	for (int tp = 1; tp <= 2; tp++)
		for (int tok = 100; tok <= 400; tok += 100) {
			for (size_t i = 0; i < 10; i++)
				for (int k = 0; k < 5; k++)
					o += (size_t)sprintf(text + o, "%g,", (k == 4 ? 0.0 : tok / 1000.0) / tp);
			o += (size_t)sprintf(text + o, "32,8,4096,14336,128256,True,%d,%d\n", tok, tp);
		}
	if (broken)
		o += (size_t)sprintf(text + o, "%s\n", broken);
	snprintf(name, sizeof(name), "%s/mlp.csv", dir_name);
	tu_write(name, text);
	if (attention) {
		snprintf(name, sizeof(name), "%s/attention.csv", dir_name);
		tu_write(name, "time_stats.attn_prefill.median,time_stats.attn_decode.median,time_stats.attn_kv_cache_save.median,"
			       "n_embd,n_q_head,n_kv_head,block_size,num_tensor_parallel_workers,max_model_len,batch_size,"
			       "prefill_chunk_size,kv_cache_size,is_prefill,attention_backend\n"
			       "1.0,0,0,4096,32,8,16,1,16384,1,100,0,True,X\n"
			       "0,0.5,0,4096,32,8,16,1,16384,10,0,1000,False,X\n"
			       "0,1.5,0,4096,32,8,16,1,16384,10,0,3000,False,X\n");
	}
	free(text);
}

static double profile_step(const char *dir_name, int tp, struct perf_batch *b, struct perf_breakdown *bd,
			   struct sim_err *e)
{
	struct perf_model m;
	double t = -1;
	sim_err_clear(e);
	assert_int_equal(perf_model_init(&m, G("h100-sxm"), M("llama-3-8b"), tp, PERF_BF16, PERF_BF16, NULL, e), 0);
	if (perf_profile_load(&m, tu_path(dir_name), e) == 0)
		t = sim_time_to_s(perf_step_time(&m, b, bd));
	perf_model_release(&m);
	return t;
}

static void profile_tables_interpolate(void **state)
{
	struct perf_batch b = prefill(250, 1);
	struct perf_breakdown bd;
	struct sim_err e;
	(void)state;
	write_tables("prof", false, NULL);
	/* 250 tokens: between the 200 and 300 rows, 10 ops (add twice) x 0.25 ms */
	profile_step("prof", 1, &b, &bd, &e);
	assert_int_equal(e.kind, SIM_OK);
	assert_true(fabs(bd.linear - 32 * 10 * 0.25e-3) < 1e-9);
	assert_true(bd.elementwise == 0); /* inside the table's operators */
	/* TP 2 rows are half as long */
	profile_step("prof", 2, &b, &bd, &e);
	assert_true(fabs(bd.linear - 32 * 10 * 0.125e-3) < 1e-9);
	/* beyond the table: the last slope, 0.01 ms per token per layer */
	b = prefill(600, 1);
	profile_step("prof", 1, &b, &bd, &e);
	assert_true(fabs(bd.linear - 32 * 10 * 0.6e-3) < 1e-9);
	/* attention from attention.csv when it is there */
	write_tables("prof2", true, NULL);
	b = decode(10, 2000);
	profile_step("prof2", 1, &b, &bd, &e);
	assert_true(fabs(bd.attention - 32 * 1.0e-3) < 1e-9); /* halfway between 0.5 and 1.5 ms */
}

static void profile_errors(void **state)
{
	struct perf_batch b = prefill(100, 1);
	struct perf_breakdown bd;
	struct sim_err e;
	(void)state;
	write_tables("bad", false, "0.1,0.1,zero");
	assert_true(profile_step("bad", 1, &b, &bd, &e) < 0);
	if (!strstr(e.msg, "bad/mlp.csv:10: expected 58 fields, found 3"))
		fail_msg("%s", e.msg);
	write_tables("bad2", false, "0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,zero,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,32,8,4096,14336,128256,True,100,1");
	assert_true(profile_step("bad2", 1, &b, &bd, &e) < 0);
	if (!strstr(e.msg, "bad2/mlp.csv:10: column 'time_stats.input_layernorm.median'"))
		fail_msg("%s", e.msg);
	write_tables("tp", false, NULL);
	assert_true(profile_step("tp", 4, &b, &bd, &e) < 0);
	assert_non_null(strstr(e.msg, "no rows for llama-3-8b at TP 4"));
	tu_write("hdr.csv", "num_tokens,n_embd\n1,2\n");
	{
		struct perf_model m;
		sim_err_clear(&e);
		assert_int_equal(perf_model_init(&m, G("h100-sxm"), M("llama-3-8b"), 1, PERF_BF16, PERF_BF16, NULL, &e), 0);
		assert_int_equal(perf_profile_load(&m, tu_path("hdr.csv"), &e), -1);
		assert_non_null(strstr(e.msg, "hdr.csv:1: missing column"));
		perf_model_release(&m);
	}
}

static int teardown(void **state)
{
	cfg_doc_release(&doc);
	return tu_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_catalog_entry_loads),
		cmocka_unit_test(unknown_names_suggest),
		cmocka_unit_test(kv_bytes),
		cmocka_unit_test(step_time_grows_with_work),
		cmocka_unit_test(parallelism_hardware_and_dtype),
		cmocka_unit_test(breakdown_adds_up_and_measured_anchor),
		cmocka_unit_test(moe_reads_only_touched_experts),
		cmocka_unit_test(bad_parallelism_is_an_error),
		cmocka_unit_test(profile_tables_interpolate),
		cmocka_unit_test(profile_errors),
	};
	cfg_doc_init(&doc);
	return cmocka_run_group_tests_name("perf: catalog, roofline, profiles", tests, tu_setup, teardown);
}
