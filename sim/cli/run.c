/*
 * `servesim run`: load, build the rooms, simulate, report.
 *
 * Today a run has deployments with a fixed number of replicas on dedicated
 * GPUs, fed by synthetic workloads through the router. Scenario features of
 * later rooms (node pools, autoscalers, manual scaling, disaggregation,
 * trace replay) are refused with exit 2 rather than approximated.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dep {
	const struct clu_deployment_config *cfg;
	const struct perf_llm *llm;
	const struct perf_gpu *gpu;
	struct perf_model perf;
	struct srv_params sp;
	struct srv_replica **replicas;
	size_t n;
	struct rt_router router;
	int gpus_per_replica;
	/* sampler accumulators */
	double kv_sum;
	int64_t samples;
};

struct req {
	struct srv_req q;
	struct req *prev, *next; /* live list, in arrival order */
	uint64_t *ids;           /* the trace's hash chain, owned */
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
	struct source *sources;
	size_t nsources;
	struct sim_pool reqs;
	const char *trace_path;
	int trace_format;
	size_t first_trace;
	struct rep_workload *wsum;
	struct req *live_head, *live_tail;
	int64_t next_id;
	struct rep_results *res;
	struct rep_summary sum;
	struct rep_sketch ttft, tpot, e2e, queue; /* fixed memory, whatever the trace length */
	int64_t in_tokens, out_tokens;
	double busy_s;
	bool fast;
	struct sim_err err;
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
	if (rep_results_add_request(r->res, &row))
		sim_err_set(&r->err, SIM_EIO, "cannot write /requests");
}

static void release_req(struct run *r, struct req *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		r->live_head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		r->live_tail = x->prev;
	free(x->ids);
	sim_pool_put(&r->reqs, x);
}

static void on_finished(void *ctx, struct srv_replica *rep, struct srv_req *q)
{
	struct run *r = ctx;
	(void)rep;
	r->sum.requests.completed++;
	r->in_tokens += q->prompt;
	r->out_tokens += q->output;
	rep_sketch_add(&r->ttft, sim_time_to_s(q->first_token - q->arrival));
	rep_sketch_add(&r->e2e, sim_time_to_s(q->finish - q->arrival));
	rep_sketch_add(&r->queue, sim_time_to_s(q->first_scheduled - q->arrival));
	if (q->output > 1)
		rep_sketch_add(&r->tpot, sim_time_to_s(q->finish - q->first_token) / (double)(q->output - 1));
	record(r, q);
	release_req(r, (struct req *)q);
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
	struct rt_view v = {dp->replicas, dp->n};
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

	if (!srv_submit(dp->replicas[rt_pick(&dp->router, &v, q)], q)) {
		/* longer than max_model_len or the whole KV cache: vLLM rejects it */
		q->status = SRV_REJECTED;
		r->sum.requests.failed++;
		record(r, q);
		release_req(r, x);
	}
	if (wl_source_next(&src->w, &src->next))
		sim_schedule(sim, src->next.t, on_arrival, src, 0);
	else if (wl_source_failed(&src->w))
		sim_stop(sim); /* a broken trace row: the run ends with its error */
}

/* ---- sampling ---- */

static void on_sample(struct sim *sim, void *ctx, uint64_t arg)
{
	struct run *r = ctx;
	(void)arg;
	for (size_t d = 0; d < r->ndeps; d++) {
		struct dep *dp = &r->deps[d];
		double kv = 0, running = 0, waiting = 0;
		for (size_t i = 0; i < dp->n; i++) {
			struct srv_stats st;
			srv_stats(dp->replicas[i], &st);
			kv += st.kv_cache_usage_perc;
			running += (double)st.num_requests_running;
			waiting += (double)st.num_requests_waiting;
		}
		kv /= (double)dp->n;
		dp->kv_sum += kv;
		dp->samples++;
		if (r->res) {
			const char *name = dp->cfg->name;
			double t = sim_time_to_s(sim->now);
			if (rep_results_series(r->res, name, "vllm:kv_cache_usage_perc", t, kv) ||
			    rep_results_series(r->res, name, "vllm:num_requests_running", t, running) ||
			    rep_results_series(r->res, name, "vllm:num_requests_waiting", t, waiting) ||
			    rep_results_series(r->res, name, "replicas_ready", t, (double)dp->n))
				sim_err_set(&r->err, SIM_EIO, "cannot write /timeseries");
		}
	}
	/* sample while anything is scheduled: arrivals or work in flight */
	if (sim_evq_size(&sim->q) > 0 || r->live_head)
		sim_schedule_in(sim, r->s->report.outputs.timeseries_interval, on_sample, r, 0);
}

