/*
 * Units in scenario strings. Durations and sizes are parsed as exact
 * decimals into integers (1.1s is exactly 1100000000 ns), so no float
 * rounding reaches simulated time; bandwidths and rates are doubles.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

struct dec {
	u128 mant;  /* significant digits, at most 36 of them */
	int exp;    /* value = mant * 10^exp */
	bool neg;
};

#define MAX_DIGITS 36

/* Parses [+-]digits[.digits][e[+-]digits] at *sp; advances *sp. */
static int parse_dec(const char **sp, struct dec *d, bool allow_exp, char *msg, size_t n)
{
	const char *s = *sp;
	int ndig = 0, any = 0;

	memset(d, 0, sizeof(*d));
	if (*s == '+' || *s == '-')
		d->neg = *s++ == '-';
	while (isdigit((unsigned char)*s)) {
		any = 1;
		if (ndig < MAX_DIGITS) {
			if (d->mant || *s != '0') {
				d->mant = d->mant * 10u + (u128)(unsigned)(*s - '0');
				ndig++;
			}
		} else {
			d->exp++; /* digits beyond precision: scale only */
		}
		s++;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			any = 1;
			if (ndig < MAX_DIGITS) {
				if (d->mant || *s != '0')
					ndig++;
				d->mant = d->mant * 10u + (u128)(unsigned)(*s - '0');
				d->exp--;
			}
			s++;
		}
	}
	if (!any) {
		snprintf(msg, n, "expected a number");
		return -1;
	}
	if (allow_exp && (*s == 'e' || *s == 'E') &&
	    (isdigit((unsigned char)s[1]) ||
	     ((s[1] == '+' || s[1] == '-') && isdigit((unsigned char)s[2])))) {
		long e;
		char *end;
		errno = 0;
		e = strtol(s + 1, &end, 10);
		if (errno || e > 400 || e < -400) {
			snprintf(msg, n, "exponent out of range");
			return -2;
		}
		d->exp += (int)e;
		s = end;
	}
	*sp = s;
	return 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool rest_blank(const char *s)
{
	return *skip_ws(s) == '\0';
}

