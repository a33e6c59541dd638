/* random: a replica uniformly at random (the router's own stream). */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	(void)q;
	return (size_t)sim_rng_below(rt->rng, rt->neps);
}

const struct router_ops rt_random_ops = {"random", pick};
