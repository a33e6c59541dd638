/*
 * Sweeps: every point x seed of an experiment, run through sim/run in
 * worker processes, each row kept in DIR/rows/ as it ends (so a sweep can
 * resume and shards can merge), then the tables built from the rows in
 * (point, seed) order: the same tables whatever the workers, shards or
 * resumptions that made the rows.
 *
 * A row file (DIR/rows/p<point>-s<seed>.tsv) is text, one field a line:
 *   servesim-row 1 / point P / seed S / status ok|failed / error MSG /
 *   param PATH VALUE (each) / feasible V / leaf PATH V (each, in order)
 * fields separated by tabs, numbers as the shortest text that reads back
 * to the same double, text with \t \n \\ escaped.
 */
#include "exp.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- one row ---- */

void exp_row_release(struct exp_row *w)
{
	free(w->error);
	for (size_t i = 0; i < w->nparams; i++) {
		free(w->param[i]);
		free(w->value[i]);
	}
	free(w->param);
	free(w->value);
	exp_leaves_release(&w->leaves);
	memset(w, 0, sizeof(*w));
}

static int keep_run(struct scenario *s, const char *dir, struct run **r, struct rep_results **res,
		    struct sim_err *err)
{
	struct run_options ro = {0};
	char *path;
	char *yaml;
	if (rep_mkdir_p(dir, err))
		return -1;
	path = xasprintf("%s/results.h5", dir);
	*res = rep_results_open(path, s->report.outputs.requests, err);
	free(path);
	if (!*res)
		return -1;
	yaml = scn_resolved_yaml(s);
	rep_results_set_scenario(*res, yaml);
	free(yaml);
	ro.results = *res;
	*r = run_new(s, &ro, err);
	return *r ? 0 : -1;
}

void exp_run_row(const struct exp_file *e, const struct exp_points *p, size_t point, int64_t seed,
		 const char *keep_dir, struct exp_row *w)
{
	char **sets = exp_point_sets(e, p, point);
	struct scenario s;
	struct sim_err err;
	struct run *r = NULL;
	struct rep_results *res = NULL;
	memset(w, 0, sizeof(*w));
	w->point = point;
	w->seed = seed;
	w->feasible = NAN;
	w->nparams = e->nparams;
	w->param = xcalloc(e->nparams + 1, sizeof(char *));
	w->value = xcalloc(e->nparams + 1, sizeof(char *));
	for (size_t j = 0; j < e->nparams; j++) {
		w->param[j] = xstrdup(e->params[j].path);
		w->value[j] = xstrdup(p->value[point * p->nparams + j]);
	}
	exp_leaves_init(&w->leaves);
	sim_err_clear(&err);
	if (scn_load(&s, e->scenario, (const char *const *)sets, e->nparams, &err))
		goto out;
	if (scn_set_seed(&s, (uint64_t)seed, &err))
		goto out_scn;
	if (keep_dir) {
		char *dir = xasprintf("%s/runs/p%zu-s%lld", keep_dir, point, (long long)seed);
		int rc = keep_run(&s, dir, &r, &res, &err);
		free(dir);
		if (rc)
			goto out_run;
	} else if (!(r = run_new(&s, NULL, &err)))
		goto out_scn;
	if (run_finish(r, &err))
		goto out_run;
	if (res) {
		struct rep_json j;
		char *path = xasprintf("%s/runs/p%zu-s%lld/summary.json", keep_dir, point, (long long)seed);
		int rc = rep_results_close(res, true, &err);
		res = NULL;
		rep_json_init(&j);
		rep_summary_json(run_summary(r), &j);
		if (!rc)
			rep_write_file(path, j.buf, j.len, &err);
		rep_json_release(&j);
		free(path);
	}
	exp_leaves_from_summary(&w->leaves, run_summary(r));
	if (run_summary(r)->has_score)
		w->feasible = run_summary(r)->feasible ? 1 : 0;
	w->ok = err.kind == SIM_OK;
out_run:
	if (res) {
		struct sim_err ignore;
		sim_err_clear(&ignore);
		rep_results_close(res, false, &ignore);
	}
	run_free(r);
out_scn:
	scn_release(&s);
out:
	if (!w->ok)
		w->error = xstrdup(err.msg[0] ? err.msg : "failed");
	for (size_t j = 0; j < e->nparams; j++)
		free(sets[j]);
	free(sets);
}

