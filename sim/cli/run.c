/*
 * `servesim run`: load, build the rooms, simulate, report.
 *
 * The cluster runs pods (on node pools, or on dedicated GPUs); each ready
 * pod is an endpoint of its deployment's router; workloads submit to the
 * routers; replicas report finished requests; what a replica gives back is
 * retried by the router. The autoscalers (sim/scale) read what the scrape
 * below reports and set each deployment's replicas. A prefill deployment
 * hands each request, after its first token, to a decode deployment over a
 * modelled network (disaggregated serving).
 */
#include "cli.h"
#include "../scale/hpa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct dep {
	const struct clu_deployment_config *cfg;
	struct rt_router router;
	double kv_sum, ready_sum;
	int64_t samples;
	int64_t arrived, scraped_arrived; /* for servesim:router_arrival_rate */
	sim_time scraped_at;
	struct rep_osc osc;
	size_t decode;             /* role prefill: its decode deployment */
	struct rt_config rcfg;     /* its router's settings (decode: the decode policy) */
	int64_t sampled_arrived; /* at the last /timeseries sample */
	double *win_ttft, *win_tpot; /* completions since the last sample */
	size_t nwin_ttft, nwin_tpot, cap_ttft, cap_tpot;
};

/* What the scrape remembers of a pod between two scrapes (GPU busy time). */
struct pod_mem {
	sim_time t, busy;
};

struct req {
	struct srv_req q;
	struct req *prev, *next; /* live list, in arrival order */
	uint64_t *ids;           /* the trace's hash chain, owned */
	struct req *twin;        /* hedging: the other copy */
	bool lost;               /* the copy that lost the race: reports nothing */
	bool shadow;             /* not in the live list (a duplicate, or a loser) */
	sim_handle hedge_ev;
	/* disaggregation: the prefill replica computes the prompt and one token, the KV
	 * crosses the network into blocks a decode replica reserved, which generates the rest */
	int64_t out_total;       /* output tokens asked for (q.output is 1 during prefill) */
	int32_t prefill_rep, decode_rep;
	struct srv_replica *decode; /* where its blocks are reserved */
	sim_time prefill_start, prefill_end, xfer_start, xfer_end;
	double kv_bytes, left, rate; /* bytes; bytes still to send; bytes/s now */
	sim_time since;          /* when `left` was last brought up to date */
	int32_t nic;             /* source node of a transfer over the network; -1: NVLink or none */
	sim_handle xfer_ev;
	struct req *xnext;       /* the list of transfers in flight */
	bool disagg, waited;
};

struct source {
	struct run *run;
	size_t index;
	struct wl_source w;
	struct wl_arrival next;
	int64_t arrived;
};

struct run {
	struct scenario *s;
	struct sim sim;
	struct dep *deps;
	size_t ndeps;
	struct clu_cluster *cluster;
	struct clu_dep_setup *dsetup;
	struct source *sources;
	size_t nsources;
	struct sim_pool reqs;
	struct req **zombies; /* losers still held by a replica until its step ends */
	size_t nzombies, zombie_cap;
	const char *trace_path;
	int trace_format;
	size_t first_trace;
	struct rep_workload *wsum;
	struct req *live_head, *live_tail;
	int64_t next_id;
	struct rep_results *res;
	struct rep_om *om; /* --openmetrics */
	struct req *xfers;  /* KV transfers in flight */
	struct rep_sketch xfer_time;
	int64_t kv_transfers, kv_waits;
	double kv_bytes;
	struct rep_summary sum;
	struct rep_sketch ttft, tpot, e2e, queue; /* fixed memory, whatever the trace length */
	int64_t in_tokens, out_tokens;
	double busy_s;
	bool fast;
	struct sim_err err;
	/* autoscaling */
	struct sc_runtime *scale;
	struct sc_env env;
	struct pod_mem *podmem;
	size_t podmem_cap;
	struct rep_scale_event_row *events;
	size_t nevents, events_cap;
	bool explain;
	struct pod_mem *smem; /* GPU busy time at the last /timeseries sample, by pod */
	size_t smem_cap;
	double last_cost;
	/* breakdowns: by SLO class, deployment, tenant; workload -> class, tenant */
	struct rep_group *classes, *gdeps, *tenants;
	size_t nclasses, ntenants;
	size_t *wl_class, *wl_tenant;
	struct rep_slo_class *class_slo;
	int64_t met;
};

static double t_s(sim_time t)
{
	return t < 0 ? NAN : sim_time_to_s(t);
}

static void record(struct run *r, const struct srv_req *q)
{
	struct rep_request_row row;
	const struct wl_config *w;
	if (!r->res)
		return;
	memset(&row, 0, sizeof(row));
	w = CFG_LIST_AT(r->s->workloads, struct wl_config, (size_t)q->workload);
	row.id = q->id;
	row.workload = q->workload;
	row.deployment = q->deployment;
	row.replica = q->replica;
	row.status = q->status;
	snprintf(row.tenant, sizeof(row.tenant), "%s", w->tenant);
	snprintf(row.slo_class, sizeof(row.slo_class), "%s", w->slo_class);
	row.arrival_s = t_s(q->arrival);
	row.first_scheduled_s = t_s(q->first_scheduled);
	row.first_token_s = t_s(q->first_token);
	row.finish_s = t_s(q->finish);
	row.prompt_tokens = q->prompt;
	row.output_tokens = q->output;
	row.cached_tokens = q->cached;
	row.preemptions = q->preemptions;
	row.retries = q->retries;
	row.priority = (int32_t)q->priority;
	{
		const struct req *x = q->user;
		row.prefill_replica = x && x->disagg ? x->prefill_rep : -1;
		row.decode_replica = x && x->disagg ? x->decode_rep : -1;
		row.transfer_start_s = x && x->disagg ? t_s(x->xfer_start) : NAN;
		row.transfer_end_s = x && x->disagg ? t_s(x->xfer_end) : NAN;
		row.kv_bytes = x && x->disagg ? x->kv_bytes : 0;
		if (x && x->disagg && x->out_total > 0)
			row.output_tokens = x->out_total;
	}
	if (rep_results_add_request(r->res, &row))
		sim_err_set(&r->err, SIM_EIO, "cannot write /requests");
}

static void live_remove(struct run *r, struct req *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		r->live_head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		r->live_tail = x->prev;
	x->prev = x->next = NULL;
}

static void release_req(struct run *r, struct req *x)
{
	sim_cancel(&r->sim, x->hedge_ev);
	if (!x->shadow)
		live_remove(r, x);
	free(x->ids);
	sim_pool_put(&r->reqs, x);
}

/* The copy that lost a hedge race: cancelled; freed at the end of the run,
 * since its replica may hold it until its step ends. */
static void lose(struct run *r, struct req *x)
{
	x->lost = true;
	sim_cancel(&r->sim, x->hedge_ev);
	if (!x->shadow) {
		live_remove(r, x);
		x->shadow = true;
	}
	if (x->q.replica >= 0 && (x->q.state == SRV_WAITING || x->q.state == SRV_RUNNING || x->q.state == SRV_SWAPPED)) {
		const struct clu_pod *p = clu_pod_at(r->cluster, (size_t)x->q.replica);
		if (clu_pod_replica(p))
			srv_cancel(clu_pod_replica(p), &x->q);
	}
	XGROW(r->zombies, r->zombie_cap, r->nzombies + 1);
	r->zombies[r->nzombies++] = x;
}

/* A request ended (status 0 completed, 1 failed, 2 dropped): the run's latency
 * distributions, and its class, deployment and tenant. */
static void account(struct run *r, const struct srv_req *q, int status)
{
	size_t w = (size_t)q->workload, c = r->wl_class[w];
	const struct rep_slo_class *slo = &r->class_slo[c];
	double ttft = 0, tpot = -1, e2e = 0;
	if (status == 0) {
		ttft = sim_time_to_s(q->first_token - q->arrival);
		e2e = sim_time_to_s(q->finish - q->arrival);
		if (q->output > 1)
			tpot = sim_time_to_s(q->finish - q->first_token) / (double)(q->output - 1);
		rep_sketch_add(&r->ttft, ttft);
		rep_sketch_add(&r->e2e, e2e);
		rep_sketch_add(&r->queue, sim_time_to_s(q->first_scheduled - q->arrival));
		if (tpot >= 0)
			rep_sketch_add(&r->tpot, tpot);
		if (rep_slo_met(slo, ttft, tpot, e2e))
			r->met++;
		if (r->res || r->om) { /* for the /timeseries latency windows */
			struct dep *dp = &r->deps[q->deployment];
			XGROW(dp->win_ttft, dp->cap_ttft, dp->nwin_ttft + 1);
			dp->win_ttft[dp->nwin_ttft++] = ttft;
			if (tpot >= 0) {
				XGROW(dp->win_tpot, dp->cap_tpot, dp->nwin_tpot + 1);
				dp->win_tpot[dp->nwin_tpot++] = tpot;
			}
		}
	}
	rep_group_end(&r->classes[c], status, ttft, tpot, e2e, slo);
	rep_group_end(&r->gdeps[q->deployment], status, ttft, tpot, e2e, slo);
	rep_group_end(&r->tenants[r->wl_tenant[w]], status, ttft, tpot, e2e, slo);
}

