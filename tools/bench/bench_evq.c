/*
 * Event-kernel benchmark: the classic "hold" model. A queue of N pending
 * events; each step pops the earliest and schedules one at now + an
 * exponential delay, as a simulation in steady state does. Reports events
 * per wall second for several N. Wall clock is read here only.
 */
#include <stdio.h>
#include <time.h>

#include "core/core.h"

static uint64_t fired;
#define EVENTS 5000000u

static void on_event(struct sim *s, void *ctx, uint64_t arg)
{
	struct sim_rng *r = ctx;
	(void)arg;
	if (++fired == EVENTS)
		sim_stop(s);
	sim_schedule_in(s, 1 + (sim_time)sim_rng_exponential(r, 1e6), on_event, r, 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	const size_t sizes[] = {16, 1024, 65536, 1048576};
	printf("%-32s %10s %14s %14s\n", "benchmark", "queue", "events", "Mevents/s");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct sim s;
		struct sim_rng *r = sim_rng_new(1, "bench");
		double t0, dt;
		sim_init(&s, 1);
		for (size_t i = 0; i < sizes[k]; i++)
			sim_schedule(&s, (sim_time)sim_rng_exponential(r, 1e6), on_event, r, 0);
		fired = 0;
		t0 = now_s();
		sim_run(&s, SIM_TIME_MAX);
		dt = now_s() - t0;
		printf("%-32s %10zu %14llu %14.2f\n", "event queue hold (pop+push)", sizes[k],
		       (unsigned long long)fired, (double)fired / dt / 1e6);
		sim_release(&s);
		sim_rng_free(r);
	}
	return 0;
}
