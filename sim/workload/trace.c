/*
 * Trace readers. Each reads one row at a time through a line buffer, so
 * memory does not grow with the trace (unless `sort: true` asks for every
 * row at once). Timestamps become integer nanoseconds: civil dates are
 * converted with integer arithmetic, so no digit of a 100 ns timestamp is
 * lost to floating point.
 */
#include "workload.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small parsers ---- */

static bool digits(const char **s, int n, int64_t *out)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

/* "2023-11-16 18:17:03.9799600", "2024-05-10 00:00:00.009930+00:00",
 * "2024-05-10 00:00:00+00:00", "...T...Z": ns since the epoch (UTC). */
int wl_parse_datetime(const char *s, int64_t *ns)
{
	int64_t y, mo, d, h, mi, sec, frac = 0, scale = 1000000000, off = 0;
	while (*s == ' ' || *s == '"')
		s++;
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' || !digits(&s, 2, &d))
		return -1;
	if (*s != ' ' && *s != 'T')
		return -1;
	s++;
	if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (*s == '.') {
		int n = 0;
		s++;
		while (isdigit((unsigned char)*s)) {
			if (n < 9) {
				frac = frac * 10 + (*s - '0');
				scale /= 10;
				n++;
			}
			s++;
		}
		if (n == 0)
			return -1;
		frac *= scale;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1;
		int64_t oh, om = 0;
		if (!digits(&s, 2, &oh))
			return -1;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char)*s) && !digits(&s, 2, &om))
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	while (*s == ' ' || *s == '"')
		s++;
	if (*s)
		return -1;
	*ns = ((sim_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off) * 1000000000) + frac;
	return 0;
}

static int parse_count(const char *s, int64_t *v)
{
	char *end;
	double d;
	while (*s == ' ' || *s == '"')
		s++;
	errno = 0;
	d = strtod(s, &end);
	while (*end == ' ' || *end == '"')
		end++;
	if (end == s || *end || errno || !isfinite(d) || d < 0 || d != floor(d) || d > 1e12)
		return -1;
	*v = (int64_t)d;
	return 0;
}

static int parse_seconds(const char *s, double unit_ns, int64_t *ns)
{
	char *end;
	double d;
	while (*s == ' ' || *s == '"')
		s++;
	errno = 0;
	d = strtod(s, &end);
	while (*end == ' ' || *end == '"')
		end++;
	if (end == s || *end || errno || !isfinite(d) || fabs(d * unit_ns) > 9e18)
		return -1;
	*ns = (int64_t)llround(d * unit_ns);
	return 0;
}

/* ---- JSON: one flat object per line; values are numbers, strings or
 * arrays of numbers (what JSONL traces hold) ---- */

struct jfield {
	const char *key;
	size_t klen;
	const char *val; /* start of the value text */
	size_t vlen;
	bool is_array, is_string;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string_end(const char *p)
{
	/* p at the opening quote; returns the closing quote or NULL */
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			p++;
		} else if (*p == '"') {
			return p;
		}
	}
	return NULL;
}

/* Splits a line into fields; -1 with *where the offending column on error. */
static int json_fields(const char *line, struct jfield *f, size_t max, size_t *n, int *where)
{
	const char *p = skip_ws(line);
	*n = 0;
	if (*p != '{') {
		*where = (int)(p - line) + 1;
		return -1;
	}
	p = skip_ws(p + 1);
	if (*p == '}')
		return 0;
	for (;;) {
		const char *ke, *v;
		struct jfield x = {0};
		if (*p != '"' || !(ke = json_string_end(p)))
			goto bad;
		x.key = p + 1;
		x.klen = (size_t)(ke - p - 1);
		p = skip_ws(ke + 1);
		if (*p++ != ':')
			goto bad;
		v = p = skip_ws(p);
		if (*p == '"') {
			const char *e = json_string_end(p);
			if (!e)
				goto bad;
			x.is_string = true;
			x.val = p + 1;
			x.vlen = (size_t)(e - p - 1);
			p = e + 1;
		} else if (*p == '[') {
			int depth = 0;
			for (; *p; p++) {
				if (*p == '[')
					depth++;
				else if (*p == ']' && --depth == 0)
					break;
			}
			if (*p != ']')
				goto bad;
			x.is_array = true;
			x.val = v;
			x.vlen = (size_t)(p - v + 1);
			p++;
		} else {
			while (*p && *p != ',' && *p != '}' && *p != ' ')
				p++;
			x.val = v;
			x.vlen = (size_t)(p - v);
			if (!x.vlen)
				goto bad;
		}
		if (*n < max)
			f[(*n)++] = x;
		p = skip_ws(p);
		if (*p == '}')
			return 0;
		if (*p++ != ',')
			goto bad;
		p = skip_ws(p);
	}
bad:
	*where = (int)(p - line) + 1;
	return -1;
}

