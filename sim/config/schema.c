/*
 * Table-driven decoding of a cfg_node tree into structs, after netplan's
 * parse.c: each struct has a table of (key, type, offset, default, doc);
 * this file walks the tables. Errors name the dotted path of the value.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_ctx_init(struct cfg_ctx *c, struct cfg_doc *d, struct sim_err *err)
{
	memset(c, 0, sizeof(*c));
	c->doc = d;
	c->err = err;
}

size_t cfg_path_push_key(struct cfg_ctx *c, const char *key)
{
	size_t mark = strlen(c->path);
	snprintf(c->path + mark, sizeof(c->path) - mark, "%s%s", mark ? "." : "", key);
	return mark;
}

size_t cfg_path_push_index(struct cfg_ctx *c, size_t i)
{
	size_t mark = strlen(c->path);
	snprintf(c->path + mark, sizeof(c->path) - mark, "[%zu]", i);
	return mark;
}

void cfg_path_pop(struct cfg_ctx *c, size_t mark)
{
	c->path[mark] = '\0';
}

int cfg_error(struct cfg_ctx *c, const struct cfg_node *n, const char *fmt, ...)
{
	char body[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (c->path[0])
		return sim_err_at(c->err, n ? n->pos.file : c->doc->file,
				  n ? n->pos.line : 0, n ? n->pos.col : 0, "%s: %s",
				  c->path, body);
	return sim_err_at(c->err, n ? n->pos.file : c->doc->file,
			  n ? n->pos.line : 0, n ? n->pos.col : 0, "%s", body);
}

/* ---- closest key (typo hints) ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64], i, j;
	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

const char *cfg_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX, lim = strlen(word) / 3 + 2;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);
		/* a key that contains the other (case aside) is a likely mix-up too */
		if (d > lim && (strstr(cands[i], word) || strstr(word, cands[i])) &&
		    strlen(word) >= 3)
			d = lim;
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= lim ? best : NULL;
}

/* ---- scalar values ---- */

static const char *type_word(enum cfg_type t)
{
	switch (t) {
	case CFG_T_INT: return "a whole number";
	case CFG_T_DOUBLE: return "a number";
	case CFG_T_BOOL: return "true or false";
	case CFG_T_STR: return "a string";
	case CFG_T_PATH: return "a file path";
	case CFG_T_DURATION: return "a duration (e.g. 15s)";
	case CFG_T_SIZE: return "a size (e.g. 10GB)";
	case CFG_T_BANDWIDTH: return "a bandwidth (e.g. 500MB/s)";
	case CFG_T_RATE: return "a rate (e.g. 10/s)";
	case CFG_T_QUANTITY: return "a quantity (e.g. 500m)";
	case CFG_T_ENUM: return "one of the listed names";
	case CFG_T_STRUCT: return "a mapping";
	case CFG_T_LIST: return "a list";
	case CFG_T_ANY: return "any value";
	case CFG_T_CUSTOM: return "a value";
	}
	return "a value";
}

static int check_bounds(struct cfg_ctx *c, const struct cfg_node *n,
			const struct cfg_field *f, double v, const char *shown)
{
	if ((f->flags & CFG_GT) && !(v > f->min))
		return cfg_error(c, n, "must be greater than %g, got %s", f->min, shown);
	if ((f->flags & CFG_MIN) && !(v >= f->min))
		return cfg_error(c, n, "must be at least %g, got %s", f->min, shown);
	if ((f->flags & CFG_MAX) && !(v <= f->max))
		return cfg_error(c, n, "must be at most %g, got %s", f->max, shown);
	return 0;
}

static int decode_scalar(struct cfg_ctx *c, const struct cfg_node *n,
			 enum cfg_type t, const struct cfg_field *f, void *dst)
{
	char msg[256];
	int rc = 0;

