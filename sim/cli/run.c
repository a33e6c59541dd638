/*
 * `servesim run`: options, the output files and the terminal. The
 * simulation itself is sim/run's.
 */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double cli_wall_now(void)
{
	/* Wall time only ever reaches wall_time_s, never a simulated result. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A YAML single-quoted scalar (for a --set value). */
static char *yaml_quote(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *q = xmalloc(2 * n + 3);
	q[k++] = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			q[k++] = '\'';
		q[k++] = *s;
	}
	q[k++] = '\'';
	q[k] = '\0';
	return q;
}

/*
 * --trace and --trace-format replace the first trace workload's file and
 * format: they become overrides like --set ones, so the scenario stored in
 * results.h5 and hashed in provenance is the one that ran. 0, or the exit
 * status after printing the problem.
 */
static int apply_trace(struct cli_opts *o, struct scenario *s, char **extra)
{
	size_t w = scn_first_trace(s), n = o->nsets;
	const char **sets;
	struct sim_err err;
	int rc = 0;
	if (w == SIZE_MAX) {
		fprintf(stderr, "servesim run: --trace needs a workload with a trace: section to replace\n");
		return 2;
	}
	if (o->trace_format) {
		size_t k = 0;
		while (wl_trace_format_names[k] && strcmp(wl_trace_format_names[k], o->trace_format))
			k++;
		if (!wl_trace_format_names[k]) {
			fprintf(stderr, "servesim run: --trace-format: expected one of");
			for (k = 0; wl_trace_format_names[k]; k++)
				fprintf(stderr, "%s %s", k ? "," : "", wl_trace_format_names[k]);
			fprintf(stderr, "; got '%s'\n", o->trace_format);
			return 2;
		}
		extra[1] = xasprintf("workloads[%zu].trace.format=%s", w, o->trace_format);
	}
	if (o->trace) { /* absolute, so that the stored scenario runs from anywhere */
		char abs[PATH_MAX], *q;
		q = yaml_quote(realpath(o->trace, abs) ? abs : o->trace);
		extra[0] = xasprintf("workloads[%zu].trace.path=%s", w, q);
		free(q);
	}
	sets = xcalloc(n + 3, sizeof(*sets));
	if (n)
		memcpy(sets, o->sets, n * sizeof(*sets));
	for (int i = 0; i < 2; i++)
		if (extra[i])
			sets[n++] = extra[i];
	scn_release(s);
	sim_err_clear(&err);
	if (scn_load(s, o->scenario, sets, n, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		rc = sim_err_exit_code(&err);
	}
	free(sets);
	return rc;
}

int cli_open_results(struct scenario *s, const char *dir, struct rep_results **out, struct sim_err *err)
{
	char *path, *yaml;
	int rc;
	if (rep_mkdir_p(dir, err))
		return -1;
	path = xasprintf("%s/results.h5", dir);
	*out = rep_results_open(path, s->report.outputs.requests, err);
	free(path);
	if (!*out)
		return -1;
	yaml = scn_resolved_yaml(s);
	rc = rep_results_set_scenario(*out, yaml);
	free(yaml);
	if (rc)
		return sim_err_set(err, SIM_EIO, "%s/results.h5: cannot write the scenario attribute", dir);
	return 0;
}

int cli_write_summary(const struct rep_summary *sum, const char *dir, struct sim_err *err)
{
	struct rep_json j;
	char *path;
	int rc;
	rep_json_init(&j);
	rep_summary_json(sum, &j);
	path = xasprintf("%s/summary.json", dir);
	rc = rep_write_file(path, j.buf, j.len, err);
	free(path);
	rep_json_release(&j);
	return rc;
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

static int run_with_progress(struct run *r, bool tty, double t0, struct sim_err *err)
{
	sim_time end = run_end(r);
	bool shown = false;
	int rc = 0;
	for (int k = 1; tty && k <= 200; k++) {
		double wall;
		if ((rc = run_until(r, k == 200 ? end : end / 200 * k, err)) || run_stopped(r))
			break;
		wall = cli_wall_now() - t0;
		if (wall >= 1.0 || shown) {
			char a[48], b[48], bar[41];
			int fill = k / 5;
			for (int i = 0; i < 40; i++)
				bar[i] = i < fill ? '=' : ' ';
			bar[40] = '\0';
			hms(run_now(r), a, sizeof(a));
			hms(end, b, sizeof(b));
			fprintf(stderr, "\r[%s] %3d%% %s of %s simulated, %.0fx real time", bar, k / 2, a, b,
				sim_time_to_s(run_now(r)) / wall);
			shown = true;
		}
	}
	if (shown)
		fprintf(stderr, "\r\033[K");
	return rc ? rc : run_finish(r, err);
}

int cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	struct run_options ro;
	struct run *r = NULL;
	struct rep_results *res = NULL;
	struct rep_om *om = NULL;
	struct rep_summary *sum;
	struct sim_err err;
	char *extra[2] = {NULL, NULL};
	bool committed = false, committed_summary = false;
	double t0;
	int rc;

	if ((rc = cli_load(argc, argv, "run", "seed seeds set out quiet step-by-step trace trace-format explain openmetrics strict", &o, &s)))
		return rc;
	if ((o.trace || o.trace_format) && (rc = apply_trace(&o, &s, extra)))
		goto early;
	if (o.has_seeds) {
		rc = cli_run_seeds(&o, &s);
		goto early;
	}
	sim_err_clear(&err);
	if (o.has_seed && scn_set_seed(&s, o.seed, &err)) {
		fprintf(stderr, "servesim run: --seed: %s\n", err.msg);
		rc = 2;
		goto early;
	}

	t0 = cli_wall_now();
	memset(&ro, 0, sizeof(ro));
	ro.step_by_step = o.step_by_step;
	ro.explain = o.explain ? stderr : NULL;
	if (o.openmetrics) {
		double epoch = 0;
		rep_parse_rfc3339(s.report.outputs.openmetrics_epoch, &epoch); /* checked when loaded */
		ro.om = om = rep_om_new(epoch);
	}
	if (o.out && cli_open_results(&s, o.out, &res, &err))
		goto fail;
	ro.results = res;
	if (!(r = run_new(&s, &ro, &err)) || run_with_progress(r, !o.quiet && isatty(2), t0, &err))
		goto fail;
	/* all of the outputs or none: what was committed goes when a later one fails */
	rc = rep_results_close(res, true, &err);
	committed = res != NULL;
	res = NULL;
	if (rc)
		goto fail;
	sum = run_summary(r);
	sum->wall_time_s = cli_wall_now() - t0;
	if (o.out && cli_write_summary(sum, o.out, &err))
		goto fail;
	committed_summary = o.out != NULL;
	if (om && rep_om_write(om, o.openmetrics, &err))
		goto fail;
	if (!o.quiet)
		cli_print_summary(sum);
	/* --strict: a violated score constraint fails the run, its outputs written */
	rc = o.strict && sum->has_score && !sum->feasible ? CLI_EXIT_REGRESSION : 0;
	goto out;
fail:
	fprintf(stderr, "%s\n", err.msg);
	rc = sim_err_exit_code(&err);
	if (res) {
		struct sim_err ignore;
		sim_err_clear(&ignore);
		rep_results_close(res, false, &ignore);
	}
	for (int i = 0; i < 2; i++)
		if (i ? committed_summary : committed) {
			char *p = xasprintf("%s/%s", o.out, i ? "summary.json" : "results.h5");
			unlink(p);
			free(p);
		}
out:
	run_free(r);
	rep_om_free(om);
early:
	free(extra[0]);
	free(extra[1]);
	scn_release(&s);
	cli_opts_release(&o);
	return rc;
}
