/* The run loop: pops events in (time, seq) order and calls them. */
#include "core.h"

#include <string.h>

void sim_init(struct sim *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	sim_evq_init(&s->q);
	s->end = SIM_TIME_MAX;
	s->seed = seed;
}

void sim_release(struct sim *s)
{
	if (sim_current == s)
		sim_current = NULL;
	sim_evq_release(&s->q);
}

sim_handle sim_schedule(struct sim *s, sim_time t, sim_event_fn fn, void *ctx,
			uint64_t arg)
{
	SIM_ASSERT(t >= s->now);
	return sim_evq_push(&s->q, t, fn, ctx, arg);
}

sim_handle sim_schedule_in(struct sim *s, sim_time dt, sim_event_fn fn,
			   void *ctx, uint64_t arg)
{
	SIM_ASSERT(dt >= 0 && s->now <= SIM_TIME_MAX - dt);
	return sim_evq_push(&s->q, s->now + dt, fn, ctx, arg);
}

bool sim_cancel(struct sim *s, sim_handle h)
{
	return sim_evq_cancel(&s->q, h);
}

bool sim_reschedule(struct sim *s, sim_handle h, sim_time t)
{
	SIM_ASSERT(t >= s->now);
	return sim_evq_reschedule(&s->q, h, t);
}

void sim_stop(struct sim *s)
{
	s->stopped = true;
}

void sim_run(struct sim *s, sim_time until)
{
	sim_time t;
	sim_event_fn fn;
	void *ctx;
	uint64_t arg;

	sim_current = s;
	s->stopped = false;
	s->end = until;
	while (!s->stopped && sim_evq_peek_time(&s->q, &t)) {
		if (t > until) {
			if (until > s->now) /* time never goes back, whatever the caller asks */
				s->now = until;
			break;
		}
		sim_evq_pop(&s->q, &t, &fn, &ctx, &arg);
		SIM_ASSERT(t >= s->now);
		s->now = t;
		s->events_processed++;
		fn(s, ctx, arg);
	}
}