	if (n->kind != CFG_SCALAR)
		return cfg_error(c, n, "expected %s, got %s", type_word(t),
				 cfg_kind_name(n->kind));
	switch (t) {
	case CFG_T_INT: {
		int64_t v;
		if (cfg_parse_int(n->str, &v, msg, sizeof(msg)))
			return cfg_error(c, n, "%s", msg);
		if (check_bounds(c, n, f, (double)v, n->str))
			return -1;
		*(int64_t *)dst = v;
		return 0;
	}
	case CFG_T_DOUBLE: {
		double v;
		if (cfg_parse_double(n->str, &v, msg, sizeof(msg)))
			return cfg_error(c, n, "%s", msg);
		if (check_bounds(c, n, f, v, n->str))
			return -1;
		*(double *)dst = v;
		return 0;
	}
	case CFG_T_BOOL:
		if (cfg_parse_bool(n->str, (bool *)dst, msg, sizeof(msg)))
			return cfg_error(c, n, "%s", msg);
		return 0;
	case CFG_T_STR:
		if ((f->flags & CFG_REQUIRED) && !n->str[0])
			return cfg_error(c, n, "must not be empty");
		*(const char **)dst = n->str;
		return 0;
	case CFG_T_PATH:
		if (!n->str[0])
			return cfg_error(c, n, "expected a file path, got an empty string");
		*(const char **)dst = cfg_resolve_path(c, n, n->str);
		return 0;
	case CFG_T_DURATION: {
		sim_time v;
		if (cfg_parse_duration(n->str, &v, msg, sizeof(msg)))
			return cfg_error(c, n, "%s", msg);
		if (check_bounds(c, n, f, sim_time_to_s(v), n->str))
			return -1;
		*(sim_time *)dst = v;
		return 0;
	}
	case CFG_T_SIZE: {
		int64_t v;
		if (cfg_parse_size(n->str, &v, msg, sizeof(msg)))
			return cfg_error(c, n, "%s", msg);
		if (check_bounds(c, n, f, (double)v, n->str))
			return -1;
		*(int64_t *)dst = v;
		return 0;
	}
	case CFG_T_BANDWIDTH:
		rc = cfg_parse_bandwidth(n->str, (double *)dst, msg, sizeof(msg));
		break;
	case CFG_T_RATE:
		rc = cfg_parse_rate(n->str, (double *)dst, msg, sizeof(msg));
		break;
	case CFG_T_QUANTITY: {
		int64_t v;
		if (cfg_parse_quantity(n->str, &v, msg, sizeof(msg)))
			return cfg_error(c, n, "%s", msg);
		if (check_bounds(c, n, f, (double)v / 1000.0, n->str))
			return -1;
		*(int64_t *)dst = v;
		return 0;
	}
	case CFG_T_ENUM: {
		const char *const *e = f->enums;
		size_t k = 0;
		char list[384];
		size_t off = 0;
		for (; e[k]; k++)
			if (!strcmp(e[k], n->str)) {
				*(int *)dst = (int)k;
				return 0;
			}
		list[0] = '\0';
		for (size_t i = 0; e[i] && off < sizeof(list) - 1; i++) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s",
					 i ? ", " : "", e[i]);
			if (w < 0)
				break;
			off += (size_t)w;
		}
		{
			const char *near = cfg_closest(n->str, e, k);
			if (near)
				return cfg_error(c, n, "unknown value '%s' (did you mean '%s'? expected one of: %s)",
						 n->str, near, list);
		}
		return cfg_error(c, n, "unknown value '%s' (expected one of: %s)", n->str, list);
	}
	default:
		return cfg_error(c, n, "internal: not a scalar type");
	}
	if (rc)
		return cfg_error(c, n, "%s", msg);
	return check_bounds(c, n, f, *(double *)dst, n->str);
}

static size_t elem_size(enum cfg_type t)
{
	switch (t) {
	case CFG_T_INT: case CFG_T_SIZE: case CFG_T_QUANTITY: return sizeof(int64_t);
	case CFG_T_DURATION: return sizeof(sim_time);
	case CFG_T_DOUBLE: case CFG_T_BANDWIDTH: case CFG_T_RATE: return sizeof(double);
	case CFG_T_BOOL: return sizeof(bool);
	case CFG_T_ENUM: return sizeof(int);
	case CFG_T_STR: case CFG_T_PATH: return sizeof(const char *);
	case CFG_T_ANY: return sizeof(const struct cfg_node *);
	default: return 0;
	}
}

