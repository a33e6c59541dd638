/*
 * SLO attainment, oscillation and the composite score: the judgements a
 * run ends with (DESIGN.md section 4, docs/scoring.md).
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool rep_slo_met(const struct rep_slo_class *slo, double ttft_s, double tpot_s, double e2e_s)
{
	if (ttft_s > sim_time_to_s(slo->ttft))
		return false;
	if (tpot_s >= 0 && tpot_s > sim_time_to_s(slo->tpot))
		return false;
	return !(slo->e2e > 0 && e2e_s > sim_time_to_s(slo->e2e));
}

/* status: 0 completed, 1 failed, 2 dropped */
void rep_group_end(struct rep_group *g, int status, double ttft_s, double tpot_s, double e2e_s,
		   const struct rep_slo_class *slo)
{
	if (status == 1) {
		g->failed++;
		return;
	}
	if (status == 2) {
		g->dropped++;
		return;
	}
	g->completed++;
	rep_sketch_add(&g->ttft, ttft_s);
	if (tpot_s >= 0)
		rep_sketch_add(&g->tpot, tpot_s);
	if (slo && rep_slo_met(slo, ttft_s, tpot_s, e2e_s))
		g->met++;
}

void rep_group_finish(struct rep_group *g, double sim_time_s)
{
	int64_t ended = g->completed + g->failed + g->dropped;
	rep_dist_of_sketch(&g->ttft, &g->ttft_d);
	rep_dist_of_sketch(&g->tpot, &g->tpot_d);
	/* every request that ended counts; a failed or dropped one misses its SLO */
	g->attainment = ended > 0 ? (double)g->met / (double)ended : NAN;
	g->goodput_rps = sim_time_s > 0 ? (double)g->met / sim_time_s : 0;
}

void rep_group_release(struct rep_group *g)
{
	rep_sketch_free(&g->ttft);
	rep_sketch_free(&g->tpot);
}

void rep_osc_add(struct rep_osc *o, double t_s, int64_t replicas, double window_s)
{
	int dir;
	if (!o->started) {
		o->started = true;
		o->last = replicas;
		return;
	}
	if (replicas == o->last)
		return;
	dir = replicas > o->last ? 1 : -1;
	o->events++;
	o->total_variation += llabs(replicas - o->last);
	if (o->dir != 0 && dir != o->dir && t_s - o->last_t <= window_s)
		o->reversals++;
	o->dir = dir;
	o->last_t = t_s;
	o->last = replicas;
}

static bool dist_value(const struct rep_dist *d, const char *k, double *v)
{
	if (!strcmp(k, "mean"))
		*v = d->mean;
	else if (!strcmp(k, "p50"))
		*v = d->p50;
	else if (!strcmp(k, "p90"))
		*v = d->p90;
	else if (!strcmp(k, "p99"))
		*v = d->p99;
	else if (!strcmp(k, "max"))
		*v = d->max;
	else
		return false;
	if (!d->n)
		*v = NAN;
	return true;
}

bool rep_summary_value(const struct rep_summary *s, const char *path, double *v)
{
	static const struct {
		const char *prefix;
		size_t off;
	} dists[] = {{"ttft_s.", offsetof(struct rep_summary, ttft)},
		     {"tpot_s.", offsetof(struct rep_summary, tpot)},
		     {"e2e_s.", offsetof(struct rep_summary, e2e)},
		     {"queue_s.", offsetof(struct rep_summary, queue)}};
	const struct {
		const char *name;
		double v;
	} scalars[] = {
		{"requests.arrived", (double)s->requests.arrived},
		{"requests.completed", (double)s->requests.completed},
		{"requests.failed", (double)s->requests.failed},
		{"requests.dropped", (double)s->requests.dropped},
		{"requests.in_flight_at_end", (double)s->requests.in_flight_at_end},
		{"slo.attainment", s->attainment},
		{"slo.goodput_rps", s->goodput_rps},
		{"cost.usd", s->cost_usd},
		{"cost.gpu_hours", s->gpu_hours},
		{"cost.usd_per_million_tokens", s->usd_per_million_tokens},
		{"oscillation.scale_events", (double)s->scale_events},
		{"oscillation.direction_reversals", (double)s->direction_reversals},
		{"oscillation.replica_total_variation", (double)s->replica_total_variation},
		{"utilization.gpu_busy", s->gpu_busy},
		{"utilization.kv_usage_mean", s->kv_usage_mean},
		{"utilization.replicas_mean", s->replicas_mean},
		{"throughput.input_tokens_per_s", s->input_tokens_per_s},
		{"throughput.output_tokens_per_s", s->output_tokens_per_s},
		{"sim_time_s", sim_time_to_s(s->sim_time)},
		{"events_processed", (double)s->events_processed},
	};
	for (size_t i = 0; i < sizeof(dists) / sizeof(dists[0]); i++) {
		size_t l = strlen(dists[i].prefix);
		if (!strncmp(path, dists[i].prefix, l))
			return dist_value((const struct rep_dist *)((const char *)s + dists[i].off), path + l, v);
	}
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (!strcmp(path, scalars[i].name)) {
			*v = scalars[i].v;
			return true;
		}
	return false;
}

static bool holds(double v, int op, double x)
{
	if (isnan(v))
		return false; /* no data cannot satisfy a constraint */
	switch (op) {
	case REP_LE: return v <= x;
	case REP_LT: return v < x;
	case REP_GE: return v >= x;
	case REP_GT: return v > x;
	default: return v == x;
	}
}

void rep_score_eval(const struct rep_score *sc, struct rep_summary *s)
{
	double v;
	s->has_score = true;
	s->feasible = true;
	s->nviolated = 0;
	if (sc->minimize) {
		s->score = rep_summary_value(s, sc->minimize, &v) ? v : NAN;
	} else if (sc->maximize) {
		s->score = rep_summary_value(s, sc->maximize, &v) ? -v : NAN;
	} else {
		s->score = 0;
		for (size_t i = 0; i < sc->weights.n; i++) {
			const struct cfg_named *w = CFG_LIST_AT(sc->weights, struct cfg_named, i);
			if (rep_summary_value(s, w->name, &v))
				s->score += *(const double *)w->value * v;
		}
	}
	for (size_t i = 0; i < sc->subject_to.n; i++) {
		const struct rep_constraint *c = CFG_LIST_AT(sc->subject_to, struct rep_constraint, i);
		if (!rep_summary_value(s, c->field, &v))
			v = NAN;
		if (!holds(v, c->op, c->value)) {
			s->feasible = false;
			if (s->nviolated < 8) {
				s->violated[s->nviolated] = c->text;
				s->violated_value[s->nviolated++] = v;
			}
		}
	}
	if (!s->feasible)
		s->score = INFINITY;
}
