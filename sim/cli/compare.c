/*
 * `servesim compare A B [C...]`: argument parsing and the three renderings
 * (text, --json, --markdown); reading the inputs and the statistics are
 * sim/exp's.
 */
#include "cli.h"
#include "../exp/exp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "mean" or "mean +- half" (several seeds); pm is "+-" or "±". */
static void fmt_stat(const struct exp_stat *st, const char *pm, char *buf, size_t n)
{
	if (!st->n)
		snprintf(buf, n, "null");
	else if (isnan(st->half))
		snprintf(buf, n, "%.6g", st->mean);
	else
		snprintf(buf, n, "%.6g %s %.3g", st->mean, pm, st->half);
}

/* "+0.0123 (+4.1 %)", with " *" when the paired test says significant. */
static void fmt_delta(const struct exp_cmp_cell *e, char *buf, size_t n)
{
	char rel[32] = "";
	if (!isnan(e->rel))
		snprintf(rel, sizeof(rel), " (%+.1f %%)", e->rel * 100);
	if (isnan(e->delta))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%+.4g%s%s", e->delta, rel,
			 e->has_paired ? (e->paired.significant ? " *" : " ~") : "");
}

static void print_text(const struct exp_compare *c, char **names, bool paired)
{
	char b[96];
	printf("%-34s", "metric");
	for (size_t k = 0; k < c->ninputs; k++)
		printf(" %-24s", names[k]);
	for (size_t k = 1; k < c->ninputs; k++)
		printf(" delta %-18zu", k + 1);
	printf("\n");
	for (size_t i = 0; i < c->n; i++) {
		printf("%-34s", c->row[i].path);
		for (size_t k = 0; k < c->ninputs; k++) {
			fmt_stat(&c->row[i].cell[k].st, "+-", b, sizeof(b));
			printf(" %-24s", b);
		}
		for (size_t k = 1; k < c->ninputs; k++) {
			fmt_delta(&c->row[i].cell[k], b, sizeof(b));
			printf(" %-24s", b);
		}
		printf("\n");
	}
	printf("delta k: input k's mean minus the first's");
	if (paired)
		printf("; * the paired difference over common seeds is significant (95 %%), ~ it is not");
	printf("\n");
}

static void print_markdown(const struct exp_compare *c, char **names)
{
	char b[96];
	printf("| metric |");
	for (size_t k = 0; k < c->ninputs; k++)
		printf(" `%s` |", names[k]);
	for (size_t k = 1; k < c->ninputs; k++)
		printf(" Δ `%s` |", names[k]);
	printf("\n|---|");
	for (size_t k = 1; k < 2 * c->ninputs; k++)
		printf("---|");
	printf("\n");
	for (size_t i = 0; i < c->n; i++) {
		printf("| `%s` |", c->row[i].path);
		for (size_t k = 0; k < c->ninputs; k++) {
			fmt_stat(&c->row[i].cell[k].st, "±", b, sizeof(b));
			printf(" %s |", b);
		}
		for (size_t k = 1; k < c->ninputs; k++) {
			const struct exp_cmp_cell *e = &c->row[i].cell[k];
			fmt_delta(e, b, sizeof(b));
			printf(" %s |", b);
		}
		printf("\n");
	}
}

int cmd_compare(int argc, char **argv)
{
	bool json = false, markdown = false, all = false, paired = false;
	char **names = xcalloc((size_t)argc, sizeof(*names));
	struct exp_seeds *in;
	struct exp_compare c;
	struct sim_err err;
	size_t n = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--markdown"))
			markdown = true;
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "servesim compare: unknown option '%s' (see 'servesim help compare')\n", argv[i]);
			free(names);
			return 2;
		} else
			names[n++] = argv[i];
	}
	if (n < 2 || (json && markdown)) {
		fprintf(stderr, "servesim compare: %s (see 'servesim help compare')\n",
			n < 2 ? "needs at least two inputs" : "--json or --markdown, not both");
		free(names);
		return 2;
	}
	in = xcalloc(n, sizeof(*in));
	sim_err_clear(&err);
	for (size_t k = 0; k < n; k++)
		if (exp_seeds_load(&in[k], names[k], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			rc = 2;
			goto out;
		}
	exp_compare_build(in, n, all, &c);
	if (!c.n) {
		fprintf(stderr, "servesim compare: the inputs have no numeric metric in common\n");
		rc = 2;
	} else if (json) {
		struct rep_json j;
		rep_json_init(&j);
		exp_compare_json(&c, (const char *const *)names, &j);
		printf("%s\n", j.buf);
		rep_json_release(&j);
	} else if (markdown) {
		print_markdown(&c, names);
	} else {
		for (size_t i = 0; i < c.n; i++)
			for (size_t k = 1; k < n; k++)
				paired |= c.row[i].cell[k].has_paired;
		print_text(&c, names, paired);
	}
	exp_compare_release(&c);
out:
	for (size_t k = 0; k < n; k++)
		exp_seeds_release(&in[k]);
	free(in);
	free(names);
	return rc;
}
