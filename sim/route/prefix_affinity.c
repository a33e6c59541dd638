/* prefix-affinity: requests with the same leading prefix blocks go to the
 * same replica (rendezvous hashing, so a replica joining or leaving moves
 * only its share), unless it is loaded well above the mean; requests without
 * a prefix go to the least loaded. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	uint64_t key;
	if (q->hashes && q->nids > 0) {
		int32_t k = q->nids < (int32_t)rt->cfg->affinity_blocks ? q->nids : (int32_t)rt->cfg->affinity_blocks;
		key = sim_hash64(q->hashes, (size_t)k * sizeof(uint64_t), 0x70726566);
	} else if (q->prefix_key) {
		key = q->prefix_key;
	} else {
		return rt_least_requests_ops.pick(rt, q);
	}
	return rt_affinity_pick(rt, key);
}

const struct router_ops rt_prefix_affinity_ops = {"prefix-affinity", pick};
