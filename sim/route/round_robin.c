/* round-robin: replicas in turn. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	(void)q;
	return rt->next++ % rt->neps;
}

const struct router_ops rt_round_robin_ops = {"round-robin", pick};
