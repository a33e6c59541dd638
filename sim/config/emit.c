/*
 * Tree -> YAML text, for the resolved scenario (after includes and --set)
 * that results.h5 keeps and `servesim validate --print` shows. Scalars that
 * could be misread are double-quoted; key order is the order written.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	XGROW(o->buf, o->cap, o->len + n + 1);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void indent(struct out *o, int n)
{
	for (int i = 0; i < n; i++)
		put(o, "  ", 2);
}

static bool plain_ok(const char *s, bool quoted)
{
	static const char *const special[] = {"null", "Null", "NULL", "~", "true", "True", "TRUE",
					      "false", "False", "FALSE", "yes", "no", "on", "off", NULL};
	if (!*s)
		return false;
	if (quoted) {
		/* it was a string on purpose: keep it one if it looks like anything else */
		char *end;
		(void)strtod(s, &end);
		if (*end == '\0')
			return false;
	}
	for (size_t i = 0; special[i]; i++)
		if (!strcmp(s, special[i]))
			return quoted ? false : true;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]))
		return s[0] == '-' && s[1] && strchr("0123456789.", s[1]); /* negative numbers */
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			return false;
		if ((c == ':' || c == '#') && (p[1] == ' ' || p[1] == '\0'))
			return false;
		if (c == ' ' && (p[1] == '#' || p[1] == '\0'))
			return false;
		if (strchr("{}[],", c))
			return false;
	}
	return true;
}

static void scalar(struct out *o, const struct cfg_node *n)
{
	if (n->kind == CFG_NULL) {
		puts_(o, "null");
		return;
	}
	if (plain_ok(n->str, n->quoted)) {
		puts_(o, n->str);
		return;
	}
	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)n->str; *p; p++) {
		char e[8];
		switch (*p) {
		case '"': puts_(o, "\\\""); break;
		case '\\': puts_(o, "\\\\"); break;
		case '\n': puts_(o, "\\n"); break;
		case '\t': puts_(o, "\\t"); break;
		case '\r': puts_(o, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(e, sizeof(e), "\\x%02x", *p);
				puts_(o, e);
			} else {
				put(o, (const char *)p, 1);
			}
		}
	}
	put(o, "\"", 1);
}

static void emit(struct out *o, const struct cfg_node *n, int depth);

static void emit_child(struct out *o, const struct cfg_node *v, int depth)
{
	if ((v->kind == CFG_MAP || v->kind == CFG_SEQ) && v->n > 0) {
		put(o, "\n", 1);
		emit(o, v, depth + 1);
	} else if (v->kind == CFG_MAP) {
		puts_(o, " {}\n");
	} else if (v->kind == CFG_SEQ) {
		puts_(o, " []\n");
	} else {
		put(o, " ", 1);
		scalar(o, v);
		put(o, "\n", 1);
	}
}

static void emit(struct out *o, const struct cfg_node *n, int depth)
{
	if (n->kind == CFG_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			indent(o, depth);
			scalar(o, n->keys[i]);
			put(o, ":", 1);
			emit_child(o, n->vals[i], depth);
		}
	} else if (n->kind == CFG_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			indent(o, depth);
			put(o, "-", 1);
			emit_child(o, n->vals[i], depth);
		}
	} else {
		indent(o, depth);
		scalar(o, n);
		put(o, "\n", 1);
	}
}

char *cfg_to_yaml(const struct cfg_node *root)
{
	struct out o = {0};
	put(&o, "", 0);
	if (root)
		emit(&o, root, 0);
	return o.buf;
}
