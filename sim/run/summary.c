/*
 * The end of a run: the summary (what summary.json says) and the records of
 * every pod, node and autoscaler decision the run had.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void run_summarise(struct run *r)
{
	struct rep_summary *s = &r->sum;
	double span, replicas = 0, kv = 0;
	int64_t samples = 0;
	for (struct run_req *x = r->live_head; x; x = x->next) {
		x->q.status = SRV_IN_FLIGHT;
		s->requests.in_flight_at_end++;
		run_record(r, &x->q);
	}
	rep_dist_of_sketch(&r->ttft, &s->ttft);
	rep_dist_of_sketch(&r->tpot, &s->tpot);
	rep_dist_of_sketch(&r->e2e, &s->e2e);
	rep_dist_of_sketch(&r->queue, &s->queue);
	span = sim_time_to_s(s->sim_time);
	s->input_tokens_per_s = span > 0 ? (double)r->in_tokens / span : 0;
	s->output_tokens_per_s = span > 0 ? (double)r->out_tokens / span : 0;
	run_sync_replicas(r);
	clu_cost(r->cluster, s->sim_time, &s->cost_usd, &s->gpu_hours, &r->busy_s);
	s->usd_per_million_tokens = r->in_tokens + r->out_tokens > 0
					    ? s->cost_usd / ((double)(r->in_tokens + r->out_tokens) / 1e6)
					    : 0;
	for (size_t d = 0; d < r->ndeps; d++) {
		kv += r->deps[d].kv_sum;
		replicas += r->deps[d].samples ? r->deps[d].ready_sum / (double)r->deps[d].samples : 0;
		samples += r->deps[d].samples;
	}
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
	s->kv_transfers = r->net.transfers;
	s->kv_waits = r->net.waits;
	s->kv_bytes = r->net.bytes;
	rep_dist_of_sketch(&r->net.time, &s->kv_transfer);
	if (r->s->report.has_score)
		rep_score_eval(&r->s->report.score, s);
}

/* /pods and /nodes: every pod and node the run had. */
void run_write_cluster_records(struct run *r)
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
		pr[i].created_s = run_t_s(p->created);
		pr[i].scheduled_s = run_t_s(p->scheduled);
		pr[i].image_pulled_s = run_t_s(p->pulled);
		pr[i].weights_ready_s = run_t_s(p->weights_ready);
		pr[i].loaded_s = run_t_s(p->loaded);
		pr[i].ready_s = run_t_s(p->ready);
		pr[i].endpoint_s = run_t_s(p->endpoint);
		pr[i].terminated_s = run_t_s(p->terminated);
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
		nr[i].requested_s = run_t_s(n->requested);
		nr[i].ready_s = run_t_s(n->ready);
		nr[i].gpus_ready_s = run_t_s(n->gpus_ready);
		nr[i].deleted_s = run_t_s(n->deleted);
		nr[i].cost_usd = n->state == CLU_NODE_WARM ? 0 : (life > 60 ? life : 60) / 3600.0 * n->price_per_hour;
	}
	if (rep_results_pods(r->o.results, pr, np) || rep_results_nodes(r->o.results, nr, nn) ||
	    rep_results_scale_events(r->o.results, r->events, r->nevents))
		sim_err_set(&r->err, SIM_EIO, "cannot write /pods, /nodes and /scale_events");
	free(pr);
	free(nr);
}

