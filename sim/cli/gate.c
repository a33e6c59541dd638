/*
 * `servesim baseline` and `servesim check`: options, the baseline file, the
 * JUnit and markdown reports and the verdict on the terminal. The runs and
 * the gate itself are sim/exp's (exp_run_seeds, exp_gate_check).
 */
#include "cli.h"
#include "../exp/exp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct first {
	struct rep_json json; /* the first seed's summary.json */
	double t0;
	bool have;
};

static int before(void *ud, uint64_t seed, struct run_options *ro, struct sim_err *err)
{
	(void)seed;
	(void)ro;
	(void)err;
	((struct first *)ud)->t0 = cli_wall_now();
	return 0;
}

static int after(void *ud, struct rep_summary *sum, struct sim_err *err)
{
	struct first *f = ud;
	(void)err;
	sum->wall_time_s = cli_wall_now() - f->t0;
	if (!f->have)
		rep_summary_json(sum, &f->json);
	f->have = true;
	return 0;
}

/* Runs the seeds given (list) or s0 .. s0+n-1; 0 or the exit status. */
static int run_seeds(const char *cmd, struct scenario *s, const uint64_t *list, uint64_t s0,
		     size_t n, struct first *f, struct exp_seeds *x)
{
	struct exp_run_hooks h = {before, after, f};
	struct sim_err err;
	int rc = 0;
	sim_err_clear(&err);
	if (list) {
		for (size_t i = 0; i < n && !rc; i++)
			rc = exp_run_seeds(s, list[i], 1, &h, x, &err);
	} else {
		rc = exp_run_seeds(s, s0, n, &h, x, &err);
	}
	if (rc) {
		fprintf(stderr, "servesim %s: %s\n", cmd, err.msg);
		return sim_err_exit_code(&err);
	}
	return 0;
}

int cmd_baseline(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	struct exp_seeds x;
	struct first f;
	struct sim_err err;
	int rc;

	if ((rc = cli_load(argc, argv, "baseline", "seed seeds set out quiet", &o, &s)))
		return rc;
	exp_seeds_init(&x);
	rep_json_init(&f.json);
	f.have = false;
	if (!o.out) {
		fprintf(stderr, "servesim baseline: --out FILE is required\n");
		rc = 2;
		goto out;
	}
	if ((rc = run_seeds("baseline", &s, NULL, o.has_seed ? o.seed : (uint64_t)s.seed,
			    o.has_seeds ? o.seeds : 1, &f, &x)))
		goto out;
	sim_err_clear(&err);
	if (x.n > 1) { /* several seeds: seeds.json; one: its summary.json */
		rep_json_release(&f.json);
		rep_json_init(&f.json);
		exp_seeds_json(&x, &f.json);
	}
	if (cli_write_buf(o.out, &f.json, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		rc = sim_err_exit_code(&err);
		goto out;
	}
	if (!o.quiet)
		printf("servesim baseline: %s, %zu seed%s from %llu, in %s\n", x.scenario, x.n,
		       x.n == 1 ? "" : "s", (unsigned long long)x.seed[0], o.out);
out:
	rep_json_release(&f.json);
	exp_seeds_release(&x);
	scn_release(&s);
	cli_opts_release(&o);
	return rc;
}

static int write_report(const char *path, struct rep_json *j)
{
	struct sim_err err;
	sim_err_clear(&err);
	if (cli_write_buf(path, j, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return sim_err_exit_code(&err);
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	struct exp_seeds base, now;
	struct exp_tol *tols = NULL;
	struct exp_gate g;
	struct first f;
	struct sim_err err;
	char line[640];
	int rc;

	if ((rc = cli_load(argc, argv, "check", "seed seeds set baseline tolerance junit markdown quiet", &o, &s)))
		return rc;
	exp_seeds_init(&base);
	exp_seeds_init(&now);
	rep_json_init(&f.json);
	f.have = false;
	memset(&g, 0, sizeof(g));
	sim_err_clear(&err);
	if (!o.baseline) {
		fprintf(stderr, "servesim check: --baseline FILE is required\n");
		rc = 2;
		goto out;
	}
	if (exp_seeds_load(&base, o.baseline, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		rc = 2;
		goto out;
	}
	tols = xcalloc(o.ntols + 1, sizeof(*tols));
	for (size_t i = 0; i < o.ntols; i++)
		if (exp_tol_parse(o.tols[i], &tols[i], &err)) {
			fprintf(stderr, "servesim check: %s\n", err.msg);
			rc = 2;
			goto out;
		}
	if (base.scenario[0] && s.name && strcmp(base.scenario, s.name))
		fprintf(stderr, "servesim check: warning: the baseline is of scenario '%s', this is '%s'\n",
			base.scenario, s.name);
	/* the baseline's own seeds unless told otherwise: paired over the same seeds */
	if (!o.has_seed && !o.has_seeds)
		rc = run_seeds("check", &s, base.seed, 0, base.n, &f, &now);
	else
		rc = run_seeds("check", &s, NULL, o.has_seed ? o.seed : base.seed[0],
			       o.has_seeds ? o.seeds : base.n, &f, &now);
	if (rc)
		goto out;
	if (exp_gate_check(&base, &now, tols, o.ntols, &g, &err)) {
		fprintf(stderr, "servesim check: %s\n", err.msg);
		rc = 2;
		goto out;
	}
	if (o.junit) {
		struct rep_json j;
		rep_json_init(&j);
		exp_gate_junit(&g, s.name ? s.name : "servesim check", &j);
		rc = write_report(o.junit, &j);
		rep_json_release(&j);
		if (rc)
			goto out;
	}
	if (o.markdown) {
		struct rep_json j;
		rep_json_init(&j);
		exp_gate_markdown(&g, &j);
		rc = write_report(o.markdown, &j);
		rep_json_release(&j);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < g.n; i++) {
		exp_gate_describe(&g.row[i], line, sizeof(line));
		if (g.row[i].regressed)
			fprintf(stderr, "REGRESSED %s\n", line);
		else if (!o.quiet)
			printf("ok        %s\n", line);
	}
	if (g.nregressed) {
		fprintf(stderr, "servesim check: %zu of %zu metrics regressed against %s:", g.nregressed, g.n,
			o.baseline);
		for (size_t i = 0; i < g.n; i++)
			if (g.row[i].regressed)
				fprintf(stderr, " %s", g.row[i].path);
		fprintf(stderr, "\n");
		rc = CLI_EXIT_REGRESSION;
	} else if (!o.quiet) {
		printf("servesim check: %zu metrics within tolerance of %s (%zu seed%s)\n", g.n, o.baseline,
		       now.n, now.n == 1 ? "" : "s");
	}
out:
	exp_gate_release(&g);
	free(tols);
	rep_json_release(&f.json);
	exp_seeds_release(&base);
	exp_seeds_release(&now);
	scn_release(&s);
	cli_opts_release(&o);
	return rc;
}
