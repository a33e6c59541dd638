/*
 * sim/cli: the top of the ladder. Owns the command line: option parsing,
 * the output files (summary.json, results.h5, OpenMetrics) and what is
 * printed; simulations are sim/run's. Nothing includes this room except its
 * own files.
 *
 * Invariants:
 *  - A run writes its outputs completely or not at all.
 *  - Bad input or usage exits 2 with a message; nothing is half-written.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include "../run/run.h"

#include <stdio.h>

/* Writes the scenario key reference (markdown tables) to f. */
void cli_write_reference(FILE *f);
/* The terminal summary of a run. */
void cli_print_summary(const struct rep_summary *s);

/* Subcommands; each returns the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_perf(int argc, char **argv);
int cmd_hpa_eval(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* Exit status of a regression (check) or a violated score constraint (--strict). */
#define CLI_EXIT_REGRESSION 3

/* DIR/results.h5 opened for a run of s (DIR created); -1 with err. */
int cli_open_results(struct scenario *s, const char *dir, struct rep_results **out, struct sim_err *err);
/* DIR/summary.json, atomically. */
int cli_write_summary(const struct rep_summary *sum, const char *dir, struct sim_err *err);
/* A rep_json buffer (JSON, XML or text) written to path atomically. */
int cli_write_buf(const char *path, const struct rep_json *j, struct sim_err *err);
/* Wall-clock seconds (for wall_time_s only). */
double cli_wall_now(void);

/* Shared option parsing. */
struct cli_opts {
	const char *scenario;
	const char **sets;
	size_t nsets;
	uint64_t seed;
	bool has_seed;
	const char *out;
	bool quiet;
	bool print;
	const char *trace, *trace_format;
	/* servesim perf */
	const char *gpu, *model, *tp, *dtype, *prefill, *batch, *decode_batch, *context, *profile;
	bool json;
	bool step_by_step;
	bool check;
	bool explain;
	const char *openmetrics;
	/* experiments: run --seeds/--strict, baseline, check */
	size_t seeds;
	bool has_seeds, strict;
	const char *baseline, *junit, *markdown;
	const char **tols; /* --tolerance PATH=REL, in order */
	size_t ntols;
};
/* Parses argv[1..]; `allowed` lists the options the command accepts. */
int cli_parse(int argc, char **argv, const char *cmd, const char *allowed,
	      struct cli_opts *o);
/* The same without clearing o first (for defaults set by the caller). */
int cli_parse_into(int argc, char **argv, const char *cmd, const char *allowed,
		   struct cli_opts *o);
void cli_opts_release(struct cli_opts *o);
/* `run --seeds N`: the seeds' runs, their outputs and the table of means. */
int cli_run_seeds(const struct cli_opts *o, struct scenario *s);
/* Parses options and loads the scenario they name: 0, or the exit status
 * after printing the problem (options are released then). */
int cli_load(int argc, char **argv, const char *cmd, const char *allowed,
	     struct cli_opts *o, struct scenario *s);

#endif
