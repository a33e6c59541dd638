/*
 * Designs: which points of the parameter space run. A grid takes every
 * combination (the first parameter varies slowest, as nested loops in the
 * order written); random, Sobol (GSL's quasi-random sequence) and Latin
 * hypercube designs place `samples` points in the unit cube and map each
 * coordinate onto its parameter: a list by index, a stepped range onto its
 * levels, a log range log-uniformly, an int range onto its integers.
 */
#include "exp.h"

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Levels of a discrete parameter (0: continuous). */
static size_t levels(const struct exp_param *p)
{
	if (p->kind == EXP_VALUES)
		return p->nvalues;
	if (p->step > 0)
		return (size_t)floor((p->hi - p->lo) / p->step + 1e-9) + 1;
	return 0;
}

static char *fmt_num(double v)
{
	char buf[40];
	if (v == floor(v) && fabs(v) < 9e15)
		snprintf(buf, sizeof(buf), "%.0f", v);
	else /* 12 significant digits: steps of 0.1 give 0.3, not 0.30000000000000004 */
		snprintf(buf, sizeof(buf), "%.12g", v);
	return xstrdup(buf);
}

static char *level_text(const struct exp_param *p, size_t i)
{
	if (p->kind == EXP_VALUES)
		return xstrdup(p->values[i]);
	return fmt_num(p->lo + (double)i * p->step);
}

/* u in [0, 1) onto the parameter. */
static char *map_unit(const struct exp_param *p, double u)
{
	size_t k = levels(p);
	if (k) {
		size_t i = (size_t)floor(u * (double)k);
		return level_text(p, i < k ? i : k - 1);
	}
	if (p->log)
		return fmt_num(exp(log(p->lo) + u * (log(p->hi) - log(p->lo))));
	return fmt_num(p->lo + u * (p->hi - p->lo));
}

int exp_design_points(const struct exp_file *e, struct exp_points *out, struct sim_err *err)
{
	size_t d = e->nparams, n = 1;
	memset(out, 0, sizeof(*out));
	out->nparams = d;
	if (e->design == EXP_GRID) {
		for (size_t j = 0; j < d; j++) {
			size_t k = levels(&e->params[j]);
			if (n > 10000000 / k)
				return sim_err_at(err, e->path, e->params[j].at->pos.line, e->params[j].at->pos.col,
						  "the grid has more than 10 million points");
			n *= k;
		}
		out->n = n;
		out->value = xcalloc(n * d + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			size_t rest = i;
			for (size_t j = d; j-- > 0;) { /* the last parameter varies fastest */
				size_t k = levels(&e->params[j]);
				out->value[i * d + j] = level_text(&e->params[j], rest % k);
				rest /= k;
			}
		}
		return 0;
	}
	n = (size_t)e->samples;
	out->n = n;
	out->value = xcalloc(n * d + 1, sizeof(char *));
	if (e->design == EXP_SOBOL) {
		gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)d);
		double *x = xcalloc(d, sizeof(double));
		for (size_t i = 0; i < n; i++) {
			gsl_qrng_get(q, x);
			for (size_t j = 0; j < d; j++)
				out->value[i * d + j] = map_unit(&e->params[j], x[j]);
		}
		free(x);
		gsl_qrng_free(q);
		return 0;
	}
	{
		struct sim_rng *r = sim_rng_new((uint64_t)e->design_seed, e->design == EXP_LHS ? "exp/lhs" : "exp/random");
		if (e->design == EXP_RANDOM) {
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < d; j++)
					out->value[i * d + j] = map_unit(&e->params[j], sim_rng_uniform(r));
		} else { /* Latin hypercube: each parameter's n strata, each once, in a shuffled order */
			size_t *perm = xcalloc(n, sizeof(size_t));
			for (size_t j = 0; j < d; j++) {
				for (size_t i = 0; i < n; i++)
					perm[i] = i;
				gsl_ran_shuffle(sim_rng_gsl(r), perm, n, sizeof(size_t));
				for (size_t i = 0; i < n; i++)
					out->value[i * d + j] =
						map_unit(&e->params[j], ((double)perm[i] + sim_rng_uniform(r)) / (double)n);
			}
			free(perm);
		}
		sim_rng_free(r);
	}
	return 0;
}

void exp_points_release(struct exp_points *p)
{
	for (size_t i = 0; p->value && i < p->n * p->nparams; i++)
		free(p->value[i]);
	free(p->value);
	memset(p, 0, sizeof(*p));
}

char **exp_point_sets(const struct exp_file *e, const struct exp_points *p, size_t point)
{
	char **sets = xcalloc(e->nparams + 1, sizeof(char *));
	for (size_t j = 0; j < e->nparams; j++)
		sets[j] = xasprintf("%s=%s", e->params[j].path, p->value[point * p->nparams + j]);
	return sets;
}
