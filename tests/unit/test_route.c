/* sim/route: the gateway (buffer, admission, retries) and the policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "route/route.h"

static struct cfg_doc doc;

struct world {
	struct sim sim;
	struct perf_model pm;
	struct srv_params sp;
	struct srv_replica *r[4];
	struct rt_config cfg;
	struct rt_router rt;
	int gave_up[5];
	int finished;
};

static void gave_up(void *ctx, struct srv_req *q, int status)
{
	struct world *w = ctx;
	(void)q;
	w->gave_up[status]++;
}

static void finished(void *ctx, struct srv_replica *r, struct srv_req *q)
{
	struct world *w = ctx;
	(void)r, (void)q;
	w->finished++;
}

static void world_init(struct world *w, int policy, const char *over)
{
	struct cfg_ctx c;
	struct sim_err err;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"t", 1, 1}};
	struct perf_config pc = {PERF_CONSTANT, NULL, 1.0, 0, 10 * SIM_MS};
	struct rt_hooks rh = {w, gave_up};
	struct srv_hooks sh = {w, NULL, finished};
	memset(w, 0, sizeof(*w));
	sim_err_clear(&err);
	cfg_ctx_init(&c, &doc, &err);
	cfg_defaults(&c, &rt_config_schema, &w->cfg);
	if (over) {
		const struct cfg_node *n = cfg_doc_parse_fragment(&doc, "t", over, &err);
		assert_int_equal(cfg_decode(&c, n, &rt_config_schema, &w->cfg), 0);
	}
	w->cfg.policy = policy;
	assert_int_equal(perf_model_init(&w->pm, perf_find_gpu(&c, &at, "h100-sxm", NULL),
					 perf_find_llm(&c, &at, "llama-3-8b", NULL), 1, PERF_BF16, PERF_BF16, &pc, &err), 0);
	cfg_defaults(&c, &srv_engine_schema, &w->sp.engine);
	w->sp.engine.max_model_len = 8192;
	w->sp.engine.tensor_parallel_size = 1;
	w->sp.perf = &w->pm;
	w->sp.num_blocks = 1000;
	sim_init(&w->sim, 1);
	for (int i = 0; i < 4; i++)
		w->r[i] = srv_new(&w->sim, &w->sp, i, &sh);
	rt_router_init(&w->rt, &w->sim, &w->cfg, "d", 1, &rh, &err);
}

static void world_release(struct world *w)
{
	rt_router_release(&w->rt);
	for (int i = 0; i < 4; i++)
		srv_free(w->r[i]);
	sim_release(&w->sim);
	perf_model_release(&w->pm);
}

static struct srv_req *req(int64_t id, int64_t prompt)
{
	static struct srv_req pool[256];
	struct srv_req *q = &pool[id];
	memset(q, 0, sizeof(*q));
	q->id = id;
	q->prompt = prompt;
	q->output = 5;
	q->first_scheduled = q->first_token = q->finish = -1;
	return q;
}

static void buffer_until_ready_then_timeout(void **state)
{
	struct world w;
	(void)state;
	world_init(&w, RT_ROUND_ROBIN, "{buffer: {capacity: 2, timeout: 10s}}");
	rt_submit(&w.rt, req(0, 10));
	rt_submit(&w.rt, req(1, 10));
	rt_submit(&w.rt, req(2, 10)); /* the buffer holds two */
	assert_int_equal(w.gave_up[SRV_DROPPED], 1);
	assert_int_equal(rt_buffered(&w.rt), 2);
	sim_run(&w.sim, 5 * SIM_SEC);
	rt_endpoint_up(&w.rt, w.r[0], 1.0); /* an endpoint: both go, in order */
	assert_int_equal(rt_buffered(&w.rt), 0);
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_int_equal(w.finished, 2);
	/* nothing ready again: a buffered request times out */
	rt_endpoint_down(&w.rt, w.r[0]);
	rt_submit(&w.rt, req(3, 10));
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_int_equal(w.gave_up[SRV_FAILED], 1);
	assert_int_equal(w.rt.timed_out, 1);
	world_release(&w);
}

static void admission_limit_and_rejection(void **state)
{
	struct world w;
	(void)state;
	world_init(&w, RT_ROUND_ROBIN, "{max_queue: 2}");
	rt_endpoint_up(&w.rt, w.r[0], 1.0);
	/* at one instant nothing has been scheduled yet: both wait at the replica */
	rt_submit(&w.rt, req(0, 10));
	rt_submit(&w.rt, req(1, 10));
	rt_submit(&w.rt, req(2, 10)); /* two waiting already: dropped */
	assert_int_equal(w.gave_up[SRV_DROPPED], 1);
	sim_run(&w.sim, 5 * SIM_MS); /* both are scheduled now */
	rt_submit(&w.rt, req(3, 9000)); /* longer than max_model_len */
	assert_int_equal(w.gave_up[SRV_REJECTED], 1);
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_int_equal(w.finished, 2);
	world_release(&w);
}

