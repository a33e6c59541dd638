/*
 * `servesim run --seeds N`: the runs are sim/exp's (exp_run_seeds); here,
 * each seed's outputs (DIR/seed-<s>/), its line on the terminal, the table
 * of means and DIR/seeds.json.
 */
#include "cli.h"
#include "../exp/exp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_write_buf(const char *path, const struct rep_json *j, struct sim_err *err)
{
	return rep_write_file(path, j->buf ? j->buf : "", j->len, err);
}

struct seeds_ctx {
	const struct cli_opts *o;
	struct scenario *s;
	struct rep_results *res; /* the current seed's, until committed */
	char *dir;
	double t0;
};

static int before(void *ud, uint64_t seed, struct run_options *ro, struct sim_err *err)
{
	struct seeds_ctx *c = ud;
	c->t0 = cli_wall_now();
	ro->step_by_step = c->o->step_by_step;
	ro->explain = c->o->explain ? stderr : NULL;
	if (!c->o->out)
		return 0;
	free(c->dir);
	c->dir = xasprintf("%s/seed-%llu", c->o->out, (unsigned long long)seed);
	if (cli_open_results(c->s, c->dir, &c->res, err))
		return -1;
	ro->results = c->res;
	return 0;
}

static int after(void *ud, struct rep_summary *sum, struct sim_err *err)
{
	struct seeds_ctx *c = ud;
	int rc = 0;
	if (c->res) {
		rc = rep_results_close(c->res, true, err);
		c->res = NULL;
	}
	sum->wall_time_s = cli_wall_now() - c->t0;
	if (!rc && c->o->out && cli_write_summary(sum, c->dir, err)) {
		char *p = xasprintf("%s/results.h5", c->dir); /* a seed's outputs: both or none */
		unlink(p);
		free(p);
		rc = -1;
	}
	if (rc || c->o->quiet)
		return rc;
	printf("seed %-6llu ttft p50 %.4f p99 %.4f s  tpot p99 %.4f s  attainment %.4f  $%.2f",
	       (unsigned long long)sum->seed, sum->ttft.p50, sum->ttft.p99, sum->tpot.p99,
	       sum->attainment, sum->cost_usd);
	if (sum->has_score && sum->feasible)
		printf("  score %.6g", sum->score);
	else if (sum->has_score)
		printf("  score infinite (%zu constraint%s violated)", sum->nviolated,
		       sum->nviolated == 1 ? "" : "s");
	printf("\n");
	fflush(stdout);
	return 0;
}

static void print_means(const struct exp_seeds *x)
{
	double *v = xmalloc(x->n * sizeof(*v));
	printf("%zu seeds, mean +- 95 %% CI half-width (Student t):\n", x->n);
	for (size_t i = 0; exp_headline[i]; i++) {
		struct exp_stat st;
		if (!exp_seeds_values(x, exp_headline[i], v))
			continue;
		exp_stat_of(v, x->n, &st);
		if (!st.n)
			continue; /* null in every seed: score without a score: block */
		printf("  %-32s %12.6g +- %-12.4g (n %zu, sd %.4g)\n", exp_headline[i], st.mean, st.half,
		       st.n, st.sd);
	}
	free(v);
}

int cli_run_seeds(const struct cli_opts *o, struct scenario *s)
{
	struct seeds_ctx c = {o, s, NULL, NULL, 0};
	struct exp_run_hooks h = {before, after, &c};
	struct exp_seeds x;
	struct sim_err err;
	int rc = 0;

	if (o->openmetrics) {
		fprintf(stderr, "servesim run: --openmetrics writes one run's series; not with --seeds\n");
		return 2;
	}
	sim_err_clear(&err);
	exp_seeds_init(&x);
	if (exp_run_seeds(s, o->has_seed ? o->seed : (uint64_t)s->seed, o->seeds, &h, &x, &err)) {
		if (c.res)
			rep_results_close(c.res, false, &(struct sim_err){0});
		fprintf(stderr, "servesim run: %s\n", err.msg);
		rc = sim_err_exit_code(&err);
		goto out;
	}
	if (o->out) { /* only when every seed ran */
		struct rep_json j;
		char *p = xasprintf("%s/seeds.json", o->out);
		rep_json_init(&j);
		exp_seeds_json(&x, &j);
		rc = cli_write_buf(p, &j, &err);
		rep_json_release(&j);
		free(p);
		if (rc) {
			fprintf(stderr, "%s\n", err.msg);
			rc = sim_err_exit_code(&err);
			goto out;
		}
	}
	if (!o->quiet)
		print_means(&x);
	if (o->strict && !exp_seeds_all_feasible(&x)) {
		for (size_t i = 0; i < x.n; i++)
			if (!x.feasible[i])
				fprintf(stderr, "servesim run: seed %llu violates a score constraint\n",
					(unsigned long long)x.seed[i]);
		rc = CLI_EXIT_REGRESSION;
	}
out:
	free(c.dir);
	exp_seeds_release(&x);
	return rc;
}
