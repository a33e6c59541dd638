/* lora-affinity: requests for one LoRA adapter go to the same replica (it
 * has the adapter loaded), unless it is loaded well above the mean; requests
 * without an adapter go to the least loaded. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	if (!q->lora)
		return rt_least_requests_ops.pick(rt, q);
	return rt_affinity_pick(rt, q->lora);
}

const struct router_ops rt_lora_affinity_ops = {"lora-affinity", pick};
