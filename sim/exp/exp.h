/*
 * sim/exp: experiments, many runs turned into a decision. Owns the
 * experiment file (scenario, seeds, design, parameters, objectives), the
 * designs (grid, random, sobol, lhs), running point x seed rows through
 * sim/run (in process and in worker processes), shards and their merge,
 * statistics over seeds (mean, 95 % confidence interval, paired
 * comparisons over common seeds), the Pareto front, comparisons and
 * regression gates.
 *
 * Invariants:
 *  - A row (point p, seed s) is what `servesim run SCENARIO --seed s --set
 *    ...` gives for that point: same summary, leaf by leaf.
 *  - Every point runs with the same seeds (common random numbers).
 *  - Tables come out in (point, seed) order whatever the number of
 *    workers, shards or resumptions that made them.
 */
#ifndef SIM_EXP_H
#define SIM_EXP_H

#include "../run/run.h"

/* ---- a summary as numbers ---- */

/*
 * Every numeric leaf of a summary.json by its dotted path, in document
 * order ("requests.arrived", "ttft_s.p99", "slo.classes.default.attainment",
 * "deployments.chat.replicas_mean"): numbers as they are, null as NaN,
 * booleans as 0/1; strings and arrays are left out, and so is wall_time_s
 * (the one field that differs between identical runs).
 */
struct exp_leaves {
	char **path;
	double *v;
	size_t n, cap;
};
void exp_leaves_init(struct exp_leaves *l);
void exp_leaves_release(struct exp_leaves *l);
void exp_leaves_add(struct exp_leaves *l, const char *path, double v);
/* From summary.json text; -1 with err ("NAME: ...") when it is not JSON. */
int exp_leaves_from_json(struct exp_leaves *l, const char *name, const char *json, size_t len,
			 struct sim_err *err);
/* From a run's summary (rendered as summary.json, then flattened). */
void exp_leaves_from_summary(struct exp_leaves *l, const struct rep_summary *s);
/* The value at path; false when there is none. */
bool exp_leaves_get(const struct exp_leaves *l, const char *path, double *v);

/* ---- statistics over seeds ---- */

/* n values: mean, sample standard deviation, and the half-width of the 95 %
 * confidence interval of the mean (Student t with n - 1 degrees of freedom;
 * NaN when n < 2). NaN values are left out. */
struct exp_stat {
	size_t n;
	double mean, sd, half;
};
void exp_stat_of(const double *v, size_t n, struct exp_stat *out);

/* b - a over common seeds (pairs where both are numbers): the mean
 * difference, its 95 % CI half-width, and whether the interval excludes 0. */
struct exp_paired {
	size_t n;
	double diff, half;
	bool significant;
};
void exp_paired_of(const double *a, const double *b, size_t n, struct exp_paired *out);

#endif
