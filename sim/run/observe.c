/*
 * What a run observes of itself: the GPU signals a DCGM exporter would
 * report, the scrape that feeds the autoscalers (sim/scale reads nothing
 * else), and the samples behind /timeseries and the OpenMetrics export.
 *
 * Replicas are brought to their last step boundary at defined points: at
 * each scrape (the scraped deployment's serving pods) and at each sample
 * (its ready pods, then every pod, as the bill is read). These points are
 * the same whatever is written, so outputs never change a result or the
 * event count.
 */
#include "internal.h"
#include "../scale/hpa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* One /timeseries sample: to results.h5 and to the OpenMetrics export. */
static int emit(struct run *r, const char *deployment, const char *metric, double t, double v)
{
	if (r->o.om) {
		const char *help, *family = rep_om_family(metric, &help);
		char labels[256] = "";
		if (strcmp(deployment, "cluster")) {
			const struct run_dep *dp = NULL;
			for (size_t d = 0; d < r->ndeps && !dp; d++)
				if (!strcmp(r->deps[d].cfg->name, deployment))
					dp = &r->deps[d];
			rep_om_deployment_labels(labels, sizeof(labels), deployment, dp ? dp->cfg->model : "");
		}
		rep_om_add(r->o.om, family, help, labels, t, v);
	}
	return r->o.results ? rep_results_series(r->o.results, deployment, metric, t, v) : 0;
}

/* Every replica to its last step boundary, in pod order: a defined point of
 * the run (each sample, where the bill is read), whatever is written. */
void run_sync_replicas(struct run *r)
{
	for (size_t i = 0; i < clu_npods(r->cluster); i++) {
		struct srv_replica *rep = clu_pod_replica(clu_pod_at(r->cluster, i));
		if (rep)
			srv_sync(rep);
	}
}

void run_on_sample(struct sim *sim, void *ctx, uint64_t arg)
{
	struct run *r = ctx;
	double t = sim_time_to_s(sim->now);
	(void)arg;
	size_t np = clu_npods(r->cluster);
	double dt = sim_time_to_s(r->s->report.outputs.timeseries_interval);
	pod_mem_fit(&r->smem, &r->smem_cap, np);
	for (size_t d = 0; d < r->ndeps; d++) {
		struct run_dep *dp = &r->deps[d];
		double kv = 0, running = 0, waiting = 0, ready = 0, util = 0, power = 0;
		struct rep_dist td, pd;
		for (size_t i = 0; i < np; i++) {
			const struct clu_pod *p = clu_pod_at(r->cluster, i);
			struct srv_stats st;
			struct gpu_signals gs;
			if ((size_t)p->dep != d || p->state != CLU_POD_READY)
				continue;
			srv_sync(clu_pod_replica(p)); /* srv_stats is pure: the sample's sync point */
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
		if (r->o.results || r->o.om) {
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
		run_sync_replicas(r);
		clu_cost(r->cluster, sim->now, &usd, &gh, &busy);
		if ((r->o.results || r->o.om) && (emit(r, "cluster", "nodes_ready", t, (double)(nc[CLU_NODE_READY] + nc[CLU_NODE_CORDONED])) ||
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
		sim_schedule_in(sim, r->s->report.outputs.timeseries_interval, run_on_sample, r, 0);
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
	struct run_dep *dp = &r->deps[dep];
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
		srv_sync(rep); /* srv_stats is pure: the scrape's sync point */
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
	if (r->o.explain)
		fprintf(r->o.explain, "t=%.3fs %s %s: input %.4g, replicas %d -> %d (proposal %d): %s\n", e->t_s,
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

int run_start_autoscalers(struct run *r)
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

