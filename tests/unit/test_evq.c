/* sim/core event queue and run loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* Reference model: a plain array of live (t, seq, id) entries. */
struct ref {
	sim_time t;
	uint64_t seq;
	uint64_t id;
	sim_handle h;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void noop(struct sim *s, void *ctx, uint64_t arg)
{
	(void)s, (void)ctx, (void)arg;
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void heap_matches_sorted_reference(void **state)
{
	struct sim_evq q;
	struct ref *live = calloc(20000, sizeof(*live));
	size_t nlive = 0;
	uint64_t rs = 12345, seq = 0, next_id = 0;
	(void)state;
	sim_evq_init(&q);
	for (int round = 0; round < 60000; round++) {
		uint64_t op = lcg(&rs) % 10;
		if (op < 5 || nlive == 0) { /* push, with many equal times */
			struct ref r = {(sim_time)(lcg(&rs) % 500), seq++, next_id++, {0, 0}};
			r.h = sim_evq_push(&q, r.t, noop, NULL, r.id);
			live[nlive++] = r;
		} else if (op < 7) { /* cancel a random live event */
			size_t i = lcg(&rs) % nlive;
			assert_true(sim_evq_cancel(&q, live[i].h));
			assert_false(sim_evq_cancel(&q, live[i].h)); /* now stale */
			live[i] = live[--nlive];
		} else if (op < 8) { /* reschedule: gets a fresh seq */
			size_t i = lcg(&rs) % nlive;
			live[i].t = (sim_time)(lcg(&rs) % 500);
			live[i].seq = seq++;
			assert_true(sim_evq_reschedule(&q, live[i].h, live[i].t));
		} else { /* pop and compare with the reference minimum */
			sim_time t;
			sim_event_fn fn;
			void *ctx;
			uint64_t arg;
			size_t m = 0;
			for (size_t i = 1; i < nlive; i++)
				if (ref_cmp(&live[i], &live[m]) < 0)
					m = i;
			assert_true(sim_evq_pop(&q, &t, &fn, &ctx, &arg));
			assert_int_equal(t, live[m].t);
			assert_int_equal(arg, live[m].id);
			assert_false(sim_evq_pending(&q, live[m].h));
			live[m] = live[--nlive];
		}
		assert_int_equal(sim_evq_size(&q), nlive);
		if (round % 97 == 0)
			assert_true(sim_evq_check(&q));
	}
	/* drain: fully sorted order */
	qsort(live, nlive, sizeof(*live), ref_cmp);
	for (size_t i = 0; i < nlive; i++) {
		sim_time t;
		sim_event_fn fn;
		void *ctx;
		uint64_t arg;
		assert_true(sim_evq_pop(&q, &t, &fn, &ctx, &arg));
		assert_int_equal(arg, live[i].id);
	}
	assert_int_equal(sim_evq_size(&q), 0);
	assert_true(sim_evq_check(&q));
	sim_evq_release(&q);
	free(live);
}

static void equal_times_fire_in_scheduling_order(void **state)
{
	struct sim_evq q;
	(void)state;
	sim_evq_init(&q);
	for (uint64_t i = 0; i < 1000; i++)
		sim_evq_push(&q, 7, noop, NULL, i);
	for (uint64_t i = 0; i < 1000; i++) {
		sim_time t;
		sim_event_fn fn;
		void *ctx;
		uint64_t arg;
		assert_true(sim_evq_pop(&q, &t, &fn, &ctx, &arg));
		assert_int_equal(t, 7);
		assert_int_equal(arg, i);
	}
	sim_evq_release(&q);
}

static void stale_handle_after_slot_reuse(void **state)
{
	struct sim_evq q;
	sim_handle a, b;
	sim_time t;
	sim_event_fn fn;
	void *ctx;
	uint64_t arg;
	(void)state;
	sim_evq_init(&q);
	a = sim_evq_push(&q, 1, noop, NULL, 1);
	assert_true(sim_evq_pop(&q, &t, &fn, &ctx, &arg));
	b = sim_evq_push(&q, 2, noop, NULL, 2); /* reuses a's slot */
	assert_int_equal(a.slot, b.slot);
	assert_false(sim_evq_cancel(&q, a)); /* the old handle must not hit b */
	assert_false(sim_evq_reschedule(&q, a, 5));
	assert_true(sim_evq_pending(&q, b));
	assert_false(sim_evq_cancel(&q, SIM_HANDLE_NONE));
	sim_evq_release(&q);
}

struct trace {
	uint64_t order[16];
	size_t n;
	sim_handle victim;
};

static void record(struct sim *s, void *ctx, uint64_t arg)
{
	struct trace *tr = ctx;
	tr->order[tr->n++] = arg;
	if (arg == 1) { /* an event may schedule and cancel others */
		sim_schedule_in(s, 0, record, tr, 9);
		sim_cancel(s, tr->victim);
	}
}

static void run_loop_order_cancel_and_end(void **state)
{
	struct sim s;
	struct trace tr = {{0}, 0, {0, 0}};
	(void)state;
	sim_init(&s, 1);
	sim_schedule(&s, 10, record, &tr, 1);
	sim_schedule(&s, 10, record, &tr, 2);
	tr.victim = sim_schedule(&s, 20, record, &tr, 3);
	sim_schedule(&s, 50, record, &tr, 4);
	sim_schedule(&s, 500, record, &tr, 5);
	sim_run(&s, 100);
	/* 1, then 2 (same time, earlier seq), then 9 (scheduled at 10 by 1), 3 cancelled */
	assert_int_equal(tr.n, 4);
	assert_int_equal(tr.order[0], 1);
	assert_int_equal(tr.order[1], 2);
	assert_int_equal(tr.order[2], 9);
	assert_int_equal(tr.order[3], 4);
	assert_int_equal(s.events_processed, 4);
	assert_int_equal(s.now, 100); /* stopped at `until` with 500 still queued */
	assert_int_equal(sim_evq_size(&s.q), 1);
	sim_run(&s, SIM_TIME_MAX);
	assert_int_equal(tr.order[4], 5);
	assert_int_equal(s.now, 500);
	sim_release(&s);
}

static void stop_inside_event(struct sim *s, void *ctx, uint64_t arg)
{
	(void)ctx, (void)arg;
	sim_stop(s);
}

static void sim_stop_halts_the_loop(void **state)
{
	struct sim s;
	(void)state;
	sim_init(&s, 1);
	sim_schedule(&s, 5, stop_inside_event, NULL, 0);
	sim_schedule(&s, 6, noop, NULL, 0);
	sim_run(&s, SIM_TIME_MAX);
	assert_int_equal(s.now, 5);
	assert_int_equal(s.events_processed, 1);
	sim_release(&s);
}

static void pool_reuses_and_zeroes(void **state)
{
	struct sim_pool p;
	void *objs[1000];
	(void)state;
	sim_pool_init(&p, 40, 64);
	for (int i = 0; i < 1000; i++) {
		objs[i] = sim_pool_get(&p);
		memset(objs[i], 0xab, 40);
	}
	assert_int_equal(p.live, 1000);
	for (int i = 0; i < 1000; i++)
		sim_pool_put(&p, objs[i]);
	assert_int_equal(p.live, 0);
	{
		unsigned char *o = sim_pool_get(&p);
		for (int k = 0; k < 40; k++)
			assert_int_equal(o[k], 0);
		assert_ptr_equal(o, objs[999]); /* LIFO reuse */
	}
	sim_pool_release(&p);
}

static void arena_alignment_and_strings(void **state)
{
	struct sim_arena a;
	(void)state;
	sim_arena_init(&a);
	for (int i = 1; i < 5000; i += 37) {
		void *p = sim_arena_alloc(&a, (size_t)i);
		assert_int_equal((uintptr_t)p % 16, 0);
	}
	{
		void *big = sim_arena_alloc(&a, 1 << 20); /* larger than a block */
		assert_non_null(big);
	}
	assert_string_equal(sim_arena_strdup(&a, "hello"), "hello");
	assert_string_equal(sim_arena_strndup(&a, "hello", 3), "hel");
	sim_arena_release(&a);
}

static void error_positions_and_exit_codes(void **state)
{
	struct sim_err e;
	char tb[48];
	(void)state;
	sim_err_clear(&e);
	assert_int_equal(sim_err_exit_code(&e), 0);
	sim_err_at(&e, "a.yaml", 3, 7, "bad %s", "thing");
	assert_string_equal(e.msg, "a.yaml:3:7: bad thing");
	assert_int_equal(sim_err_exit_code(&e), 2);
	sim_err_at(&e, "b.yaml", 1, 1, "second"); /* the first error wins */
	assert_string_equal(e.msg, "a.yaml:3:7: bad thing");
	sim_err_clear(&e);
	sim_err_set(&e, SIM_EINTERNAL, "broken");
	assert_int_equal(sim_err_exit_code(&e), 1);
	assert_string_equal(sim_time_fmt(1500 * SIM_MS, tb, sizeof(tb)), "1.500000s");
	assert_string_equal(sim_time_fmt(-2 * SIM_US, tb, sizeof(tb)), "-0.000002s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heap_matches_sorted_reference),
		cmocka_unit_test(equal_times_fire_in_scheduling_order),
		cmocka_unit_test(stale_handle_after_slot_reuse),
		cmocka_unit_test(run_loop_order_cancel_and_end),
		cmocka_unit_test(sim_stop_halts_the_loop),
		cmocka_unit_test(pool_reuses_and_zeroes),
		cmocka_unit_test(arena_alignment_and_strings),
		cmocka_unit_test(error_positions_and_exit_codes),
	};
	return cmocka_run_group_tests_name("core: events, memory, errors", tests, NULL, NULL);
}
