/* least-requests: fewest requests in the replica; ties go round-robin, so
 * equal replicas share the load instead of the first taking it all. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	size_t best = 0, start = rt->next++ % rt->neps;
	int64_t bl = INT64_MAX;
	(void)q;
	for (size_t k = 0; k < rt->neps; k++) {
		size_t i = (start + k) % rt->neps;
		int64_t l = rt_load(rt->eps[i]);
		if (l < bl) {
			bl = l;
			best = i;
		}
	}
	return best;
}

const struct router_ops rt_least_requests_ops = {"least-requests", pick};
