/* round-robin: replicas in turn, weighted by capacity (smooth weighted
 * round-robin, as nginx does: equal weights give plain round-robin). */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	size_t best = 0;
	double total = 0;
	(void)q;
	for (size_t i = 0; i < rt->neps; i++) {
		rt->cur[i] += rt->weight[i];
		total += rt->weight[i];
		if (rt->cur[i] > rt->cur[best])
			best = i;
	}
	rt->cur[best] -= total;
	return best;
}

const struct router_ops rt_round_robin_ops = {"round-robin", pick};