static void on_replicas_changed(void *ctx, size_t dep, int64_t n)
{
	struct run *r = ctx;
	rep_osc_add(&r->deps[dep].osc, sim_time_to_s(r->sim.now), n,
		    sim_time_to_s(r->s->report.outputs.oscillation_window));
}

/* Classes and tenants named by the workloads, each once, in order of appearance. */
static void setup_groups(struct run *r)
{
	size_t nw = r->s->workloads.n;
	const struct rep_slo_class *def = NULL;
	static const struct rep_slo_class builtin = {2 * SIM_SEC, 100 * SIM_MS, 0};
	r->wl_class = xcalloc(nw + 1, sizeof(size_t));
	r->wl_tenant = xcalloc(nw + 1, sizeof(size_t));
	r->classes = xcalloc(nw + 1, sizeof(*r->classes));
	r->tenants = xcalloc(nw + 1, sizeof(*r->tenants));
	r->class_slo = xcalloc(nw + 1, sizeof(*r->class_slo));
	r->gdeps = xcalloc(r->ndeps + 1, sizeof(*r->gdeps));
	for (size_t i = 0; i < r->s->report.slo.n; i++) {
		const struct cfg_named *c = CFG_LIST_AT(r->s->report.slo, struct cfg_named, i);
		if (!strcmp(c->name, "default"))
			def = c->value;
	}
	if (!def)
		def = &builtin;
	r->sum.slo_ttft = sim_time_to_s(def->ttft);
	r->sum.slo_tpot = sim_time_to_s(def->tpot);
	for (size_t w = 0; w < nw; w++) {
		const struct wl_config *wc = CFG_LIST_AT(r->s->workloads, struct wl_config, w);
		const char *cls = wc->slo_class ? wc->slo_class : "default", *ten = wc->tenant ? wc->tenant : "default";
		size_t k;
		for (k = 0; k < r->nclasses && strcmp(r->classes[k].name, cls); k++)
			;
		if (k == r->nclasses) {
			const struct rep_slo_class *slo = def;
			for (size_t i = 0; i < r->s->report.slo.n; i++) {
				const struct cfg_named *c = CFG_LIST_AT(r->s->report.slo, struct cfg_named, i);
				if (!strcmp(c->name, cls))
					slo = c->value;
			}
			r->classes[k].name = cls;
			r->class_slo[k] = *slo;
			r->classes[k].ttft_thr = sim_time_to_s(slo->ttft);
			r->classes[k].tpot_thr = sim_time_to_s(slo->tpot);
			r->nclasses++;
		}
		r->wl_class[w] = k;
		for (k = 0; k < r->ntenants && strcmp(r->tenants[k].name, ten); k++)
			;
		if (k == r->ntenants)
			r->tenants[r->ntenants++].name = ten;
		r->wl_tenant[w] = k;
	}
	for (size_t d = 0; d < r->ndeps; d++) {
		r->gdeps[d].name = r->deps[d].cfg->name;
		rep_osc_add(&r->deps[d].osc, 0, r->deps[d].cfg->replicas, 0);
	}
}

static void handoff(struct run *r, struct req *x);

static void on_finished(void *ctx, struct srv_replica *rep, struct srv_req *q)
{
	struct run *r = ctx;
	struct req *x = (struct req *)q;
	(void)rep;
	if (x->lost)
		return;
	if (x->disagg && x->decode_rep < 0 && x->out_total > 1) { /* prefill done: to a decode replica */
		x->prefill_rep = q->replica;
		x->prefill_start = q->first_scheduled;
		x->prefill_end = r->sim.now;
		q->finish = -1;
		q->state = SRV_NEW;
		handoff(r, x);
		return;
	}
	if (x->disagg)
		q->output = x->out_total;
	r->sum.requests.completed++;
	r->in_tokens += q->prompt;
	r->out_tokens += q->output;
	account(r, q, 0);
	record(r, q);
	release_req(r, (struct req *)q);
}

/* First token: in a hedge race, the first copy to get one wins. */
static void on_first_token(void *ctx, struct srv_replica *rep, struct srv_req *q)
{
	struct run *r = ctx;
	struct req *x = (struct req *)q, *y = x->twin;
	(void)rep;
	sim_cancel(&r->sim, x->hedge_ev);
	if (!y || x->lost)
		return;
	x->twin = y->twin = NULL;
	if (x->shadow) { /* the duplicate won: it takes the original's place */
		x->shadow = false;
		x->prev = y->prev;
		x->next = y->next;
		if (y->prev)
			y->prev->next = x;
		else
			r->live_head = x;
		if (y->next)
			y->next->prev = x;
		else
			r->live_tail = x;
		y->prev = y->next = NULL;
		y->shadow = true;
	}
	lose(r, y);
}

static void on_hedge(struct sim *sim, void *ctx, uint64_t arg)
{
	struct req *x = ctx, *y;
	struct run *r = (struct run *)(uintptr_t)arg;
	const struct clu_pod *p;
	(void)sim;
	x->hedge_ev = SIM_HANDLE_NONE;
	if (x->q.first_token >= 0 || x->twin || x->q.replica < 0 || x->q.state == SRV_DONE)
		return;
	p = clu_pod_at(r->cluster, (size_t)x->q.replica);
	y = sim_pool_get(&r->reqs);
	y->q = x->q; /* the same request, a copy of its state at arrival */
	y->q.first_scheduled = y->q.first_token = y->q.finish = -1;
	y->q.generated = y->q.cached = 0;
	y->q.preemptions = 0;
	y->q.replica = -1;
	y->q.hblocks = NULL;
	y->q.nheld = 0;
	y->q.cancelled = false;
	y->q.user = y;
	if (x->ids) {
		y->ids = xmalloc((size_t)x->q.nids * sizeof(uint64_t));
		memcpy(y->ids, x->ids, (size_t)x->q.nids * sizeof(uint64_t));
		y->q.hashes = y->ids;
	}
	y->shadow = true;
	y->hedge_ev = SIM_HANDLE_NONE;
	x->twin = y;
	y->twin = x;
	if (!rt_submit_hedge(&r->deps[x->q.deployment].router, &y->q, clu_pod_replica(p))) {
		x->twin = NULL;
		free(y->ids);
		sim_pool_put(&r->reqs, y);
	}
}

/* The router gave up on q: dropped, failed, or rejected as too long. */
static void on_gave_up(void *ctx, struct srv_req *q, int status)
{
	struct run *r = ctx;
	struct req *x = (struct req *)q;
	if (x->lost) /* a loser given back by a lost replica: nothing to account */
		return;
	if (x->twin) { /* its copy carries on alone */
		struct req *y = x->twin;
		x->twin = y->twin = NULL;
		if (x->shadow) { /* the duplicate gave up: forget it */
			free(x->ids);
			x->ids = NULL;
			XGROW(r->zombies, r->zombie_cap, r->nzombies + 1);
			x->lost = true;
			r->zombies[r->nzombies++] = x;
			return;
		}
		/* the original gave up while the duplicate lives: the duplicate takes its place */
		lose(r, x);
		y->shadow = false;
		y->prev = r->live_tail;
		y->next = NULL;
		if (r->live_tail)
			r->live_tail->next = y;
		else
			r->live_head = y;
		r->live_tail = y;
		return;
	}
	if (status == SRV_DROPPED)
		r->sum.requests.dropped++;
	else
		r->sum.requests.failed++; /* buffer timeout, retries exhausted, too long */
	account(r, q, status == SRV_DROPPED ? 2 : 1);
	record(r, q);
	release_req(r, (struct req *)q);
}

static void on_aborted(void *ctx, struct srv_req *q)
{
	struct run *r = ctx;
	struct req *x = (struct req *)q;
	if (x->lost)
		return;
	if (x->disagg) { /* given back by either pool: the whole path again, from prefill */
		q->output = 1;
		q->generated = 0;
		q->transferred = false;
		x->decode_rep = -1;
		x->decode = NULL;
	}
	rt_retry(&r->deps[q->deployment].router, q);
}

/* ---- disaggregation: the KV transfer ---- */