static const struct jfield *jget(const struct jfield *f, size_t n, const char *key)
{
	size_t l = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (f[i].klen == l && !memcmp(f[i].key, key, l))
			return &f[i];
	return NULL;
}

static char *jtext(const struct jfield *x, char *buf, size_t n)
{
	size_t l = x->vlen < n - 1 ? x->vlen : n - 1;
	memcpy(buf, x->val, l);
	buf[l] = '\0';
	return buf;
}

/* ---- the reader ---- */


static int row_error(struct wl_trace_reader *r, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int row_error(struct wl_trace_reader *r, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sim_err_vat(r->err, SIM_EINPUT, r->path, (int)r->line, col, fmt, ap);
	va_end(ap);
	return -1;
}

static ssize_t read_line(struct wl_trace_reader *r)
{
	ssize_t n = getline(&r->buf, &r->cap, r->f);
	if (n < 0)
		return -1;
	r->line++;
	while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
		r->buf[--n] = '\0';
	if (memchr(r->buf, '\0', (size_t)n))
		return -2; /* binary */
	return n;
}

static size_t split_csv(char *s, char **f, size_t max)
{
	/* the formats here have no quoted commas; quotes around fields are dropped later */
	size_t n = 0;
	for (;;) {
		char *c = strchr(s, ',');
		if (n < max)
			f[n++] = s;
		if (!c)
			break;
		*c = '\0';
		s = c + 1;
	}
	return n;
}

static void trim(char *s)
{
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '"'))
		s[--l] = '\0';
	if (s[0] == '"' || s[0] == ' ') {
		size_t k = 0;
		while (s[k] == ' ' || s[k] == '"')
			k++;
		memmove(s, s + k, strlen(s + k) + 1);
	}
}

static int find_col(char **cols, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cols[i], name))
			return (int)i;
	return -1;
}

/* Reads the header (CSV) or peeks the first object (JSONL) and sets the
 * format when it was auto. */
static int open_header(struct wl_trace_reader *r)
{
	ssize_t n;
	char *cols[64];
	size_t nc;
	do {
		n = read_line(r);
	} while (n == 0);
	if (n == -2)
		return row_error(r, 0, "not a text file (a NUL byte)");
	if (n < 0)
		return sim_err_at(r->err, r->path, 0, 0, "empty trace: no header and no rows");
	if (r->buf[0] == '{') {
		if (r->format == WL_FMT_AUTO)
			r->format = strstr(r->buf, "\"input_length\"") ? WL_FMT_MOONCAKE : WL_FMT_JSONL;
		if (r->format != WL_FMT_MOONCAKE && r->format != WL_FMT_JSONL)
			return row_error(r, 1, "a JSON line, but the trace format is %s", wl_trace_format_names[r->format]);
		r->pending = true; /* the first line is a row */
		return 0;
	}
	if (r->format == WL_FMT_MOONCAKE || r->format == WL_FMT_JSONL)
		return row_error(r, 1, "expected a JSON object per line for format %s", wl_trace_format_names[r->format]);
	nc = split_csv(r->buf, cols, 64);
	for (size_t i = 0; i < nc; i++)
		trim(cols[i]);
	r->ncols = nc;
	if (r->format == WL_FMT_AUTO) {
		if (find_col(cols, nc, "ContextTokens") >= 0 && find_col(cols, nc, "GeneratedTokens") >= 0)
			r->format = WL_FMT_AZURE;
		else if (find_col(cols, nc, "Request tokens") >= 0 && find_col(cols, nc, "Response tokens") >= 0)
			r->format = WL_FMT_BURSTGPT;
		else
			r->format = WL_FMT_CSV;
	}
	switch (r->format) {
	case WL_FMT_AZURE:
		r->c_ts = find_col(cols, nc, "TIMESTAMP");
		r->c_prompt = find_col(cols, nc, "ContextTokens");
		r->c_output = find_col(cols, nc, "GeneratedTokens");
		if (r->c_ts < 0 || r->c_prompt < 0 || r->c_output < 0)
			return row_error(r, 1, "an Azure trace has TIMESTAMP, ContextTokens, GeneratedTokens columns");
		break;
	case WL_FMT_BURSTGPT:
		r->c_ts = find_col(cols, nc, "Timestamp");
		r->c_prompt = find_col(cols, nc, "Request tokens");
		r->c_output = find_col(cols, nc, "Response tokens");
		r->c_model = find_col(cols, nc, "Model");
		r->c_log = find_col(cols, nc, "Log Type");
		if (r->c_ts < 0 || r->c_prompt < 0 || r->c_output < 0 || r->c_model < 0 || r->c_log < 0)
			return row_error(r, 1, "a BurstGPT trace has Timestamp, Model, Request tokens, Response tokens, Log Type columns");
		break;
	default: { /* csv with the scenario's column mapping */
		const struct wl_columns *m = &r->cfg->columns;
		r->c_ts = find_col(cols, nc, m->timestamp);
		r->c_prompt = find_col(cols, nc, m->prompt);
		r->c_output = find_col(cols, nc, m->output);
		if (r->c_ts < 0)
			return row_error(r, 1, "no column '%s' (columns.timestamp)", m->timestamp);
		if (r->c_prompt < 0)
			return row_error(r, 1, "no column '%s' (columns.prompt)", m->prompt);
		if (r->c_output < 0)
			return row_error(r, 1, "no column '%s' (columns.output)", m->output);
	}
	}
	return 0;
}

