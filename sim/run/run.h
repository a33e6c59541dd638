/*
 * sim/run: one simulation run, as a library. Owns the scenario as a whole
 * (its top-level schema and the checks that span rooms), building the world
 * from a resolved scenario (cluster, routers, workloads, autoscalers, the KV
 * hand-off), the request lifecycle (arrival, hand-off to the router,
 * retries, hedging, accounting), the scrape that feeds the autoscalers,
 * sampling into /timeseries and the summary.
 *
 * A caller (the CLI, a sweep, a test) does:
 *     scn_load(&s, path, sets, nsets, &err);
 *     struct run *r = run_new(&s, &opts, &err);
 *     run_finish(r, &err);            (or run_until() in slices first)
 *     const struct rep_summary *sum = run_summary(r);
 *     run_free(r); scn_release(&s);
 *
 * Invariants:
 *  - Every request that arrived is completed, failed, dropped or in flight
 *    at the end; none is lost from the accounting.
 *  - A run is a pure function of (scenario, seed, binary): the slicing of
 *    run_until(), what the caller reads and which outputs are written never
 *    change a result or the event count.
 *  - A run keeps all its state in struct run: any number of runs may live in
 *    one process at once (sim_log_threshold aside, which is the caller's).
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include "../cluster/cluster.h"
#include "../config/config.h"
#include "../core/core.h"
#include "../disagg/disagg.h"
#include "../report/report.h"
#include "../route/route.h"
#include "../scale/scale.h"
#include "../workload/workload.h"

#include <stdio.h>

/* ---- the scenario ---- */

struct scenario {
	struct cfg_doc doc;
	const char *name, *description;
	int64_t seed;
	sim_time duration, drain_timeout;
	double rate_multiplier;
	struct perf_catalog_extra catalog; /* scenario-defined GPUs and LLMs */
	struct clu_cluster_config cluster;
	bool has_cluster;
	struct cfg_list deployments; /* of struct clu_deployment_config */
	struct rt_config router;
	struct cfg_list workloads;   /* of struct wl_config */
	struct rep_config report;
	/* decoded from the raw nodes the rooms keep */
	struct sc_autoscaler_config *autoscalers; /* one per deployment */
	struct clu_node_autoscaler_config node_autoscaler;
	size_t *workload_target; /* deployment index of each workload */
	const struct perf_llm **llms;       /* by deployment, resolved from the catalog */
	const struct perf_gpu ***gpus;      /* by deployment and hardware variant */
	const struct perf_gpu **pool_gpus;  /* by node pool */
	size_t *decode_of;       /* prefill deployment -> its decode deployment (SIZE_MAX: none) */
	struct dg_config *kv_transfer; /* by deployment: a prefill one's kv_transfer (zeros otherwise) */
};

/* Loads, applies overrides (assignments "path=value"), decodes and checks. */
int scn_load(struct scenario *s, const char *path, const char *const *sets, size_t nsets,
	     struct sim_err *err);
void scn_release(struct scenario *s);
/* Sets the seed, in the decoded scenario and in its tree (what is stored);
 * -1 with err when it is not a valid seed (0 .. 2^63 - 1). */
int scn_set_seed(struct scenario *s, uint64_t seed, struct sim_err *err);
/* The scenario as it runs, as YAML (malloc'd): includes and --set applied,
 * the seed in force, an HPA `manifest:` file inlined as its `spec:` (done
 * when it loads). Paths stay as written: relative to the file they were
 * written in (--set values: to the working directory). */
char *scn_resolved_yaml(const struct scenario *s);
/* Index of the first workload replaying a trace, or SIZE_MAX. */
size_t scn_first_trace(const struct scenario *s);

/* Documentation roots: every schema a scenario can contain, with the path
 * prefix its keys appear under. */
struct scn_doc_root {
	const char *prefix;
	const struct cfg_schema *schema;
	const char *title;
};
extern const struct scn_doc_root scn_doc_roots[];
extern const struct cfg_schema scn_schema;

/* ---- a run ---- */

struct run_options {
	bool step_by_step;           /* one event per engine step: slower, identical results */
	FILE *explain;               /* every autoscaler decision as it is made (NULL: none) */
	struct rep_results *results; /* where /requests, /timeseries, /pods... go (NULL: nowhere) */
	struct rep_om *om;           /* the OpenMetrics export (NULL: none) */
};

struct run;

/* Builds the world at t = 0. s must outlive the run; the run reads it only,
 * so runs of one scenario may share it. */
struct run *run_new(const struct scenario *s, const struct run_options *o, struct sim_err *err);
void run_free(struct run *r);
/* Simulates every event up to time t (at most the run's end); a t at or
 * before run_now() does nothing. run_now() is then t, or the last event's
 * time when nothing is left to happen. 0, or -1 with err set. */
int run_until(struct run *r, sim_time t, struct sim_err *err);
/* Simulates to the end (duration + drain_timeout), then summarises and
 * writes /pods, /nodes, /scale_events to the results (the caller closes
 * them). 0, or -1 with err set. */
int run_finish(struct run *r, struct sim_err *err);
/* The summary (complete after run_finish; wall_time_s is the caller's). */
struct rep_summary *run_summary(struct run *r);
sim_time run_now(const struct run *r);
sim_time run_end(const struct run *r);
bool run_stopped(const struct run *r);

/* The build's version: `git describe` of the tree it was built from, or the
 * release string (generated at build time). */
extern const char servesim_version[];

#endif
