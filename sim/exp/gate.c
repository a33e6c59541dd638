/*
 * Regression gates: a new run against a recorded baseline, metric by
 * metric, with a relative tolerance in the direction that is worse; with
 * several common seeds a regression must also be significant (paired over
 * the seeds both have), so that seed noise never fails a build.
 */
#include "exp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct exp_tol exp_default_tols[] = {
	{"ttft_s.p50", EXP_DEFAULT_REL, +1},
	{"ttft_s.p99", EXP_DEFAULT_REL, +1},
	{"tpot_s.p50", EXP_DEFAULT_REL, +1},
	{"tpot_s.p99", EXP_DEFAULT_REL, +1},
	{"e2e_s.p99", EXP_DEFAULT_REL, +1},
	{"slo.attainment", EXP_DEFAULT_REL, -1},
	{"slo.goodput_rps", EXP_DEFAULT_REL, -1},
	{"cost.usd", EXP_DEFAULT_REL, +1},
	{"oscillation.direction_reversals", EXP_DEFAULT_REL, +1},
	{"score", EXP_DEFAULT_REL, +1}, /* lower is better, maximize: included */
	{NULL, 0, 0}};

int exp_worse_dir(const char *path)
{
	static const char *const lower_worse[] = {"attainment", "goodput_rps", "input_tokens_per_s",
						  "output_tokens_per_s", "completed", NULL};
	const char *last = strrchr(path, '.');
	last = last ? last + 1 : path;
	for (size_t i = 0; lower_worse[i]; i++)
		if (!strcmp(last, lower_worse[i]))
			return -1;
	return +1;
}

int exp_tol_parse(const char *text, struct exp_tol *t, struct sim_err *err)
{
	const char *eq = strrchr(text, '=');
	char *end;
	double rel;
	if (!eq || eq == text || !eq[1])
		return sim_err_set(err, SIM_EINPUT, "--tolerance: expected PATH=REL (e.g. ttft_s.p99=0.1), got '%s'", text);
	errno = 0;
	rel = strtod(eq + 1, &end);
	if (errno || *end || !isfinite(rel) || rel < 0)
		return sim_err_set(err, SIM_EINPUT, "--tolerance: '%s': REL must be a number >= 0 (0.1 is 10 %%)", text);
	t->path = text; /* up to '=': the caller keeps text alive; see tol_path */
	t->rel = rel;
	t->worse = 0;
	for (size_t i = 0; exp_default_tols[i].path; i++)
		if (strlen(exp_default_tols[i].path) == (size_t)(eq - text) &&
		    !strncmp(exp_default_tols[i].path, text, (size_t)(eq - text)))
			t->worse = exp_default_tols[i].worse;
	return 0;
}

/* A tolerance's path: from exp_tol_parse, it ends at '='. */
static char *tol_path(const struct exp_tol *t)
{
	size_t l = strcspn(t->path, "=");
	char *p = xmalloc(l + 1);
	memcpy(p, t->path, l);
	p[l] = '\0';
	return p;
}

static void add_row(struct exp_gate *g, char *path, double rel, int worse)
{
	struct exp_gate_row *r;
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->row[i].path, path)) { /* an override */
			g->row[i].rel = rel;
			free(path);
			return;
		}
	g->row = xrealloc(g->row, (g->n + 1) * sizeof(*g->row));
	r = &g->row[g->n++];
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->rel = rel;
	r->worse = worse ? worse : exp_worse_dir(path);
}

static void judge(struct exp_gate_row *r, const struct exp_seeds *base, const struct exp_seeds *now)
{
	size_t m = base->n > now->n ? base->n : now->n;
	double *a = xmalloc(m * sizeof(*a)), *b = xmalloc(m * sizeof(*b));
	struct exp_stat sa, sb;
	size_t k;
	exp_seeds_values(base, r->path, a);
	exp_stat_of(a, base->n, &sa);
	exp_seeds_values(now, r->path, b);
	exp_stat_of(b, now->n, &sb);
	r->base = sa.mean;
	r->value = sb.mean;
	r->nbase = sa.n;
	r->nvalue = sb.n;
	r->limit = sa.mean + r->worse * r->rel * fabs(sa.mean);
	if (!sb.n) { /* it had a value and has none now (e.g. no request completed) */
		r->regressed = true;
	} else {
		bool beyond = r->worse > 0 ? sb.mean > r->limit : sb.mean < r->limit;
		k = exp_seeds_common(base, now, r->path, a, b);
		if (sa.n >= 2 && sb.n >= 2 && k >= 2) {
			exp_paired_of(a, b, k, &r->paired);
			r->paired_used = r->paired.n >= 2;
		}
		r->regressed = beyond && (!r->paired_used ||
					  (r->paired.significant && r->paired.diff * r->worse > 0));
	}
	free(a);
	free(b);
}