/* ---- row files ---- */

static void put_text(struct rep_json *b, const char *s)
{
	char c[2] = {0, 0};
	for (; *s; s++) {
		if (*s == '\t')
			rep_json_raw(b, "\\t");
		else if (*s == '\n')
			rep_json_raw(b, "\\n");
		else if (*s == '\\')
			rep_json_raw(b, "\\\\");
		else {
			c[0] = *s;
			rep_json_raw(b, c);
		}
	}
}

static void put_num(struct rep_json *b, double v)
{
	char buf[40];
	exp_num_text(v, buf, sizeof(buf));
	rep_json_raw(b, buf);
}

static char *row_path(const char *dir, size_t point, int64_t seed)
{
	return xasprintf("%s/rows/p%zu-s%lld.tsv", dir, point, (long long)seed);
}

int exp_row_write(const char *dir, const struct exp_row *w, struct sim_err *err)
{
	struct rep_json b;
	char num[64];
	char *path = row_path(dir, w->point, w->seed);
	int rc;
	rep_json_init(&b);
	snprintf(num, sizeof(num), "servesim-row 1\npoint\t%zu\nseed\t%lld\nstatus\t%s\n", w->point,
		 (long long)w->seed, w->ok ? "ok" : "failed");
	rep_json_raw(&b, num);
	if (!w->ok) {
		rep_json_raw(&b, "error\t");
		put_text(&b, w->error ? w->error : "");
		rep_json_raw(&b, "\n");
	}
	for (size_t j = 0; j < w->nparams; j++) {
		rep_json_raw(&b, "param\t");
		put_text(&b, w->param[j]);
		rep_json_raw(&b, "\t");
		put_text(&b, w->value[j]);
		rep_json_raw(&b, "\n");
	}
	rep_json_raw(&b, "feasible\t");
	put_num(&b, w->feasible);
	rep_json_raw(&b, "\n");
	for (size_t i = 0; i < w->leaves.n; i++) {
		rep_json_raw(&b, "leaf\t");
		put_text(&b, w->leaves.path[i]);
		rep_json_raw(&b, "\t");
		put_num(&b, w->leaves.v[i]);
		rep_json_raw(&b, "\n");
	}
	rc = rep_write_file(path, b.buf, b.len, err);
	rep_json_release(&b);
	free(path);
	return rc;
}

static char *unescape(const char *s, size_t n)
{
	char *o = xmalloc(n + 1), *q = o;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			*q++ = s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' : s[i];
		} else
			*q++ = s[i];
	}
	*q = '\0';
	return o;
}

static double get_num(const char *s, bool *ok)
{
	char *end;
	double v;
	if (!strcmp(s, "nan"))
		return NAN;
	v = strtod(s, &end);
	if (end == s || *end)
		*ok = false;
	return v;
}

/* Reads a row file; -1 with "file:line: ..." when it is not one. */
int exp_row_read(const char *path, struct exp_row *w, struct sim_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	bool ok = true;
	memset(w, 0, sizeof(*w));
	w->feasible = NAN;
	exp_leaves_init(&w->leaves);
	if (!f)
		return sim_err_set(err, SIM_EIO, "%s: %s", path, strerror(errno));
	while (ok && (len = getline(&line, &cap, f)) > 0) {
		char *a, *b;
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			ok = !strcmp(line, "servesim-row 1");
			continue;
		}
		a = strchr(line, '\t');
		if (!a) {
			ok = false;
			break;
		}
		*a++ = '\0';
		b = strchr(a, '\t');
		if (!strcmp(line, "point"))
			w->point = (size_t)strtoull(a, NULL, 10);
		else if (!strcmp(line, "seed"))
			w->seed = strtoll(a, NULL, 10);
		else if (!strcmp(line, "status"))
			w->ok = !strcmp(a, "ok");
		else if (!strcmp(line, "error"))
			w->error = unescape(a, strlen(a));
		else if (!strcmp(line, "feasible"))
			w->feasible = get_num(a, &ok);
		else if (b && !strcmp(line, "param")) {
			XGROW(w->param, w->pcap, w->nparams + 1);
			w->value = xrealloc(w->value, w->pcap * sizeof(char *));
			w->param[w->nparams] = unescape(a, (size_t)(b - a));
			w->value[w->nparams++] = unescape(b + 1, strlen(b + 1));
		} else if (b && !strcmp(line, "leaf")) {
			char *p = unescape(a, (size_t)(b - a));
			exp_leaves_add(&w->leaves, p, get_num(b + 1, &ok));
			free(p);
		} else
			ok = false;
	}
	free(line);
	fclose(f);
	if (!ok || lineno < 4) {
		exp_row_release(w);
		return sim_err_at(err, path, lineno, 0, "not a servesim row file");
	}
	return 0;
}

