/*
 * A summary as numbers: a small, strict JSON reader (RFC 8259, of our own
 * output and of files users hand us) that walks a document and reports each
 * scalar by its dotted path, and the leaves built on it.
 */
#include "exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void exp_leaves_init(struct exp_leaves *l)
{
	memset(l, 0, sizeof(*l));
}

void exp_leaves_release(struct exp_leaves *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->path[i]);
	free(l->path);
	free(l->v);
	exp_leaves_init(l);
}

void exp_leaves_add(struct exp_leaves *l, const char *path, double v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->path = xrealloc(l->path, l->cap * sizeof(*l->path));
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->path[l->n] = xstrdup(path);
	l->v[l->n++] = v;
}

bool exp_leaves_get(const struct exp_leaves *l, const char *path, double *v)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->path[i], path)) {
			*v = l->v[i];
			return true;
		}
	return false;
}

/* ---- the reader ---- */

#define MAX_DEPTH 64 /* deeper is not a summary; refusing it bounds the recursion */

struct jr {
	const char *name, *s;
	size_t len, i;
	char *path; /* the current dotted path */
	size_t plen, pcap;
	char *str; /* the last string read */
	size_t slen, scap;
	int in_array;
	exp_json_fn fn;
	void *ud;
	struct sim_err *err;
};