int exp_gate_check(const struct exp_seeds *base, const struct exp_seeds *now,
		   const struct exp_tol *extra, size_t nextra, struct exp_gate *g,
		   struct sim_err *err)
{
	double *v = xmalloc((base->n ? base->n : 1) * sizeof(*v));
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; exp_default_tols[i].path; i++)
		if (exp_seeds_values(base, exp_default_tols[i].path, v)) {
			struct exp_stat st;
			exp_stat_of(v, base->n, &st);
			if (st.n) /* null in the baseline (no score: block...): nothing to hold */
				add_row(g, xstrdup(exp_default_tols[i].path), exp_default_tols[i].rel,
					exp_default_tols[i].worse);
		}
	for (size_t i = 0; i < nextra; i++) {
		char *p = tol_path(&extra[i]);
		if (!exp_seeds_values(base, p, v)) {
			sim_err_set(err, SIM_EINPUT, "--tolerance: the baseline has no metric '%s'", p);
			free(p);
			free(v);
			exp_gate_release(g);
			return -1;
		}
		add_row(g, p, extra[i].rel, extra[i].worse);
	}
	free(v);
	for (size_t i = 0; i < g->n; i++) {
		judge(&g->row[i], base, now);
		g->nregressed += g->row[i].regressed;
	}
	return 0;
}

void exp_gate_release(struct exp_gate *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->row[i].path);
	free(g->row);
	memset(g, 0, sizeof(*g));
}

/* Six significant digits: what a person reads (the files keep full precision). */
static void fmt6(double v, char *buf, size_t n)
{
	if (isnan(v))
		snprintf(buf, n, "null");
	else
		snprintf(buf, n, "%.6g", v);
}

void exp_gate_describe(const struct exp_gate_row *r, char *buf, size_t n)
{
	char b[32], v[32], lim[32], sig[96] = "";
	fmt6(r->base, b, sizeof(b));
	fmt6(r->value, v, sizeof(v));
	fmt6(r->limit, lim, sizeof(lim));
	if (r->paired_used)
		snprintf(sig, sizeof(sig), "; paired over %zu seeds: %+.4g +- %.4g, %s", r->paired.n,
			 r->paired.diff, r->paired.half,
			 r->paired.significant ? "significant" : "not significant");
	if (!r->nvalue)
		snprintf(buf, n, "%s: no value now (baseline %s)", r->path, b);
	else
		snprintf(buf, n, "%s: %s %s limit %s (baseline %s, %s is worse, tolerance %g %%%s)",
			 r->path, v, r->regressed ? (r->worse > 0 ? ">" : "<") : "within", lim, b,
			 r->worse > 0 ? "higher" : "lower", r->rel * 100, sig);
}

/* XML text: &, <, >, " escaped (paths and messages are ours, UTF-8). */
static void xml_text(struct rep_json *o, const char *s)
{
	char c[2] = {0, 0};
	for (; *s; s++) {
		switch (*s) {
		case '&': rep_json_raw(o, "&amp;"); break;
		case '<': rep_json_raw(o, "&lt;"); break;
		case '>': rep_json_raw(o, "&gt;"); break;
		case '"': rep_json_raw(o, "&quot;"); break;
		default:
			c[0] = *s;
			rep_json_raw(o, c);
		}
	}
}

void exp_gate_junit(const struct exp_gate *g, const char *suite, struct rep_json *o)
{
	char line[512];
	snprintf(line, sizeof(line), "%zu", g->n);
	rep_json_raw(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"");
	xml_text(o, suite);
	rep_json_raw(o, "\" tests=\"");
	rep_json_raw(o, line);
	snprintf(line, sizeof(line), "%zu", g->nregressed);
	rep_json_raw(o, "\" failures=\"");
	rep_json_raw(o, line);
	rep_json_raw(o, "\" errors=\"0\">\n");
	for (size_t i = 0; i < g->n; i++) {
		const struct exp_gate_row *r = &g->row[i];
		rep_json_raw(o, "    <testcase classname=\"");
		xml_text(o, suite);
		rep_json_raw(o, "\" name=\"");
		xml_text(o, r->path);
		exp_gate_describe(r, line, sizeof(line));
		if (!r->regressed) {
			rep_json_raw(o, "\"/>\n");
			continue;
		}
		rep_json_raw(o, "\">\n      <failure type=\"regression\" message=\"");
		xml_text(o, line);
		rep_json_raw(o, "\">");
		xml_text(o, line);
		rep_json_raw(o, "</failure>\n    </testcase>\n");
	}
	rep_json_raw(o, "  </testsuite>\n</testsuites>\n");
}

void exp_gate_markdown(const struct exp_gate *g, struct rep_json *o)
{
	char line[640], b[32], v[32], lim[32];
	snprintf(line, sizeof(line), "### servesim check: %s\n\n",
		 g->nregressed ? "regression" : "no regression");
	rep_json_raw(o, line);
	rep_json_raw(o, "| metric | baseline | new | limit | worse when | paired (new - baseline) | result |\n"
			"|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < g->n; i++) {
		const struct exp_gate_row *r = &g->row[i];
		char sig[96] = "-";
		fmt6(r->base, b, sizeof(b));
		fmt6(r->value, v, sizeof(v));
		fmt6(r->limit, lim, sizeof(lim));
		if (r->paired_used)
			snprintf(sig, sizeof(sig), "%+.4g ± %.4g (%zu seeds%s)", r->paired.diff, r->paired.half,
				 r->paired.n, r->paired.significant ? ", significant" : "");
		snprintf(line, sizeof(line), "| `%s` | %s | %s | %s | %s by %g %% | %s | %s |\n", r->path, b,
			 r->nvalue ? v : "null", lim, r->worse > 0 ? "higher" : "lower", r->rel * 100, sig,
			 r->regressed ? "**regressed**" : "ok");
		rep_json_raw(o, line);
	}
}
