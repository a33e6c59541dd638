/*
 * The KV hand-off: block reservation, then a flow over NVLink or a shared
 * NIC, then the link latency. A NIC's transfers share it equally, so each
 * start or end brings the others' bytes left up to now and reschedules
 * their finish (max-min fairness with one bottleneck per source node).
 */
#include "disagg.h"

#include <math.h>
#include <string.h>

#define DG_RETRY (10 * SIM_MS) /* how often a waiting hand-off asks again */

static double nic_bandwidth(const struct dg_config *k)
{
	return k->bandwidth > 0 ? k->bandwidth : k->network == DG_NET_RDMA ? 50e9 : 12.5e9; /* 400 / 100 Gb/s */
}

static sim_time nic_latency(const struct dg_config *k)
{
	return k->has_latency ? k->latency : k->network == DG_NET_RDMA ? 10 * SIM_US : 100 * SIM_US;
}

static const struct dg_config *kv_of(const struct dg_net *n, const struct dg_transfer *t)
{
	return &n->cfgs[t->q->deployment];
}

static void on_flow_done(struct sim *sim, void *ctx, uint64_t arg);

/* Transfers leaving one NIC share it equally: bring each up to date, then
 * give each its new share and its new finish. */
static void nic_rebalance(struct dg_net *n, int32_t nic, double bw)
{
	int64_t k = 0;
	sim_time now = n->sim->now;
	for (struct dg_transfer *y = n->flows; y; y = y->next)
		if (y->nic == nic && y->left > 0) {
			y->left -= y->rate * sim_time_to_s(now - y->since);
			if (y->left < 0)
				y->left = 0;
			y->since = now;
			k++;
		}
	for (struct dg_transfer *y = n->flows; y; y = y->next)
		if (y->nic == nic && y->left > 0) {
			y->rate = bw / (double)k;
			sim_cancel(n->sim, y->ev);
			y->ev = sim_schedule_in(n->sim, (sim_time)ceil(y->left / y->rate * 1e9), on_flow_done, y,
						(uint64_t)(uintptr_t)n);
		}
}

