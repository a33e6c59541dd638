/* servesim: entry point and the small subcommands. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static const struct command commands[] = {
	{"run", cmd_run, "simulate a scenario and report on it",
	 "usage: servesim run SCENARIO.yaml [--seed N] [--seeds N] [--set path=value]... [--out DIR]\n"
	 "                    [--quiet] [--strict]\n"
	 "                    [--trace FILE [--trace-format F]] [--step-by-step] [--explain]\n"
	 "                    [--openmetrics FILE]\n"
	 "\n"
	 "Simulates the scenario and prints a summary.\n"
	 "  --seed N          random seed (overrides the scenario's seed:)\n"
	 "  --set path=value  override one key before validation, e.g.\n"
	 "                    --set deployments[0].replicas=4  --set 'workloads[0].arrivals.rate=12/s'\n"
	 "                    (the value is YAML: --set 'router.buffer={capacity: 10}')\n"
	 "  --out DIR         write DIR/summary.json and DIR/results.h5; each file appears\n"
	 "                    only when complete\n"
	 "  --quiet           print nothing on success\n"
	 "  --trace FILE      replay FILE in the scenario's first trace workload; its format\n"
	 "                    (azure, mooncake, burstgpt, csv, jsonl) comes from its header\n"
	 "                    unless --trace-format F says it\n"
	 "  --step-by-step    one event per engine step, without decode-only runs in one\n"
	 "                    event: slower, and the results are identical (a check)\n"
	 "  --explain         print every autoscaler decision to stderr as it is made\n"
	 "                    (they are in results.h5 /scale_events either way)\n"
	 "  --openmetrics FILE  write the time series as OpenMetrics text (vLLM, DCGM and\n"
	 "                    kube-state-metrics names; timestamps from outputs.openmetrics_epoch)\n"
	 "                    for promtool tsdb create-blocks-from openmetrics\n"
	 "  --seeds N         run seeds S .. S+N-1 (S: --seed or the scenario's seed:), print each\n"
	 "                    seed's line and the headline metrics' means +- 95 % CI half-width;\n"
	 "                    with --out, DIR/seed-<s>/ per seed and DIR/seeds.json (every numeric\n"
	 "                    metric: n, mean, ci95_half, sd, values)\n"
	 "  --strict          exit 3 when a score: constraint is violated (any seed's), after\n"
	 "                    writing the outputs\n"
	 "Exit status: 0 success, 1 internal failure, 2 bad input or usage, 3 a violated\n"
	 "constraint with --strict.\n"},
	{"validate", cmd_validate, "check a scenario without running it",
	 "usage: servesim validate SCENARIO.yaml [--set path=value]... [--print]\n"
	 "\n"
	 "Loads the scenario (includes, overrides, every check a run makes) and reports\n"
	 "the first problem as file:line:col: message, with exit status 2.\n"
	 "  --print   print the resolved scenario (after include: and --set) as YAML\n"},
	{"perf", cmd_perf, "time of one engine step for a GPU, model and batch",
	 "usage: servesim perf --gpu G --model M [--tp N] [--dtype fp16|bf16|fp8]\n"
	 "                     (--prefill TOKENS [--batch B] | --decode-batch B --context C)\n"
	 "                     [--profile DIR|mlp.csv] [--json]\n"
	 "\n"
	 "Prints the time of one engine step from the roofline perf model (or, with\n"
	 "--profile, from Vidur-format tables):\n"
	 "  --prefill TOKENS --batch B    one step prefilling B prompts of TOKENS tokens\n"
	 "  --decode-batch B --context C  one decode step of B sequences with C tokens of context\n"
	 "  --json                        an object with step_ms and breakdown_ms by operator group\n"
	 "G and M are catalog names (models/gpus, models/llms) or paths to YAML files.\n"},
	{"hpa-eval", cmd_hpa_eval, "run HPA golden cases through the controller's algorithm",
	 "usage: servesim hpa-eval FILE [--check]\n"
	 "\n"
	 "Reads HPA cases in the format of ../shared/reference/hpa-cases.yaml (the schema is at\n"
	 "its top: replica_calc, controller_sync, stabilize_legacy, stabilize_behavior,\n"
	 "rate_limit, policy_limit, legacy_rules) and prints one JSON object per case and line:\n"
	 "{\"id\": ..., <every field named in the case's expected, computed>}.\n"
	 "  --check   compare with each case's expected instead; exit 1 when any differs\n"},
	{"sweep", cmd_sweep, "run every point x seed of an experiment file",
	 "usage: servesim sweep FILE --out DIR [-j N] [--shard I/N | --shards N] [--resume] [--keep-runs]\n"
	 "\n"
	 "Runs every point of the experiment's design with every seed (the same seeds at every\n"
	 "point) through the simulator, in N worker processes (-j, default: the machine's\n"
	 "cores), and writes DIR/points.csv (a row per point and seed: its parameters and every\n"
	 "numeric summary.json leaf), DIR/summary.csv (per point: mean and 95 %% CI half-width of\n"
	 "each metric over the seeds, feasibility rate), DIR/pareto.csv and DIR/sweep.h5; each\n"
	 "row is kept in DIR/rows/ as it ends. docs/experiments.md describes the file.\n"
	 "  --shard I/N    run the I-th of N disjoint shares of the rows (0 <= I < N)\n"
	 "  --shards N     the same, I from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs),\n"
	 "                 SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, OMPI_COMM_WORLD_RANK or PMI_RANK\n"
	 "  --resume       skip rows DIR/rows/ already holds\n"
	 "  --keep-runs    also write DIR/runs/p<P>-s<S>/summary.json and results.h5 per row\n"
	 "Exit status: 0 every row ran, 2 bad input or a failed row (listed with its parameters;\n"
	 "the other rows are in the tables), 1 internal failure.\n"},
	{"merge", cmd_merge, "join sweep shards into the tables of one sweep",
	 "usage: servesim merge DIR... --out DIR\n"
	 "\n"
	 "Joins the rows of the shard directories of one sweep (servesim sweep --shard/--shards)\n"
	 "into DIR, with exactly the tables one machine would have written. Fails (exit 2) when\n"
	 "the directories are not shards of one sweep or rows are missing.\n"},
	{"compare", cmd_compare, "compare runs: metrics side by side, deltas, paired tests",
	 "usage: servesim compare A B [C...] [--all] [--json | --markdown]\n"
	 "\n"
	 "Each input is a summary.json, a seeds.json (from run --seeds) or a run's --out folder\n"
	 "(its seeds.json, else its summary.json). Prints the headline metrics all inputs have\n"
	 "(every common numeric metric with --all): each input's value (mean +- 95 % CI\n"
	 "half-width with several seeds) and each one's delta against the first. When both\n"
	 "sides have several seeds in common, a paired t test over those seeds says whether\n"
	 "the difference is significant (*) or not (~).\n"
	 "  --all        every numeric metric, not only the headline ones\n"
	 "  --json       one JSON object: {\"inputs\": [...], \"metrics\": {PATH: [per input]}}\n"
	 "  --markdown   a markdown table\n"
	 "Exit status: 0 success, 2 bad input or usage.\n"},
	{"baseline", cmd_baseline, "record a baseline for `servesim check`",
	 "usage: servesim baseline SCENARIO.yaml --out FILE [--seeds N] [--seed S] [--set path=value]...\n"
	 "                         [--quiet]\n"
	 "\n"
	 "Runs the scenario with seeds S .. S+N-1 (S: --seed or the scenario's seed:; N: 1)\n"
	 "and writes FILE atomically: seeds.json (the format of run --seeds) for several seeds,\n"
	 "summary.json for one. Several seeds (5 or more) make a gate that seed noise does not\n"
	 "trip; see docs/ci.md.\n"
	 "Exit status: 0 success, 2 bad input or usage, 1 internal failure.\n"},
	{"check", cmd_check, "run a scenario and fail on a regression against a baseline",
	 "usage: servesim check SCENARIO.yaml --baseline FILE [--tolerance PATH=REL]...\n"
	 "                      [--seeds N] [--seed S] [--set path=value]... [--junit FILE]\n"
	 "                      [--markdown FILE] [--quiet]\n"
	 "\n"
	 "Runs the scenario with the baseline's seeds (or S .. S+N-1) and compares each gated\n"
	 "metric with the baseline (a file from servesim baseline, run --seeds or run --out).\n"
	 "Gated by default, each at 5 % relative tolerance: ttft_s.p50, ttft_s.p99, tpot_s.p50,\n"
	 "tpot_s.p99, e2e_s.p99, cost.usd, oscillation.direction_reversals and score (higher\n"
	 "is worse), slo.attainment and slo.goodput_rps (lower is worse). A metric that improves\n"
	 "never fails. With several common seeds a metric regresses only when its mean is\n"
	 "worse beyond the limit AND the paired difference over the common seeds is significant.\n"
	 "  --tolerance PATH=REL  gate PATH (any numeric summary.json path) at REL (0.1: 10 %);\n"
	 "                    overrides a default; repeatable\n"
	 "  --junit FILE      JUnit XML, one testcase per gated metric\n"
	 "  --markdown FILE   a markdown table (e.g. for $GITHUB_STEP_SUMMARY)\n"
	 "Exit status: 0 nothing regressed, 3 a regression (named on stderr with baseline,\n"
	 "new value and limit), 2 bad input or usage, 1 internal failure.\n"},
	{"version", cmd_version, "print the version", "usage: servesim version\n"},
	{"help", cmd_help, "help on a command, or on the scenario keys",
	 "usage: servesim help [COMMAND | scenario]\n"
	 "\n"
	 "  servesim help scenario   print the reference of every scenario key (markdown)\n"},
	{NULL, NULL, NULL, NULL}};

static void overview(FILE *f)
{
	fprintf(f, "servesim %s: deterministic simulator of LLM inference clusters on Kubernetes\n\n"
		   "usage: servesim COMMAND [ARGS]\n\ncommands:\n", servesim_version);
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'servesim help COMMAND' tells more; docs/scenario.md describes scenarios.\n");
}

struct ref_ctx {
	FILE *f;
};

static void ref_row(void *ud, const char *path, const struct cfg_field *f)
{
	struct ref_ctx *r = ud;
	fprintf(r->f, "| `%s` | %s", path, cfg_type_name(f));
	if (f->type == CFG_T_ENUM) {
		fputs(": ", r->f);
		for (size_t i = 0; f->enums[i]; i++)
			fprintf(r->f, "%s`%s`", i ? ", " : "", f->enums[i]);
	}
	fprintf(r->f, " | %s | %s |\n",
		(f->flags & CFG_REQUIRED) ? "required" : f->def ? f->def : "-",
		f->doc ? f->doc : "");
}

void cli_write_reference(FILE *f)
{
	struct ref_ctx r = {f};
	for (size_t i = 0; scn_doc_roots[i].schema; i++) {
		fprintf(f, "\n### %s\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
			scn_doc_roots[i].title);
		cfg_schema_walk(scn_doc_roots[i].schema, scn_doc_roots[i].prefix, ref_row, &r);
	}
}

int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		overview(stdout);
		return 0;
	}
	if (argc > 2) {
		fprintf(stderr, "servesim help: one topic at a time\n");
		return 2;
	}
	if (!strcmp(argv[1], "scenario")) {
		printf("## Scenario key reference\n");
		cli_write_reference(stdout);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[1])) {
			fputs(c->usage, stdout);
			return 0;
		}
	fprintf(stderr, "servesim help: no command '%s'\n", argv[1]);
	return 2;
}

int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "servesim version: takes no arguments\n");
		return 2;
	}
	printf("servesim %s\n", servesim_version);
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	struct cli_opts o;
	struct scenario s;
	int rc;

	if ((rc = cli_load(argc, argv, "validate", "set print", &o, &s)))
		return rc;
	if (o.print) {
		char *y = cfg_to_yaml(s.doc.root);
		fputs(y, stdout);
		free(y);
	} else {
		printf("%s: ok (%zu deployment%s, %zu workload%s)\n", o.scenario, s.deployments.n,
		       s.deployments.n == 1 ? "" : "s", s.workloads.n, s.workloads.n == 1 ? "" : "s");
	}
	scn_release(&s);
	cli_opts_release(&o);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		overview(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "servesim: unknown command '%s' (commands:", argv[1]);
	for (const struct command *c = commands; c->name; c++) /* the names in one place: the table */
		fprintf(stderr, "%s %s", c == commands ? "" : ",", c->name);
	fprintf(stderr, ")\n");
	return 2;
}