static double nic_bandwidth(const struct clu_kv_transfer *k)
{
	return k->bandwidth > 0 ? k->bandwidth : k->network == 0 ? 50e9 : 12.5e9; /* 400 / 100 Gb/s */
}

static sim_time nic_latency(const struct clu_kv_transfer *k)
{
	return k->has_latency ? k->latency : k->network == 0 ? 10 * SIM_US : 100 * SIM_US;
}

static void on_xfer_flow_done(struct sim *sim, void *ctx, uint64_t arg);

/* Transfers leaving one NIC share it equally: bring each up to date, then
 * give each its new share and its new finish. */
static void nic_rebalance(struct run *r, int32_t nic, double bw)
{
	int64_t n = 0;
	for (struct req *y = r->xfers; y; y = y->xnext)
		if (y->nic == nic && y->left > 0) {
			y->left -= y->rate * sim_time_to_s(r->sim.now - y->since);
			if (y->left < 0)
				y->left = 0;
			y->since = r->sim.now;
			n++;
		}
	for (struct req *y = r->xfers; y; y = y->xnext)
		if (y->nic == nic && y->left > 0) {
			y->rate = bw / (double)n;
			sim_cancel(&r->sim, y->xfer_ev);
			y->xfer_ev = sim_schedule_in(&r->sim, (sim_time)ceil(y->left / y->rate * 1e9), on_xfer_flow_done, y,
						     (uint64_t)(uintptr_t)r);
		}
}

static void xfer_remove(struct run *r, struct req *x)
{
	for (struct req **p = &r->xfers; *p; p = &(*p)->xnext)
		if (*p == x) {
			*p = x->xnext;
			break;
		}
	x->xnext = NULL;
}

static void on_xfer_arrived(struct sim *sim, void *ctx, uint64_t arg);

static void on_xfer_flow_done(struct sim *sim, void *ctx, uint64_t arg)
{
	struct req *x = ctx;
	struct run *r = (struct run *)(uintptr_t)arg;
	const struct clu_kv_transfer *k = &r->deps[x->q.deployment].cfg->kv_transfer;
	int32_t nic = x->nic;
	x->left = 0;
	x->xfer_ev = SIM_HANDLE_NONE;
	xfer_remove(r, x);
	if (nic >= 0)
		nic_rebalance(r, nic, nic_bandwidth(k)); /* the others speed up */
	x->xfer_ev = sim_schedule_in(sim, nic >= 0 ? nic_latency(k) : 2 * SIM_US, on_xfer_arrived, x, arg);
}

static void on_handoff_retry(struct sim *sim, void *ctx, uint64_t arg)
{
	(void)sim;
	handoff((struct run *)(uintptr_t)arg, ctx);
}

/* Reserve blocks on a decode replica (waiting when none can take it), then send the KV. */
static void handoff(struct run *r, struct req *x)
{
	struct srv_req *q = &x->q;
	const struct dep *pd = &r->deps[q->deployment];
	const struct clu_kv_transfer *k = &pd->cfg->kv_transfer;
	struct dep *dd = &r->deps[pd->decode];
	struct srv_replica *rep = rt_pick(&dd->router, q);
	const struct clu_pod *src, *dst;
	const struct clu_dep_setup *ds = &r->dsetup[q->deployment];
	x->xfer_ev = SIM_HANDLE_NONE;
	if (!rep || !srv_reserve(rep, q->prompt + 1)) {
		if (!x->waited) {
			x->waited = true;
			r->kv_waits++;
		}
		x->xfer_ev = sim_schedule_in(&r->sim, 10 * SIM_MS, on_handoff_retry, x, (uint64_t)(uintptr_t)r);
		return;
	}
	x->decode = rep;
	x->decode_rep = srv_id(rep);
	x->kv_bytes = (double)q->prompt * perf_kv_bytes_per_token(ds->llm, ds->llm->dtype, 1);
	x->xfer_start = r->sim.now;
	src = clu_pod_at(r->cluster, (size_t)x->prefill_rep);
	dst = clu_pod_at(r->cluster, (size_t)x->decode_rep);
	x->since = r->sim.now;
	x->left = x->kv_bytes;
	x->xnext = r->xfers;
	r->xfers = x;
	if (src->node && dst->node && src->node == dst->node) { /* NVLink inside the node: no NIC */
		const struct perf_gpu *g = ds->gpus[0];
		double bw = k->nvlink_bandwidth > 0		  ? k->nvlink_bandwidth
			    : g->interconnect_bandwidth > 0 ? g->interconnect_bandwidth
							    : g->pcie_bandwidth;
		x->nic = -1;
		x->rate = bw;
		if (k->layerwise) /* all but the last layer went while the prefill ran */
			x->left = fmax(x->kv_bytes / (double)ds->llm->layers,
				       x->kv_bytes - bw * sim_time_to_s(x->prefill_end - x->prefill_start));
		x->xfer_ev = sim_schedule_in(&r->sim, (sim_time)ceil(x->left / bw * 1e9), on_xfer_flow_done, x,
					     (uint64_t)(uintptr_t)r);
		return;
	}
	x->nic = src->node ? src->node->id : -2;
	x->rate = 0;
	if (k->layerwise) {
		int64_t n = 1;
		for (struct req *y = r->xfers; y; y = y->xnext)
			n += y != x && y->nic == x->nic && y->left > 0;
		x->left = fmax(x->kv_bytes / (double)ds->llm->layers,
			       x->kv_bytes - nic_bandwidth(k) / (double)n * sim_time_to_s(x->prefill_end - x->prefill_start));
	}
	nic_rebalance(r, x->nic, nic_bandwidth(k));
}

static void on_xfer_arrived(struct sim *sim, void *ctx, uint64_t arg)
{
	struct req *x = ctx;
	struct run *r = (struct run *)(uintptr_t)arg;
	struct srv_req *q = &x->q;
	const struct clu_pod *dst = clu_pod_at(r->cluster, (size_t)x->decode_rep);
	x->xfer_ev = SIM_HANDLE_NONE;
	if (clu_pod_replica(dst) != x->decode || dst->state != CLU_POD_READY) {
		/* the decode pod went meanwhile: its reservation went with it (or is given back) */
		if (clu_pod_replica(dst) == x->decode && x->decode)
			srv_unreserve(x->decode, q->prompt + 1);
		x->decode = NULL;
		x->decode_rep = -1;
		handoff(r, x);
		return;
	}
	x->xfer_end = sim->now;
	r->kv_transfers++;
	r->kv_bytes += x->kv_bytes;
	rep_sketch_add(&r->xfer_time, sim_time_to_s(x->xfer_end - x->xfer_start));
	/* the client's first token comes from the decode side, once the KV is there (vLLM's P/D proxy) */
	q->first_token = sim->now;
	q->output = x->out_total;
	srv_submit_transferred(x->decode, q);
}

static void on_endpoint_up(void *ctx, struct clu_pod *p)
{
	struct run *r = ctx;
	/* weighed by capacity relative to the deployment's first hardware variant */
	rt_endpoint_up(&r->deps[p->dep].router, clu_pod_replica(p), p->weight);
}

static void on_endpoint_down(void *ctx, struct clu_pod *p)
{
	struct run *r = ctx;
	rt_endpoint_down(&r->deps[p->dep].router, clu_pod_replica(p));
}

/* ---- arrivals ---- */

