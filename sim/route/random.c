/* random: a replica at random in proportion to its capacity (the router's own stream). */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	double total = 0, u;
	(void)q;
	for (size_t i = 0; i < rt->neps; i++)
		total += rt->weight[i];
	u = sim_rng_uniform(rt->rng) * total;
	for (size_t i = 0; i < rt->neps; i++) {
		if (u < rt->weight[i])
			return i;
		u -= rt->weight[i];
	}
	return rt->neps - 1;
}

const struct router_ops rt_random_ops = {"random", pick};
