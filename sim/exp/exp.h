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

/*
 * The JSON reader under the leaves (strict RFC 8259; nesting is bounded):
 * calls fn for every scalar with its dotted path (the path of the array for
 * an array's elements, in_array then true), a number (null: NaN, booleans
 * 0/1) or a string (str non-NULL, v NaN). -1 with err "NAME:line:col: what"
 * when the text is not JSON.
 */
typedef void (*exp_json_fn)(void *ud, const char *path, bool in_array, double v, const char *str);
int exp_json_walk(const char *name, const char *json, size_t len, exp_json_fn fn, void *ud,
		  struct sim_err *err);

/* The headline metrics (NULL-terminated): what `run --seeds` and `compare`
 * show by default. */
extern const char *const exp_headline[];

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
/* ---- one configuration over several seeds ---- */

/*
 * Runs of one configuration, one per seed, in seed order: what `run
 * --seeds` writes as seeds.json and what compare and check read back (a
 * summary.json is one seed).
 */
struct exp_seeds {
	char *scenario, *version, *sha256; /* name and provenance of the first */
	uint64_t *seed;
	struct exp_leaves *run;            /* one per seed */
	bool *feasible;                    /* no violated score constraint */
	size_t n, cap;
};
void exp_seeds_init(struct exp_seeds *x);
void exp_seeds_release(struct exp_seeds *x);
/* Appends a finished run's summary (its seed is sum->seed). */
void exp_seeds_add(struct exp_seeds *x, const struct rep_summary *sum);
/* seeds.json: {"scenario", "seeds", "metrics": {PATH: {n, mean, ci95_half,
 * sd, values}}, "provenance"}, every numeric leaf of the first run in its
 * order. */
void exp_seeds_json(const struct exp_seeds *x, struct rep_json *j);
/* From seeds.json or summary.json text (told apart by a "metrics" object
 * beside a "seeds" array); -1 with err "NAME:line:col: ..." otherwise. */
int exp_seeds_from_json(struct exp_seeds *x, const char *name, const char *json, size_t len,
			struct sim_err *err);
/* From a file (seeds.json or summary.json) or a run's output folder (its
 * seeds.json, else its summary.json); -1 with err (SIM_EIO or SIM_EINPUT). */
int exp_seeds_load(struct exp_seeds *x, const char *path, struct sim_err *err);
/* The value of path in each run into out[0..n) (NaN where missing); the
 * number of runs that have it. */
size_t exp_seeds_values(const struct exp_seeds *x, const char *path, double *out);
/* The values of path over the seeds a and b share, aligned in va, vb (each
 * of room min(a->n, b->n)); the number of common seeds. */
size_t exp_seeds_common(const struct exp_seeds *a, const struct exp_seeds *b, const char *path,
			double *va, double *vb);
bool exp_seeds_all_feasible(const struct exp_seeds *x);

/* What a caller does around each seed's run: before fills the run's options
 * (results file...), after sees the finished summary (and may set
 * wall_time_s). Either may be NULL; 0, or -1 with err set. */
struct exp_run_hooks {
	int (*before)(void *ud, uint64_t seed, struct run_options *o, struct sim_err *err);
	int (*after)(void *ud, struct rep_summary *sum, struct sim_err *err);
	void *ud;
};
/* Runs s with seeds s0 .. s0+n-1 (scn_set_seed between runs: common random
 * numbers), appending each to out. 0, or -1 with err (an invalid seed is
 * SIM_EINPUT). */
int exp_run_seeds(struct scenario *s, uint64_t s0, size_t n, const struct exp_run_hooks *h,
		  struct exp_seeds *out, struct sim_err *err);

/* ---- comparisons ---- */

/* One metric across inputs: each input's statistics, its delta against the
 * first (mean minus mean) and, when both have several seeds with at least two
 * in common, the paired test of it against the first over those seeds. */
struct exp_cmp_cell {
	struct exp_stat st;
	double delta, rel;       /* rel: delta / |first mean| (NaN when 0) */
	struct exp_paired paired;
	bool has_paired;
};
struct exp_cmp_row {
	char *path;
	struct exp_cmp_cell *cell; /* one per input */
};
struct exp_compare {
	size_t ninputs, n;
	struct exp_cmp_row *row;
};
/* Rows: the numeric metrics every input has (all) or the headline ones
 * among them, in the first input's order; metrics null in every input are
 * left out. */
void exp_compare_build(const struct exp_seeds *in, size_t nin, bool all, struct exp_compare *c);
void exp_compare_release(struct exp_compare *c);
/* {"inputs": [names], "metrics": {PATH: [{n, mean, ci95_half, delta, rel,
 * paired: {n, diff, ci95_half, significant}}, ...]}} */
void exp_compare_json(const struct exp_compare *c, const char *const *names, struct rep_json *j);

/* ---- regression gates ---- */

/* A tolerance: PATH may get worse by rel (relative to the baseline) in the
 * direction `worse` (+1: higher is worse, -1: lower is worse). */
struct exp_tol {
	const char *path;
	double rel;
	int worse;
};
#define EXP_DEFAULT_REL 0.05
/* The default gate (NULL-terminated by path), each at EXP_DEFAULT_REL. */
extern const struct exp_tol exp_default_tols[];
/* Which way path gets worse: -1 for attainment, goodput and throughput
 * leaves, +1 for everything else. */
int exp_worse_dir(const char *path);
/* "PATH=REL" (REL >= 0, e.g. 0.1 for 10 %); -1 with err otherwise. t->path
 * points into text and ends at the "=" (text must outlive t); t->worse is
 * the default gate's direction for PATH, else 0 (exp_worse_dir decides). */
int exp_tol_parse(const char *text, struct exp_tol *t, struct sim_err *err);

struct exp_gate_row {
	char *path;
	int worse;
	double rel, base, value, limit; /* means over seeds */
	size_t nbase, nvalue;
	struct exp_paired paired;
	bool paired_used;  /* several common seeds: significance is required too */
	bool regressed;
};
struct exp_gate {
	struct exp_gate_row *row;
	size_t n, nregressed;
};
/*
 * Checks now against base: the default tolerances (those whose metric the
 * baseline has a value for) with the extra ones added or overriding by path.
 * A metric regresses when its mean is worse than the limit base ± rel ×
 * |base| and, with at least two common seeds, the paired difference is
 * significant and in the worse direction; a missing or null new value where
 * the baseline has one regresses. -1 with err when an extra tolerance names
 * a metric the baseline does not have.
 */
int exp_gate_check(const struct exp_seeds *base, const struct exp_seeds *now,
		   const struct exp_tol *extra, size_t nextra, struct exp_gate *g,
		   struct sim_err *err);
void exp_gate_release(struct exp_gate *g);
/* One line on a row ("ttft_s.p99: 0.41 > limit 0.36 (baseline 0.35, +17.1 %)"). */
void exp_gate_describe(const struct exp_gate_row *r, char *buf, size_t n);
/* JUnit XML: one testcase per row, a failure element for a regression. */
void exp_gate_junit(const struct exp_gate *g, const char *suite, struct rep_json *out);
/* A markdown table (for a CI job summary). */
void exp_gate_markdown(const struct exp_gate *g, struct rep_json *out);

#endif