/* ---- building the rooms ---- */

static int unsupported(struct run *r, const char *what)
{
	return sim_err_set(&r->err, SIM_EINPUT,
			   "%s: %s is not simulated yet; today a run has deployments with a fixed number of "
			   "replicas on dedicated GPUs, fed by synthetic workloads",
			   r->s->doc.file, what);
}

static int build_deployment(struct run *r, size_t i)
{
	struct dep *dp = &r->deps[i];
	const struct clu_deployment_config *c = CFG_LIST_AT(r->s->deployments, struct clu_deployment_config, i);
	const struct clu_hw_variant *hw = CFG_LIST_AT(c->hardware, struct clu_hw_variant, 0);
	struct cfg_ctx cc;
	char key[96];
	const struct cfg_node *at;
	int tp, dtype, kvd;
	int64_t blocks;

	dp->cfg = c;
	if (c->role != 0)
		return unsupported(r, "prefill/decode disaggregation (role)");
	if (c->replicas_schedule.n)
		return unsupported(r, "replicas_schedule");
	if (r->s->autoscalers[i].type != SC_NONE)
		return unsupported(r, "an autoscaler");
	if (c->cold_start)
		return unsupported(r, "cold_start (pod startup)");
	if (c->replicas < 1)
		return unsupported(r, "a deployment with zero replicas (scale from zero)");
	if (c->hardware.n > 1)
		return unsupported(r, "more than one hardware variant");

	cfg_ctx_init(&cc, &r->s->doc, &r->err);
	snprintf(key, sizeof(key), "deployments[%zu].model", i);
	at = cfg_lookup(r->s->doc.root, key);
	snprintf(cc.path, sizeof(cc.path), "%s", key);
	if (!(dp->llm = perf_find_llm(&cc, at, c->model, &r->s->catalog)))
		return -1;
	snprintf(key, sizeof(key), "deployments[%zu].%s", i, c->gpu ? "gpu" : "hardware[0].gpu");
	at = cfg_lookup(r->s->doc.root, key);
	snprintf(cc.path, sizeof(cc.path), "%s", key);
	if (!(dp->gpu = perf_find_gpu(&cc, at, hw->gpu, &r->s->catalog)))
		return -1;

	tp = (int)(c->engine.tensor_parallel_size ? c->engine.tensor_parallel_size
			   : hw->tensor_parallel_size ? hw->tensor_parallel_size : hw->count);
	dp->gpus_per_replica = (int)hw->count > tp ? (int)hw->count : tp;
	/* dtype auto: the checkpoint's (a GPU without FP8 runs FP8 weights at 16 bits) */
	dtype = c->engine.dtype == SRV_DTYPE_AUTO ? dp->llm->dtype : c->engine.dtype - 1;
	kvd = c->engine.kv_cache_dtype == SRV_DTYPE_AUTO ? dtype : c->engine.kv_cache_dtype - 1;
	if (perf_model_init(&dp->perf, dp->gpu, dp->llm, tp, dtype, kvd, &c->perf, &r->err))
		return -1;
	if (c->perf.model == PERF_PROFILE && perf_profile_load(&dp->perf, c->perf.path, &r->err))
		return -1;
	dp->sp.engine = c->engine;
	dp->sp.engine.tensor_parallel_size = tp;
	if (!dp->sp.engine.max_model_len)
		dp->sp.engine.max_model_len = dp->llm->context_length;
	dp->sp.perf = &dp->perf;
	dp->sp.fast_stepping = r->fast;
	blocks = srv_kv_blocks(&dp->sp.engine, &dp->perf, &r->err);
	if (blocks < 0) {
		char msg[sizeof(r->err.msg)];
		snprintf(msg, sizeof(msg), "%s", r->err.msg);
		sim_err_clear(&r->err);
		return sim_err_set(&r->err, SIM_EINPUT, "deployment '%s': %s", c->name, msg);
	}
	dp->sp.num_blocks = blocks;
	if (rt_router_init(&dp->router, &r->s->router, c->name, (uint64_t)r->s->seed, &r->err))
		return -1;
	dp->n = (size_t)c->replicas;
	dp->replicas = xcalloc(dp->n, sizeof(*dp->replicas));
	for (size_t k = 0; k < dp->n; k++) {
		struct srv_hooks h = {r, NULL, on_finished};
		dp->replicas[k] = srv_new(&r->sim, &dp->sp, (int32_t)k, &h);
	}
	return 0;
}