int cfg_decode_value(struct cfg_ctx *c, const struct cfg_node *n,
		     const struct cfg_field *f, void *dst)
{
	switch (f->type) {
	case CFG_T_STRUCT:
		if (n->kind != CFG_MAP)
			return cfg_error(c, n, "expected a mapping, got %s",
					 cfg_kind_name(n->kind));
		return cfg_decode(c, n, f->sub, dst);
	case CFG_T_ANY:
		*(const struct cfg_node **)dst = n;
		return 0;
	case CFG_T_CUSTOM:
		return f->fn(c, n, dst);
	case CFG_T_LIST: {
		struct cfg_list *l = dst;
		size_t esz = f->sub ? f->sub->size : elem_size(f->elem);
		unsigned char *items;
		if (n->kind != CFG_SEQ)
			return cfg_error(c, n, "expected a list, got %s", cfg_kind_name(n->kind));
		items = sim_arena_alloc(&c->doc->arena, esz * (n->n ? n->n : 1));
		for (size_t i = 0; i < n->n; i++) {
			size_t mark = cfg_path_push_index(c, i);
			int rc;
			if (f->sub) {
				if (n->vals[i]->kind != CFG_MAP)
					rc = cfg_error(c, n->vals[i], "expected a mapping, got %s",
						       cfg_kind_name(n->vals[i]->kind));
				else
					rc = cfg_decode(c, n->vals[i], f->sub, items + i * esz);
			} else {
				struct cfg_field ef = *f;
				ef.type = f->elem;
				rc = cfg_decode_value(c, n->vals[i], &ef, items + i * esz);
			}
			cfg_path_pop(c, mark);
			if (rc)
				return -1;
		}
		l->items = items;
		l->n = n->n;
		return 0;
	}
	default:
		return decode_scalar(c, n, f->type, f, dst);
	}
}

static void apply_default(struct cfg_ctx *c, const struct cfg_field *f, void *obj)
{
	void *dst = (unsigned char *)obj + f->off;
	struct sim_err e;
	struct cfg_ctx dc = *c;
	const struct cfg_node *v;

	if (f->type == CFG_T_STRUCT) {
		cfg_defaults(c, f->sub, dst);
		return;
	}
	if (!f->def)
		return;
	sim_err_clear(&e);
	dc.err = &e;
	if (f->type != CFG_T_LIST && f->type != CFG_T_CUSTOM && f->type != CFG_T_ANY) {
		struct cfg_node n = {.kind = CFG_SCALAR, .str = f->def,
				     .pos = {"<default>", 1, 1}};
		(void)decode_scalar(&dc, &n, f->type, f, dst);
		SIM_ASSERT(e.kind == SIM_OK);
		return;
	}
	/* Structured defaults are YAML text too, so one parser serves both. */
	v = cfg_doc_parse_fragment(c->doc, "<default>", f->def, &e);
	if (v && !cfg_is_null(v))
		(void)cfg_decode_value(&dc, v, f, dst);
	SIM_ASSERT(e.kind == SIM_OK); /* a default that does not parse is a bug */
}

void cfg_defaults(struct cfg_ctx *c, const struct cfg_schema *s, void *obj)
{
	for (const struct cfg_field *f = s->fields; f->key; f++)
		apply_default(c, f, obj);
}

