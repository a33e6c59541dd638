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
};
/* Parses argv[1..]; `allowed` lists the options the command accepts. */
int cli_parse(int argc, char **argv, const char *cmd, const char *allowed,
	      struct cli_opts *o);
/* The same without clearing o first (for defaults set by the caller). */
int cli_parse_into(int argc, char **argv, const char *cmd, const char *allowed,
		   struct cli_opts *o);
void cli_opts_release(struct cli_opts *o);
/* Parses options and loads the scenario they name: 0, or the exit status
 * after printing the problem (options are released then). */
int cli_load(int argc, char **argv, const char *cmd, const char *allowed,
	     struct cli_opts *o, struct scenario *s);

#endif
