/*
 * Building the world of a run from a resolved scenario, and running it.
 *
 * The cluster runs pods (on node pools, or on dedicated GPUs); each ready
 * pod is an endpoint of its deployment's router; workloads submit to the
 * routers; replicas report finished requests; what a replica gives back is
 * retried by the router. The autoscalers (sim/scale) read what the scrape
 * (observe.c) reports and set each deployment's replicas. A prefill
 * deployment hands each request, after its first token, to a decode
 * deployment through sim/disagg.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void on_endpoint_up(void *ctx, struct clu_pod *p)
{
	struct run *r = ctx;
	/* weighed by capacity relative to the deployment's first hardware variant */
	rt_endpoint_up(&r->deps[p->dep].router, clu_pod_replica(p), p->weight);
}

/* What sim/disagg asks of the cluster. */
static int32_t node_of(void *ctx, int32_t replica)
{
	const struct clu_pod *p = clu_pod_at(((struct run *)ctx)->cluster, (size_t)replica);
	return p->node ? p->node->id : -1;
}

static bool serving(void *ctx, int32_t replica, const struct srv_replica *rep, bool *alive)
{
	const struct clu_pod *p = clu_pod_at(((struct run *)ctx)->cluster, (size_t)replica);
	*alive = rep && clu_pod_replica(p) == rep;
	return *alive && p->state == CLU_POD_READY;
}

static void on_endpoint_down(void *ctx, struct clu_pod *p)
{
	struct run *r = ctx;
	rt_endpoint_down(&r->deps[p->dep].router, clu_pod_replica(p));
}

/* What the cluster needs: the deployments' models and GPUs (resolved when
 * the scenario loaded) and the pools. */
static void resolve(struct run *r, struct clu_setup *su)
{
	const struct scenario *s = r->s;
	r->dsetup = xcalloc(r->ndeps + 1, sizeof(*r->dsetup));
	for (size_t i = 0; i < r->ndeps; i++) {
		r->dsetup[i].cfg = CFG_LIST_AT(s->deployments, struct clu_deployment_config, i);
		r->dsetup[i].llm = s->llms[i];
		r->dsetup[i].gpus = s->gpus[i];
	}
	su->deps = r->dsetup;
	su->ndeps = r->ndeps;
	if (s->has_cluster) {
		su->cluster = &s->cluster;
		su->pool_gpus = s->pool_gpus;
		su->node_autoscaler = &s->node_autoscaler;
	}
}

static int build(struct run *r)
{
	struct clu_setup su;
	struct rt_hooks rh = {r, run_on_gave_up};
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
			struct run_dep *dd = &r->deps[r->deps[i].decode];
			dd->rcfg.policy = r->s->kv_transfer[i].decode_policy;
			dd->router.ops = rt_policies[dd->rcfg.policy];
		}
	run_setup_groups(r);
	resolve(r, &su);
	{
		su.seed = (uint64_t)r->s->seed;
		su.fast_stepping = !r->o.step_by_step;
		su.end = r->s->duration + r->s->drain_timeout;
		su.hooks = (struct clu_hooks){r, on_endpoint_up, on_endpoint_down, run_on_aborted,
					      {r, run_on_first_token, run_on_finished}, run_on_replicas_changed};
		r->cluster = clu_new(&r->sim, &su, &r->err);
		rc = r->cluster ? 0 : -1;
	}
	if (!rc) {
		struct dg_hooks dh = {r, run_on_kv_arrived, node_of, serving};
		dg_init(&r->net, &r->sim, r->dsetup, r->s->kv_transfer, &dh);
	}
	if (rc)
		return -1;
	r->nsources = r->s->workloads.n;
	r->sources = xcalloc(r->nsources + 1, sizeof(*r->sources));
	for (size_t i = 0; i < r->nsources; i++) {
		struct run_source *src = &r->sources[i];
		src->run = r;
		src->index = i;
		const struct wl_config *wc = CFG_LIST_AT(r->s->workloads, struct wl_config, i);
		if (wl_source_init(&src->w, wc, (uint64_t)r->s->seed, r->s->duration, r->s->rate_multiplier, &r->err))
			return -1;
		if (wl_source_next(&src->w, &src->next))
			sim_schedule(&r->sim, src->next.t, run_on_arrival, src, 0);
		else if (wl_source_failed(&src->w))
			return -1;
	}
	sim_schedule(&r->sim, 0, run_on_sample, r, 0);
	return run_start_autoscalers(r);
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
	for (size_t i = 0; r->deps && i < r->ndeps; i++)
		rt_router_release(&r->deps[i].router);
	free(r->deps);
	free(r->dsetup);
	for (size_t i = 0; i < r->nsources; i++)
		wl_source_release(&r->sources[i].w);
	free(r->sources);
	run_release_requests(r); /* requests still inside replicas hold prefix-block arrays */
	free(r->wsum);
	sim_pool_release(&r->reqs);
	rep_sketch_free(&r->ttft);
	rep_sketch_free(&r->tpot);
	rep_sketch_free(&r->e2e);
	rep_sketch_free(&r->queue);
	dg_release(&r->net);
}

/* ---- the API ---- */

struct run *run_new(const struct scenario *s, const struct run_options *o, struct sim_err *err)
{
	struct run *r = xcalloc(1, sizeof(*r));
	char *yaml;
	r->s = s;
	if (o)
		r->o = *o;
	sim_err_clear(&r->err);
	sim_init(&r->sim, (uint64_t)s->seed);
	sim_pool_init(&r->reqs, sizeof(struct run_req), 4096);
	/* provenance: what ran, by its text */
	yaml = scn_resolved_yaml(s);
	sim_sha256_hex(yaml, strlen(yaml), r->sha256);
	free(yaml);
	r->sum.scenario = s->name;
	r->sum.seed = (uint64_t)s->seed;
	r->sum.version = servesim_version;
	r->sum.scenario_sha256 = r->sha256;
	if (build(r)) {
		if (err)
			*err = r->err;
		run_free(r);
		return NULL;
	}
	return r;
}

void run_free(struct run *r)
{
	if (!r)
		return;
	teardown(r);
	sim_release(&r->sim);
	free(r);
}

sim_time run_end(const struct run *r)
{
	return r->s->duration + r->s->drain_timeout;
}

sim_time run_now(const struct run *r)
{
	return r->sim.now;
}

bool run_stopped(const struct run *r)
{
	return r->sim.stopped || r->err.kind != SIM_OK;
}

int run_until(struct run *r, sim_time t, struct sim_err *err)
{
	/* Arrivals stop at duration; in-flight work drains until drain_timeout. */
	if (t > run_end(r))
		t = run_end(r);
	if (!run_stopped(r) && !r->finished && t > r->sim.now)
		sim_run(&r->sim, t);
	if (r->err.kind) {
		if (err)
			*err = r->err;
		return -1;
	}
	return 0;
}

int run_finish(struct run *r, struct sim_err *err)
{
	if (r->finished)
		return 0;
	if (run_until(r, run_end(r), err))
		return -1;
	r->finished = true;
	r->sum.sim_time = r->sim.now > r->s->duration ? r->sim.now : r->s->duration;
	r->sum.events_processed = r->sim.events_processed;
	run_summarise(r);
	if (r->o.results)
		run_write_cluster_records(r);
	if (r->err.kind) {
		if (err)
			*err = r->err;
		return -1;
	}
	return 0;
}

struct rep_summary *run_summary(struct run *r)
{
	return &r->sum;
}