static void retries_run_out(void **state)
{
	struct world w;
	struct srv_req *q;
	(void)state;
	world_init(&w, RT_ROUND_ROBIN, "{max_retries: 2}");
	rt_endpoint_up(&w.rt, w.r[0], 1.0);
	q = req(0, 10);
	rt_retry(&w.rt, q);
	rt_retry(&w.rt, q);
	assert_int_equal(q->retries, 2);
	assert_int_equal(w.gave_up[SRV_FAILED], 0);
	rt_retry(&w.rt, q); /* the third retry is one too many */
	assert_int_equal(w.gave_up[SRV_FAILED], 1);
	assert_int_equal(w.rt.retries_exhausted, 1);
	world_release(&w);
}

static void count_cb(void *ctx, struct srv_req *q)
{
	int *n = ctx;
	assert_int_equal(q->id, *n); /* arrival order */
	(*n)++;
}

static void abort_order_and_blocks(void **state)
{
	struct world w;
	int n = 0;
	struct srv_stats st;
	(void)state;
	world_init(&w, RT_ROUND_ROBIN, NULL);
	for (int i = 0; i < 3; i++) {
		struct srv_req *q = req(i, 100);
		q->arrival = i;
		assert_true(srv_submit(w.r[1], q));
	}
	sim_run(&w.sim, 25 * SIM_MS);
	srv_abort_all(w.r[1], count_cb, &n);
	assert_int_equal(n, 3);
	srv_stats(w.r[1], &st);
	assert_int_equal(st.kv_blocks_used, 0);
	assert_int_equal(srv_inflight(w.r[1]), 0);
	assert_true(srv_check(w.r[1]));
	sim_run(&w.sim, SIM_TIME_MAX); /* nothing left to run, nothing fires */
	assert_int_equal(w.finished, 0);
	world_release(&w);
}

static void cancel_at_step_end(void **state)
{
	struct world w;
	struct srv_req *a = req(0, 50), *b = req(1, 50);
	(void)state;
	world_init(&w, RT_ROUND_ROBIN, NULL);
	assert_true(srv_submit(w.r[2], a));
	assert_true(srv_submit(w.r[2], b));
	sim_run(&w.sim, 15 * SIM_MS); /* both run */
	srv_cancel(w.r[2], a);
	assert_int_equal(srv_inflight(w.r[2]), 2); /* until the step ends */
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_int_equal(w.finished, 1); /* only b reports */
	assert_true(b->finish > 0);
	assert_true(srv_check(w.r[2]));
	world_release(&w);
}

static void affinity_is_sticky_and_bounded(void **state)
{
	struct world w;
	uint64_t ids[4] = {7, 8, 9, 10};
	size_t first;
	(void)state;
	world_init(&w, RT_PREFIX_AFFINITY, "{affinity_blocks: 2, affinity_load_factor: 1.5}");
	for (int i = 0; i < 4; i++)
		rt_endpoint_up(&w.rt, w.r[i], 1.0);
	{
		struct srv_req *q = req(0, 10);
		q->hashes = ids;
		q->nids = 4;
		first = rt_policies[RT_PREFIX_AFFINITY]->pick(&w.rt, q);
		for (int k = 1; k < 10; k++) { /* same prefix, same replica (while it is not loaded) */
			struct srv_req *x = req(k, 10);
			x->hashes = ids;
			x->nids = 4;
			assert_int_equal(rt_policies[RT_PREFIX_AFFINITY]->pick(&w.rt, x), first);
		}
	}
	/* load the chosen replica far above the mean: the next goes elsewhere */
	for (int k = 20; k < 30; k++)
		assert_true(srv_submit(w.rt.eps[first], req(k, 10)));
	{
		struct srv_req *x = req(40, 10);
		x->hashes = ids;
		x->nids = 4;
		assert_true(rt_policies[RT_PREFIX_AFFINITY]->pick(&w.rt, x) != first);
	}
	world_release(&w);
}

static void weighted_round_robin(void **state)
{
	struct world w;
	int count[2] = {0, 0};
	(void)state;
	world_init(&w, RT_ROUND_ROBIN, NULL);
	rt_endpoint_up(&w.rt, w.r[0], 3.0);
	rt_endpoint_up(&w.rt, w.r[1], 1.0);
	for (int k = 0; k < 40; k++)
		count[rt_policies[RT_ROUND_ROBIN]->pick(&w.rt, req(k, 10))]++;
	assert_int_equal(count[0], 30); /* three to one, exactly */
	assert_int_equal(count[1], 10);
	world_release(&w);
}

static int teardown(void **state)
{
	(void)state;
	cfg_doc_release(&doc);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buffer_until_ready_then_timeout),
		cmocka_unit_test(admission_limit_and_rejection),
		cmocka_unit_test(retries_run_out),
		cmocka_unit_test(abort_order_and_blocks),
		cmocka_unit_test(cancel_at_step_end),
		cmocka_unit_test(affinity_is_sticky_and_bounded),
		cmocka_unit_test(weighted_round_robin),
	};
	cfg_doc_init(&doc);
	return cmocka_run_group_tests_name("route: gateway and policies", tests, NULL, teardown);
}