/* round(d * mult) as int64, mult > 0; -1 on overflow. */
static int dec_scale(const struct dec *d, u128 mult, int64_t *out)
{
	const u128 lim = (u128)INT64_MAX;
	u128 v = d->mant;
	int e = d->exp;

	if (v == 0) {
		*out = 0;
		return 0;
	}
	/* v * mult * 10^e, carefully: first multiply while it fits. */
	if (mult > lim || v > ((u128)~(u128)0) / mult)
		return -1;
	v *= mult;
	for (; e > 0; e--) {
		if (v > lim) /* already too large, and growing */
			return -1;
		v *= 10u;
	}
	if (e < 0) {
		u128 div = 1;
		for (; e < 0; e++) {
			if (div > lim * 10u) { /* quotient would be 0 */
				*out = 0;
				return 0;
			}
			div *= 10u;
		}
		v = (v + div / 2u) / div;
	}
	if (v > lim)
		return -1;
	*out = d->neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static double dec_double(const struct dec *d)
{
	double v = (double)d->mant * pow(10.0, d->exp);
	return d->neg ? -v : v;
}

struct unit {
	const char *name;
	u128 mult;
};

static const struct unit *find_unit(const struct unit *u, const char *s)
{
	const char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (; u->name; u++)
		if (strlen(u->name) == (size_t)(e - s) && !memcmp(u->name, s, (size_t)(e - s)))
			return u;
	return NULL;
}

static int empty_check(const char *s, char *msg, size_t n, const char *what)
{
	if (rest_blank(s)) {
		snprintf(msg, n, "expected %s, got an empty value", what);
		return -1;
	}
	return 0;
}

int cfg_parse_duration(const char *s, sim_time *out, char *msg, size_t n)
{
	static const struct unit units[] = {
		{"ns", 1}, {"us", 1000}, {"µs", 1000}, {"ms", 1000000},
		{"s", 1000000000}, {"sec", 1000000000}, {"m", 60000000000ull},
		{"min", 60000000000ull}, {"h", 3600000000000ull},
		{"d", 86400000000000ull}, {"", 1000000000}, {NULL, 0}};
	int rc;
	struct dec d;
	const struct unit *u;
	int64_t v;

	if (empty_check(s, msg, n, "a duration"))
		return -1;
	s = skip_ws(s);
	if ((rc = parse_dec(&s, &d, true, msg, n))) {
		if (rc == -1)
			snprintf(msg, n, "expected a duration such as 250ms, 15s, 5m or 1h");
		return -1;
	}
	s = skip_ws(s);
	u = find_unit(units, s);
	if (!u) {
		snprintf(msg, n, "unknown duration unit '%s' (use ns, us, ms, s, m, h or d)", s);
		return -1;
	}
	if (d.neg && d.mant) {
		snprintf(msg, n, "a duration must not be negative");
		return -1;
	}
	if (dec_scale(&d, u->mult, &v)) {
		snprintf(msg, n, "duration out of range (at most about 292 years)");
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_parse_size(const char *s, int64_t *bytes, char *msg, size_t n)
{
	static const struct unit units[] = {
		{"", 1}, {"B", 1}, {"KB", 1000}, {"kB", 1000}, {"MB", 1000000},
		{"GB", 1000000000ull}, {"TB", 1000000000000ull},
		{"PB", 1000000000000000ull}, {"KiB", 1024}, {"MiB", 1048576},
		{"GiB", 1073741824ull}, {"TiB", 1099511627776ull},
		{"PiB", 1125899906842624ull}, {NULL, 0}};
	int rc;
	struct dec d;
	const struct unit *u;
	int64_t v;

	if (empty_check(s, msg, n, "a size"))
		return -1;
	s = skip_ws(s);
	if ((rc = parse_dec(&s, &d, true, msg, n))) {
		if (rc == -1)
			snprintf(msg, n, "expected a size such as 500MiB or 10GB");
		return -1;
	}
	s = skip_ws(s);
	u = find_unit(units, s);
	if (!u) {
		snprintf(msg, n, "unknown size unit '%s' (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s);
		return -1;
	}
	if (d.neg && d.mant) {
		snprintf(msg, n, "a size must not be negative");
		return -1;
	}
	if (dec_scale(&d, u->mult, &v)) {
		snprintf(msg, n, "size out of range");
		return -1;
	}
	*bytes = v;
	return 0;
}

int cfg_parse_bandwidth(const char *s, double *out, char *msg, size_t n)
{
	static const struct { const char *name; double mult; } units[] = {
		{"", 1}, {"B/s", 1}, {"KB/s", 1e3}, {"kB/s", 1e3}, {"MB/s", 1e6},
		{"GB/s", 1e9}, {"TB/s", 1e12}, {"KiB/s", 1024.0},
		{"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0},
		{"TiB/s", 1099511627776.0}, {"bps", 0.125}, {"Kbps", 125.0},
		{"kbps", 125.0}, {"Mbps", 1.25e5}, {"Gbps", 1.25e8}, {"Tbps", 1.25e11},
		{"bit/s", 0.125}, {"Kbit/s", 125.0}, {"Mbit/s", 1.25e5},
		{"Gbit/s", 1.25e8}, {"Tbit/s", 1.25e11}, {NULL, 0}};
	int rc;
	struct dec d;
	const char *e;
	size_t len;

	if (empty_check(s, msg, n, "a bandwidth"))
		return -1;
	s = skip_ws(s);
	if ((rc = parse_dec(&s, &d, true, msg, n))) {
		if (rc == -1)
			snprintf(msg, n, "expected a bandwidth such as 500MB/s or 10Gbps");
		return -1;
	}
	s = skip_ws(s);
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	len = (size_t)(e - s);
	for (size_t i = 0; units[i].name; i++) {
		if (strlen(units[i].name) == len && !memcmp(units[i].name, s, len)) {
			double v = dec_double(&d) * units[i].mult;
			if (v < 0) {
				snprintf(msg, n, "a bandwidth must not be negative");
				return -1;
			}
			if (!isfinite(v)) {
				snprintf(msg, n, "bandwidth out of range");
				return -1;
			}
			*out = v;
			return 0;
		}
	}
	snprintf(msg, n, "unknown bandwidth unit '%.*s' (use B/s, MB/s, GB/s, MiB/s, GiB/s, Mbps or Gbps)", (int)len, s);
	return -1;
}

int cfg_parse_rate(const char *s, double *out, char *msg, size_t n)
{
	static const struct { const char *name; double div; } units[] = {
		{"", 1}, {"/s", 1}, {"/sec", 1}, {"/min", 60}, {"/m", 60},
		{"/h", 3600}, {"/hour", 3600}, {"/d", 86400}, {"/day", 86400},
		{NULL, 0}};
	int rc;
	struct dec d;
	const char *e;
	size_t len;

	if (empty_check(s, msg, n, "a rate"))
		return -1;
	s = skip_ws(s);
	if ((rc = parse_dec(&s, &d, true, msg, n))) {
		if (rc == -1)
			snprintf(msg, n, "expected a rate such as 10/s or 600/min");
		return -1;
	}
	s = skip_ws(s);
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	len = (size_t)(e - s);
	for (size_t i = 0; units[i].name; i++) {
		if (strlen(units[i].name) == len && !memcmp(units[i].name, s, len)) {
			double v = dec_double(&d) / units[i].div;
			if (v < 0) {
				snprintf(msg, n, "a rate must not be negative");
				return -1;
			}
			if (!isfinite(v)) {
				snprintf(msg, n, "rate out of range");
				return -1;
			}
			*out = v;
			return 0;
		}
	}
	snprintf(msg, n, "unknown rate unit '%.*s' (use /s, /min or /h)", (int)len, s);
	return -1;
}

int cfg_parse_quantity(const char *s, int64_t *milli, char *msg, size_t n)
{
	static const struct { const char *name; int exp10; int pow1024; } sfx[] = {
		{"", 0, 0}, {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"k", 3, 0},
		{"M", 6, 0}, {"G", 9, 0}, {"T", 12, 0}, {"P", 15, 0}, {"E", 18, 0},
		{"Ki", 0, 1}, {"Mi", 0, 2}, {"Gi", 0, 3}, {"Ti", 0, 4},
		{"Pi", 0, 5}, {"Ei", 0, 6}, {NULL, 0, 0}};
	int rc;
	struct dec d;
	const char *e;
	size_t len;

	if (empty_check(s, msg, n, "a quantity"))
		return -1;
	s = skip_ws(s);
	if ((rc = parse_dec(&s, &d, true, msg, n))) {
		if (rc == -1)
			snprintf(msg, n, "expected a quantity such as 4, 500m or 2Gi");
		return -1;
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	len = (size_t)(e - s);
	for (size_t i = 0; sfx[i].name; i++) {
		if (strlen(sfx[i].name) == len && !memcmp(sfx[i].name, s, len)) {
			u128 mult = 1;
			struct dec x = d;
			int64_t v;
			for (int k = 0; k < sfx[i].pow1024; k++)
				mult *= 1024u;
			x.exp += sfx[i].exp10 + 3; /* to milli-units */
			/* MilliValue() rounds up (away from zero for positives). */
			if (x.exp < 0) {
				u128 div = 1, q, r;
				int e2 = x.exp;
				for (; e2 < 0 && div <= ((u128)1 << 100); e2++)
					div *= 10u;
				if (e2 < 0) {
					v = x.mant ? 1 : 0;
				} else {
					u128 m = x.mant * mult;
					q = m / div;
					r = m % div;
					if (r)
						q++;
					if (q > (u128)INT64_MAX) {
						snprintf(msg, n, "quantity out of range");
						return -1;
					}
					v = (int64_t)q;
				}
				*milli = x.neg ? -v : v;
				return 0;
			}
			if (dec_scale(&x, mult, &v)) {
				snprintf(msg, n, "quantity out of range");
				return -1;
			}
			*milli = v;
			return 0;
		}
	}
	snprintf(msg, n, "unknown quantity suffix '%.*s'", (int)len, s);
	return -1;
}

int cfg_parse_int(const char *s, int64_t *out, char *msg, size_t n)
{
	char *end;
	long long v;
	if (empty_check(s, msg, n, "a whole number"))
		return -1;
	s = skip_ws(s);
	if (!(isdigit((unsigned char)*s) ||
	      ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1])))) {
		snprintf(msg, n, "expected a whole number, got '%s'", s);
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE) {
		snprintf(msg, n, "number out of range");
		return -1;
	}
	if (!rest_blank(end)) {
		/* 8.0 is accepted as 8; 8.5 is not a whole number */
		double dv;
		if (!cfg_parse_double(s, &dv, msg, n) && dv == floor(dv) &&
		    fabs(dv) < 9.0e15) {
			*out = (int64_t)dv;
			return 0;
		}
		snprintf(msg, n, "expected a whole number, got '%s'", s);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_parse_double(const char *s, double *out, char *msg, size_t n)
{
	char *end;
	double v;
	const char *p;
	if (empty_check(s, msg, n, "a number"))
		return -1;
	s = skip_ws(s);
	/* strtod also takes hex, inf and nan: only plain decimals are numbers here */
	for (p = s; *p && *p != ' ' && *p != '\t'; p++)
		if (!strchr("0123456789+-.eE", *p)) {
			snprintf(msg, n, "expected a number, got '%s'", s);
			return -1;
		}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || !rest_blank(end)) {
		snprintf(msg, n, "expected a number, got '%s'", s);
		return -1;
	}
	if (errno == ERANGE && fabs(v) > 1.0) {
		snprintf(msg, n, "number out of range");
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_parse_bool(const char *s, bool *out, char *msg, size_t n)
{
	static const char *const t[] = {"true", "True", "TRUE"};
	static const char *const f[] = {"false", "False", "FALSE"};
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(s, t[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, f[i])) {
			*out = false;
			return 0;
		}
	}
	snprintf(msg, n, "expected true or false, got '%s'", s);
	return -1;
}
