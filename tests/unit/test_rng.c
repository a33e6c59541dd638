/* sim/core random streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "core/core.h"

static void same_seed_and_name_same_draws(void **state)
{
	struct sim_rng *a = sim_rng_new(42, "workload/chat"), *b = sim_rng_new(42, "workload/chat");
	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_true(sim_rng_uniform(a) == sim_rng_uniform(b));
	sim_rng_free(a);
	sim_rng_free(b);
}

static void adding_a_stream_does_not_change_another(void **state)
{
	double ref[200], got[200];
	struct sim_rng *a = sim_rng_new(7, "arrivals");
	(void)state;
	for (int i = 0; i < 200; i++)
		ref[i] = sim_rng_uniform(a);
	sim_rng_free(a);
	/* Same stream again, now with other streams created and drawn from in between. */
	{
		struct sim_rng *x = sim_rng_new(7, "router");
		struct sim_rng *b = sim_rng_new(7, "arrivals");
		struct sim_rng *y = sim_rng_new(7, "spot");
		for (int i = 0; i < 200; i++) {
			(void)sim_rng_uniform(x);
			got[i] = sim_rng_uniform(b);
			(void)sim_rng_exponential(y, 3.0);
		}
		sim_rng_free(x);
		sim_rng_free(b);
		sim_rng_free(y);
	}
	for (int i = 0; i < 200; i++)
		assert_true(ref[i] == got[i]);
}

static void names_and_seeds_give_distinct_streams(void **state)
{
	struct sim_rng *a = sim_rng_new(1, "a"), *b = sim_rng_new(1, "b"), *c = sim_rng_new(2, "a");
	int same_ab = 0, same_ac = 0;
	(void)state;
	for (int i = 0; i < 100; i++) {
		double x = sim_rng_uniform(a), y = sim_rng_uniform(b), z = sim_rng_uniform(c);
		same_ab += x == y;
		same_ac += x == z;
	}
	assert_true(same_ab < 3);
	assert_true(same_ac < 3);
	assert_true(sim_hash_str("a", 1) != sim_hash_str("b", 1));
	assert_true(sim_hash_str("a", 1) != sim_hash_str("a", 2));
	sim_rng_free(a);
	sim_rng_free(b);
	sim_rng_free(c);
}

static void below_covers_range_uniformly(void **state)
{
	struct sim_rng *r = sim_rng_new(3, "below");
	int count[10] = {0};
	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint64_t v = sim_rng_below(r, 10);
		assert_true(v < 10);
		count[v]++;
	}
	for (int k = 0; k < 10; k++)
		assert_true(count[k] > 9500 && count[k] < 10500);
	for (int i = 0; i < 1000; i++)
		assert_true(sim_rng_below(r, UINT64_C(1) << 40) < (UINT64_C(1) << 40));
	assert_int_equal(sim_rng_below(r, 1), 0);
	sim_rng_free(r);
}

static void distribution_means(void **state)
{
	struct sim_rng *r = sim_rng_new(5, "dists");
	double se = 0, sg = 0, sl = 0;
	const int n = 200000;
	(void)state;
	for (int i = 0; i < n; i++) {
		se += sim_rng_exponential(r, 2.0);
		sg += sim_rng_gamma(r, 4.0, 0.5);
		sl += sim_rng_lognormal(r, 0.0, 0.5);
	}
	assert_true(fabs(se / n - 2.0) < 0.03);
	assert_true(fabs(sg / n - 2.0) < 0.02);
	assert_true(fabs(sl / n - exp(0.125)) < 0.01);
	sim_rng_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_and_name_same_draws),
		cmocka_unit_test(adding_a_stream_does_not_change_another),
		cmocka_unit_test(names_and_seeds_give_distinct_streams),
		cmocka_unit_test(below_covers_range_uniformly),
		cmocka_unit_test(distribution_means),
	};
	return cmocka_run_group_tests_name("core: random streams", tests, NULL, NULL);
}
