/*
 * `servesim run`: load, simulate, report. The rooms plug into the loop as
 * they land; the foundation runs the kernel to the end of the scenario and
 * writes the outputs through report.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run {
	struct scenario *s;
	struct sim sim;
	struct rep_summary sum;
	sim_time arrivals_end;
};

static void on_arrivals_end(struct sim *sim, void *ctx, uint64_t arg)
{
	struct run *r = ctx;
	(void)arg;
	r->arrivals_end = sim->now;
	sim_log(SIM_LOG_DEBUG, "arrivals end");
}

static double wall_now(void)
{
	/* Wall time only ever reaches wall_time_s, never a simulated result. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_outputs(struct run *r, const char *dir, struct sim_err *err)
{
	struct rep_json j;
	char *path, *yaml;
	struct rep_results *res;
	int rc;

	if (rep_mkdir_p(dir, err))
		return -1;
	path = xasprintf("%s/results.h5", dir);
	res = rep_results_open(path, err);
	free(path);
	if (!res)
		return -1;
	yaml = cfg_to_yaml(r->s->doc.root);
	rc = rep_results_set_scenario(res, yaml);
	free(yaml);
	if (rc) {
		rep_results_close(res, false, err);
		return sim_err_set(err, SIM_EIO, "%s/results.h5: cannot write the scenario attribute", dir);
	}
	if (rep_results_close(res, true, err))
		return -1;

	rep_json_init(&j);
	rep_summary_json(&r->sum, &j);
	path = xasprintf("%s/summary.json", dir);
	rc = rep_write_file(path, j.buf, j.len, err);
	free(path);
	rep_json_release(&j);
	return rc;
}

static void print_summary(const struct run *r)
{
	const struct rep_summary *s = &r->sum;
	char tb[48];
	printf("servesim %s: scenario %s, seed %llu\n", SERVESIM_VERSION, s->scenario,
	       (unsigned long long)s->seed);
	printf("  %-12s %s simulated in %.3f s wall, %llu events\n", "time",
	       sim_time_fmt(s->sim_time, tb, sizeof(tb)), s->wall_time_s,
	       (unsigned long long)s->events_processed);
	printf("  %-12s arrived %lld  completed %lld  failed %lld  dropped %lld  in flight %lld\n",
	       "requests", (long long)s->requests.arrived, (long long)s->requests.completed,
	       (long long)s->requests.failed, (long long)s->requests.dropped,
	       (long long)s->requests.in_flight_at_end);
}

int cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	struct sim_err err;
	struct run r;
	double t0;
	int rc;

	if ((rc = cli_load(argc, argv, "run", "seed set out quiet", &o, &s)))
		return rc;
	sim_err_clear(&err);
	if (o.has_seed)
		s.seed = (int64_t)o.seed;

	t0 = wall_now();
	memset(&r, 0, sizeof(r));
	r.s = &s;
	sim_init(&r.sim, (uint64_t)s.seed);
	sim_schedule(&r.sim, s.duration, on_arrivals_end, &r, 0);
	/* Arrivals stop at duration; in-flight work drains until drain_timeout. */
	sim_run(&r.sim, s.duration + s.drain_timeout);
	if (r.sim.now < s.duration)
		r.sim.now = s.duration;

	r.sum.scenario = s.name;
	r.sum.seed = (uint64_t)s.seed;
	r.sum.sim_time = r.sim.now;
	r.sum.events_processed = r.sim.events_processed;
	r.sum.wall_time_s = wall_now() - t0;

	rc = 0;
	if (o.out && write_outputs(&r, o.out, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		rc = sim_err_exit_code(&err);
	}
	if (!rc && !o.quiet)
		print_summary(&r);
	sim_release(&r.sim);
	scn_release(&s);
	cli_opts_release(&o);
	return rc;
}
