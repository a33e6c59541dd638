/*
 * Private to sim/run: the state of a run, shared by its files.
 *   world.c     building the world, run_new/run_until/run_finish/run_free
 *   requests.c  the request lifecycle: arrivals, routing hooks, hedging, accounting
 *   observe.c   GPU signals, the autoscalers' scrape, /timeseries samples
 *   summary.c   the summary and the /pods, /nodes, /scale_events records
 */
#ifndef SIM_RUN_INTERNAL_H
#define SIM_RUN_INTERNAL_H

#include "run.h"
#include "../disagg/disagg.h"

/* One deployment as the run sees it: its gateway and its counters. */
struct run_dep {
	const struct clu_deployment_config *cfg;
	struct rt_router router;
	struct rt_config rcfg; /* its router's settings (decode: the decode policy) */
	size_t decode;         /* role prefill: its decode deployment (SIZE_MAX: none) */
	double kv_sum, ready_sum;
	int64_t samples;
	int64_t arrived, scraped_arrived; /* for servesim:router_arrival_rate */
	sim_time scraped_at;
	int64_t sampled_arrived;          /* at the last /timeseries sample */
	struct rep_osc osc;
	double *win_ttft, *win_tpot;      /* completions since the last sample */
	size_t nwin_ttft, nwin_tpot, cap_ttft, cap_tpot;
};

/* What a GPU reading remembers of a pod between two readings (busy time). */
struct pod_mem {
	sim_time t, busy;
};

/* A request of the run: the server's request plus what the run tracks. */
struct run_req {
	struct srv_req q;
	struct run_req *prev, *next; /* live list, in arrival order */
	uint64_t *ids;               /* the trace's hash chain, owned */
	struct run_req *twin;        /* hedging: the other copy */
	bool lost;                   /* the copy that lost the race: reports nothing */
	bool shadow;                 /* not in the live list (a duplicate, or a loser) */
	sim_handle hedge_ev;
	/* disaggregation: the prefill replica computes the prompt and one token,
	 * the KV crosses to a decode replica, which generates the rest */
	bool disagg;
	int64_t out_total; /* output tokens asked for (q.output is 1 during prefill) */
	struct dg_transfer xfer;
};

struct run_source {
	struct run *run;
	size_t index;
	struct wl_source w;
	struct wl_arrival next;
	int64_t arrived;
};

struct run {
	const struct scenario *s;
	struct run_options o;
	struct sim sim;
	struct sim_err err; /* the first error the run hit */
	struct run_dep *deps;
	size_t ndeps;
	struct clu_cluster *cluster;
	struct clu_dep_setup *dsetup;
	struct dg_net net; /* KV transfers of disaggregated deployments */
	struct run_source *sources;
	size_t nsources;
	struct sim_pool reqs;
	struct run_req **zombies; /* losers still held by a replica until its step ends */
	size_t nzombies, zombie_cap;
	struct run_req *live_head, *live_tail;
	int64_t next_id;
	bool finished;
	/* accounting */
	struct rep_summary sum;
	struct rep_workload *wsum;
	struct rep_sketch ttft, tpot, e2e, queue; /* fixed memory, whatever the trace length */
	int64_t in_tokens, out_tokens, met;
	double busy_s;
	/* breakdowns: by SLO class, deployment, tenant; workload -> class, tenant */
	struct rep_group *classes, *gdeps, *tenants;
	size_t nclasses, ntenants;
	size_t *wl_class, *wl_tenant;
	struct rep_slo_class *class_slo;
	char sha256[65];
	/* autoscaling */
	struct sc_runtime *scale;
	struct sc_env env;
	struct pod_mem *podmem; /* GPU busy time at the last scrape, by pod */
	size_t podmem_cap;
	struct rep_scale_event_row *events;
	size_t nevents, events_cap;
	/* sampling */
	struct pod_mem *smem; /* GPU busy time at the last /timeseries sample, by pod */
	size_t smem_cap;
	double last_cost;
};

/* requests.c */
void run_setup_groups(struct run *r);
void run_on_arrival(struct sim *sim, void *ctx, uint64_t arg);
void run_on_gave_up(void *ctx, struct srv_req *q, int status);
void run_on_aborted(void *ctx, struct srv_req *q);
void run_on_first_token(void *ctx, struct srv_replica *rep, struct srv_req *q);
void run_on_finished(void *ctx, struct srv_replica *rep, struct srv_req *q);
void run_on_kv_arrived(void *ctx, struct dg_transfer *t);
void run_on_replicas_changed(void *ctx, size_t dep, int64_t n);
void run_record(struct run *r, const struct srv_req *q);
void run_release_requests(struct run *r);

/* observe.c */
void run_on_sample(struct sim *sim, void *ctx, uint64_t arg);
void run_sync_replicas(struct run *r);
int run_start_autoscalers(struct run *r);

/* summary.c */
void run_summarise(struct run *r);
void run_write_cluster_records(struct run *r);

/* Seconds, NaN for "never" (negative times). */
double run_t_s(sim_time t);

#endif
