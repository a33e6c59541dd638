/*
 * A small JSON writer: two-space indentation, keys in the order written,
 * strings escaped per RFC 8259 (invalid UTF-8 becomes U+FFFD), doubles as the
 * shortest decimal that reads back to the same value.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_json_init(struct rep_json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void rep_json_release(struct rep_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static void put(struct rep_json *j, const char *s, size_t n)
{
	XGROW(j->buf, j->cap, j->len + n + 1);
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct rep_json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void newline(struct rep_json *j)
{
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* Separator and indentation before a value (or a key). */
static void before_value(struct rep_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (!j->first[j->depth])
			put(j, ",", 1);
		newline(j);
	}
	j->first[j->depth] = false;
}

static void open_(struct rep_json *j, const char *c)
{
	before_value(j);
	puts_(j, c);
	SIM_ASSERT(j->depth < 63);
	j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct rep_json *j, const char *c)
{
	bool empty = j->first[j->depth];
	SIM_ASSERT(j->depth > 0);
	j->depth--;
	if (!empty)
		newline(j);
	puts_(j, c);
	if (j->depth == 0)
		put(j, "\n", 1);
}

void rep_json_begin_object(struct rep_json *j) { open_(j, "{"); }
void rep_json_end_object(struct rep_json *j) { close_(j, "}"); }
void rep_json_begin_array(struct rep_json *j) { open_(j, "["); }
void rep_json_end_array(struct rep_json *j) { close_(j, "]"); }

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1fu;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0fu;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void rep_json_escape(struct rep_json *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	put(j, "\"", 1);
	while (*s) {
		unsigned char c = *s;
		char esc[8];
		size_t n;
		switch (c) {
		case '"': puts_(j, "\\\""); s++; continue;
		case '\\': puts_(j, "\\\\"); s++; continue;
		case '\n': puts_(j, "\\n"); s++; continue;
		case '\r': puts_(j, "\\r"); s++; continue;
		case '\t': puts_(j, "\\t"); s++; continue;
		case '\b': puts_(j, "\\b"); s++; continue;
		case '\f': puts_(j, "\\f"); s++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			puts_(j, esc);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (n == 0) {
			puts_(j, "\\ufffd");
			s++;
			continue;
		}
		put(j, (const char *)s, n);
		s += n;
	}
	put(j, "\"", 1);
}

void rep_json_key(struct rep_json *j, const char *key)
{
	before_value(j);
	rep_json_escape(j, key);
	put(j, ": ", 2);
	j->after_key = true;
}

void rep_json_str(struct rep_json *j, const char *s)
{
	before_value(j);
	if (s)
		rep_json_escape(j, s);
	else
		puts_(j, "null");
}

void rep_json_int(struct rep_json *j, int64_t v)
{
	char b[32];
	before_value(j);
	snprintf(b, sizeof(b), "%lld", (long long)v);
	puts_(j, b);
}

void rep_fmt_double(double v, char *buf, size_t n)
{
	char e[40], digits[24];
	int p, exp10, nd = 0;
	const char *m;
	char *q;
	size_t o = 0;

	if (!isfinite(v)) {
		snprintf(buf, n, "null");
		return;
	}
	if (v == 0) {
		snprintf(buf, n, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	/* Shortest %.Ne that reads back exactly: its digits are the answer. */
	for (p = 0; p < 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p, v);
		if (strtod(e, NULL) == v)
			break;
	}
	m = e;
	if (*m == '-')
		m++;
	for (; *m && *m != 'e'; m++)
		if (*m != '.')
			digits[nd++] = *m;
	digits[nd] = '\0';
	exp10 = atoi(m + 1);
	/* Like Python's repr: fixed notation for 1e-4 <= |v| < 1e16. */
	if (exp10 < -4 || exp10 >= 16) {
		snprintf(buf, n, "%s", e);
		/* strip the exponent's leading zeros and '+': 1.5e+20 -> 1.5e20 */
		q = strchr(buf, 'e');
		if (q) {
			int x = atoi(q + 1);
			snprintf(q, n - (size_t)(q - buf), "e%d", x);
		}
		return;
	}
	if (v < 0 && o + 1 < n)
		buf[o++] = '-';
	if (exp10 < 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		for (int i = 0; i < -exp10 - 1 && o + 1 < n; i++)
			buf[o++] = '0';
		for (int i = 0; i < nd && o + 1 < n; i++)
			buf[o++] = digits[i];
	} else {
		for (int i = 0; i <= exp10 && o + 1 < n; i++)
			buf[o++] = i < nd ? digits[i] : '0';
		if (o + 1 < n)
			buf[o++] = '.';
		if (nd > exp10 + 1)
			for (int i = exp10 + 1; i < nd && o + 1 < n; i++)
				buf[o++] = digits[i];
		else if (o + 1 < n)
			buf[o++] = '0';
	}
	buf[o] = '\0';
}

void rep_json_double(struct rep_json *j, double v)
{
	char b[40];
	before_value(j);
	rep_fmt_double(v, b, sizeof(b));
	puts_(j, b);
}

void rep_json_bool(struct rep_json *j, bool v)
{
	before_value(j);
	puts_(j, v ? "true" : "false");
}

void rep_json_null(struct rep_json *j)
{
	before_value(j);
	puts_(j, "null");
}

void rep_json_raw(struct rep_json *j, const char *text)
{
	puts_(j, text);
}