int cfg_decode(struct cfg_ctx *c, const struct cfg_node *n,
	       const struct cfg_schema *s, void *obj)
{
	const char *names[128];
	size_t nnames = 0;

	if (n->kind != CFG_MAP)
		return cfg_error(c, n, "expected a mapping, got %s", cfg_kind_name(n->kind));
	if (++c->depth > 64)
		return cfg_error(c, n, "nesting too deep");
	cfg_defaults(c, s, obj);
	for (const struct cfg_field *f = s->fields; f->key && nnames < 128; f++)
		if (!(f->flags & CFG_HIDDEN))
			names[nnames++] = f->key;

	for (size_t i = 0; i < n->n; i++) {
		const struct cfg_node *k = n->keys[i], *v = n->vals[i];
		const struct cfg_field *f;
		size_t mark;
		for (f = s->fields; f->key; f++)
			if (!strcmp(f->key, k->str))
				break;
		if (!f->key) {
			const char *near = cfg_closest(k->str, names, nnames);
			if (near)
				return cfg_error(c, k, "unknown key '%s' (did you mean '%s'?)",
						 k->str, near);
			return cfg_error(c, k, "unknown key '%s' in %s", k->str,
					 s->name ? s->name : "this section");
		}
		if (cfg_is_null(v)) {
			if (f->flags & CFG_REQUIRED) {
				mark = cfg_path_push_key(c, f->key);
				cfg_error(c, v, "required, must not be null");
				cfg_path_pop(c, mark);
				return -1;
			}
			continue; /* null = take the default */
		}
		mark = cfg_path_push_key(c, f->key);
		if (cfg_decode_value(c, v, f, (unsigned char *)obj + f->off)) {
			cfg_path_pop(c, mark);
			return -1;
		}
		cfg_path_pop(c, mark);
		if (f->has)
			*(bool *)((unsigned char *)obj + f->has_off) = true;
	}
	for (const struct cfg_field *f = s->fields; f->key; f++) {
		if ((f->flags & CFG_REQUIRED) && cfg_is_null(cfg_map_get(n, f->key)))
			return cfg_error(c, n, "missing required key '%s'", f->key);
	}
	c->depth--;
	if (s->check)
		return s->check(c, n, obj);
	return 0;
}

/* ---- documentation walk ---- */

const char *cfg_type_name(const struct cfg_field *f)
{
	switch (f->type) {
	case CFG_T_INT: return "integer";
	case CFG_T_DOUBLE: return "number";
	case CFG_T_BOOL: return "bool";
	case CFG_T_STR: return "string";
	case CFG_T_PATH: return "path";
	case CFG_T_DURATION: return "duration";
	case CFG_T_SIZE: return "size";
	case CFG_T_BANDWIDTH: return "bandwidth";
	case CFG_T_RATE: return "rate";
	case CFG_T_QUANTITY: return "quantity";
	case CFG_T_ENUM: return "enum";
	case CFG_T_STRUCT: return "mapping";
	case CFG_T_LIST: return f->sub ? "list of mappings" : "list";
	case CFG_T_ANY: return "any";
	case CFG_T_CUSTOM: return "see text";
	}
	return "?";
}

void cfg_schema_walk(const struct cfg_schema *s, const char *prefix,
		     cfg_doc_visit_fn fn, void *ud)
{
	for (const struct cfg_field *f = s->fields; f->key; f++) {
		char path[512];
		if (f->flags & CFG_HIDDEN)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", f->key);
		fn(ud, path, f);
		if (f->sub) {
			char sub[520];
			snprintf(sub, sizeof(sub), "%s%s", path,
				 f->type == CFG_T_LIST ? "[]" : "");
			cfg_schema_walk(f->sub, sub, fn, ud);
		}
	}
}

/* ---- helpers for common shapes ---- */

static int tpairs(struct cfg_ctx *c, const struct cfg_node *n, void *dst,
		  enum cfg_type vt)
{
	struct cfg_list *l = dst;
	struct cfg_tpair *p;
	char msg[256];