int wl_trace_open(struct wl_trace_reader *r, const struct wl_trace *cfg, const char *path, int format,
		  struct sim_err *err)
{
	static const double unit_ns[] = {[WL_TS_S] = 1e9, [WL_TS_MS] = 1e6, [WL_TS_US] = 1e3, [WL_TS_NS] = 1};
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->err = err;
	r->path = path;
	r->format = format;
	r->unit_ns = unit_ns[cfg->columns.timestamp_unit];
	r->f = fopen(path, "r");
	if (!r->f)
		return sim_err_set(err, SIM_EIO, "%s: cannot open: %s", path, strerror(errno));
	return open_header(r);
}

void wl_trace_close(struct wl_trace_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->ids);
	r->f = NULL;
	r->buf = NULL;
	r->ids = NULL;
}

int wl_trace_rewind(struct wl_trace_reader *r)
{
	if (fseek(r->f, 0, SEEK_SET) != 0)
		return sim_err_set(r->err, SIM_EIO, "%s: cannot read it again for loop", r->path);
	r->line = 0;
	r->pending = false;
	return open_header(r);
}

static int parse_ids(struct wl_trace_reader *r, const struct jfield *x, int col)
{
	const char *p = x->val + 1, *end = x->val + x->vlen - 1; /* inside [ ] */
	r->nids = 0;
	while (p < end) {
		char *e;
		unsigned long long v;
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p >= end)
			break;
		errno = 0;
		v = strtoull(p, &e, 10);
		if (e == p || errno)
			return row_error(r, col, "hash_ids: expected whole numbers");
		XGROW(r->ids, r->ids_cap, r->nids + 1);
		r->ids[r->nids++] = (uint64_t)v;
		p = e;
	}
	return 0;
}

/* One row in *row; 1 row, 0 end, -1 error. Broken rows with on_error skip
 * are counted and passed over. */