static int jr_fail(struct jr *r, const char *what)
{
	int line = 1, col = 1;
	for (size_t k = 0; k < r->i && k < r->len; k++) {
		if (r->s[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return sim_err_at(r->err, r->name, line, col, "%s", what);
}

static void jr_ws(struct jr *r)
{
	while (r->i < r->len && strchr(" \t\r\n", r->s[r->i]) && r->s[r->i])
		r->i++;
}

static void str_put(struct jr *r, char c)
{
	if (r->slen + 2 > r->scap) {
		r->scap = r->scap ? 2 * r->scap : 64;
		r->str = xrealloc(r->str, r->scap);
	}
	r->str[r->slen++] = c;
	r->str[r->slen] = '\0';
}

static int hex4(struct jr *r, unsigned *u)
{
	*u = 0;
	for (int k = 0; k < 4; k++, r->i++) {
		char c = r->i < r->len ? r->s[r->i] : '\0';
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return jr_fail(r, "expected 4 hex digits after \\u");
		*u = *u * 16 + d;
	}
	return 0;
}

static void put_utf8(struct jr *r, unsigned u)
{
	if (u < 0x80) {
		str_put(r, (char)u);
	} else if (u < 0x800) {
		str_put(r, (char)(0xc0 | (u >> 6)));
		str_put(r, (char)(0x80 | (u & 0x3f)));
	} else if (u < 0x10000) {
		str_put(r, (char)(0xe0 | (u >> 12)));
		str_put(r, (char)(0x80 | ((u >> 6) & 0x3f)));
		str_put(r, (char)(0x80 | (u & 0x3f)));
	} else {
		str_put(r, (char)(0xf0 | (u >> 18)));
		str_put(r, (char)(0x80 | ((u >> 12) & 0x3f)));
		str_put(r, (char)(0x80 | ((u >> 6) & 0x3f)));
		str_put(r, (char)(0x80 | (u & 0x3f)));
	}
}

/* A string literal (r->i at the quote) into r->str. */
static int jr_string(struct jr *r)
{
	r->slen = 0;
	str_put(r, 'x');
	r->slen = 0;
	r->str[0] = '\0';
	r->i++;
	for (;;) {
		unsigned char c;
		if (r->i >= r->len)
			return jr_fail(r, "unterminated string");
		c = (unsigned char)r->s[r->i];
		if (c == '"') {
			r->i++;
			return 0;
		}
		if (c < 0x20)
			return jr_fail(r, "control character in a string");
		if (c != '\\') {
			str_put(r, (char)c);
			r->i++;
			continue;
		}
		r->i++;
		c = r->i < r->len ? (unsigned char)r->s[r->i] : 0;
		const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
		const char *p = c ? strchr(from, c) : NULL;
		if (p) {
			str_put(r, to[p - from]);
			r->i++;
		} else if (c == 'u') {
			unsigned u, lo;
			r->i++;
			if (hex4(r, &u))
				return -1;
			if (u >= 0xd800 && u < 0xdc00) { /* a surrogate pair */
				if (r->i + 1 >= r->len || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u')
					return jr_fail(r, "lone surrogate in \\u escape");
				r->i += 2;
				if (hex4(r, &lo))
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return jr_fail(r, "lone surrogate in \\u escape");
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xdc00 && u < 0xe000) {
				return jr_fail(r, "lone surrogate in \\u escape");
			}
			if (u == 0)
				return jr_fail(r, "\\u0000 in a string");
			put_utf8(r, u);
		} else {
			return jr_fail(r, "invalid escape in a string");
		}
	}
}

static int jr_number(struct jr *r, double *v)
{
	size_t b = r->i, k = r->i;
	char buf[64];
#define D(k) ((k) < r->len && r->s[k] >= '0' && r->s[k] <= '9')
	if (k < r->len && r->s[k] == '-')
		k++;
	if (!D(k))
		return jr_fail(r, "expected a value");
	if (r->s[k] == '0')
		k++;
	else
		while (D(k))
			k++;
	if (k < r->len && r->s[k] == '.') {
		k++;
		if (!D(k)) {
			r->i = k;
			return jr_fail(r, "expected a digit after '.'");
		}
		while (D(k))
			k++;
	}
	if (k < r->len && (r->s[k] == 'e' || r->s[k] == 'E')) {
		k++;
		if (k < r->len && (r->s[k] == '+' || r->s[k] == '-'))
			k++;
		if (!D(k)) {
			r->i = k;
			return jr_fail(r, "expected a digit in the exponent");
		}
		while (D(k))
			k++;
	}
#undef D
	if (k - b >= sizeof(buf))
		return jr_fail(r, "number too long");
	memcpy(buf, r->s + b, k - b);
	buf[k - b] = '\0';
	*v = strtod(buf, NULL);
	r->i = k;
	return 0;
}

static bool jr_word(struct jr *r, const char *w)
{
	size_t l = strlen(w);
	if (r->len - r->i < l || memcmp(r->s + r->i, w, l))
		return false;
	r->i += l;
	return true;
}

static int jr_value(struct jr *r, int depth);

/* Appends ".key" (or "key" at the top) to the path; returns the old length. */
static size_t path_push(struct jr *r, const char *key)
{
	size_t old = r->plen, kl = strlen(key);
	if (r->plen + kl + 2 > r->pcap) {
		r->pcap = 2 * (r->plen + kl + 2);
		r->path = xrealloc(r->path, r->pcap);
	}
	if (old)
		r->path[r->plen++] = '.';
	memcpy(r->path + r->plen, key, kl + 1);
	r->plen += kl;
	return old;
}

static int jr_object(struct jr *r, int depth)
{
	r->i++;
	jr_ws(r);
	if (r->i < r->len && r->s[r->i] == '}') {
		r->i++;
		return 0;
	}
	for (;;) {
		size_t old;
		jr_ws(r);
		if (r->i >= r->len || r->s[r->i] != '"')
			return jr_fail(r, "expected a key (a string)");
		if (jr_string(r))
			return -1;
		if (memchr(r->str, '\0', r->slen))
			return jr_fail(r, "NUL in a key");
		old = path_push(r, r->str);
		jr_ws(r);
		if (r->i >= r->len || r->s[r->i] != ':')
			return jr_fail(r, "expected ':' after a key");
		r->i++;
		if (jr_value(r, depth + 1))
			return -1;
		r->plen = old;
		r->path[old] = '\0';
		jr_ws(r);
		if (r->i < r->len && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->len && r->s[r->i] == '}') {
			r->i++;
			return 0;
		}
		return jr_fail(r, "expected ',' or '}'");
	}
}

static int jr_array(struct jr *r, int depth)
{
	r->i++;
	r->in_array++;
	jr_ws(r);
	if (r->i < r->len && r->s[r->i] == ']') {
		r->i++;
		r->in_array--;
		return 0;
	}
	for (;;) {
		if (jr_value(r, depth + 1))
			return -1;
		jr_ws(r);
		if (r->i < r->len && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->len && r->s[r->i] == ']') {
			r->i++;
			r->in_array--;
			return 0;
		}
		return jr_fail(r, "expected ',' or ']'");
	}
}

static int jr_value(struct jr *r, int depth)
{
	double v = NAN;
	char c;
	if (depth > MAX_DEPTH)
		return jr_fail(r, "nested too deeply");
	jr_ws(r);
	if (r->i >= r->len)
		return jr_fail(r, "unexpected end of input, expected a value");
	c = r->s[r->i];
	if (c == '{')
		return jr_object(r, depth);
	if (c == '[')
		return jr_array(r, depth);
	if (c == '"') {
		if (jr_string(r))
			return -1;
		if (r->fn)
			r->fn(r->ud, r->path, r->in_array > 0, NAN, r->str);
		return 0;
	}
	if (jr_word(r, "true"))
		v = 1;
	else if (jr_word(r, "false"))
		v = 0;
	else if (jr_word(r, "null"))
		v = NAN;
	else if (jr_number(r, &v))
		return -1;
	if (r->fn)
		r->fn(r->ud, r->path, r->in_array > 0, v, NULL);
	return 0;
}

int exp_json_walk(const char *name, const char *json, size_t len, exp_json_fn fn, void *ud,
		  struct sim_err *err)
{
	struct jr r;
	int rc;
	memset(&r, 0, sizeof(r));
	r.name = name;
	r.s = json;
	r.len = len;
	r.fn = fn;
	r.ud = ud;
	r.err = err;
	r.pcap = 64;
	r.path = xcalloc(1, r.pcap);
	rc = jr_value(&r, 0);
	if (!rc) {
		jr_ws(&r);
		if (r.i < r.len)
			rc = jr_fail(&r, "unexpected text after the value");
	}
	free(r.path);
	free(r.str);
	return rc;
}

static void leaf_cb(void *ud, const char *path, bool in_array, double v, const char *str)
{
	/* wall_time_s is the one field that differs between identical runs */
	if (in_array || str || !*path || !strcmp(path, "wall_time_s"))
		return;
	exp_leaves_add(ud, path, v);
}

int exp_leaves_from_json(struct exp_leaves *l, const char *name, const char *json, size_t len,
			 struct sim_err *err)
{
	size_t n0 = l->n;
	if (exp_json_walk(name, json, len, leaf_cb, l, err)) {
		while (l->n > n0) /* nothing of a malformed document stays */
			free(l->path[--l->n]);
		return -1;
	}
	return 0;
}

void exp_leaves_from_summary(struct exp_leaves *l, const struct rep_summary *s)
{
	struct rep_json j;
	struct sim_err err;
	rep_json_init(&j);
	rep_summary_json(s, &j);
	sim_err_clear(&err);
	if (exp_leaves_from_json(l, "summary.json", j.buf, j.len, &err))
		sim_bug(__FILE__, __LINE__, err.msg); /* our own writer's output */
	rep_json_release(&j);
}
