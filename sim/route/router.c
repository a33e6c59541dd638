/* The router: policy table and shared helpers. */
#include "route.h"

#include <stdio.h>
#include <string.h>

const struct router_ops *const rt_policies[] = {
	[RT_ROUND_ROBIN] = &rt_round_robin_ops,
	[RT_RANDOM] = &rt_random_ops,
	[RT_LEAST_REQUESTS] = &rt_least_requests_ops,
	[RT_LEAST_KV] = &rt_least_kv_ops,
	[RT_POWER_OF_TWO] = &rt_power_of_two_ops,
	[RT_PREFIX_AFFINITY] = NULL,
	[RT_LORA_AFFINITY] = NULL,
};

int rt_router_init(struct rt_router *rt, const struct rt_config *cfg, const char *deployment,
		   uint64_t seed, struct sim_err *err)
{
	char name[160];
	memset(rt, 0, sizeof(*rt));
	rt->cfg = cfg;
	rt->ops = rt_policies[cfg->policy];
	if (!rt->ops)
		return sim_err_set(err, SIM_EINPUT,
				   "router policy %s is not simulated yet; use round-robin, random, least-requests, "
				   "least-kv or power-of-two",
				   cfg->policy == RT_PREFIX_AFFINITY ? "prefix-affinity" : "lora-affinity");
	snprintf(name, sizeof(name), "router/%s", deployment);
	rt->rng = sim_rng_new(seed, name);
	return 0;
}

void rt_router_release(struct rt_router *rt)
{
	sim_rng_free(rt->rng);
	rt->rng = NULL;
}

int64_t rt_load(struct srv_replica *r)
{
	return srv_inflight(r);
}
