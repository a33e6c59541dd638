/* What `servesim run` prints on a terminal: the summary, in a few lines. */
#include "cli.h"

#include <stdio.h>

static void print_dist(const char *name, const struct rep_dist *d)
{
	if (!d->n) {
		printf("  %-10s -\n", name);
		return;
	}
	printf("  %-10s mean %9.4f  p50 %9.4f  p90 %9.4f  p99 %9.4f  max %9.4f s\n", name, d->mean, d->p50,
	       d->p90, d->p99, d->max);
}

void cli_print_summary(const struct rep_summary *s)
{
	char tb[48];
	printf("servesim %s: scenario %s, seed %llu\n", servesim_version, s->scenario,
	       (unsigned long long)s->seed);
	printf("  %-10s %s simulated in %.3f s wall, %llu events\n", "time",
	       sim_time_fmt(s->sim_time, tb, sizeof(tb)), s->wall_time_s,
	       (unsigned long long)s->events_processed);
	printf("  %-10s arrived %lld  completed %lld  failed %lld  dropped %lld  in flight %lld\n",
	       "requests", (long long)s->requests.arrived, (long long)s->requests.completed,
	       (long long)s->requests.failed, (long long)s->requests.dropped,
	       (long long)s->requests.in_flight_at_end);
	print_dist("ttft", &s->ttft);
	print_dist("tpot", &s->tpot);
	print_dist("e2e", &s->e2e);
	print_dist("queue", &s->queue);
	printf("  %-10s %.1f input, %.1f output tokens/s\n", "throughput", s->input_tokens_per_s,
	       s->output_tokens_per_s);
	printf("  %-10s gpu busy %.3f, kv usage mean %.3f, replicas %.1f\n", "utilization", s->gpu_busy,
	       s->kv_usage_mean, s->replicas_mean);
	printf("  %-10s attainment %.4f (ttft <= %g s, tpot <= %g s), goodput %.2f req/s\n", "slo", s->attainment,
	       s->slo_ttft, s->slo_tpot, s->goodput_rps);
	printf("  %-10s $%.2f, %.2f GPU-hours, $%.3f per million tokens\n", "cost", s->cost_usd, s->gpu_hours,
	       s->usd_per_million_tokens);
	printf("  %-10s %lld scale events, %lld direction reversals, total variation %lld replicas\n", "scaling",
	       (long long)s->scale_events, (long long)s->direction_reversals, (long long)s->replica_total_variation);
	if (s->has_score && s->feasible)
		printf("  %-10s %.6g\n", "score", s->score);
	else if (s->has_score) {
		printf("  %-10s infinite:", "score");
		for (size_t i = 0; i < s->nviolated; i++)
			printf("%s %s (was %.4g)", i ? "," : "", s->violated[i], s->violated_value[i]);
		printf("\n");
	}
}

