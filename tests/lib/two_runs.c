/*
 * A program a user could write against libservesim.a: it loads every
 * scenario named on its command line, keeps all their runs alive at once,
 * advances them in interleaved slices through the sim/run API, and writes
 * OUTDIR/<i>.json, the summary of the i-th, as `servesim run` writes
 * summary.json (wall_time_s 0). tests/scenario/run compares them with
 * `servesim run` outputs.
 *
 * usage: two_runs OUTDIR SCENARIO... (exit 2 on bad input)
 */
#include "run/run.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	size_t n = argc > 2 ? (size_t)argc - 2 : 0;
	struct scenario *s = xcalloc(n + 1, sizeof(*s));
	struct run **r = xcalloc(n + 1, sizeof(*r));
	struct sim_err err;
	int rc = 0;
	if (n == 0) {
		fprintf(stderr, "usage: two_runs OUTDIR SCENARIO...\n");
		return 2;
	}
	sim_err_clear(&err);
	for (size_t i = 0; i < n; i++)
		if (scn_load(&s[i], argv[i + 2], NULL, 0, &err) || !(r[i] = run_new(&s[i], NULL, &err))) {
			fprintf(stderr, "%s\n", err.msg);
			return sim_err_exit_code(&err);
		}
	for (int k = 1; k <= 64; k++) /* every run advances by 1/64 of its length in turn */
		for (size_t i = 0; i < n; i++)
			if (run_until(r[i], run_end(r[i]) / 64 * k, &err)) {
				fprintf(stderr, "%s\n", err.msg);
				return sim_err_exit_code(&err);
			}
	for (size_t i = 0; i < n && !rc; i++) {
		struct rep_json j;
		char *path = xasprintf("%s/%zu.json", argv[1], i);
		if (run_finish(r[i], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return sim_err_exit_code(&err);
		}
		rep_json_init(&j);
		rep_summary_json(run_summary(r[i]), &j);
		if (rep_write_file(path, j.buf, j.len, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			rc = sim_err_exit_code(&err);
		}
		rep_json_release(&j);
		free(path);
	}
	for (size_t i = 0; i < n; i++) {
		run_free(r[i]);
		scn_release(&s[i]);
	}
	free(r);
	free(s);
	return rc;
}
