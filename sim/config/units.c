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

/* A unit suffix: the value is multiplied by mult and divided by div. */
struct unit {
	const char *name;
	u128 mult;
	double fmult, fdiv; /* for the floating-point kinds */
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

/* What a kind of quantity is called in messages. */
struct kind {
	const char *what;    /* "a duration" */
	const char *example; /* "250ms, 15s, 5m or 1h" */
	const char *units;   /* "ns, us, ms, s, m, h or d" */
	const char *noun;    /* "duration" */
	const char *range;   /* extra words for "out of range" */
};

/* Parses number + unit; on success *d holds the number and *u the unit. */
static int parse_number_unit(const char *s, const struct unit *table, const struct kind *k,
			     struct dec *d, const struct unit **u, char *msg, size_t n)
{
	int rc;
	if (rest_blank(s)) {
		snprintf(msg, n, "expected %s, got an empty value", k->what);
		return -1;
	}
	s = skip_ws(s);
	if ((rc = parse_dec(&s, d, true, msg, n))) {
		if (rc == -1)
			snprintf(msg, n, "expected %s such as %s", k->what, k->example);
		return -1;
	}
	s = skip_ws(s);
	*u = find_unit(table, s);
	if (!*u) {
		char shown[32];
		size_t l = strlen(s);
		while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		snprintf(shown, sizeof(shown), "%.*s", (int)(l < 24 ? l : 24), s);
		snprintf(msg, n, "unknown %s unit '%s' (use %s)", k->noun, shown, k->units);
		return -1;
	}
	if (d->neg && d->mant) {
		snprintf(msg, n, "a %s must not be negative", k->noun);
		return -1;
	}
	return 0;
}

/* Exact integer kinds: durations (ns) and sizes (bytes). */
static int parse_exact(const char *s, const struct unit *table, const struct kind *k,
		       int64_t *out, char *msg, size_t n)
{
	struct dec d;
	const struct unit *u;
	if (parse_number_unit(s, table, k, &d, &u, msg, n))
		return -1;
	if (dec_scale(&d, u->mult, out)) {
		snprintf(msg, n, "%s out of range%s", k->noun, k->range);
		return -1;
	}
	return 0;
}

/* Floating-point kinds: bandwidths (bytes/s) and rates (per second). */
static int parse_float(const char *s, const struct unit *table, const struct kind *k,
		       double *out, char *msg, size_t n)
{
	struct dec d;
	const struct unit *u;
	double v;
	if (parse_number_unit(s, table, k, &d, &u, msg, n))
		return -1;
	v = dec_double(&d) * u->fmult / u->fdiv;
	if (!isfinite(v)) {
		snprintf(msg, n, "%s out of range%s", k->noun, k->range);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_parse_duration(const char *s, sim_time *out, char *msg, size_t n)
{
	static const struct unit units[] = {
		{"ns", 1, 0, 0}, {"us", 1000, 0, 0}, {"µs", 1000, 0, 0}, {"ms", 1000000, 0, 0},
		{"s", 1000000000, 0, 0}, {"sec", 1000000000, 0, 0}, {"m", 60000000000ull, 0, 0},
		{"min", 60000000000ull, 0, 0}, {"h", 3600000000000ull, 0, 0},
		{"d", 86400000000000ull, 0, 0}, {"", 1000000000, 0, 0}, {NULL, 0, 0, 0}};
	static const struct kind k = {"a duration", "250ms, 15s, 5m or 1h",
				      "ns, us, ms, s, m, h or d", "duration",
				      " (at most about 292 years)"};
	return parse_exact(s, units, &k, out, msg, n);
}

int cfg_parse_size(const char *s, int64_t *bytes, char *msg, size_t n)
{
	static const struct unit units[] = {
		{"", 1, 0, 0}, {"B", 1, 0, 0}, {"KB", 1000, 0, 0}, {"kB", 1000, 0, 0},
		{"MB", 1000000, 0, 0}, {"GB", 1000000000ull, 0, 0}, {"TB", 1000000000000ull, 0, 0},
		{"PB", 1000000000000000ull, 0, 0}, {"KiB", 1024, 0, 0}, {"MiB", 1048576, 0, 0},
		{"GiB", 1073741824ull, 0, 0}, {"TiB", 1099511627776ull, 0, 0},
		{"PiB", 1125899906842624ull, 0, 0}, {NULL, 0, 0, 0}};
	static const struct kind k = {"a size", "500MiB or 10GB",
				      "B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", "size", ""};
	return parse_exact(s, units, &k, bytes, msg, n);
}

int cfg_parse_bandwidth(const char *s, double *out, char *msg, size_t n)
{
	static const struct unit units[] = {
		{"", 0, 1, 1}, {"B/s", 0, 1, 1}, {"KB/s", 0, 1e3, 1}, {"kB/s", 0, 1e3, 1},
		{"MB/s", 0, 1e6, 1}, {"GB/s", 0, 1e9, 1}, {"TB/s", 0, 1e12, 1},
		{"KiB/s", 0, 1024.0, 1}, {"MiB/s", 0, 1048576.0, 1}, {"GiB/s", 0, 1073741824.0, 1},
		{"TiB/s", 0, 1099511627776.0, 1}, {"bps", 0, 1, 8}, {"Kbps", 0, 1e3, 8},
		{"kbps", 0, 1e3, 8}, {"Mbps", 0, 1e6, 8}, {"Gbps", 0, 1e9, 8}, {"Tbps", 0, 1e12, 8},
		{"bit/s", 0, 1, 8}, {"Kbit/s", 0, 1e3, 8}, {"Mbit/s", 0, 1e6, 8},
		{"Gbit/s", 0, 1e9, 8}, {"Tbit/s", 0, 1e12, 8}, {NULL, 0, 0, 0}};
	static const struct kind k = {"a bandwidth", "500MB/s or 10Gbps",
				      "B/s, MB/s, GB/s, MiB/s, GiB/s, Mbps or Gbps", "bandwidth", ""};
	return parse_float(s, units, &k, out, msg, n);
}

int cfg_parse_rate(const char *s, double *out, char *msg, size_t n)
{
	static const struct unit units[] = {
		{"", 0, 1, 1}, {"/s", 0, 1, 1}, {"/sec", 0, 1, 1}, {"/min", 0, 1, 60}, {"/m", 0, 1, 60},
		{"/h", 0, 1, 3600}, {"/hour", 0, 1, 3600}, {"/d", 0, 1, 86400}, {"/day", 0, 1, 86400},
		{NULL, 0, 0, 0}};
	static const struct kind k = {"a rate", "10/s or 600/min", "/s, /min or /h", "rate", ""};
	return parse_float(s, units, &k, out, msg, n);
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

	if (rest_blank(s)) {
		snprintf(msg, n, "expected a quantity, got an empty value");
		return -1;
	}
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
	if (rest_blank(s)) {
		snprintf(msg, n, "expected a whole number, got an empty value");
		return -1;
	}
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
	if (rest_blank(s)) {
		snprintf(msg, n, "expected a number, got an empty value");
		return -1;
	}
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
