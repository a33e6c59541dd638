/*
 * YAML text -> cfg_node tree, through libyaml's document API. Positions are
 * kept per node. `include:` in any mapping merges the named files under it
 * (the including mapping wins); `--set` edits the tree afterwards.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_NODES 2000000u   /* alias bombs expand past this */
#define MAX_DEPTH 200u
#define MAX_FILE (64u << 20)
#define MAX_INCLUDE_DEPTH 16

void cfg_doc_init(struct cfg_doc *d)
{
	memset(d, 0, sizeof(*d));
	sim_arena_init(&d->arena);
}

void cfg_doc_release(struct cfg_doc *d)
{
	sim_arena_release(&d->arena);
	memset(d, 0, sizeof(*d));
}

const char *cfg_kind_name(enum cfg_kind k)
{
	switch (k) {
	case CFG_NULL: return "null";
	case CFG_SCALAR: return "a scalar";
	case CFG_MAP: return "a mapping";
	case CFG_SEQ: return "a list";
	}
	return "?";
}

bool cfg_is_null(const struct cfg_node *n)
{
	return !n || n->kind == CFG_NULL;
}

static struct cfg_node *node_new(struct cfg_doc *d, enum cfg_kind k, struct cfg_pos pos)
{
	struct cfg_node *n = sim_arena_alloc(&d->arena, sizeof(*n));
	n->kind = k;
	n->pos = pos;
	n->str = "";
	d->nodes++;
	return n;
}

static void node_add(struct cfg_doc *d, struct cfg_node *parent,
		     struct cfg_node *key, struct cfg_node *val)
{
	if (parent->n == parent->cap) {
		size_t nc = parent->cap ? parent->cap * 2 : 4;
		struct cfg_node **nk = sim_arena_alloc(&d->arena, nc * sizeof(*nk));
		struct cfg_node **nv = sim_arena_alloc(&d->arena, nc * sizeof(*nv));
		if (parent->n) {
			if (parent->keys)
				memcpy(nk, parent->keys, parent->n * sizeof(*nk));
			memcpy(nv, parent->vals, parent->n * sizeof(*nv));
		}
		parent->keys = parent->kind == CFG_MAP ? nk : NULL;
		parent->vals = nv;
		parent->cap = nc;
	}
	if (parent->kind == CFG_MAP)
		parent->keys[parent->n] = key;
	parent->vals[parent->n++] = val;
}

struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key)
{
	if (!map || map->kind != CFG_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->vals[i];
	return NULL;
}

/* ---- libyaml document -> tree ---- */

struct conv {
	struct cfg_doc *d;
	yaml_document_t *ydoc;
	const char *file;
	struct sim_err *err;
};

static bool is_null_scalar(const yaml_node_t *y)
{
	const char *v = (const char *)y->data.scalar.value;
	if (y->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return y->data.scalar.length == 0 || !strcmp(v, "~") ||
	       !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static struct cfg_node *convert(struct conv *c, yaml_node_t *y, unsigned depth)
{
	struct cfg_pos pos = {c->file, (int)y->start_mark.line + 1,
			      (int)y->start_mark.column + 1};
	struct cfg_node *n;

	if (depth > MAX_DEPTH) {
		sim_err_at(c->err, c->file, pos.line, pos.col,
			   "nesting deeper than %u levels", MAX_DEPTH);
		return NULL;
	}
	if (c->d->nodes > MAX_NODES) {
		sim_err_at(c->err, c->file, pos.line, pos.col,
			   "document expands to more than %u nodes (alias loop or bomb?)",
			   MAX_NODES);
		return NULL;
	}
	switch (y->type) {
	case YAML_SCALAR_NODE:
		if (is_null_scalar(y))
			return node_new(c->d, CFG_NULL, pos);
		n = node_new(c->d, CFG_SCALAR, pos);
		if (memchr(y->data.scalar.value, '\0', y->data.scalar.length)) {
			sim_err_at(c->err, c->file, pos.line, pos.col,
				   "NUL character in a value");
			return NULL;
		}
		n->str = sim_arena_strndup(&c->d->arena, (const char *)y->data.scalar.value,
					   y->data.scalar.length);
		n->quoted = y->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		return n;
	case YAML_SEQUENCE_NODE: {
		n = node_new(c->d, CFG_SEQ, pos);
		for (yaml_node_item_t *it = y->data.sequence.items.start;
		     it < y->data.sequence.items.top; it++) {
			struct cfg_node *v = convert(c, yaml_document_get_node(c->ydoc, *it), depth + 1);
			if (!v)
				return NULL;
			node_add(c->d, n, NULL, v);
		}
		return n;
	}
	case YAML_MAPPING_NODE: {
		n = node_new(c->d, CFG_MAP, pos);
		for (yaml_node_pair_t *p = y->data.mapping.pairs.start;
		     p < y->data.mapping.pairs.top; p++) {
			yaml_node_t *yk = yaml_document_get_node(c->ydoc, p->key);
			struct cfg_node *k, *v, *prev_key = NULL;
			if (yk->type != YAML_SCALAR_NODE) {
				sim_err_at(c->err, c->file, (int)yk->start_mark.line + 1,
					   (int)yk->start_mark.column + 1,
					   "a mapping key must be a plain string, not %s",
					   yk->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
				return NULL;
			}
			k = convert(c, yk, depth + 1);
			if (!k)
				return NULL;
			if (k->kind == CFG_NULL)
				k->kind = CFG_SCALAR; /* "null:" or "~:" as a key is the text */
			if (!strcmp(k->str, "<<")) {
				sim_err_at(c->err, c->file, k->pos.line, k->pos.col,
					   "YAML merge keys (<<) are not supported; use include: instead");
				return NULL;
			}
			for (size_t i = 0; i < n->n; i++)
				if (!strcmp(n->keys[i]->str, k->str))
					prev_key = n->keys[i];
			if (prev_key) {
				sim_err_at(c->err, c->file, k->pos.line, k->pos.col,
					   "duplicate key '%s' (first given at line %d)",
					   k->str, prev_key->pos.line);
				return NULL;
			}
			v = convert(c, yaml_document_get_node(c->ydoc, p->value), depth + 1);
			if (!v)
				return NULL;
			node_add(c->d, n, k, v);
		}
		return n;
	}
	case YAML_NO_NODE:
		break;
	}
	return node_new(c->d, CFG_NULL, pos);
}

static int yaml_error(yaml_parser_t *p, const char *file, const char *text,
		      size_t len, struct sim_err *err)
{
	size_t off = p->problem_mark.index;
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
	const char *what = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return sim_err_at(err, file, 0, 0, "out of memory while reading YAML");
	if (off < len && text[off] == '\t')
		return sim_err_at(err, file, line, col,
				  "tab character: YAML indentation must use spaces");
	if (p->error == YAML_READER_ERROR) {
		/* the reader reports a byte offset only: find its line and column */
		size_t bo = p->problem_offset < len ? p->problem_offset : len, ls = 0;
		line = 1;
		for (size_t i = 0; i < bo; i++)
			if (text[i] == '\n') {
				line++;
				ls = i + 1;
			}
		col = (int)(bo - ls) + 1;
		return sim_err_at(err, file, line, col,
				  "not a text file (%s at byte %zu)", what, p->problem_offset);
	}
	if (p->context)
		return sim_err_at(err, file, line, col, "%s %s (line %d)", what,
				  p->context, (int)p->context_mark.line + 1);
	return sim_err_at(err, file, line, col, "%s", what);
}

/* Parses one document; *out is NULL for an empty stream. */
static int parse_text(struct cfg_doc *d, const char *file, const char *text,
		      size_t len, struct cfg_node **out, struct sim_err *err)
{
	yaml_parser_t p;
	yaml_document_t ydoc;
	yaml_node_t *root;
	int rc = 0;

	*out = NULL;
	if (!yaml_parser_initialize(&p))
		return sim_err_at(err, file, 0, 0, "cannot start the YAML parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	/* Scenarios are UTF-8: a stray UTF-16 byte-order mark is garbage, not a hint. */
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&p, &ydoc)) {
		rc = yaml_error(&p, file, text, len, err);
		yaml_parser_delete(&p);
		return rc;
	}
	root = yaml_document_get_root_node(&ydoc);
	if (root) {
		struct conv c = {d, &ydoc, file, err};
		yaml_document_t next;
		*out = convert(&c, root, 0);
		if (!*out)
			rc = -1;
		/* A second document is a mistake, not something to ignore. */
		if (!rc) {
			if (!yaml_parser_load(&p, &next)) {
				rc = yaml_error(&p, file, text, len, err);
			} else {
				yaml_node_t *r2 = yaml_document_get_root_node(&next);
				if (r2)
					rc = sim_err_at(err, file, (int)r2->start_mark.line + 1,
							(int)r2->start_mark.column + 1,
							"more than one YAML document in the file");
				yaml_document_delete(&next);
			}
		}
	}
	yaml_document_delete(&ydoc);
	yaml_parser_delete(&p);
	return rc;
}

static char *read_file(const char *path, size_t *len, struct sim_err *err)
{
	FILE *f;
	struct stat st;
	char *buf;
	size_t n;

	/* stat first: opening a FIFO or a device could block forever */
	if (stat(path, &st) != 0) {
		sim_err_set(err, SIM_EIO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		sim_err_set(err, SIM_EIO, "%s: not a regular file", path);
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f) {
		sim_err_set(err, SIM_EIO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		sim_err_set(err, SIM_EIO, "%s: not a regular file", path);
		return NULL;
	}
	if ((uint64_t)st.st_size > MAX_FILE) {
		fclose(f);
		sim_err_set(err, SIM_EINPUT, "%s: file too large for a scenario (%lld bytes)",
			    path, (long long)st.st_size);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		sim_err_set(err, SIM_EIO, "%s: read error", path);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- includes ---- */

static char *dir_join(struct cfg_doc *d, const char *base_file, const char *rel)
{
	const char *slash;
	if (rel[0] == '/' || !base_file)
		return sim_arena_strdup(&d->arena, rel);
	slash = strrchr(base_file, '/');
	if (!slash)
		return sim_arena_strdup(&d->arena, rel);
	{
		size_t dl = (size_t)(slash - base_file) + 1, rl = strlen(rel);
		char *p = sim_arena_alloc(&d->arena, dl + rl + 1);
		memcpy(p, base_file, dl);
		memcpy(p + dl, rel, rl + 1);
		return p;
	}
}

const char *cfg_resolve_path(struct cfg_ctx *c, const struct cfg_node *n,
			     const char *path)
{
	/* --set values are relative to the working directory */
	if (!n->pos.file || n->pos.file[0] == '<')
		return sim_arena_strdup(&c->doc->arena, path);
	return dir_join(c->doc, n->pos.file, path);
}

/* Deep merge: src's keys override dst's; mappings merge, the rest replace. */
static void merge_into(struct cfg_doc *d, struct cfg_node *dst, struct cfg_node *src)
{
	for (size_t i = 0; i < src->n; i++) {
		struct cfg_node *k = src->keys[i], *v = src->vals[i];
		size_t j;
		for (j = 0; j < dst->n; j++)
			if (!strcmp(dst->keys[j]->str, k->str))
				break;
		if (j == dst->n)
			node_add(d, dst, k, v);
		else if (dst->vals[j]->kind == CFG_MAP && v->kind == CFG_MAP)
			merge_into(d, dst->vals[j], v);
		else
			dst->vals[j] = v;
	}
}

struct inc_stack {
	const char *files[MAX_INCLUDE_DEPTH + 1];
	int n;
};

static int load_tree(struct cfg_doc *d, const char *path, struct inc_stack *st,
		     struct cfg_node **out, struct sim_err *err);

static int resolve_includes(struct cfg_doc *d, struct cfg_node *n,
			    struct inc_stack *st, struct sim_err *err)
{
	if (n->kind == CFG_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (resolve_includes(d, n->vals[i], st, err))
				return -1;
		return 0;
	}
	if (n->kind != CFG_MAP)
		return 0;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i]->str, "include") &&
		    resolve_includes(d, n->vals[i], st, err))
			return -1;
	for (size_t i = 0; i < n->n; i++) {
		struct cfg_node *inc = n->vals[i], *merged;
		struct cfg_node **names;
		size_t nnames;
		if (strcmp(n->keys[i]->str, "include"))
			continue;
		if (inc->kind == CFG_SCALAR) {
			names = &n->vals[i];
			nnames = 1;
		} else if (inc->kind == CFG_SEQ) {
			names = inc->vals;
			nnames = inc->n;
		} else {
			return sim_err_at(err, inc->pos.file, inc->pos.line, inc->pos.col,
					  "include: expected a file name or a list of file names");
		}
		merged = node_new(d, CFG_MAP, n->pos);
		for (size_t k = 0; k < nnames; k++) {
			struct cfg_node *nm = names[k], *sub;
			const char *p;
			if (nm->kind != CFG_SCALAR)
				return sim_err_at(err, nm->pos.file, nm->pos.line, nm->pos.col,
						  "include: expected a file name, got %s",
						  cfg_kind_name(nm->kind));
			p = dir_join(d, nm->pos.file, nm->str);
			for (int s = 0; s < st->n; s++)
				if (!strcmp(st->files[s], p))
					return sim_err_at(err, nm->pos.file, nm->pos.line, nm->pos.col,
							  "include cycle: '%s' includes itself", nm->str);
			if (st->n >= MAX_INCLUDE_DEPTH)
				return sim_err_at(err, nm->pos.file, nm->pos.line, nm->pos.col,
						  "includes nested deeper than %d files", MAX_INCLUDE_DEPTH);
			{
				struct sim_err sub_err;
				sim_err_clear(&sub_err);
				if (load_tree(d, p, st, &sub, &sub_err)) {
					if (sub_err.kind == SIM_EIO)
						return sim_err_at(err, nm->pos.file, nm->pos.line,
								  nm->pos.col, "include: %s", sub_err.msg);
					*err = sub_err;
					return -1;
				}
			}
			if (!sub || sub->kind != CFG_MAP)
				return sim_err_at(err, nm->pos.file, nm->pos.line, nm->pos.col,
						  "include: '%s' must hold a mapping", nm->str);
			merge_into(d, merged, sub);
		}
		/* The including mapping's own keys win over the included ones. */
		{
			struct cfg_node own = *n;
			struct cfg_node *own_copy = node_new(d, CFG_MAP, n->pos);
			for (size_t k = 0; k < own.n; k++)
				if (strcmp(own.keys[k]->str, "include"))
					node_add(d, own_copy, own.keys[k], own.vals[k]);
			merge_into(d, merged, own_copy);
			n->keys = merged->keys;
			n->vals = merged->vals;
			n->n = merged->n;
			n->cap = merged->cap;
		}
		return 0;
	}
	return 0;
}

static int load_tree(struct cfg_doc *d, const char *path, struct inc_stack *st,
		     struct cfg_node **out, struct sim_err *err)
{
	size_t len;
	char *text = read_file(path, &len, err);
	const char *file;
	int rc;

	if (!text)
		return -1;
	file = sim_arena_strdup(&d->arena, path);
	rc = parse_text(d, file, text, len, out, err);
	free(text);
	if (rc)
		return -1;
	if (!*out)
		return 0;
	st->files[st->n++] = file;
	rc = resolve_includes(d, *out, st, err);
	st->n--;
	return rc;
}

static int check_root(struct cfg_doc *d, const char *file, struct sim_err *err)
{
	if (!d->root)
		return sim_err_at(err, file, 1, 1, "empty scenario: expected a mapping with at least 'name'");
	if (d->root->kind != CFG_MAP)
		return sim_err_at(err, file, d->root->pos.line, d->root->pos.col,
				  "a scenario must be a mapping of keys, not %s",
				  cfg_kind_name(d->root->kind));
	return 0;
}

int cfg_doc_load_file(struct cfg_doc *d, const char *path, struct sim_err *err)
{
	struct inc_stack st = {{0}, 0};
	if (load_tree(d, path, &st, &d->root, err))
		return -1;
	d->file = d->root ? d->root->pos.file : sim_arena_strdup(&d->arena, path);
	return check_root(d, d->file, err);
}

struct cfg_node *cfg_doc_parse_fragment(struct cfg_doc *d, const char *name,
					const char *text, struct sim_err *err)
{
	struct cfg_node *n;
	if (parse_text(d, name, text, strlen(text), &n, err))
		return NULL;
	if (!n)
		n = node_new(d, CFG_NULL, (struct cfg_pos){name, 1, 1});
	return n;
}

struct cfg_node *cfg_doc_load_extra(struct cfg_doc *d, const char *path,
				    struct sim_err *err)
{
	size_t len;
	char *text = read_file(path, &len, err);
	struct cfg_node *n;
	const char *file;
	if (!text)
		return NULL;
	file = sim_arena_strdup(&d->arena, path);
	if (parse_text(d, file, text, len, &n, err))
		n = NULL;
	else if (!n)
		sim_err_at(err, file, 1, 1, "empty file");
	free(text);
	return n;
}

int cfg_doc_load_string(struct cfg_doc *d, const char *name, const char *text,
			size_t len, struct sim_err *err)
{
	struct inc_stack st = {{0}, 0};
	const char *file = sim_arena_strdup(&d->arena, name);
	if (parse_text(d, file, text, len, &d->root, err))
		return -1;
	d->file = file;
	if (d->root) {
		st.files[st.n++] = file;
		if (resolve_includes(d, d->root, &st, err))
			return -1;
	}
	return check_root(d, file, err);
}

/* ---- paths and --set ---- */

struct seg {
	char key[128];
	long index; /* -1: key segment */
	int col;    /* 1-based column in the path text */
};

/* Splits "a.b[2].c" into segments. */
static int split_path(const char *p, struct seg *segs, int max, int *nseg,
		      char *msg, size_t msz)
{
	int n = 0;
	const char *s = p;
	while (*s) {
		if (n == max) {
			snprintf(msg, msz, "path too long");
			return -1;
		}
		segs[n].col = (int)(s - p) + 1;
		if (*s == '[') {
			char *end;
			long v;
			errno = 0;
			v = strtol(s + 1, &end, 10);
			if (end == s + 1 || *end != ']' || errno || v < 0) {
				snprintf(msg, msz, "bad list index in '%s' (expected [N])", p);
				return -1;
			}
			segs[n].index = v;
			segs[n].key[0] = '\0';
			s = end + 1;
		} else {
			size_t l = strcspn(s, ".[");
			if (l == 0 || l >= sizeof(segs[n].key)) {
				snprintf(msg, msz, "empty or overlong key in '%s'", p);
				return -1;
			}
			memcpy(segs[n].key, s, l);
			segs[n].key[l] = '\0';
			segs[n].index = -1;
			s += l;
		}
		n++;
		if (*s == '.') {
			s++;
			if (!*s || *s == '.' || *s == '[') {
				snprintf(msg, msz, "empty key in '%s'", p);
				return -1;
			}
		} else if (*s && *s != '[') {
			snprintf(msg, msz, "bad path '%s'", p);
			return -1;
		}
	}
	if (n == 0) {
		snprintf(msg, msz, "empty path");
		return -1;
	}
	*nseg = n;
	return 0;
}

struct cfg_node *cfg_lookup(const struct cfg_node *root, const char *path)
{
	struct seg segs[32];
	int nseg;
	char msg[128];
	const struct cfg_node *n = root;
	if (split_path(path, segs, 32, &nseg, msg, sizeof(msg)))
		return NULL;
	for (int i = 0; i < nseg && n; i++) {
		if (segs[i].index >= 0)
			n = (n->kind == CFG_SEQ && (size_t)segs[i].index < n->n)
				    ? n->vals[segs[i].index] : NULL;
		else
			n = cfg_map_get(n, segs[i].key);
	}
	return (struct cfg_node *)n;
}

int cfg_doc_set(struct cfg_doc *d, const char *assignment, struct sim_err *err)
{
	const char *eq = strchr(assignment, '=');
	char name[32], msg[256];
	char *path;
	struct seg segs[32];
	int nseg;
	struct cfg_node *val, *cur;
	const char *file;

	d->nsets++;
	snprintf(name, sizeof(name), "<--set #%d>", d->nsets);
	file = sim_arena_strdup(&d->arena, name);
	if (!eq)
		return sim_err_at(err, file, 1, 1,
				  "expected path=value, e.g. deployments[0].replicas=4 (got '%s')",
				  assignment);
	path = sim_arena_strndup(&d->arena, assignment, (size_t)(eq - assignment));
	if (split_path(path, segs, 32, &nseg, msg, sizeof(msg)))
		return sim_err_at(err, file, 1, 1, "%s", msg);
	{
		const char *text = eq + 1;
		size_t len = strlen(text);
		if (parse_text(d, file, text, len, &val, err))
			return -1;
		if (!val)
			val = node_new(d, CFG_NULL, (struct cfg_pos){file, 1, (int)(eq - assignment) + 2});
	}
	/* Shift the value's columns to match the whole argument. */
	{
		int shift = (int)(eq - assignment) + 1;
		struct cfg_node *stack[64];
		int sp = 0;
		stack[sp++] = val;
		while (sp) {
			struct cfg_node *x = stack[--sp];
			if (x->pos.line == 1)
				x->pos.col += shift;
			for (size_t i = 0; i < x->n && sp < 62; i++) {
				if (x->keys)
					stack[sp++] = x->keys[i];
				stack[sp++] = x->vals[i];
			}
		}
	}
	if (!d->root)
		d->root = node_new(d, CFG_MAP, (struct cfg_pos){file, 1, 1});
	cur = d->root;
	for (int i = 0; i < nseg; i++) {
		bool last = i == nseg - 1;
		struct cfg_pos pos = {file, 1, segs[i].col};
		struct cfg_node *next;
		if (segs[i].index >= 0) {
			size_t ix = (size_t)segs[i].index;
			if (cur->kind != CFG_SEQ)
				return sim_err_at(err, file, 1, segs[i].col,
						  "cannot index [%zu]: '%.*s' is %s, not a list",
						  ix, segs[i].col - 1, path, cfg_kind_name(cur->kind));
			if (ix > cur->n)
				return sim_err_at(err, file, 1, segs[i].col,
						  "index [%zu] out of range: the list has %zu items",
						  ix, cur->n);
			if (ix == cur->n) { /* append */
				next = last ? val : node_new(d, segs[i + 1].index >= 0 ? CFG_SEQ : CFG_MAP, pos);
				node_add(d, cur, NULL, next);
			} else if (last) {
				cur->vals[ix] = val;
				next = val;
			} else {
				next = cur->vals[ix];
			}
		} else {
			size_t j;
			if (cur->kind == CFG_NULL) {
				cur->kind = CFG_MAP;
				cur->n = 0;
			}
			if (cur->kind != CFG_MAP)
				return sim_err_at(err, file, 1, segs[i].col,
						  "cannot set key '%s': '%.*s' is %s, not a mapping",
						  segs[i].key, segs[i].col > 1 ? segs[i].col - 2 : 0,
						  path, cfg_kind_name(cur->kind));
			for (j = 0; j < cur->n; j++)
				if (!strcmp(cur->keys[j]->str, segs[i].key))
					break;
			if (j == cur->n) {
				struct cfg_node *k = node_new(d, CFG_SCALAR, pos);
				k->str = sim_arena_strdup(&d->arena, segs[i].key);
				next = last ? val : node_new(d, segs[i + 1].index >= 0 ? CFG_SEQ : CFG_MAP, pos);
				node_add(d, cur, k, next);
			} else if (last) {
				cur->vals[j] = val;
				next = val;
			} else {
				next = cur->vals[j];
			}
		}
		cur = next;
	}
	return 0;
}