static void flow_remove(struct dg_net *n, struct dg_transfer *t)
{
	for (struct dg_transfer **p = &n->flows; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->next = NULL;
}

static void on_arrived(struct sim *sim, void *ctx, uint64_t arg);

static void on_flow_done(struct sim *sim, void *ctx, uint64_t arg)
{
	struct dg_transfer *t = ctx;
	struct dg_net *n = (struct dg_net *)(uintptr_t)arg;
	const struct dg_config *k = kv_of(n, t);
	int32_t nic = t->nic;
	t->left = 0;
	t->ev = SIM_HANDLE_NONE;
	flow_remove(n, t);
	if (nic >= 0)
		nic_rebalance(n, nic, nic_bandwidth(k)); /* the others speed up */
	t->ev = sim_schedule_in(sim, nic >= 0 ? nic_latency(k) : 2 * SIM_US, on_arrived, t, arg);
}

static void handoff(struct dg_net *n, struct dg_transfer *t);

static void on_retry(struct sim *sim, void *ctx, uint64_t arg)
{
	(void)sim;
	handoff((struct dg_net *)(uintptr_t)arg, ctx);
}

/* Reserve blocks on a decode replica (waiting when none can take it), then send the KV. */
static void handoff(struct dg_net *n, struct dg_transfer *t)
{
	struct srv_req *q = t->q;
	const struct dg_config *k = kv_of(n, t);
	const struct clu_dep_setup *ds = &n->deps[q->deployment];
	struct srv_replica *rep = rt_pick(t->router, q);
	int32_t src, dst;
	t->ev = SIM_HANDLE_NONE;
	if (!rep || !srv_reserve(rep, q->prompt + 1)) {
		if (!t->waited) {
			t->waited = true;
			n->waits++;
		}
		t->ev = sim_schedule_in(n->sim, DG_RETRY, on_retry, t, (uint64_t)(uintptr_t)n);
		return;
	}
	t->decode = rep;
	t->decode_rep = srv_id(rep);
	t->bytes = (double)q->prompt * perf_kv_bytes_per_token(ds->llm, ds->llm->dtype, 1);
	t->start = n->sim->now;
	src = n->hooks.node_of(n->hooks.ctx, t->prefill_rep);
	dst = n->hooks.node_of(n->hooks.ctx, t->decode_rep);
	t->since = n->sim->now;
	t->left = t->bytes;
	t->next = n->flows;
	n->flows = t;
	if (src >= 0 && src == dst) { /* NVLink inside the node: no NIC */
		const struct perf_gpu *g = ds->gpus[0];
		double bw = k->nvlink_bandwidth > 0	    ? k->nvlink_bandwidth
			    : g->interconnect_bandwidth > 0 ? g->interconnect_bandwidth
							    : g->pcie_bandwidth;
		t->nic = -1;
		t->rate = bw;
		if (k->layerwise) /* all but the last layer went while the prefill ran */
			t->left = fmax(t->bytes / (double)ds->llm->layers,
				       t->bytes - bw * sim_time_to_s(t->prefill_end - t->prefill_start));
		t->ev = sim_schedule_in(n->sim, (sim_time)ceil(t->left / bw * 1e9), on_flow_done, t,
					(uint64_t)(uintptr_t)n);
		return;
	}
	t->nic = src >= 0 ? src : -2;
	t->rate = 0;
	if (k->layerwise) {
		int64_t m = 1;
		for (struct dg_transfer *y = n->flows; y; y = y->next)
			m += y != t && y->nic == t->nic && y->left > 0;
		t->left = fmax(t->bytes / (double)ds->llm->layers,
			       t->bytes - nic_bandwidth(k) / (double)m * sim_time_to_s(t->prefill_end - t->prefill_start));
	}
	nic_rebalance(n, t->nic, nic_bandwidth(k));
}

static void on_arrived(struct sim *sim, void *ctx, uint64_t arg)
{
	struct dg_transfer *t = ctx;
	struct dg_net *n = (struct dg_net *)(uintptr_t)arg;
	bool alive;
	t->ev = SIM_HANDLE_NONE;
	if (!n->hooks.serving(n->hooks.ctx, t->decode_rep, t->decode, &alive)) {
		/* the decode pod went meanwhile: its reservation went with it (or is given back) */
		if (alive)
			srv_unreserve(t->decode, t->q->prompt + 1);
		t->decode = NULL;
		t->decode_rep = -1;
		handoff(n, t);
		return;
	}
	t->end = sim->now;
	n->transfers++;
	n->bytes += t->bytes;
	rep_sketch_add(&n->time, sim_time_to_s(t->end - t->start));
	n->hooks.arrived(n->hooks.ctx, t);
}

void dg_handoff(struct dg_net *n, struct dg_transfer *t, struct rt_router *decode)
{
	t->prefill_rep = t->q->replica;
	t->prefill_start = t->q->first_scheduled;
	t->prefill_end = n->sim->now;
	t->router = decode;
	handoff(n, t);
}

void dg_transfer_init(struct dg_transfer *t, struct srv_req *q)
{
	memset(t, 0, sizeof(*t));
	t->q = q;
	t->ev = SIM_HANDLE_NONE;
	t->prefill_rep = t->decode_rep = -1;
	t->prefill_start = t->prefill_end = t->start = t->end = -1;
}

void dg_transfer_reset(struct dg_transfer *t)
{
	t->decode_rep = -1;
	t->decode = NULL;
}

void dg_init(struct dg_net *n, struct sim *sim, const struct clu_dep_setup *deps, const struct dg_config *cfgs,
	     const struct dg_hooks *hooks)
{
	memset(n, 0, sizeof(*n));
	n->sim = sim;
	n->deps = deps;
	n->cfgs = cfgs;
	n->hooks = *hooks;
}

void dg_release(struct dg_net *n)
{
	rep_sketch_free(&n->time);
	memset(n, 0, sizeof(*n));
}