static void on_arrival(struct sim *sim, void *ctx, uint64_t arg)
{
	struct source *src = ctx;
	struct run *r = src->run;
	size_t d = r->s->workload_target[src->index];
	struct dep *dp = &r->deps[d];
	struct req *x = sim_pool_get(&r->reqs);
	struct srv_req *q = &x->q;
	const struct wl_config *w = src->w.cfg;
	(void)arg;

	q->id = r->next_id++;
	q->workload = (int32_t)src->index;
	q->deployment = (int32_t)d;
	q->replica = -1;
	q->priority = w->priority;
	q->arrival = sim->now;
	q->first_scheduled = q->first_token = q->finish = -1;
	q->prompt = src->next.prompt;
	q->output = src->next.output;
	q->lora = w->lora ? sim_hash_str(w->lora, 0x104a) : 0;
	q->prefix_key = src->next.prefix_key;
	q->prefix_tokens = src->next.prefix_tokens;
	if (src->next.nids) {
		x->ids = xmalloc(src->next.nids * sizeof(uint64_t));
		memcpy(x->ids, src->next.ids, src->next.nids * sizeof(uint64_t));
		q->hashes = x->ids;
		q->nids = (int32_t)src->next.nids;
		q->hash_block = src->next.ids_block;
	}
	src->arrived++;
	q->user = x;
	x->prev = r->live_tail;
	x->next = NULL;
	if (r->live_tail)
		r->live_tail->next = x;
	else
		r->live_head = x;
	r->live_tail = x;
	r->sum.requests.arrived++;
	dp->arrived++;
	r->gdeps[d].arrived++;
	r->classes[r->wl_class[src->index]].arrived++;
	r->tenants[r->wl_tenant[src->index]].arrived++;

	x->hedge_ev = SIM_HANDLE_NONE;
	x->twin = NULL;
	x->lost = x->shadow = false;
	x->disagg = dp->decode != SIZE_MAX;
	x->waited = false;
	x->xfer_ev = SIM_HANDLE_NONE;
	x->decode = NULL;
	x->prefill_rep = x->decode_rep = -1;
	x->xfer_start = x->xfer_end = -1;
	x->kv_bytes = 0;
	x->out_total = q->output;
	if (x->disagg)
		q->output = 1; /* the prefill replica computes the prompt and samples one token */
	rt_submit(&dp->router, q);
	if (r->s->router.hedge_after > 0 && r->live_tail == x && !x->disagg)
		x->hedge_ev = sim_schedule_in(sim, r->s->router.hedge_after, on_hedge, x, (uint64_t)(uintptr_t)r);
	if (wl_source_next(&src->w, &src->next))
		sim_schedule(sim, src->next.t, on_arrival, src, 0);
	else if (wl_source_failed(&src->w))
		sim_stop(sim); /* a broken trace row: the run ends with its error */
}

/* ---- GPU signals (for /timeseries and the autoscalers' scrape) ---- */

/* Grows a by-pod memory to n pods; new pods have never been read. */
static void pod_mem_fit(struct pod_mem **a, size_t *cap, size_t n)
{
	size_t old = *cap;
	if (n <= old)
		return;
	*cap = n * 2;
	*a = xrealloc(*a, *cap * sizeof(**a));
	for (size_t i = old; i < *cap; i++)
		(*a)[i] = (struct pod_mem){-1, 0};
}

struct gpu_signals {
	double util;  /* DCGM_FI_DEV_GPU_UTIL / 100: share of the interval with a kernel running */
	double sm;    /* DCGM_FI_PROF_SM_ACTIVE: busy time weighted by how full the batch keeps the SMs */
	double power; /* DCGM_FI_DEV_POWER_USAGE, W over the pod's GPUs: 20 % TDP idle, up to TDP */
};

/* A pod's signals since `m` last read it (m is brought up to now). */
static struct gpu_signals gpu_signals(const struct run *r, const struct clu_pod *p, const struct srv_stats *st,
				      struct pod_mem *m)
{
	const struct perf_gpu *g = r->dsetup[p->dep].gpus[p->variant];
	int64_t count = CFG_LIST_AT(r->deps[p->dep].cfg->hardware, struct clu_hw_variant, (size_t)p->variant)->count;
	sim_time now = r->sim.now;
	double idle_w = 0.2 * g->tdp_w;
	struct gpu_signals x;
	x.util = m->t >= 0 && now > m->t ? (double)(st->busy_time - m->busy) / (double)(now - m->t) : 0;
	x.util = x.util < 0 ? 0 : x.util > 1 ? 1 : x.util;
	m->t = now;
	m->busy = st->busy_time;
	x.sm = x.util * (0.25 + 0.75 * fmin(1.0, (double)st->num_requests_running / 64.0));
	x.power = (double)count * (idle_w + (g->tdp_w - idle_w) * x.sm);
	return x;
}

/* ---- sampling ---- */

/* The OpenMetrics name of a /timeseries metric: kube-state-metrics', vLLM's, DCGM's or ours. */
static const char *om_family(const char *metric, const char **help)
{
	static const struct {
		const char *metric, *family, *help;
	} map[] = {
		{"replicas_desired", "kube_deployment_spec_replicas", "Desired replicas of the deployment."},
		{"replicas_ready", "kube_deployment_status_replicas_ready", "Ready replicas of the deployment."},
		{"vllm:kv_cache_usage_perc", "vllm:kv_cache_usage_perc", "KV-cache usage, mean over ready replicas (0..1)."},
		{"vllm:num_requests_running", "vllm:num_requests_running", "Requests in the running batches."},
		{"vllm:num_requests_waiting", "vllm:num_requests_waiting", "Requests waiting in the engines."},
		{"servesim:router_queue_length", "servesim:router_queue_length", "Requests buffered by the router."},
		{"servesim:router_arrival_rate", "servesim:router_arrival_rate", "Arrivals per second."},
		{"ttft_p50_s", "servesim:time_to_first_token_p50_seconds", "Median TTFT of the interval's completions."},
		{"ttft_p99_s", "servesim:time_to_first_token_p99_seconds", "p99 TTFT of the interval's completions."},
		{"tpot_p50_s", "servesim:time_per_output_token_p50_seconds", "Median TPOT of the interval's completions."},
		{"tpot_p99_s", "servesim:time_per_output_token_p99_seconds", "p99 TPOT of the interval's completions."},
		{"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_UTIL", "GPU utilization (percent of time a kernel runs), mean."},
		{"DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_POWER_USAGE", "GPU power (W), summed."},
		{"nodes_ready", "servesim:nodes_ready", "Nodes with allocatable GPUs."},
		{"nodes_provisioning", "servesim:nodes_provisioning", "Nodes requested and not yet allocatable."},
		{"pods_pending", "servesim:pods_pending", "Pods waiting for a node."},
		{"cost_usd", "servesim:cost_usd", "Dollars billed so far."},
		{"cost_usd_per_hour", "servesim:cost_usd_per_hour", "Billing rate."},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].metric, metric)) {
			*help = map[i].help;
			return map[i].family;
		}
	*help = "servesim series.";
	return metric;
}