/* ---- running a sweep ---- */

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Rows i (point i / nseeds, the seed i % nseeds) in this shard and not yet done. */
static size_t todo_rows(const struct exp_file *e, size_t npoints, const struct exp_sweep_opts *o, size_t **out)
{
	size_t total = npoints * e->nseeds, n = 0;
	*out = xcalloc(total + 1, sizeof(size_t));
	for (size_t i = 0; i < total; i++) {
		if (i % o->nshards != o->shard)
			continue;
		if (o->resume) {
			char *p = row_path(o->out, i / e->nseeds, e->seeds[i % e->nseeds]);
			bool done = exists(p);
			free(p);
			if (done)
				continue;
		}
		(*out)[n++] = i;
	}
	return n;
}

/* Runs rows[k] for k = first, first + stride, ...; each row file written as it ends. */
static int run_share(const struct exp_file *e, const struct exp_points *p, const struct exp_sweep_opts *o,
		     const size_t *rows, size_t n, size_t first, size_t stride, struct sim_err *err)
{
	for (size_t k = first; k < n; k += stride) {
		struct exp_row w;
		int rc;
		size_t i = rows[k];
		exp_run_row(e, p, i / e->nseeds, e->seeds[i % e->nseeds], o->keep_runs ? o->out : NULL, &w);
		rc = exp_row_write(o->out, &w, err);
		exp_row_release(&w);
		if (rc)
			return -1;
	}
	return 0;
}

int exp_sweep(const struct exp_file *e, const struct exp_sweep_opts *o, struct exp_sweep_result *res,
	      struct sim_err *err)
{
	struct exp_points p;
	size_t *rows, n, jobs;
	char *dir;
	int rc = 0;
	memset(res, 0, sizeof(*res));
	if (exp_design_points(e, &p, err))
		return -1;
	if (p.n > EXP_MAX_ROWS / e->nseeds) {
		sim_err_set(err, SIM_EINPUT, "%s: %zu points x %zu seeds is more than %d rows", e->path, p.n, e->nseeds,
			    EXP_MAX_ROWS);
		exp_points_release(&p);
		return -1;
	}
	dir = xasprintf("%s/rows", o->out);
	if (rep_mkdir_p(dir, err)) {
		free(dir);
		exp_points_release(&p);
		return -1;
	}
	free(dir);
	n = todo_rows(e, p.n, o, &rows);
	res->rows_run = n;
	jobs = o->jobs < 1 ? 1 : (size_t)o->jobs;
	if (jobs > n)
		jobs = n ? n : 1;
	if (jobs == 1) {
		rc = run_share(e, &p, o, rows, n, 0, 1, err);
	} else {
		pid_t *pid = xcalloc(jobs, sizeof(pid_t));
		fflush(NULL);
		for (size_t j = 0; j < jobs; j++) {
			pid[j] = fork();
			if (pid[j] == 0) { /* a worker: its share of the rows, then out */
				struct sim_err werr;
				sim_err_clear(&werr);
				if (run_share(e, &p, o, rows, n, j, jobs, &werr)) {
					fprintf(stderr, "%s\n", werr.msg);
					_exit(1);
				}
				_exit(0);
			}
			if (pid[j] < 0) {
				rc = sim_err_set(err, SIM_EINTERNAL, "cannot start worker %zu: %s", j, strerror(errno));
				jobs = j;
				break;
			}
		}
		for (size_t j = 0; j < jobs; j++) {
			int st = 0;
			while (waitpid(pid[j], &st, 0) < 0 && errno == EINTR)
				;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				rc = sim_err_set(err, SIM_EINTERNAL, "sweep worker %zu failed (status %d)", j, st);
		}
		free(pid);
	}
	free(rows);
	if (!rc)
		rc = exp_tables_write_dir(e, p.n, o, res, err);
	exp_points_release(&p);
	return rc;
}
