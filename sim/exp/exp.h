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

/* ---- the experiment file ---- */

enum exp_design { EXP_GRID, EXP_RANDOM, EXP_SOBOL, EXP_LHS };
enum exp_param_kind { EXP_VALUES, EXP_RANGE, EXP_INT };

/* One swept key: a --set path and the values it takes. */
struct exp_param {
	const char *path;
	const struct cfg_node *at; /* where it is written, for messages */
	int kind;                  /* enum exp_param_kind */
	const char **values;       /* EXP_VALUES: each as YAML text */
	size_t nvalues;
	double lo, hi, step;       /* EXP_RANGE (step 0: continuous), EXP_INT */
	bool log;                  /* EXP_RANGE: log-uniform */
};

struct exp_objective {
	const char *path; /* a summary.json leaf */
	bool maximize;    /* written with a leading '-' */
};

struct exp_file {
	struct cfg_doc doc;
	const char *path;     /* the experiment file */
	const char *scenario; /* resolved relative to the experiment file */
	int64_t *seeds;       /* the seeds every point runs with */
	size_t nseeds;
	int design;           /* enum exp_design */
	int64_t samples;      /* random, sobol, lhs */
	int64_t design_seed;  /* random, lhs: the design's own stream */
	struct exp_param *params;
	size_t nparams;
	struct exp_objective *objectives;
	size_t nobjectives;
};

/* Loads and checks an experiment file: its scenario loads, every parameter
 * path and value is one the scenario accepts (checked with the first and
 * last of its values), and the design can be made. -1 with
 * "file:line:col: ..." in err. */
int exp_load(struct exp_file *e, const char *path, struct sim_err *err);
void exp_release(struct exp_file *e);

/* The design's points: value[point * nparams + param] is the YAML text of
 * the --set value (numbers in their shortest exact form). */
struct exp_points {
	size_t n, nparams;
	char **value;
};
int exp_design_points(const struct exp_file *e, struct exp_points *out, struct sim_err *err);
void exp_points_release(struct exp_points *p);
/* "path=value" assignments of a point (malloc'd strings, nparams of them). */
char **exp_point_sets(const struct exp_file *e, const struct exp_points *p, size_t point);

/* ---- rows and sweeps ---- */

/* One row: a point run with one seed. */
struct exp_row {
	size_t point;
	int64_t seed;
	bool ok;
	char *error;        /* why it failed (bad value, broken trace...) */
	char **param, **value; /* the point's --set paths and values */
	size_t nparams, pcap;
	double feasible;    /* the score's constraints held: 1 or 0; NaN: no score */
	struct exp_leaves leaves;
};
/* Runs point x seed in this process; keep_dir: also DIR/runs/p<P>-s<S>/
 * summary.json and results.h5. A failure is a row with ok false. */
void exp_run_row(const struct exp_file *e, const struct exp_points *p, size_t point, int64_t seed,
		 const char *keep_dir, struct exp_row *w);
void exp_row_release(struct exp_row *w);
int exp_row_write(const char *dir, const struct exp_row *w, struct sim_err *err);
int exp_row_read(const char *path, struct exp_row *w, struct sim_err *err);

struct exp_sweep_opts {
	const char *out;      /* DIR */
	int jobs;             /* worker processes */
	size_t shard, nshards; /* rows i with i % nshards == shard (row i: point i / nseeds, seed i % nseeds) */
	bool resume;          /* skip rows whose row file exists */
	bool keep_runs;       /* per-run summary.json and results.h5 */
};
struct exp_sweep_result {
	size_t rows, rows_run, failed; /* in the tables; run now; failed among them */
	char **failures;               /* "point P seed S (path=value ...): why", each */
	size_t nfailures;
};
void exp_sweep_result_release(struct exp_sweep_result *r);
/* Runs this shard's rows and writes DIR/rows/, DIR/points.csv, summary.csv,
 * pareto.csv, sweep.h5 and sweep.meta. 0, or -1 with err (a failed row is
 * not an error: it is in the tables and in res). */
int exp_sweep(const struct exp_file *e, const struct exp_sweep_opts *o, struct exp_sweep_result *res,
	      struct sim_err *err);
/* Joins the rows of shard directories into the tables one machine would have
 * written, in out (which may be one of them). */
int exp_merge(const char *const *dirs, size_t n, const char *out, struct exp_sweep_result *res,
	      struct sim_err *err);

#endif