/* A label value as OpenMetrics quotes it. */
static void om_escape(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 3 < n; in++) {
		if (*in == '"' || *in == '\\')
			out[o++] = '\\', out[o++] = *in;
		else if (*in == '\n')
			out[o++] = '\\', out[o++] = 'n';
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

/* One /timeseries sample: to results.h5 and to the OpenMetrics export. */
static int emit(struct run *r, const char *deployment, const char *metric, double t, double v)
{
	if (r->om) {
		const char *help, *family = om_family(metric, &help);
		char labels[256] = "";
		if (strcmp(deployment, "cluster")) {
			const struct dep *dp = NULL;
			for (size_t d = 0; d < r->ndeps && !dp; d++)
				if (!strcmp(r->deps[d].cfg->name, deployment))
					dp = &r->deps[d];
			char de[96], mo[96];
			om_escape(deployment, de, sizeof(de));
			om_escape(dp ? dp->cfg->model : "", mo, sizeof(mo));
			snprintf(labels, sizeof(labels), "{namespace=\"default\",deployment=\"%s\",model_name=\"%s\"}", de,
				 mo);
		}
		rep_om_add(r->om, family, help, labels, t, v);
	}
	return r->res ? rep_results_series(r->res, deployment, metric, t, v) : 0;
}

static void on_sample(struct sim *sim, void *ctx, uint64_t arg)
{
	struct run *r = ctx;
	double t = sim_time_to_s(sim->now);
	(void)arg;
	size_t np = clu_npods(r->cluster);
	double dt = sim_time_to_s(r->s->report.outputs.timeseries_interval);
	pod_mem_fit(&r->smem, &r->smem_cap, np);
	for (size_t d = 0; d < r->ndeps; d++) {
		struct dep *dp = &r->deps[d];
		double kv = 0, running = 0, waiting = 0, ready = 0, util = 0, power = 0;
		struct rep_dist td, pd;
		for (size_t i = 0; i < np; i++) {
			const struct clu_pod *p = clu_pod_at(r->cluster, i);
			struct srv_stats st;
			struct gpu_signals gs;
			if ((size_t)p->dep != d || p->state != CLU_POD_READY)
				continue;
			srv_stats(clu_pod_replica(p), &st);
			kv += st.kv_cache_usage_perc;
			running += (double)st.num_requests_running;
			waiting += (double)st.num_requests_waiting;
			ready++;
			gs = gpu_signals(r, p, &st, &r->smem[i]);
			util += gs.util;
			power += gs.power;
		}
		if (ready > 0)
			kv /= ready;
		dp->kv_sum += kv;
		dp->ready_sum += ready;
		dp->samples++;
		if (r->res || r->om) {
			const char *name = dp->cfg->name;
			if (emit(r, name, "vllm:kv_cache_usage_perc", t, kv) ||
			    emit(r, name, "vllm:num_requests_running", t, running) ||
			    emit(r, name, "vllm:num_requests_waiting", t, waiting) ||
			    emit(r, name, "replicas_ready", t, ready) ||
			    emit(r, name, "replicas_desired", t, (double)clu_desired(r->cluster, d)) ||
			    emit(r, name, "servesim:router_queue_length", t,
					       (double)rt_buffered(&dp->router)))
				sim_err_set(&r->err, SIM_EIO, "cannot write /timeseries");
			/* the latency of the requests that completed in the interval (NaN: none) */
			rep_dist_of(dp->win_ttft, dp->nwin_ttft, &td);
			rep_dist_of(dp->win_tpot, dp->nwin_tpot, &pd);
			if (emit(r, name, "servesim:router_arrival_rate", t,
					       sim->now > 0 ? (double)(dp->arrived - dp->sampled_arrived) / dt : 0) ||
			    emit(r, name, "ttft_p50_s", t, td.n ? td.p50 : NAN) ||
			    emit(r, name, "ttft_p99_s", t, td.n ? td.p99 : NAN) ||
			    emit(r, name, "tpot_p50_s", t, pd.n ? pd.p50 : NAN) ||
			    emit(r, name, "tpot_p99_s", t, pd.n ? pd.p99 : NAN) ||
			    emit(r, name, "DCGM_FI_DEV_GPU_UTIL", t, ready > 0 ? 100.0 * util / ready : 0) ||
			    emit(r, name, "DCGM_FI_DEV_POWER_USAGE", t, power))
				sim_err_set(&r->err, SIM_EIO, "cannot write /timeseries");
		}
		dp->sampled_arrived = dp->arrived;
		dp->nwin_ttft = dp->nwin_tpot = 0;
	}
	{
		/* computed whatever is written: reading the bill brings replicas up to date, and the
		 * event count must not depend on the output options */
		int64_t nc[CLU_NODE_GONE + 1];
		double usd, gh, busy;
		clu_node_counts(r->cluster, nc);
		clu_cost(r->cluster, sim->now, &usd, &gh, &busy);
		if ((r->res || r->om) && (emit(r, "cluster", "nodes_ready", t, (double)(nc[CLU_NODE_READY] + nc[CLU_NODE_CORDONED])) ||
		    emit(r, "cluster", "nodes_provisioning", t,
				       (double)(nc[CLU_NODE_PROVISIONING] + nc[CLU_NODE_GPU_PENDING])) ||
		    emit(r, "cluster", "pods_pending", t, (double)clu_pending_pods(r->cluster)) ||
		    emit(r, "cluster", "cost_usd", t, usd) ||
		    emit(r, "cluster", "cost_usd_per_hour", t,
				       sim->now > 0 ? (usd - r->last_cost) / dt * 3600.0 : 0)))
			sim_err_set(&r->err, SIM_EIO, "cannot write /timeseries");
		r->last_cost = usd;
	}
	/* sample while anything is scheduled: arrivals or work in flight */
	if (sim_evq_size(&sim->q) > 0 || r->live_head)
		sim_schedule_in(sim, r->s->report.outputs.timeseries_interval, on_sample, r, 0);
}

/* ---- what the autoscalers see ---- */

static size_t env_pods(void *ctx, size_t dep, struct sc_pod *out, size_t max)
{
	struct run *r = ctx;
	size_t n = 0;
	for (size_t i = 0; i < clu_npods(r->cluster); i++) {
		const struct clu_pod *p = clu_pod_at(r->cluster, i);
		struct sc_pod x;
		/* warm replicas are held outside the scaled deployment */
		if ((size_t)p->dep != dep || p->state == CLU_POD_GONE || p->held)
			continue;
		memset(&x, 0, sizeof(x));
		x.id = (int32_t)i;
		/* Pending until its containers start (scheduling, image pull) */
		x.phase = p->state == CLU_POD_PENDING || (p->state == CLU_POD_STARTING && p->container_up < 0)
				  ? HPA_POD_PENDING
				  : HPA_POD_RUNNING;
		x.ready = p->state == CLU_POD_READY;
		x.deleted = p->state == CLU_POD_DRAINING;
		x.start = p->scheduled >= 0 ? p->scheduled : HPA_ZERO_TIME;
		/* the Ready condition last changed when the probe passed, or when the pod started */
		x.ready_transition = p->ready >= 0 && p->state != CLU_POD_CRASHED ? p->ready
				     : p->scheduled >= 0			  ? p->scheduled
									  : p->created;
		x.scraped = (p->state == CLU_POD_READY || p->state == CLU_POD_DRAINING) && clu_pod_replica(p);
		if (n < max)
			out[n] = x;
		n++;
	}
	return n;
}

/* One scrape of a deployment's pods (vLLM, DCGM-like, container metrics) and its router. */
static void env_scrape(void *ctx, size_t dep, struct sc_scrape *x)
{
	struct run *r = ctx;
	struct dep *dp = &r->deps[dep];
	size_t np = clu_npods(r->cluster), n = 0;
	sim_time now = r->sim.now;
	pod_mem_fit(&r->podmem, &r->podmem_cap, np);
	for (size_t i = 0; i < np; i++) {
		const struct clu_pod *p = clu_pod_at(r->cluster, i);
		n += (size_t)p->dep == dep && (p->state == CLU_POD_READY || p->state == CLU_POD_DRAINING) &&
		     clu_pod_replica(p);
	}
	x->npods = n;
	x->pod_ids = xcalloc(n + 1, sizeof(int32_t));
	x->values = xcalloc(n * SC_M_POD_METRICS + 1, sizeof(double));
	if (x->want_hist)
		x->hist = xcalloc((size_t)SC_HISTS * SC_HIST_BUCKETS * n + 1, sizeof(double));
	n = 0;
	for (size_t i = 0; i < np; i++) {
		const struct clu_pod *p = clu_pod_at(r->cluster, i);
		struct srv_replica *rep = clu_pod_replica(p);
		struct srv_stats st;
		struct gpu_signals gs;
		if ((size_t)p->dep != dep || !(p->state == CLU_POD_READY || p->state == CLU_POD_DRAINING) || !rep)
			continue;
		srv_stats(rep, &st);
		gs = gpu_signals(r, p, &st, &r->podmem[i]);
		x->pod_ids[n] = (int32_t)i;
#define V(metric) x->values[(size_t)(metric) * x->npods + n]
		V(SC_M_RUNNING) = (double)st.num_requests_running;
		V(SC_M_WAITING) = (double)st.num_requests_waiting;
		V(SC_M_SWAPPED) = (double)st.num_requests_swapped;
		V(SC_M_KV) = st.kv_cache_usage_perc;
		V(SC_M_PROMPT_TOTAL) = (double)st.prompt_tokens_total;
		V(SC_M_GEN_TOTAL) = (double)st.generation_tokens_total;
		V(SC_M_SUCCESS_TOTAL) = (double)st.requests_success_total;
		V(SC_M_GPU_UTIL) = 100.0 * gs.util;
		V(SC_M_SM_ACTIVE) = gs.sm;
		V(SC_M_POWER) = gs.power;
		/* the API server and scheduler loop: half a core idle, 3 more when the engine steps */
		V(SC_M_CPU) = 0.5 + 3.0 * gs.util;
		V(SC_M_MEMORY) = 16.0 * 1073741824.0 + 2097152.0 * (double)(st.num_requests_running + st.num_requests_waiting);
		V(SC_M_CONCURRENCY) = (double)(st.num_requests_running + st.num_requests_waiting + st.num_requests_swapped);
		for (int h = 0; h < SC_HISTS; h++) {
			double cum = 0;
			V(SC_M_TTFT + h) = (double)st.hist[h].count;
			for (int b = 0; x->hist && b < SC_HIST_BUCKETS; b++) { /* cumulative, as Prometheus exposes them */
				cum += b < SRV_HIST_MAX ? (double)st.hist[h].counts[b] : 0;
				x->hist[((size_t)h * SC_HIST_BUCKETS + (size_t)b) * x->npods + n] = cum;
			}
		}
#undef V
		n++;
	}
	x->router[SC_M_ROUTER_QUEUE - SC_M_POD_METRICS] = (double)rt_buffered(&dp->router);
	x->router[SC_M_ROUTER_RATE - SC_M_POD_METRICS] =
		now > dp->scraped_at ? (double)(dp->arrived - dp->scraped_arrived) / sim_time_to_s(now - dp->scraped_at) : 0;
	x->router[SC_M_ROUTER_TOTAL - SC_M_POD_METRICS] = (double)dp->arrived;
	dp->scraped_arrived = dp->arrived;
	dp->scraped_at = now;
}

static int32_t env_replicas(void *ctx, size_t dep)
{
	return (int32_t)clu_desired(((struct run *)ctx)->cluster, dep);
}

static int32_t env_ready(void *ctx, size_t dep)
{
	return (int32_t)clu_ready_pods(((struct run *)ctx)->cluster, dep);
}

static void env_set_replicas(void *ctx, size_t dep, int32_t n)
{
	clu_set_replicas(((struct run *)ctx)->cluster, dep, n);
}

static void env_decision(void *ctx, size_t dep, const char *controller, double input, int32_t from,
			 int32_t proposal, int32_t to, const char *reason)
{
	struct run *r = ctx;
	struct rep_scale_event_row *e;
	XGROW(r->events, r->events_cap, r->nevents + 1);
	e = &r->events[r->nevents++];
	memset(e, 0, sizeof(*e));
	e->t_s = sim_time_to_s(r->sim.now);
	e->deployment = (int32_t)dep;
	snprintf(e->controller, sizeof(e->controller), "%s", controller);
	e->input = input;
	e->from = from;
	e->proposal = proposal;
	e->to = to;
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
	if (r->explain)
		fprintf(stderr, "t=%.3fs %s %s: input %.4g, replicas %d -> %d (proposal %d): %s\n", e->t_s,
			r->deps[dep].cfg->name, controller, input, from, to, proposal, e->reason);
}

/* Mean time from creation to serving of the deployment's pods so far (5 min before any). */
static sim_time env_startup(void *ctx, size_t dep)
{
	struct run *r = ctx;
	sim_time sum = 0;
	int64_t n = 0;
	for (size_t i = 0; i < clu_npods(r->cluster); i++) {
		const struct clu_pod *p = clu_pod_at(r->cluster, i);
		if ((size_t)p->dep == dep && p->endpoint >= 0 && p->endpoint > p->created) {
			sum += p->endpoint - p->created;
			n++;
		}
	}
	return n ? sum / n : 5 * SIM_MIN;
}

static bool env_active(void *ctx)
{
	return ((struct run *)ctx)->live_head != NULL;
}

static int start_autoscalers(struct run *r)
{
	bool any = false;
	for (size_t i = 0; i < r->ndeps; i++)
		any |= r->s->autoscalers[i].type != SC_NONE;
	if (!any)
		return 0;
	r->env = (struct sc_env){.ctx = r,
				 .sim = &r->sim,
				 .pods = env_pods,
				 .scrape = env_scrape,
				 .replicas = env_replicas,
				 .ready_replicas = env_ready,
				 .set_replicas = env_set_replicas,
				 .decision = env_decision,
				 .startup = env_startup,
				 .active = env_active,
				 .arrivals_end = r->s->duration};
	r->scale = sc_runtime_new(&r->env, r->s->autoscalers, r->ndeps, &r->err);
	return r->scale ? 0 : -1;
}

/* ---- building the rooms ---- */

/* Resolves what the cluster needs: models and GPUs from the catalog. */
static int resolve(struct run *r, struct clu_setup *su)
{
	struct cfg_ctx cc;
	char key[96];
	const struct scenario *s = r->s;
	cfg_ctx_init(&cc, &r->s->doc, &r->err);
	r->dsetup = xcalloc(r->ndeps + 1, sizeof(*r->dsetup));
	for (size_t i = 0; i < r->ndeps; i++) {
		const struct clu_deployment_config *c = CFG_LIST_AT(s->deployments, struct clu_deployment_config, i);
		struct clu_dep_setup *ds = &r->dsetup[i];
		ds->cfg = c;
		snprintf(key, sizeof(key), "deployments[%zu].model", i);
		if (!(ds->llm = perf_find_llm(&cc, cfg_lookup(s->doc.root, key), c->model, &r->s->catalog)))
			return -1;
		ds->gpus = xcalloc(c->hardware.n + 1, sizeof(*ds->gpus));
		for (size_t v = 0; v < c->hardware.n; v++) {
			snprintf(key, sizeof(key), "deployments[%zu].hardware[%zu].gpu", i, v);
			if (!(ds->gpus[v] = perf_find_gpu(&cc, cfg_lookup(s->doc.root, key),
							   CFG_LIST_AT(c->hardware, struct clu_hw_variant, v)->gpu, &r->s->catalog)))
				return -1;
		}
	}
	su->deps = r->dsetup;
	su->ndeps = r->ndeps;
	if (s->has_cluster) {
		su->cluster = &s->cluster;
		su->pool_gpus = xcalloc(s->cluster.node_pools.n + 1, sizeof(*su->pool_gpus));
		for (size_t k = 0; k < s->cluster.node_pools.n; k++) {
			snprintf(key, sizeof(key), "cluster.node_pools[%zu].instance.gpu", k);
			if (!(su->pool_gpus[k] = perf_find_gpu(&cc, cfg_lookup(s->doc.root, key),
								CFG_LIST_AT(s->cluster.node_pools, struct clu_pool_config, k)->instance.gpu,
								&r->s->catalog)))
				return -1;
		}
		su->node_autoscaler = &s->node_autoscaler;
	}
	return 0;
}

static int build(struct run *r)
{
	struct clu_setup su;
	struct rt_hooks rh = {r, on_gave_up};
	int rc;
	memset(&su, 0, sizeof(su));
	r->ndeps = r->s->deployments.n;
	r->deps = xcalloc(r->ndeps, sizeof(*r->deps));
	for (size_t i = 0; i < r->ndeps; i++) {
		r->deps[i].cfg = CFG_LIST_AT(r->s->deployments, struct clu_deployment_config, i);
		r->deps[i].rcfg = r->s->router;
		r->deps[i].decode = r->s->decode_of[i];
		rt_router_init(&r->deps[i].router, &r->sim, &r->deps[i].rcfg, r->deps[i].cfg->name, (uint64_t)r->s->seed,
			       &rh, &r->err);
	}
	for (size_t i = 0; i < r->ndeps; i++) /* a decode deployment's router uses the decode policy */
		if (r->deps[i].decode != SIZE_MAX) {
			struct dep *dd = &r->deps[r->deps[i].decode];
			dd->rcfg.policy = r->deps[i].cfg->kv_transfer.decode_policy;
			dd->router.ops = rt_policies[dd->rcfg.policy];
		}
	setup_groups(r);
	rc = resolve(r, &su);
	if (!rc) {
		su.seed = (uint64_t)r->s->seed;
		su.fast_stepping = r->fast;
		su.end = r->s->duration + r->s->drain_timeout;
		su.hooks = (struct clu_hooks){r, on_endpoint_up, on_endpoint_down, on_aborted, {r, on_first_token, on_finished},
					      on_replicas_changed};
		r->cluster = clu_new(&r->sim, &su, &r->err);
		if (!r->cluster)
			rc = -1;
	}
	free((void *)su.pool_gpus);
	if (rc)
		return -1;
	r->nsources = r->s->workloads.n;
	r->sources = xcalloc(r->nsources + 1, sizeof(*r->sources));
	for (size_t i = 0; i < r->nsources; i++) {
		struct source *src = &r->sources[i];
		src->run = r;
		src->index = i;
		const struct wl_config *wc = CFG_LIST_AT(r->s->workloads, struct wl_config, i);
		bool replaced = r->trace_path && wc->has_trace && i == r->first_trace;
		if (wl_source_init(&src->w, wc, (uint64_t)r->s->seed, r->s->duration, r->s->rate_multiplier,
				   replaced ? r->trace_path : NULL, replaced ? r->trace_format : -1, &r->err))
			return -1;
		if (wl_source_next(&src->w, &src->next))
			sim_schedule(&r->sim, src->next.t, on_arrival, src, 0);
		else if (wl_source_failed(&src->w))
			return -1;
	}
	sim_schedule(&r->sim, 0, on_sample, r, 0);
	return start_autoscalers(r);
}

static void teardown(struct run *r)
{
	sc_runtime_free(r->scale);
	for (size_t i = 0; r->classes && i < r->nclasses; i++)
		rep_group_release(&r->classes[i]);
	for (size_t i = 0; r->tenants && i < r->ntenants; i++)
		rep_group_release(&r->tenants[i]);
	for (size_t i = 0; r->gdeps && i < r->ndeps; i++)
		rep_group_release(&r->gdeps[i]);
	free(r->classes);
	free(r->tenants);
	free(r->gdeps);
	free(r->wl_class);
	free(r->wl_tenant);
	free(r->class_slo);
	free(r->podmem);
	free(r->smem);
	for (size_t i = 0; r->deps && i < r->ndeps; i++) {
		free(r->deps[i].win_ttft);
		free(r->deps[i].win_tpot);
	}
	free(r->events);
	clu_free(r->cluster);
	for (size_t i = 0; i < r->ndeps; i++)
		rt_router_release(&r->deps[i].router);
	free(r->deps);
	for (size_t i = 0; r->dsetup && i < r->ndeps; i++)
		free((void *)r->dsetup[i].gpus);
	free(r->dsetup);
	for (size_t i = 0; i < r->nsources; i++)
		wl_source_release(&r->sources[i].w);
	free(r->sources);
	/* requests still inside replicas hold prefix-block arrays */
	for (struct req *x = r->live_head; x; x = x->next) {
		if (x->twin && x->twin->shadow && !x->twin->lost) { /* an unresolved duplicate */
			free(x->twin->q.hblocks);
			free(x->twin->ids);
		}
		free(x->q.hblocks);
		free(x->ids);
	}
	for (size_t i = 0; i < r->nzombies; i++) {
		free(r->zombies[i]->q.hblocks);
		free(r->zombies[i]->ids);
	}
	free(r->zombies);
	free(r->wsum);
	sim_pool_release(&r->reqs);
	rep_sketch_free(&r->ttft);
	rep_sketch_free(&r->tpot);
	rep_sketch_free(&r->e2e);
	rep_sketch_free(&r->queue);
	rep_sketch_free(&r->xfer_time);
}

/* ---- results ---- */

static double wall_now(void)
{
	/* Wall time only ever reaches wall_time_s, never a simulated result. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void summarise(struct run *r)
{
	struct rep_summary *s = &r->sum;
	double span, gpus = 0, replicas = 0, kv = 0;
	int64_t samples = 0;
	for (struct req *x = r->live_head; x; x = x->next) {
		x->q.status = SRV_IN_FLIGHT;
		s->requests.in_flight_at_end++;
		record(r, &x->q);
	}
	rep_dist_of_sketch(&r->ttft, &s->ttft);
	rep_dist_of_sketch(&r->tpot, &s->tpot);
	rep_dist_of_sketch(&r->e2e, &s->e2e);
	rep_dist_of_sketch(&r->queue, &s->queue);
	span = sim_time_to_s(s->sim_time);
	s->input_tokens_per_s = span > 0 ? (double)r->in_tokens / span : 0;
	s->output_tokens_per_s = span > 0 ? (double)r->out_tokens / span : 0;
	clu_cost(r->cluster, s->sim_time, &s->cost_usd, &s->gpu_hours, &r->busy_s);
	s->usd_per_million_tokens = r->in_tokens + r->out_tokens > 0
					    ? s->cost_usd / ((double)(r->in_tokens + r->out_tokens) / 1e6)
					    : 0;
	for (size_t d = 0; d < r->ndeps; d++) {
		kv += r->deps[d].kv_sum;
		replicas += r->deps[d].samples ? r->deps[d].ready_sum / (double)r->deps[d].samples : 0;
		samples += r->deps[d].samples;
	}
	(void)gpus;
	r->wsum = xcalloc(r->nsources + 1, sizeof(*r->wsum));
	for (size_t i = 0; i < r->nsources; i++) {
		struct wl_trace_stats ts;
		struct rep_workload *w = &r->wsum[i];
		w->name = r->sources[i].w.cfg->name;
		w->arrived = r->sources[i].arrived;
		w->trace = r->sources[i].w.cfg->has_trace;
		wl_source_trace_stats(&r->sources[i].w, &ts);
		w->rows = ts.rows;
		w->skipped = ts.skipped;
		w->filtered = ts.filtered;
		w->failures = ts.failures;
		w->capped = ts.capped;
		w->thinned = ts.thinned;
		w->copies = ts.copies;
	}
	s->workloads = r->wsum;
	s->nworkloads = r->nsources;
	s->gpu_busy = s->gpu_hours > 0 ? r->busy_s / (s->gpu_hours * 3600.0) : 0;
	s->kv_usage_mean = samples ? kv / (double)samples : 0;
	s->replicas_mean = replicas;
	{
		int64_t ended = s->requests.completed + s->requests.failed + s->requests.dropped;
		s->attainment = ended > 0 ? (double)r->met / (double)ended : NAN;
		s->goodput_rps = span > 0 ? (double)r->met / span : 0;
	}
	for (size_t i = 0; i < r->nclasses; i++)
		rep_group_finish(&r->classes[i], span);
	for (size_t i = 0; i < r->ntenants; i++)
		rep_group_finish(&r->tenants[i], span);
	for (size_t d = 0; d < r->ndeps; d++) {
		struct rep_group *g = &r->gdeps[d];
		rep_group_finish(g, span);
		g->replicas_mean = r->deps[d].samples ? r->deps[d].ready_sum / (double)r->deps[d].samples : 0;
		g->scale_events = r->deps[d].osc.events;
		g->reversals = r->deps[d].osc.reversals;
		g->total_variation = r->deps[d].osc.total_variation;
		s->scale_events += g->scale_events;
		s->direction_reversals += g->reversals;
		s->replica_total_variation += g->total_variation;
	}
	s->classes = r->classes;
	s->nclasses = r->nclasses;
	s->deployments = r->gdeps;
	s->ndeployments = r->ndeps;
	s->tenants = r->tenants;
	s->ntenants = r->ntenants;
	s->kv_transfers = r->kv_transfers;
	s->kv_waits = r->kv_waits;
	s->kv_bytes = r->kv_bytes;
	rep_dist_of_sketch(&r->xfer_time, &s->kv_transfer);
	if (r->s->report.has_score)
		rep_score_eval(&r->s->report.score, s);
}

/* /pods and /nodes: every pod and node the run had. */
static void write_cluster_records(struct run *r)
{
	size_t np = clu_npods(r->cluster), nn = clu_nnodes(r->cluster);
	struct rep_pod_row *pr = xcalloc(np + 1, sizeof(*pr));
	struct rep_node_row *nr = xcalloc(nn + 1, sizeof(*nr));
	sim_time end = r->sum.sim_time;
	for (size_t i = 0; i < np; i++) {
		const struct clu_pod *p = clu_pod_at(r->cluster, i);
		const struct clu_deployment_config *c = r->deps[p->dep].cfg;
		pr[i].id = p->id;
		pr[i].deployment = p->dep;
		pr[i].node = p->node ? p->node->id : -1;
		pr[i].variant = p->variant;
		pr[i].restarts = p->restarts;
		snprintf(pr[i].gpu, sizeof(pr[i].gpu), "%s", CFG_LIST_AT(c->hardware, struct clu_hw_variant, (size_t)p->variant)->gpu);
		snprintf(pr[i].state, sizeof(pr[i].state), "%s", clu_pod_state_name(p->state));
		snprintf(pr[i].reason, sizeof(pr[i].reason), "%s", p->reason ? p->reason : "");
		pr[i].created_s = t_s(p->created);
		pr[i].scheduled_s = t_s(p->scheduled);
		pr[i].image_pulled_s = t_s(p->pulled);
		pr[i].weights_ready_s = t_s(p->weights_ready);
		pr[i].loaded_s = t_s(p->loaded);
		pr[i].ready_s = t_s(p->ready);
		pr[i].endpoint_s = t_s(p->endpoint);
		pr[i].terminated_s = t_s(p->terminated);
	}
	for (size_t i = 0; i < nn; i++) {
		const struct clu_node *n = clu_node_at(r->cluster, i);
		double life = sim_time_to_s((n->deleted >= 0 ? n->deleted : end) - n->requested);
		nr[i].id = n->id;
		nr[i].gpus = n->gpus;
		snprintf(nr[i].pool, sizeof(nr[i].pool), "%s",
			 n->pool >= 0 ? CFG_LIST_AT(r->s->cluster.node_pools, struct clu_pool_config, (size_t)n->pool)->name
				      : "dedicated");
		snprintf(nr[i].state, sizeof(nr[i].state), "%s", clu_node_state_name(n->state));
		snprintf(nr[i].reason, sizeof(nr[i].reason), "%s", n->reason ? n->reason : "");
		nr[i].requested_s = t_s(n->requested);
		nr[i].ready_s = t_s(n->ready);
		nr[i].gpus_ready_s = t_s(n->gpus_ready);
		nr[i].deleted_s = t_s(n->deleted);
		nr[i].cost_usd = n->state == CLU_NODE_WARM ? 0 : (life > 60 ? life : 60) / 3600.0 * n->price_per_hour;
	}
	if (rep_results_pods(r->res, pr, np) || rep_results_nodes(r->res, nr, nn) ||
	    rep_results_scale_events(r->res, r->events, r->nevents))
		sim_err_set(&r->err, SIM_EIO, "cannot write /pods, /nodes and /scale_events");
	free(pr);
	free(nr);
}

static int write_outputs(struct run *r, const char *dir, struct sim_err *err)
{
	struct rep_json j;
	char *path;
	int rc;
	rep_json_init(&j);
	rep_summary_json(&r->sum, &j);
	path = xasprintf("%s/summary.json", dir);
	rc = rep_write_file(path, j.buf, j.len, err);
	free(path);
	rep_json_release(&j);
	return rc;
}

static int open_results(struct run *r, const char *dir)
{
	char *path, *yaml;
	int rc;
	if (rep_mkdir_p(dir, &r->err))
		return -1;
	path = xasprintf("%s/results.h5", dir);
	r->res = rep_results_open(path, &r->err);
	free(path);
	if (!r->res)
		return -1;
	yaml = cfg_to_yaml(r->s->doc.root);
	rc = rep_results_set_scenario(r->res, yaml);
	free(yaml);
	if (rc)
		return sim_err_set(&r->err, SIM_EIO, "%s/results.h5: cannot write the scenario attribute", dir);
	return 0;
}

static void print_dist(const char *name, const struct rep_dist *d)
{
	if (!d->n) {
		printf("  %-10s -\n", name);
		return;
	}
	printf("  %-10s mean %9.4f  p50 %9.4f  p90 %9.4f  p99 %9.4f  max %9.4f s\n", name, d->mean, d->p50,
	       d->p90, d->p99, d->max);
}

static void print_summary(const struct run *r)
{
	const struct rep_summary *s = &r->sum;
	char tb[48];
	printf("servesim %s: scenario %s, seed %llu\n", SERVESIM_VERSION, s->scenario,
	       (unsigned long long)s->seed);
	printf("  %-10s %s simulated in %.3f s wall, %llu events\n", "time",
	       sim_time_fmt(s->sim_time, tb, sizeof(tb)), s->wall_time_s,
	       (unsigned long long)s->events_processed);
	printf("  %-10s arrived %lld  completed %lld  failed %lld  dropped %lld  in flight %lld\n",
	       "requests", (long long)s->requests.arrived, (long long)s->requests.completed,
	       (long long)s->requests.failed, (long long)s->requests.dropped,
	       (long long)s->requests.in_flight_at_end);
	print_dist("ttft", &s->ttft);
	print_dist("tpot", &s->tpot);
	print_dist("e2e", &s->e2e);
	print_dist("queue", &s->queue);
	printf("  %-10s %.1f input, %.1f output tokens/s\n", "throughput", s->input_tokens_per_s,
	       s->output_tokens_per_s);
	printf("  %-10s gpu busy %.3f, kv usage mean %.3f, replicas %.1f\n", "utilization", s->gpu_busy,
	       s->kv_usage_mean, s->replicas_mean);
	printf("  %-10s attainment %.4f (ttft <= %g s, tpot <= %g s), goodput %.2f req/s\n", "slo", s->attainment,
	       s->slo_ttft, s->slo_tpot, s->goodput_rps);
	printf("  %-10s $%.2f, %.2f GPU-hours, $%.3f per million tokens\n", "cost", s->cost_usd, s->gpu_hours,
	       s->usd_per_million_tokens);
	printf("  %-10s %lld scale events, %lld direction reversals, total variation %lld replicas\n", "scaling",
	       (long long)s->scale_events, (long long)s->direction_reversals, (long long)s->replica_total_variation);
	if (s->has_score && s->feasible)
		printf("  %-10s %.6g\n", "score", s->score);
	else if (s->has_score) {
		printf("  %-10s infinite:", "score");
		for (size_t i = 0; i < s->nviolated; i++)
			printf("%s %s (was %.4g)", i ? "," : "", s->violated[i], s->violated_value[i]);
		printf("\n");
	}
}

/*
 * The run, in 200 slices when a progress bar may be shown: the event order
 * and count do not depend on the slicing (sim_run stops between events), so
 * a terminal never changes a result. The bar appears once the run has taken
 * a second of wall time, and is erased at the end.
 */
static void hms(sim_time t, char *buf, size_t n)
{
	int64_t sec = t / SIM_SEC;
	snprintf(buf, n, "%lldh%02lldm%02llds", (long long)(sec / 3600), (long long)(sec / 60 % 60), (long long)(sec % 60));
}

static void run_with_progress(struct run *r, sim_time end, bool tty, double t0)
{
	bool shown = false;
	if (!tty) {
		sim_run(&r->sim, end);
		return;
	}
	for (int k = 1; k <= 200; k++) {
		sim_time until = k == 200 ? end : end / 200 * k;
		double wall;
		sim_run(&r->sim, until);
		if (r->sim.stopped || r->err.kind)
			break;
		wall = wall_now() - t0;
		if (wall >= 1.0 || shown) {
			char a[48], b[48], bar[41];
			int fill = k / 5;
			for (int i = 0; i < 40; i++)
				bar[i] = i < fill ? '=' : ' ';
			bar[40] = '\0';
			hms(r->sim.now, a, sizeof(a));
			hms(end, b, sizeof(b));
			fprintf(stderr, "\r[%s] %3d%% %s of %s simulated, %.0fx real time", bar, k / 2, a, b,
				sim_time_to_s(r->sim.now) / wall);
			shown = true;
		}
	}
	if (shown)
		fprintf(stderr, "\r\033[K");
}

int cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	struct run r;
	double t0;
	int rc;

	if ((rc = cli_load(argc, argv, "run", "seed set out quiet step-by-step trace trace-format explain openmetrics", &o, &s)))
		return rc;
	if (o.has_seed)
		s.seed = (int64_t)o.seed;

	t0 = wall_now();
	memset(&r, 0, sizeof(r));
	r.s = &s;
	r.fast = !o.step_by_step;
	r.explain = o.explain;
	r.trace_format = -1;
	if (o.trace || o.trace_format) {
		static const char *const fmts[] = {"auto", "azure", "mooncake", "burstgpt", "csv", "jsonl", NULL};
		r.first_trace = SIZE_MAX;
		for (size_t i = 0; i < s.workloads.n && r.first_trace == SIZE_MAX; i++)
			if (CFG_LIST_AT(s.workloads, struct wl_config, i)->has_trace)
				r.first_trace = i;
		if (r.first_trace == SIZE_MAX) {
			fprintf(stderr, "servesim run: --trace needs a workload with a trace: section to replace\n");
			rc = 2;
			goto early;
		}
		if (o.trace_format) {
			int k = 0;
			while (fmts[k] && strcmp(fmts[k], o.trace_format))
				k++;
			if (!fmts[k]) {
				fprintf(stderr, "servesim run: --trace-format: expected azure, mooncake, burstgpt, csv or jsonl, got '%s'\n",
					o.trace_format);
				rc = 2;
				goto early;
			}
			r.trace_format = k;
		}
		r.trace_path = o.trace ? o.trace : CFG_LIST_AT(s.workloads, struct wl_config, r.first_trace)->trace.path;
	}
	sim_err_clear(&r.err);
	sim_init(&r.sim, (uint64_t)s.seed);
	sim_pool_init(&r.reqs, sizeof(struct req), 4096);
	if (o.openmetrics) {
		double epoch = 0;
		rep_parse_rfc3339(s.report.outputs.openmetrics_epoch, &epoch); /* checked when loaded */
		r.om = rep_om_new(epoch);
	}
	if ((o.out && open_results(&r, o.out)) || build(&r))
		goto fail;
	/* Arrivals stop at duration; in-flight work drains until drain_timeout. */
	run_with_progress(&r, s.duration + s.drain_timeout, !o.quiet && isatty(2), t0);
	if (r.err.kind)
		goto fail;
	r.sum.scenario = s.name;
	r.sum.seed = (uint64_t)s.seed;
	r.sum.sim_time = r.sim.now > s.duration ? r.sim.now : s.duration;
	r.sum.events_processed = r.sim.events_processed;
	summarise(&r);
	if (r.res)
		write_cluster_records(&r);
	if (r.res && rep_results_close(r.res, r.err.kind == SIM_OK, &r.err)) {
		r.res = NULL;
		goto fail;
	}
	r.res = NULL;
	if (r.err.kind)
		goto fail;
	r.sum.wall_time_s = wall_now() - t0;
	if (o.out && write_outputs(&r, o.out, &r.err))
		goto fail;
	if (r.om && rep_om_write(r.om, o.openmetrics, &r.err))
		goto fail;
	if (!o.quiet)
		print_summary(&r);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "%s\n", r.err.msg);
	rc = sim_err_exit_code(&r.err);
	if (r.res) {
		struct sim_err ignore;
		sim_err_clear(&ignore);
		rep_results_close(r.res, false, &ignore);
	}
out:
	rep_om_free(r.om);
	teardown(&r);
	sim_release(&r.sim);
early:
	scn_release(&s);
	cli_opts_release(&o);
	return rc;
}
