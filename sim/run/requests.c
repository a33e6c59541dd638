/*
 * A request's life in a run: it arrives from a workload source, goes to
 * its deployment's router, runs on a replica (or, disaggregated, prefills
 * on one, crosses to another through sim/disagg and decodes there), may be
 * given back and retried, raced by a hedged copy, and ends completed,
 * failed or dropped; each end is accounted once, in its class, deployment
 * and tenant, and recorded in /requests.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double run_t_s(sim_time t)
{
	return t < 0 ? NAN : sim_time_to_s(t);
}

void run_record(struct run *r, const struct srv_req *q)
{
	struct rep_request_row row;
	const struct wl_config *w;
	if (!r->o.results || !r->s->report.outputs.requests)
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
	row.arrival_s = run_t_s(q->arrival);
	row.first_scheduled_s = run_t_s(q->first_scheduled);
	row.first_token_s = run_t_s(q->first_token);
	row.finish_s = run_t_s(q->finish);
	row.prompt_tokens = q->prompt;
	row.output_tokens = q->output;
	row.cached_tokens = q->cached;
	row.preemptions = q->preemptions;
	row.retries = q->retries;
	row.priority = (int32_t)q->priority;
	{
		const struct run_req *x = q->user;
		bool dg = x && x->disagg;
		row.prefill_replica = dg ? x->xfer.prefill_rep : -1;
		row.decode_replica = dg ? x->xfer.decode_rep : -1;
		row.transfer_start_s = dg ? run_t_s(x->xfer.start) : NAN;
		row.transfer_end_s = dg ? run_t_s(x->xfer.end) : NAN;
		row.kv_bytes = dg ? x->xfer.bytes : 0;
		if (x && x->disagg && x->out_total > 0)
			row.output_tokens = x->out_total;
	}
	if (rep_results_add_request(r->o.results, &row))
		sim_err_set(&r->err, SIM_EIO, "cannot write /requests");
}

static void live_remove(struct run *r, struct run_req *x)
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

static void release_req(struct run *r, struct run_req *x)
{
	sim_cancel(&r->sim, x->hedge_ev);
	if (!x->shadow)
		live_remove(r, x);
	free(x->ids);
	sim_pool_put(&r->reqs, x);
}

/* The copy that lost a hedge race: cancelled; freed at the end of the run,
 * since its replica may hold it until its step ends. */
