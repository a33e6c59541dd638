/* sim/disagg: KV hand-off times against hand arithmetic, NIC sharing,
 * waiting for decode blocks, and a decode replica lost mid-transfer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "disagg/disagg.h"

static struct cfg_doc doc;

/* Replica 0 prefills; replicas 1 and 2 decode behind one router. Llama-3-8B
 * in bf16 takes 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 128 KiB
 * of KV per token. */
struct world {
	struct sim sim;
	struct perf_model pm;
	struct srv_params sp;
	struct srv_replica *r[3];
	int32_t node[3];   /* node of each replica */
	bool ready[3];
	struct rt_config rc;
	struct rt_router rt;
	struct clu_deployment_config dc;
	struct dg_config kv;
	struct clu_dep_setup ds;
	const struct perf_gpu *gpus[1];
	struct dg_net net;
	sim_time arrived_at[8];
	int32_t arrived_on[8];
	int narrived;
};

static void arrived(void *ctx, struct dg_transfer *t)
{
	struct world *w = ctx;
	w->arrived_at[t->q->id] = t->end;
	w->arrived_on[t->q->id] = t->decode_rep;
	w->narrived++;
}

static int32_t node_of(void *ctx, int32_t replica)
{
	return ((struct world *)ctx)->node[replica];
}

static bool serving(void *ctx, int32_t replica, const struct srv_replica *rep, bool *alive)
{
	struct world *w = ctx;
	*alive = w->r[replica] == rep;
	return *alive && w->ready[replica];
}

static void gave_up(void *ctx, struct srv_req *q, int status)
{
	(void)ctx, (void)q, (void)status;
}

static void world_init(struct world *w, int64_t decode_blocks)
{
	struct cfg_ctx c;
	struct sim_err err;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"t", 1, 1}};
	struct perf_config pc = {PERF_CONSTANT, NULL, 1.0, 0, 10 * SIM_MS};
	struct rt_hooks rh = {w, gave_up};
	struct dg_hooks dh = {w, arrived, node_of, serving};
	memset(w, 0, sizeof(*w));
	sim_err_clear(&err);
	cfg_ctx_init(&c, &doc, &err);
	cfg_defaults(&c, &rt_config_schema, &w->rc);
	w->rc.policy = RT_LEAST_KV;
	assert_int_equal(perf_model_init(&w->pm, perf_find_gpu(&c, &at, "h100-sxm", NULL),
					 perf_find_llm(&c, &at, "llama-3-8b", NULL), 1, PERF_BF16, PERF_BF16, &pc, &err), 0);
	cfg_defaults(&c, &srv_engine_schema, &w->sp.engine);
	w->sp.engine.max_model_len = 8192;
	w->sp.engine.tensor_parallel_size = 1;
	w->sp.perf = &w->pm;
	sim_init(&w->sim, 1);
	for (int i = 0; i < 3; i++) {
		w->sp.num_blocks = i ? decode_blocks : 1000;
		w->r[i] = srv_new(&w->sim, &w->sp, i, NULL);
		w->node[i] = i; /* one node each */
		w->ready[i] = true;
	}
	rt_router_init(&w->rt, &w->sim, &w->rc, "decode", 1, &rh, &err);
	rt_endpoint_up(&w->rt, w->r[1], 1.0);
	rt_endpoint_up(&w->rt, w->r[2], 1.0);
	w->kv.network = DG_NET_RDMA; /* 400 Gb/s = 50 GB/s, 10 us */
	w->gpus[0] = w->pm.gpu;
	w->ds.cfg = &w->dc;
	w->ds.llm = w->pm.llm;
	w->ds.gpus = w->gpus;
	dg_init(&w->net, &w->sim, &w->ds, &w->kv, &dh);
}

static void world_release(struct world *w)
{
	dg_release(&w->net);
	rt_router_release(&w->rt);
	for (int i = 0; i < 3; i++)
		srv_free(w->r[i]);
	sim_release(&w->sim);
	perf_model_release(&w->pm);
}

/* A request whose prefill just ended on replica 0. */
static void prefilled(struct srv_req *q, struct dg_transfer *t, int64_t id, int64_t prompt)
{
	srv_req_init(q);
	q->id = id;
	q->prompt = prompt;
	q->output = 1;
	q->replica = 0;
	q->first_scheduled = 0;
	dg_transfer_init(t, q);
}

