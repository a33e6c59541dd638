/* `servesim perf`: the time of one engine step, from the perf model. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int num_opt(const char *name, const char *v, long lo, long hi, long *out)
{
	char *end;
	long x;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < lo || x > hi) {
		fprintf(stderr, "servesim perf: --%s: expected a whole number from %ld to %ld, got '%s'\n",
			name, lo, hi, v);
		return -1;
	}
	*out = x;
	return 0;
}

static void json_breakdown(struct rep_json *j, const struct perf_breakdown *bd)
{
	const struct { const char *k; double v; } parts[] = {
		{"linear", bd->linear}, {"attention", bd->attention}, {"elementwise", bd->elementwise},
		{"allreduce", bd->allreduce}, {"lm_head", bd->lm_head}, {"overhead", bd->overhead}};
	rep_json_key(j, "breakdown_ms");
	rep_json_begin_object(j);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		rep_json_key(j, parts[i].k);
		rep_json_double(j, parts[i].v * 1e3);
	}
	rep_json_end_object(j);
}

int cmd_perf(int argc, char **argv)
{
	static const char *const dtypes[] = {"float16", "bfloat16", "fp8", NULL};
	struct cli_opts o;
	struct cfg_doc doc;
	struct cfg_ctx c;
	struct sim_err err;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"<command line>", 0, 0}};
	const struct perf_gpu *gpu;
	const struct perf_llm *llm;
	struct perf_model m;
	struct perf_batch b;
	struct perf_breakdown bd;
	struct perf_config pc = {PERF_ROOFLINE, NULL, 1.0, 0, 0};
	long tp = 1, batch = 1, prefill = 0, dbatch = 0, ctx = 0;
	int dtype = PERF_FP16, rc;
	sim_time t;

	if ((rc = cli_parse(argc, argv, "perf",
			    "gpu model tp dtype prefill batch decode-batch context json profile", &o)))
		return rc;
	if (o.scenario) {
		fprintf(stderr, "servesim perf: unexpected argument '%s' (see 'servesim help perf')\n", o.scenario);
		return 2;
	}
	if (!o.gpu || !o.model) {
		fprintf(stderr, "servesim perf: --gpu and --model are required (see 'servesim help perf')\n");
		return 2;
	}
	if ((o.tp && num_opt("tp", o.tp, 1, 64, &tp)) ||
	    (o.batch && num_opt("batch", o.batch, 1, 1 << 20, &batch)) ||
	    (o.prefill && num_opt("prefill", o.prefill, 1, 1 << 24, &prefill)) ||
	    (o.decode_batch && num_opt("decode-batch", o.decode_batch, 1, 1 << 20, &dbatch)) ||
	    (o.context && num_opt("context", o.context, 0, 1 << 24, &ctx)))
		return 2;
	if (!!o.prefill == !!o.decode_batch) {
		fprintf(stderr, "servesim perf: give either --prefill TOKENS [--batch B] or --decode-batch B --context C\n");
		return 2;
	}
	if (o.decode_batch && !o.context) {
		fprintf(stderr, "servesim perf: --decode-batch needs --context C (tokens of context per sequence)\n");
		return 2;
	}
	if (o.prefill && o.context) {
		fprintf(stderr, "servesim perf: --context applies to --decode-batch only\n");
		return 2;
	}
	if (o.dtype) {
		for (dtype = 0; dtypes[dtype] && strcmp(dtypes[dtype], o.dtype); dtype++)
			;
		if (!dtypes[dtype]) {
			if (!strcmp(o.dtype, "fp16"))
				dtype = PERF_FP16;
			else if (!strcmp(o.dtype, "bf16"))
				dtype = PERF_BF16;
			else {
				fprintf(stderr, "servesim perf: --dtype: expected fp16, bf16 or fp8, got '%s'\n", o.dtype);
				return 2;
			}
		}
	}
	cfg_doc_init(&doc);
	sim_err_clear(&err);
	cfg_ctx_init(&c, &doc, &err);
	rc = 0;
	if (!(gpu = perf_find_gpu(&c, &at, o.gpu, NULL)) || !(llm = perf_find_llm(&c, &at, o.model, NULL))) {
		fprintf(stderr, "servesim perf: %s\n", err.msg + (strncmp(err.msg, "<command line>: ", 16) ? 0 : 16));
		rc = 2;
		goto out;
	}
	if (o.profile) {
		pc.model = PERF_PROFILE;
		pc.path = o.profile;
	}
	if (perf_model_init(&m, gpu, llm, (int)tp, dtype, dtype, &pc, &err) ||
	    (o.profile && perf_profile_load(&m, o.profile, &err))) {
		fprintf(stderr, "servesim perf: %s\n", err.msg);
		rc = sim_err_exit_code(&err);
		goto out;
	}
	memset(&b, 0, sizeof(b));
	if (o.prefill) {
		b.prefill_tokens = prefill * batch;
		b.prefill_pairs = (double)batch * (double)prefill * ((double)prefill + 1.0) / 2.0;
		b.prefills = batch;
		b.logits = batch;
	} else {
		b.decodes = dbatch;
		b.decode_ctx = dbatch * ctx;
		b.logits = dbatch;
	}
	t = perf_step_time(&m, &b, &bd);
	if (o.json) {
		struct rep_json j;
		rep_json_init(&j);
		rep_json_begin_object(&j);
		rep_json_key(&j, "gpu");
		rep_json_str(&j, gpu->name);
		rep_json_key(&j, "model");
		rep_json_str(&j, llm->name);
		rep_json_key(&j, "tp");
		rep_json_int(&j, tp);
		rep_json_key(&j, "dtype");
		rep_json_str(&j, dtypes[dtype]);
		rep_json_key(&j, "phase");
		rep_json_str(&j, o.prefill ? "prefill" : "decode");
		rep_json_key(&j, "batch");
		rep_json_int(&j, o.prefill ? batch : dbatch);
		rep_json_key(&j, o.prefill ? "prefill_tokens" : "context");
		rep_json_int(&j, o.prefill ? prefill : ctx);
		rep_json_key(&j, "perf_model");
		rep_json_str(&j, m.profile ? "profile" : "roofline");
		rep_json_key(&j, "step_ms");
		rep_json_double(&j, sim_time_to_s(t) * 1e3);
		json_breakdown(&j, &bd);
		rep_json_end_object(&j);
		fputs(j.buf, stdout);
		rep_json_release(&j);
	} else {
		printf("%s on %s, tp %ld, %s: %s %ld x %ld tokens%s\n", llm->name, gpu->name, tp, dtypes[dtype],
		       o.prefill ? "prefill" : "decode", o.prefill ? batch : dbatch, o.prefill ? prefill : ctx,
		       o.prefill ? "" : " of context");
		printf("  step       %10.3f ms\n", sim_time_to_s(t) * 1e3);
		printf("  linear     %10.3f ms\n  attention  %10.3f ms\n  elementwise%10.3f ms\n"
		       "  allreduce  %10.3f ms\n  lm_head    %10.3f ms\n  overhead   %10.3f ms\n",
		       bd.linear * 1e3, bd.attention * 1e3, bd.elementwise * 1e3, bd.allreduce * 1e3,
		       bd.lm_head * 1e3, bd.overhead * 1e3);
	}
	perf_model_release(&m);
out:
	cfg_doc_release(&doc);
	cli_opts_release(&o);
	return rc;
}
