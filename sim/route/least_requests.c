/* least-requests: fewest requests per unit of capacity; ties go round-robin, so
 * equal replicas share the load instead of the first taking it all. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	size_t best = 0, start = rt->next++ % rt->neps;
	double bl = 0;
	(void)q;
	for (size_t k = 0; k < rt->neps; k++) {
		size_t i = (start + k) % rt->neps;
		double l = rt_load(rt, i);
		if (k == 0 || l < bl) {
			bl = l;
			best = i;
		}
	}
	return best;
}

const struct router_ops rt_least_requests_ops = {"least-requests", pick};
