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

#endif