static int build(struct run *r)
{
	if (r->s->has_cluster)
		return unsupported(r, "a cluster with node pools");
	r->ndeps = r->s->deployments.n;
	r->deps = xcalloc(r->ndeps, sizeof(*r->deps));
	for (size_t i = 0; i < r->ndeps; i++)
		if (build_deployment(r, i))
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
	return 0;
}

static void teardown(struct run *r)
{
	for (size_t i = 0; i < r->ndeps; i++) {
		struct dep *dp = &r->deps[i];
		for (size_t k = 0; k < dp->n; k++)
			srv_free(dp->replicas[k]);
		free(dp->replicas);
		rt_router_release(&dp->router);
		perf_model_release(&dp->perf);
	}
	free(r->deps);
	for (size_t i = 0; i < r->nsources; i++)
		wl_source_release(&r->sources[i].w);
	free(r->sources);
	/* requests still inside replicas hold prefix-block arrays */
	for (struct req *x = r->live_head; x; x = x->next) {
		free(x->q.hblocks);
		free(x->ids);
	}
	free(r->wsum);
	sim_pool_release(&r->reqs);
	rep_sketch_free(&r->ttft);
	rep_sketch_free(&r->tpot);
	rep_sketch_free(&r->e2e);
	rep_sketch_free(&r->queue);
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
	for (size_t d = 0; d < r->ndeps; d++) {
		struct dep *dp = &r->deps[d];
		for (size_t k = 0; k < dp->n; k++) {
			struct srv_stats st;
			srv_stats(dp->replicas[k], &st);
			/* a replica's step keeps all of its GPUs busy */
			r->busy_s += sim_time_to_s(st.busy_time) * dp->gpus_per_replica;
		}
		gpus += (double)dp->n * dp->gpus_per_replica;
		replicas += (double)dp->n;
		kv += dp->kv_sum;
		samples += dp->samples;
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
	s->gpu_busy = span > 0 && gpus > 0 ? r->busy_s / (gpus * span) : 0;
	s->kv_usage_mean = samples ? kv / (double)samples : 0;
	s->replicas_mean = replicas;
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
}

int cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	struct run r;
	double t0;
	int rc;

	if ((rc = cli_load(argc, argv, "run", "seed set out quiet step-by-step trace trace-format", &o, &s)))
		return rc;
	if (o.has_seed)
		s.seed = (int64_t)o.seed;

	t0 = wall_now();
	memset(&r, 0, sizeof(r));
	r.s = &s;
	r.fast = !o.step_by_step;
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
	if ((o.out && open_results(&r, o.out)) || build(&r))
		goto fail;
	/* Arrivals stop at duration; in-flight work drains until drain_timeout. */
	sim_run(&r.sim, s.duration + s.drain_timeout);
	if (r.err.kind)
		goto fail;
	r.sum.scenario = s.name;
	r.sum.seed = (uint64_t)s.seed;
	r.sum.sim_time = r.sim.now > s.duration ? r.sim.now : s.duration;
	r.sum.events_processed = r.sim.events_processed;
	summarise(&r);
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
	teardown(&r);
	sim_release(&r.sim);
early:
	scn_release(&s);
	cli_opts_release(&o);
	return rc;
}