int wl_trace_next(struct wl_trace_reader *r, struct wl_row *row)
{
	for (;;) {
		ssize_t n;
		int rc;
		if (r->pending) {
			r->pending = false;
			n = (ssize_t)strlen(r->buf);
		} else {
			n = read_line(r);
		}
		if (n == -1)
			return 0;
		if (n == -2)
			rc = row_error(r, 0, "not a text row (a NUL byte)");
		else if (n == 0)
			continue; /* blank line */
		else
			rc = 0;
		memset(row, 0, sizeof(*row));
		row->line = r->line;
		if (!rc && (r->format == WL_FMT_MOONCAKE || r->format == WL_FMT_JSONL)) {
			struct jfield f[32];
			size_t nf;
			int where;
			const char *kt = r->format == WL_FMT_MOONCAKE ? "timestamp" : r->cfg->columns.timestamp;
			const char *kp = r->format == WL_FMT_MOONCAKE ? "input_length" : r->cfg->columns.prompt;
			const char *ko = r->format == WL_FMT_MOONCAKE ? "output_length" : r->cfg->columns.output;
			const char *kh = r->format == WL_FMT_MOONCAKE ? "hash_ids" : r->cfg->columns.hash_ids;
			const struct jfield *x;
			char tmp[64];
			if (json_fields(r->buf, f, 32, &nf, &where))
				rc = row_error(r, where, "malformed JSON object");
			else if (!(x = jget(f, nf, kt)))
				rc = row_error(r, 1, "no \"%s\"", kt);
			else if (x->is_array ||
				 (r->format == WL_FMT_MOONCAKE ? parse_seconds(jtext(x, tmp, sizeof(tmp)), 1e6, &row->t)
							       : (x->is_string ? wl_parse_datetime(jtext(x, tmp, sizeof(tmp)), &row->t)
									       : parse_seconds(jtext(x, tmp, sizeof(tmp)), r->unit_ns, &row->t))))
				rc = row_error(r, (int)(x->val - r->buf) + 1, "\"%s\": not a timestamp", kt);
			else if (!(x = jget(f, nf, kp)) || x->is_array || parse_count(jtext(x, tmp, sizeof(tmp)), &row->prompt))
				rc = row_error(r, x ? (int)(x->val - r->buf) + 1 : 1, "\"%s\": expected a token count", kp);
			else if (!(x = jget(f, nf, ko)) || x->is_array || parse_count(jtext(x, tmp, sizeof(tmp)), &row->output))
				rc = row_error(r, x ? (int)(x->val - r->buf) + 1 : 1, "\"%s\": expected a token count", ko);
			else if (kh && (x = jget(f, nf, kh))) {
				if (!x->is_array)
					rc = row_error(r, (int)(x->val - r->buf) + 1, "\"%s\": expected a list", kh);
				else if (!(rc = parse_ids(r, x, (int)(x->val - r->buf) + 1))) {
					row->ids = r->ids;
					row->nids = r->nids;
				}
			}
		} else if (!rc) {
			char *f[64];
			size_t nf = split_csv(r->buf, f, 64);
			int need = r->c_ts > r->c_prompt ? r->c_ts : r->c_prompt;
			if (r->c_output > need)
				need = r->c_output;
			if (nf < r->ncols || (int)nf <= need) {
				rc = row_error(r, 0, "expected %zu fields, found %zu", r->ncols, nf);
			} else {
				for (size_t i = 0; i < nf; i++)
					trim(f[i]);
				if (r->format == WL_FMT_AZURE ? wl_parse_datetime(f[r->c_ts], &row->t)
				    : r->format == WL_FMT_BURSTGPT ? parse_seconds(f[r->c_ts], 1e9, &row->t)
				    : (parse_seconds(f[r->c_ts], r->unit_ns, &row->t) &&
				       wl_parse_datetime(f[r->c_ts], &row->t)))
					rc = row_error(r, 0, "not a timestamp: '%s'", f[r->c_ts]);
				else if (parse_count(f[r->c_prompt], &row->prompt))
					rc = row_error(r, 0, "prompt tokens: expected a whole number, got '%s'", f[r->c_prompt]);
				else if (parse_count(f[r->c_output], &row->output))
					rc = row_error(r, 0, "output tokens: expected a whole number, got '%s'", f[r->c_output]);
				else if (r->format == WL_FMT_BURSTGPT) {
					if ((r->cfg->model && strcmp(f[r->c_model], r->cfg->model)) ||
					    (r->cfg->log_type && strcmp(f[r->c_log], r->cfg->log_type))) {
						r->filtered++;
						continue;
					}
					if (row->output == 0) { /* a failed request in BurstGPT */
						r->failures++;
						continue;
					}
				}
			}
		}
		if (rc) {
			if (r->cfg->on_error == WL_ON_ERROR_SKIP) {
				sim_err_clear(r->err);
				r->skipped++;
				continue;
			}
			return -1;
		}
		r->rows++;
		return 1;
	}
}
