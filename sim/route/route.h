/*
 * sim/route: the gateway in front of each deployment. Owns the `router:`
 * section and, from the cluster issue on, routing policies (one file each
 * behind struct router_ops), buffering while no replica is ready, admission
 * limits, retries and hedging.
 *
 * Invariants:
 *  - Every request the router takes ends as completed, failed or dropped,
 *    or is still in flight: none disappears.
 */
#ifndef SIM_ROUTE_H
#define SIM_ROUTE_H

#include "../config/config.h"
#include "../server/server.h"

enum rt_policy {
	RT_ROUND_ROBIN, RT_RANDOM, RT_LEAST_REQUESTS, RT_LEAST_KV,
	RT_POWER_OF_TWO, RT_PREFIX_AFFINITY, RT_LORA_AFFINITY
};

struct rt_buffer {
	int64_t capacity;
	sim_time timeout;
};

struct rt_config {
	int policy; /* enum rt_policy */
	struct rt_buffer buffer;
	int64_t max_queue;
	int64_t max_retries;
	sim_time hedge_after;   /* 0: no hedging */
	int64_t affinity_blocks;
	double affinity_load_factor;
};

extern const struct cfg_schema rt_config_schema;

/* ---- routing policies ---- */

/* What a policy sees of a deployment's ready replicas. */
struct rt_view {
	struct srv_replica *const *replicas;
	size_t n;
};

struct rt_router;

/* One file per policy; a new policy is one file and one entry in rt_policies. */
struct router_ops {
	const char *name;
	/* Index of the replica that gets q (n >= 1). */
	size_t (*pick)(struct rt_router *rt, const struct rt_view *v, const struct srv_req *q);
};

struct rt_router {
	const struct router_ops *ops;
	const struct rt_config *cfg;
	struct sim_rng *rng; /* "router/<deployment>" */
	size_t next;         /* round-robin position */
};

extern const struct router_ops rt_round_robin_ops, rt_random_ops, rt_least_requests_ops,
	rt_least_kv_ops, rt_power_of_two_ops;
/* Indexed by enum rt_policy; NULL where a policy is not simulated yet. */
extern const struct router_ops *const rt_policies[];

int rt_router_init(struct rt_router *rt, const struct rt_config *cfg, const char *deployment,
		   uint64_t seed, struct sim_err *err);
void rt_router_release(struct rt_router *rt);
static inline size_t rt_pick(struct rt_router *rt, const struct rt_view *v, const struct srv_req *q)
{
	return v->n == 1 ? 0 : rt->ops->pick(rt, v, q);
}
/* Load a policy compares: requests in the replica (running + waiting + swapped). */
int64_t rt_load(struct srv_replica *r);

#endif
