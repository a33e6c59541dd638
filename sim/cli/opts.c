/* Command-line options shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "servesim %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'servesim help %s')\n", cmd);
	return 2;
}

/* "--name=value" or "--name value"; returns the value or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t l = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, l))
		return NULL;
	if (a[l] == '=')
		return a + l + 1;
	if (a[l] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

static bool allowed_opt(const char *allowed, const char *name)
{
	/* allowed is a space-separated list of option names without dashes */
	size_t l = strlen(name);
	for (const char *p = allowed; (p = strstr(p, name)) != NULL; p += l)
		if ((p == allowed || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\0'))
			return true;
	return false;
}

int cli_parse(int argc, char **argv, const char *cmd, const char *allowed, struct cli_opts *o)
{
	int rc;
	memset(o, 0, sizeof(*o));
	rc = cli_parse_into(argc, argv, cmd, allowed, o);
	if (rc)
		cli_opts_release(o); /* a usage error: nothing of it is used */
	return rc;
}

int cli_parse_into(int argc, char **argv, const char *cmd, const char *allowed, struct cli_opts *o)
{
	static const char *const names[] = {"seed", "set", "out", "quiet", "print", "trace",
					    "trace-format", "gpu", "model", "tp", "dtype", "prefill",
					    "batch", "decode-batch", "context", "profile", "json", "step-by-step", "check", "explain", "openmetrics",
					    "seeds", "strict", "baseline", "junit", "markdown", "tolerance", NULL};
	/* flags (no value) and where they go */
	const struct { const char *name; bool *dst; } flags[] = {
		{"quiet", &o->quiet}, {"print", &o->print}, {"json", &o->json},
		{"step-by-step", &o->step_by_step}, {"check", &o->check}, {"explain", &o->explain},
		{"strict", &o->strict}, {NULL, NULL}};
	/* string-valued options and where they go */
	const struct { const char *name; const char **dst; } strs[] = {
		{"out", &o->out}, {"trace", &o->trace}, {"trace-format", &o->trace_format},
		{"gpu", &o->gpu}, {"model", &o->model}, {"tp", &o->tp}, {"dtype", &o->dtype},
		{"prefill", &o->prefill}, {"batch", &o->batch}, {"decode-batch", &o->decode_batch},
		{"context", &o->context}, {"profile", &o->profile}, {"openmetrics", &o->openmetrics},
		{"baseline", &o->baseline}, {"junit", &o->junit}, {"markdown", &o->markdown}, {NULL, NULL}};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		char opt[40];
		bool known = false;
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (o->scenario)
				return usage_error(cmd, "unexpected argument '%s'", a);
			o->scenario = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			if (i + 1 < argc && !o->scenario)
				o->scenario = argv[++i];
			if (i + 1 < argc)
				return usage_error(cmd, "unexpected argument '%s'", argv[i + 1]);
			break;
		}
		for (size_t k = 0; names[k]; k++) {
			snprintf(opt, sizeof(opt), "--%s", names[k]);
			if (strncmp(a, opt, strlen(opt)) || (a[strlen(opt)] && a[strlen(opt)] != '='))
				continue;
			known = true;
			if (!allowed_opt(allowed, names[k]))
				return usage_error(cmd, "option '%s' does not apply here", opt);
			size_t f = 0;
			while (flags[f].name && strcmp(flags[f].name, names[k]))
				f++;
			if (flags[f].name) {
				if (a[strlen(opt)])
					return usage_error(cmd, "option '%s' takes no value", opt);
				*flags[f].dst = true;
			} else {
				v = opt_value(argc, argv, &i, opt);
				if (!v || !*v)
					return usage_error(cmd, "option '%s' needs a value", opt);
				if (!strcmp(names[k], "seed")) {
					char *end;
					unsigned long long s;
					errno = 0;
					s = strtoull(v, &end, 10);
					if (errno || *end || v[0] == '-' || v[0] == '+' || s > INT64_MAX)
						return usage_error(cmd, "--seed: expected a whole number from 0 to 2^63-1, got '%s'", v);
					o->seed = s;
					o->has_seed = true;
				} else if (!strcmp(names[k], "seeds")) {
					char *end;
					unsigned long long s;
					errno = 0;
					s = strtoull(v, &end, 10);
					if (errno || *end || v[0] == '-' || v[0] == '+' || s < 1 || s > 100000)
						return usage_error(cmd, "--seeds: expected a whole number from 1 to 100000, got '%s'", v);
					o->seeds = (size_t)s;
					o->has_seeds = true;
				} else if (!strcmp(names[k], "tolerance")) {
					o->tols = xrealloc(o->tols, sizeof(*o->tols) * (o->ntols + 1));
					o->tols[o->ntols++] = v;
				} else if (!strcmp(names[k], "set")) {
					o->sets = xrealloc(o->sets, sizeof(*o->sets) * (o->nsets + 1));
					o->sets[o->nsets++] = v;
				} else {
					for (size_t s = 0; strs[s].name; s++)
						if (!strcmp(strs[s].name, names[k]))
							*strs[s].dst = v;
				}
			}
			break;
		}
		if (!known)
			return usage_error(cmd, "unknown option '%s'", a);
	}
	return 0;
}

void cli_opts_release(struct cli_opts *o)
{
	free(o->sets);
	free(o->tols);
	memset(o, 0, sizeof(*o));
}

int cli_load(int argc, char **argv, const char *cmd, const char *allowed,
	     struct cli_opts *o, struct scenario *s)
{
	struct sim_err err;
	int rc;
	if ((rc = cli_parse(argc, argv, cmd, allowed, o)))
		return rc;
	if (!o->scenario) {
		fprintf(stderr, "servesim %s: no scenario given (usage: servesim %s SCENARIO.yaml)\n",
			cmd, cmd);
		cli_opts_release(o);
		return 2;
	}
	sim_err_clear(&err);
	if (scn_load(s, o->scenario, o->sets, o->nsets, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		cli_opts_release(o);
		return sim_err_exit_code(&err);
	}
	return 0;
}
