/* `servesim sweep` and `servesim merge`: options and what is printed; the
 * experiment itself is sim/exp's. */
#include "cli.h"
#include "../exp/exp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "servesim %s: %s%s%s (see 'servesim help %s')\n", cmd, what, arg ? " " : "", arg ? arg : "",
		cmd);
	return 2;
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v > 1000000)
		return false;
	*out = (size_t)v;
	return true;
}

/* --shards N: this process's index from the job system that started it. */
static bool shard_from_env(size_t *out)
{
	const char *v;
	if ((v = getenv("JOB_COMPLETION_INDEX")) && *v) /* Kubernetes Indexed Jobs */
		return parse_size(v, out);
	if ((v = getenv("SLURM_ARRAY_TASK_ID")) && *v) { /* Slurm job arrays */
		size_t id, min = 0;
		const char *m = getenv("SLURM_ARRAY_TASK_MIN");
		if (!parse_size(v, &id) || (m && *m && !parse_size(m, &min)) || id < min)
			return false;
		*out = id - min;
		return true;
	}
	if ((v = getenv("OMPI_COMM_WORLD_RANK")) && *v) /* Open MPI */
		return parse_size(v, out);
	if ((v = getenv("PMI_RANK")) && *v) /* MPICH, Intel MPI */
		return parse_size(v, out);
	return false;
}

static void report(const struct exp_sweep_result *res, const char *out, bool quiet)
{
	for (size_t i = 0; i < res->nfailures; i++)
		fprintf(stderr, "servesim: failed: %s\n", res->failures[i]);
	if (!quiet)
		printf("%zu rows (%zu run now, %zu failed) in %s: points.csv, summary.csv, pareto.csv, sweep.h5\n",
		       res->rows, res->rows_run, res->failed, out);
}

int cmd_sweep(int argc, char **argv)
{
	struct exp_sweep_opts o;
	struct exp_sweep_result res;
	struct exp_file e;
	struct sim_err err;
	const char *file = NULL;
	bool shards_env = false, quiet = false, has_shard = false;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;
	memset(&o, 0, sizeof(o));
	o.nshards = 1;
	o.jobs = ncpu > 0 ? (int)ncpu : 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		size_t k;
		if (!strcmp(a, "--out")) {
			if (!v)
				return usage("sweep", "--out needs a directory", NULL);
			o.out = v, i++;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
			if (!parse_size(v, &k) || k < 1 || k > 1024)
				return usage("sweep", "-j: expected a number of workers from 1 to 1024, got", v ? v : "nothing");
			o.jobs = (int)k, i++;
		} else if (!strcmp(a, "--shard")) {
			char *slash = v ? strchr(v, '/') : NULL;
			char idx[32];
			if (!slash || (size_t)(slash - v) >= sizeof(idx))
				return usage("sweep", "--shard: expected I/N, got", v ? v : "nothing");
			memcpy(idx, v, (size_t)(slash - v));
			idx[slash - v] = '\0';
			if (!parse_size(idx, &o.shard) || !parse_size(slash + 1, &o.nshards) || o.nshards < 1 ||
			    o.shard >= o.nshards)
				return usage("sweep", "--shard: expected I/N with 0 <= I < N, got", v);
			has_shard = true, i++;
		} else if (!strcmp(a, "--shards")) {
			if (!parse_size(v, &o.nshards) || o.nshards < 1)
				return usage("sweep", "--shards: expected a number of shards, got", v ? v : "nothing");
			shards_env = true, i++;
		} else if (!strcmp(a, "--resume"))
			o.resume = true;
		else if (!strcmp(a, "--keep-runs"))
			o.keep_runs = true;
		else if (!strcmp(a, "--quiet"))
			quiet = true;
		else if (a[0] == '-')
			return usage("sweep", "unknown option", a);
		else if (file)
			return usage("sweep", "one experiment file at a time; also got", a);
		else
			file = a;
	}
	if (!file || !o.out)
		return usage("sweep", "usage: servesim sweep FILE --out DIR", NULL);
	if (has_shard && shards_env)
		return usage("sweep", "--shard and --shards exclude each other", NULL);
	if (shards_env && (!shard_from_env(&o.shard) || o.shard >= o.nshards))
		return usage("sweep", "--shards: no valid index in JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, "
				      "OMPI_COMM_WORLD_RANK or PMI_RANK for", "this many shards");
	sim_err_clear(&err);
	if (exp_load(&e, file, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return sim_err_exit_code(&err);
	}
	rc = exp_sweep(&e, &o, &res, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	else
		report(&res, o.out, quiet);
	rc = rc ? sim_err_exit_code(&err) : res.failed ? 2 : 0;
	exp_sweep_result_release(&res);
	exp_release(&e);
	return rc;
}

int cmd_merge(int argc, char **argv)
{
	const char **dirs = xcalloc((size_t)argc + 1, sizeof(char *));
	const char *out = NULL;
	struct exp_sweep_result res;
	struct sim_err err;
	size_t n = 0;
	int rc;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out")) {
			if (i + 1 >= argc) {
				free(dirs);
				return usage("merge", "--out needs a directory", NULL);
			}
			out = argv[++i];
		} else if (argv[i][0] == '-') {
			free(dirs);
			return usage("merge", "unknown option", argv[i]);
		} else
			dirs[n++] = argv[i];
	}
	if (!n || !out) {
		free(dirs);
		return usage("merge", "usage: servesim merge DIR... --out DIR", NULL);
	}
	sim_err_clear(&err);
	rc = exp_merge(dirs, n, out, &res, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	else
		report(&res, out, false);
	rc = rc ? sim_err_exit_code(&err) : res.failed ? 2 : 0;
	exp_sweep_result_release(&res);
	free(dirs);
	return rc;
}