static void one_transfer_over_the_nic(void **state)
{
	struct world w;
	struct srv_req q;
	struct dg_transfer t;
	(void)state;
	world_init(&w, 1000);
	assert_true(fabs(perf_kv_bytes_per_token(w.pm.llm, PERF_BF16, 1) - 131072.0) < 1e-9);
	prefilled(&q, &t, 0, 1000);
	dg_handoff(&w.net, &t, &w.rt);
	sim_run(&w.sim, SIM_TIME_MAX);
	/* 1000 x 128 KiB at 50 GB/s = 2.62144 ms, plus 10 us of latency */
	assert_int_equal(w.narrived, 1);
	assert_int_equal(w.arrived_at[0], 2631440);
	assert_int_equal(w.net.transfers, 1);
	assert_true(fabs(w.net.bytes - 131072000.0) < 1e-6);
	assert_int_equal(w.net.waits, 0);
	world_release(&w);
}

static void two_transfers_share_the_nic(void **state)
{
	struct world w;
	struct srv_req q[2];
	struct dg_transfer t[2];
	(void)state;
	world_init(&w, 1000);
	for (int i = 0; i < 2; i++) {
		prefilled(&q[i], &t[i], i, 1000);
		dg_handoff(&w.net, &t[i], &w.rt);
	}
	sim_run(&w.sim, SIM_TIME_MAX);
	/* each at half of 50 GB/s: 5.24288 ms, plus 10 us */
	assert_int_equal(w.narrived, 2);
	assert_int_equal(w.arrived_at[0], 5252880);
	assert_int_equal(w.arrived_at[1], 5252880);
	assert_int_not_equal(w.arrived_on[0], w.arrived_on[1]); /* least-kv spreads them */
	world_release(&w);
}

static void same_node_goes_over_nvlink(void **state)
{
	struct world w;
	struct srv_req q;
	struct dg_transfer t;
	(void)state;
	world_init(&w, 1000);
	w.node[1] = w.node[2] = 0; /* both decode replicas share the prefill's node */
	prefilled(&q, &t, 0, 1000);
	dg_handoff(&w.net, &t, &w.rt);
	sim_run(&w.sim, SIM_TIME_MAX);
	/* 131.072 MB at the H100's 450 GB/s NVLink, plus 2 us */
	assert_int_equal(w.arrived_at[0], (sim_time)ceil(131072000.0 / 450e9 * 1e9) + 2 * SIM_US);
	assert_int_equal(t.nic, -1);
	world_release(&w);
}

static void waits_for_decode_blocks(void **state)
{
	struct world w;
	struct srv_req q[2];
	struct dg_transfer t[2];
	(void)state;
	world_init(&w, 70); /* 70 blocks of 16 tokens: one 1000-token prompt per replica */
	w.ready[2] = false;
	rt_endpoint_down(&w.rt, w.r[2]);
	prefilled(&q[0], &t[0], 0, 1000);
	prefilled(&q[1], &t[1], 1, 1000);
	dg_handoff(&w.net, &t[0], &w.rt);
	dg_handoff(&w.net, &t[1], &w.rt); /* no room: asks again every 10 ms */
	sim_run(&w.sim, 25 * SIM_MS);
	assert_int_equal(w.narrived, 1);
	assert_int_equal(w.net.waits, 1);
	srv_unreserve(w.r[1], 1001); /* the first one's blocks come free */
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_int_equal(w.narrived, 2);
	assert_int_equal(w.net.waits, 1); /* counted once per request */
	/* reserved at the 30 ms retry, then 2.63144 ms on the wire */
	assert_int_equal(w.arrived_at[1], 30 * SIM_MS + 2631440);
	world_release(&w);
}

static void decode_lost_mid_transfer(void **state)
{
	struct world w;
	struct srv_req q;
	struct dg_transfer t;
	(void)state;
	world_init(&w, 1000);
	prefilled(&q, &t, 0, 1000);
	dg_handoff(&w.net, &t, &w.rt);
	int32_t first = t.decode_rep, other = first == 1 ? 2 : 1;
	/* its pod starts draining before the KV lands: the blocks are given back there */
	w.ready[first] = false;
	rt_endpoint_down(&w.rt, w.r[first]);
	sim_run(&w.sim, SIM_TIME_MAX);
	assert_int_equal(w.narrived, 1);
	assert_int_equal(w.arrived_on[0], other);
	assert_int_equal(w.arrived_at[0], 2 * 2631440); /* sent again from the landing time */
	struct srv_stats st;
	srv_stats(w.r[first], &st);
	assert_int_equal(st.kv_blocks_used, 0);
	world_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_transfer_over_the_nic),
		cmocka_unit_test(two_transfers_share_the_nic),
		cmocka_unit_test(same_node_goes_over_nvlink),
		cmocka_unit_test(waits_for_decode_blocks),
		cmocka_unit_test(decode_lost_mid_transfer),
	};
	int rc;
	cfg_doc_init(&doc);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cfg_doc_release(&doc);
	return rc;
}