static void lose(struct run *r, struct run_req *x)
{
	x->lost = true;
	sim_cancel(&r->sim, x->hedge_ev);
	if (!x->shadow) {
		live_remove(r, x);
		x->shadow = true;
	}
	if (x->q.replica >= 0 && srv_req_inside(&x->q)) {
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
		if (r->o.results || r->o.om) { /* for the /timeseries latency windows */
			struct run_dep *dp = &r->deps[q->deployment];
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

void run_on_replicas_changed(void *ctx, size_t dep, int64_t n)
{
	struct run *r = ctx;
	rep_osc_add(&r->deps[dep].osc, sim_time_to_s(r->sim.now), n,
		    sim_time_to_s(r->s->report.outputs.oscillation_window));
}

/* Classes and tenants named by the workloads, each once, in order of appearance. */
void run_setup_groups(struct run *r)
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

void run_on_finished(void *ctx, struct srv_replica *rep, struct srv_req *q)
{
	struct run *r = ctx;
	struct run_req *x = (struct run_req *)q;
	(void)rep;
	if (x->lost)
		return;
	if (x->disagg && x->xfer.decode_rep < 0 && x->out_total > 1) { /* prefill done: to a decode replica */
		q->finish = -1;
		srv_req_rewind(q);
		dg_handoff(&r->net, &x->xfer, &r->deps[r->deps[q->deployment].decode].router);
		return;
	}
	if (x->disagg)
		q->output = x->out_total;
	r->sum.requests.completed++;
	r->in_tokens += q->prompt;
	r->out_tokens += q->output;
	account(r, q, 0);
	run_record(r, q);
	release_req(r, (struct run_req *)q);
}

/* First token: in a hedge race, the first copy to get one wins. */
void run_on_first_token(void *ctx, struct srv_replica *rep, struct srv_req *q)
{
	struct run *r = ctx;
	struct run_req *x = (struct run_req *)q, *y = x->twin;
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
	struct run_req *x = ctx, *y;
	struct run *r = (struct run *)(uintptr_t)arg;
	const struct clu_pod *p;
	(void)sim;
	x->hedge_ev = SIM_HANDLE_NONE;
	if (x->q.first_token >= 0 || x->twin || !srv_req_inside(&x->q))
		return;
	p = clu_pod_at(r->cluster, (size_t)x->q.replica);
	y = sim_pool_get(&r->reqs);
	srv_req_clone(&y->q, &x->q); /* the same request, as it arrived */
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
void run_on_gave_up(void *ctx, struct srv_req *q, int status)
{
	struct run *r = ctx;
	struct run_req *x = (struct run_req *)q;
	if (x->lost) /* a loser given back by a lost replica: nothing to account */
		return;
	if (x->twin) { /* its copy carries on alone */
		struct run_req *y = x->twin;
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
	run_record(r, q);
	release_req(r, (struct run_req *)q);
}

void run_on_aborted(void *ctx, struct srv_req *q)
{
	struct run *r = ctx;
	struct run_req *x = (struct run_req *)q;
	if (x->lost)
		return;
	if (x->disagg) { /* given back by either pool: the whole path again, from prefill */
		q->output = 1;
		q->generated = 0;
		srv_req_rewind(q);
		dg_transfer_reset(&x->xfer);
	}
	rt_retry(&r->deps[q->deployment].router, q);
}

/* The KV of a disaggregated request landed on its decode replica: the
 * client's first token comes from the decode side now (vLLM's P/D proxy). */
void run_on_kv_arrived(void *ctx, struct dg_transfer *t)
{
	struct run_req *x = t->q->user;
	(void)ctx;
	x->q.first_token = t->end;
	x->q.output = x->out_total;
	srv_submit_transferred(t->decode, &x->q);
}

/* ---- arrivals ---- */

void run_on_arrival(struct sim *sim, void *ctx, uint64_t arg)
{
	struct run_source *src = ctx;
	struct run *r = src->run;
	size_t d = r->s->workload_target[src->index];
	struct run_dep *dp = &r->deps[d];
	struct run_req *x = sim_pool_get(&r->reqs);
	struct srv_req *q = &x->q;
	const struct wl_config *w = src->w.cfg;
	(void)arg;

	srv_req_init(q);
	q->id = r->next_id++;
	q->workload = (int32_t)src->index;
	q->deployment = (int32_t)d;
	q->priority = w->priority;
	q->arrival = sim->now;
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
	dg_transfer_init(&x->xfer, q);
	x->out_total = q->output;
	if (x->disagg)
		q->output = 1; /* the prefill replica computes the prompt and samples one token */
	rt_submit(&dp->router, q);
	if (r->s->router.hedge_after > 0 && r->live_tail == x && !x->disagg)
		x->hedge_ev = sim_schedule_in(sim, r->s->router.hedge_after, on_hedge, x, (uint64_t)(uintptr_t)r);
	if (wl_source_next(&src->w, &src->next))
		sim_schedule(sim, src->next.t, run_on_arrival, src, 0);
	else if (wl_source_failed(&src->w))
		sim_stop(sim); /* a broken trace row: the run ends with its error */
}


/* What is left at the end: requests in flight (and unresolved duplicates)
 * and the losers of hedge races. */
void run_release_requests(struct run *r)
{
	for (struct run_req *x = r->live_head; x; x = x->next) {
		if (x->twin && x->twin->shadow && !x->twin->lost) { /* an unresolved duplicate */
			srv_req_release(&x->twin->q);
			free(x->twin->ids);
		}
		srv_req_release(&x->q);
		free(x->ids);
	}
	for (size_t i = 0; i < r->nzombies; i++) {
		srv_req_release(&r->zombies[i]->q);
		free(r->zombies[i]->ids);
	}
	free(r->zombies);
	r->zombies = NULL;
	r->nzombies = 0;
}