	if (n->kind != CFG_SEQ)
		return cfg_error(c, n, "expected a list of [time, %s] pairs, got %s",
				 vt == CFG_T_RATE ? "rate" : "count", cfg_kind_name(n->kind));
	p = sim_arena_alloc(&c->doc->arena, sizeof(*p) * (n->n ? n->n : 1));
	for (size_t i = 0; i < n->n; i++) {
		const struct cfg_node *e = n->vals[i];
		size_t mark = cfg_path_push_index(c, i);
		if (e->kind != CFG_SEQ || e->n != 2 || e->vals[0]->kind != CFG_SCALAR ||
		    e->vals[1]->kind != CFG_SCALAR) {
			cfg_error(c, e, "expected a pair [time, %s], e.g. [10m, %s]",
				  vt == CFG_T_RATE ? "rate" : "count",
				  vt == CFG_T_RATE ? "5/s" : "4");
			return -1;
		}
		if (cfg_parse_duration(e->vals[0]->str, &p[i].t, msg, sizeof(msg))) {
			cfg_error(c, e->vals[0], "%s", msg);
			return -1;
		}
		if (vt == CFG_T_RATE) {
			if (cfg_parse_rate(e->vals[1]->str, &p[i].v, msg, sizeof(msg))) {
				cfg_error(c, e->vals[1], "%s", msg);
				return -1;
			}
		} else {
			int64_t v;
			if (cfg_parse_int(e->vals[1]->str, &v, msg, sizeof(msg))) {
				cfg_error(c, e->vals[1], "%s", msg);
				return -1;
			}
			if (v < 0 || v > 1000000) {
				cfg_error(c, e->vals[1], "count must be between 0 and 1000000, got %s",
					  e->vals[1]->str);
				return -1;
			}
			p[i].v = (double)v;
		}
		if (i > 0 && p[i].t < p[i - 1].t) {
			cfg_error(c, e->vals[0], "times must not go backwards (%s after a later time)",
				  e->vals[0]->str);
			return -1;
		}
		cfg_path_pop(c, mark);
	}
	l->items = p;
	l->n = n->n;
	return 0;
}

int cfg_custom_rate_pairs(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	return tpairs(c, n, dst, CFG_T_RATE);
}

int cfg_custom_count_pairs(struct cfg_ctx *c, const struct cfg_node *n, void *dst)
{
	return tpairs(c, n, dst, CFG_T_INT);
}

/* Free-keyed mappings: each value decoded by `one` into value_size bytes. */
static int named_map(struct cfg_ctx *c, const struct cfg_node *n, struct cfg_list *out,
		     size_t value_size, int (*one)(struct cfg_ctx *, const struct cfg_node *,
						   const void *, void *),
		     const void *how)
{
	struct cfg_named *items;
	if (n->kind != CFG_MAP)
		return cfg_error(c, n, "expected a mapping, got %s", cfg_kind_name(n->kind));
	items = sim_arena_alloc(&c->doc->arena, sizeof(*items) * (n->n ? n->n : 1));
	for (size_t i = 0; i < n->n; i++) {
		size_t mark = cfg_path_push_key(c, n->keys[i]->str);
		items[i].name = n->keys[i]->str;
		items[i].node = n->vals[i];
		items[i].value = sim_arena_alloc(&c->doc->arena, value_size);
		if (one(c, n->vals[i], how, items[i].value))
			return -1;
		cfg_path_pop(c, mark);
	}
	out->items = items;
	out->n = n->n;
	return 0;
}

static int one_struct(struct cfg_ctx *c, const struct cfg_node *v, const void *how, void *dst)
{
	return cfg_decode(c, v, how, dst);
}

static int one_value(struct cfg_ctx *c, const struct cfg_node *v, const void *how, void *dst)
{
	return cfg_decode_value(c, v, how, dst);
}

int cfg_decode_named_map(struct cfg_ctx *c, const struct cfg_node *n,
			 const struct cfg_schema *s, struct cfg_list *out)
{
	return named_map(c, n, out, s->size, one_struct, s);
}

int cfg_decode_number_map(struct cfg_ctx *c, const struct cfg_node *n,
			  struct cfg_list *out)
{
	static const struct cfg_field num = {.key = "", .type = CFG_T_DOUBLE};
	return named_map(c, n, out, sizeof(double), one_value, &num);
}

int cfg_error_at_key(struct cfg_ctx *c, const struct cfg_node *n,
		     const char *key, const char *fmt, ...)
{
	char body[768];
	const struct cfg_node *at = key ? cfg_lookup(n, key) : NULL;
	size_t mark = key ? cfg_path_push_key(c, key) : strlen(c->path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	cfg_error(c, at ? at : n, "%s", body);
	cfg_path_pop(c, mark);
	return -1;
}
