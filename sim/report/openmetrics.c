/*
 * The OpenMetrics export: the run's /timeseries under the names a team's
 * dashboards already query (vLLM, DCGM, kube-state-metrics), one family
 * after another as the format requires, timestamps from a settable epoch,
 * ending in "# EOF", so `promtool tsdb create-blocks-from openmetrics`
 * loads it.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct om_series {
	char *labels; /* rendered: {a="b",c="d"} */
	double *t, *v;
	size_t n, cap;
};

struct om_family {
	char *name, *help;
	struct om_series *s;
	size_t n, cap;
};

struct rep_om {
	double epoch_s;
	struct om_family *f;
	size_t n, cap;
};

int rep_parse_rfc3339(const char *s, double *out)
{
	int y, mo, d, h, mi, n = 0;
	double sec;
	char z[8] = "";
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	if (strcmp(s + n, "Z") && strcmp(s + n, "+00:00")) {
		(void)z;
		return -1; /* UTC only: a result must not depend on a time zone */
	}
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec < 0 || sec >= 61)
		return -1;
	*out = (double)sim_days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
	return 0;
}

/* The OpenMetrics name of a /timeseries metric: kube-state-metrics', vLLM's, DCGM's or ours. */
const char *rep_om_family(const char *metric, const char **help)
{
	static const struct {
		const char *metric, *family, *help;
	} map[] = {
		{"replicas_desired", "kube_deployment_spec_replicas", "Desired replicas of the deployment."},
		{"replicas_ready", "kube_deployment_status_replicas_ready", "Ready replicas of the deployment."},
		{"vllm:kv_cache_usage_perc", "vllm:kv_cache_usage_perc", "KV-cache usage, mean over ready replicas (0..1)."},
		{"vllm:num_requests_running", "vllm:num_requests_running", "Requests in the running batches."},
		{"vllm:num_requests_waiting", "vllm:num_requests_waiting", "Requests waiting in the engines."},
		{"servesim:router_queue_length", "servesim:router_queue_length", "Requests buffered by the router."},
		{"servesim:router_arrival_rate", "servesim:router_arrival_rate", "Arrivals per second."},
		{"ttft_p50_s", "servesim:time_to_first_token_p50_seconds", "Median TTFT of the interval's completions."},
		{"ttft_p99_s", "servesim:time_to_first_token_p99_seconds", "p99 TTFT of the interval's completions."},
		{"tpot_p50_s", "servesim:time_per_output_token_p50_seconds", "Median TPOT of the interval's completions."},
		{"tpot_p99_s", "servesim:time_per_output_token_p99_seconds", "p99 TPOT of the interval's completions."},
		{"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_UTIL", "GPU utilization (percent of time a kernel runs), mean."},
		{"DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_POWER_USAGE", "GPU power (W), summed."},
		{"nodes_ready", "servesim:nodes_ready", "Nodes with allocatable GPUs."},
		{"nodes_provisioning", "servesim:nodes_provisioning", "Nodes requested and not yet allocatable."},
		{"pods_pending", "servesim:pods_pending", "Pods waiting for a node."},
		{"cost_usd", "servesim:cost_usd", "Dollars billed so far."},
		{"cost_usd_per_hour", "servesim:cost_usd_per_hour", "Billing rate."},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].metric, metric)) {
			*help = map[i].help;
			return map[i].family;
		}
	*help = "servesim series.";
	return metric;
}

/* A label value as OpenMetrics quotes it. */
static void om_escape(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 3 < n; in++) {
		if (*in == '"' || *in == '\\')
			out[o++] = '\\', out[o++] = *in;
		else if (*in == '\n')
			out[o++] = '\\', out[o++] = 'n';
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

void rep_om_deployment_labels(char *out, size_t n, const char *deployment, const char *model)
{
	char de[96], mo[96];
	om_escape(deployment, de, sizeof(de));
	om_escape(model, mo, sizeof(mo));
	snprintf(out, n, "{namespace=\"default\",deployment=\"%s\",model_name=\"%s\"}", de, mo);
}

struct rep_om *rep_om_new(double epoch_s)
{
	struct rep_om *o = xcalloc(1, sizeof(*o));
	o->epoch_s = epoch_s;
	return o;
}

void rep_om_free(struct rep_om *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		for (size_t k = 0; k < o->f[i].n; k++) {
			free(o->f[i].s[k].labels);
			free(o->f[i].s[k].t);
			free(o->f[i].s[k].v);
		}
		free(o->f[i].s);
		free(o->f[i].name);
		free(o->f[i].help);
	}
	free(o->f);
	free(o);
}

void rep_om_add(struct rep_om *o, const char *family, const char *help, const char *labels, double t_s, double v)
{
	struct om_family *f = NULL;
	struct om_series *x = NULL;
	for (size_t i = 0; i < o->n && !f; i++) /* a few dozen families: a scan is fine */
		if (!strcmp(o->f[i].name, family))
			f = &o->f[i];
	if (!f) {
		XGROW(o->f, o->cap, o->n + 1);
		f = &o->f[o->n++];
		memset(f, 0, sizeof(*f));
		f->name = xstrdup(family);
		f->help = xstrdup(help);
	}
	for (size_t k = 0; k < f->n && !x; k++)
		if (!strcmp(f->s[k].labels, labels))
			x = &f->s[k];
	if (!x) {
		XGROW(f->s, f->cap, f->n + 1);
		x = &f->s[f->n++];
		memset(x, 0, sizeof(*x));
		x->labels = xstrdup(labels);
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->t = xrealloc(x->t, x->cap * sizeof(double));
		x->v = xrealloc(x->v, x->cap * sizeof(double));
	}
	x->t[x->n] = t_s;
	x->v[x->n++] = v;
}

static void fmt_value(double v, char *b, size_t n)
{
	if (isnan(v))
		snprintf(b, n, "NaN");
	else if (isinf(v))
		snprintf(b, n, v > 0 ? "+Inf" : "-Inf");
	else
		rep_fmt_double(v, b, n);
}

int rep_om_write(const struct rep_om *o, const char *path, struct sim_err *err)
{
	struct rep_json buf; /* used as a growing string */
	int rc;
	rep_json_init(&buf);
	for (size_t i = 0; i < o->n; i++) {
		const struct om_family *f = &o->f[i];
		char line[512];
		snprintf(line, sizeof(line), "# TYPE %s gauge\n# HELP %s %s\n", f->name, f->name, f->help);
		rep_json_raw(&buf, line);
		for (size_t k = 0; k < f->n; k++) {
			const struct om_series *x = &f->s[k];
			for (size_t j = 0; j < x->n; j++) {
				char v[40], ts[48];
				fmt_value(x->v[j], v, sizeof(v));
				/* milliseconds: Prometheus' resolution, and exact in a double */
				snprintf(ts, sizeof(ts), "%.3f", o->epoch_s + x->t[j]);
				snprintf(line, sizeof(line), "%s%s %s %s\n", f->name, x->labels, v, ts);
				rep_json_raw(&buf, line);
			}
		}
	}
	rep_json_raw(&buf, "# EOF\n");
	rc = rep_write_file(path, buf.buf, buf.len, err);
	rep_json_release(&buf);
	return rc;
}
