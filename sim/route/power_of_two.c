/* power-of-two: two replicas at random, the one with fewer requests. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct rt_view *v, const struct srv_req *q)
{
	size_t a = (size_t)sim_rng_below(rt->rng, v->n);
	size_t b = (size_t)sim_rng_below(rt->rng, v->n - 1);
	(void)q;
	if (b >= a)
		b++; /* two distinct replicas */
	return rt_load(v->replicas[b]) < rt_load(v->replicas[a]) ? b : a;
}

const struct router_ops rt_power_of_two_ops = {"power-of-two", pick};
