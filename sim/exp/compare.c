/* Comparisons: a metric across runs (each one seed or several), its delta
 * against the first, and a paired test over the seeds they share. */
#include "exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool headline(const char *path)
{
	for (size_t i = 0; exp_headline[i]; i++)
		if (!strcmp(exp_headline[i], path))
			return true;
	return false;
}

void exp_compare_build(const struct exp_seeds *in, size_t nin, bool all, struct exp_compare *c)
{
	size_t m = 1;
	double *a, *b;
	memset(c, 0, sizeof(*c));
	c->ninputs = nin;
	if (!nin || !in[0].n)
		return;
	for (size_t k = 0; k < nin; k++)
		if (in[k].n > m)
			m = in[k].n;
	a = xmalloc(m * sizeof(*a));
	b = xmalloc(m * sizeof(*b));
	for (size_t p = 0; p < in[0].run[0].n; p++) {
		const char *path = in[0].run[0].path[p];
		struct exp_cmp_cell *cell;
		bool common = true, any = false;
		if (!all && !headline(path))
			continue;
		for (size_t k = 0; k < nin && common; k++)
			common = in[k].n && exp_seeds_values(&in[k], path, a) > 0;
		if (!common)
			continue;
		cell = xcalloc(nin, sizeof(*cell));
		for (size_t k = 0; k < nin; k++) {
			exp_seeds_values(&in[k], path, a);
			exp_stat_of(a, in[k].n, &cell[k].st);
			any |= cell[k].st.n > 0;
			cell[k].delta = cell[k].st.mean - cell[0].st.mean;
			cell[k].rel = cell[0].st.mean != 0 ? cell[k].delta / fabs(cell[0].st.mean) : NAN;
			if (k && in[0].n >= 2 && in[k].n >= 2) {
				size_t n = exp_seeds_common(&in[0], &in[k], path, a, b);
				if (n >= 2) {
					exp_paired_of(a, b, n, &cell[k].paired);
					cell[k].has_paired = cell[k].paired.n >= 2;
				}
			}
		}
		if (!any) { /* null everywhere (score without a score: block) */
			free(cell);
			continue;
		}
		c->row = xrealloc(c->row, (c->n + 1) * sizeof(*c->row));
		c->row[c->n].path = xstrdup(path);
		c->row[c->n++].cell = cell;
	}
	free(a);
	free(b);
}

void exp_compare_release(struct exp_compare *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->row[i].path);
		free(c->row[i].cell);
	}
	free(c->row);
	memset(c, 0, sizeof(*c));
}

void exp_compare_json(const struct exp_compare *c, const char *const *names, struct rep_json *j)
{
	rep_json_begin_object(j);
	rep_json_key(j, "inputs");
	rep_json_begin_array(j);
	for (size_t k = 0; k < c->ninputs; k++)
		rep_json_str(j, names[k]);
	rep_json_end_array(j);
	rep_json_key(j, "metrics");
	rep_json_begin_object(j);
	for (size_t i = 0; i < c->n; i++) {
		rep_json_key(j, c->row[i].path);
		rep_json_begin_array(j);
		for (size_t k = 0; k < c->ninputs; k++) {
			const struct exp_cmp_cell *e = &c->row[i].cell[k];
			rep_json_begin_object(j);
			rep_json_key(j, "n");
			rep_json_int(j, (int64_t)e->st.n);
			rep_json_key(j, "mean");
			rep_json_double(j, e->st.mean);
			rep_json_key(j, "ci95_half");
			rep_json_double(j, e->st.half);
			rep_json_key(j, "delta");
			rep_json_double(j, e->delta);
			rep_json_key(j, "rel");
			rep_json_double(j, e->rel);
			rep_json_key(j, "paired");
			if (e->has_paired) {
				rep_json_begin_object(j);
				rep_json_key(j, "n");
				rep_json_int(j, (int64_t)e->paired.n);
				rep_json_key(j, "diff");
				rep_json_double(j, e->paired.diff);
				rep_json_key(j, "ci95_half");
				rep_json_double(j, e->paired.half);
				rep_json_key(j, "significant");
				rep_json_bool(j, e->paired.significant);
				rep_json_end_object(j);
			} else {
				rep_json_null(j);
			}
			rep_json_end_object(j);
		}
		rep_json_end_array(j);
	}
	rep_json_end_object(j);
	rep_json_end_object(j);
}
