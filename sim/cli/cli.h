/*
 * sim/cli: the top of the ladder. Assembles a scenario from the rooms'
 * sections, checks references between them, runs it and hands the results
 * to report. Nothing includes this room except its own files and tests.
 *
 * Invariants:
 *  - A scenario that loads is consistent: every name it refers to exists.
 *  - A run writes its outputs completely or not at all.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include "../cluster/cluster.h"
#include "../config/config.h"
#include "../core/core.h"
#include "../report/report.h"
#include "../route/route.h"
#include "../scale/scale.h"
#include "../workload/workload.h"

#define SERVESIM_VERSION "0.1.0"

struct scenario {
	struct cfg_doc doc;
	const char *name, *description;
	int64_t seed;
	sim_time duration, drain_timeout;
	double rate_multiplier;
	struct perf_catalog_extra catalog; /* scenario-defined GPUs and LLMs */
	struct clu_cluster_config cluster;
	bool has_cluster;
	struct cfg_list deployments; /* of struct clu_deployment_config */
	struct rt_config router;
	struct cfg_list workloads;   /* of struct wl_config */
	struct rep_config report;
	/* decoded from the raw nodes the rooms keep */
	struct sc_autoscaler_config *autoscalers; /* one per deployment */
	struct clu_node_autoscaler_config node_autoscaler;
	size_t *workload_target; /* deployment index of each workload */
	size_t *decode_of;       /* prefill deployment -> its decode deployment (SIZE_MAX: none) */
};

/* Loads, applies overrides (assignments "path=value"), decodes and checks. */
int scn_load(struct scenario *s, const char *path, const char *const *sets,
	     size_t nsets, struct sim_err *err);
void scn_release(struct scenario *s);

/* Documentation roots: every schema a scenario can contain, with the path
 * prefix its keys appear under. */
struct scn_doc_root {
	const char *prefix;
	const struct cfg_schema *schema;
	const char *title;
};
extern const struct scn_doc_root scn_doc_roots[];
extern const struct cfg_schema scn_schema;
/* Writes the key reference (markdown tables) to f. */
void scn_write_reference(FILE *f);

/* Subcommands; each returns the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_perf(int argc, char **argv);
int cmd_hpa_eval(int argc, char **argv);

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
