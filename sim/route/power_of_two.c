/* power-of-two: two replicas at random, the one with fewer requests. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	size_t a = (size_t)sim_rng_below(rt->rng, rt->neps);
	size_t b = (size_t)sim_rng_below(rt->rng, rt->neps - 1);
	(void)q;
	if (b >= a)
		b++; /* two distinct replicas */
	return rt_load(rt, b) < rt_load(rt, a) ? b : a;
}

const struct router_ops rt_power_of_two_ops = {"power-of-two", pick};
