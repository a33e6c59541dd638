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
/* The policies' names, by enum rt_policy (the ops tables' names; NULL-terminated). */
extern const char *const rt_policy_names[];

/* ---- the gateway ---- */

struct rt_router;

/* One file per policy; a new policy is one file and one entry in rt_policies. */
struct router_ops {
	/* the `policy:` name; an array, so that the config's list of names can
	 * be made of the ops tables' in a static initializer */
	const char name[24];
	/* Index of the endpoint that gets q (there is at least one). */
	size_t (*pick)(struct rt_router *rt, const struct srv_req *q);
};

struct rt_hooks {
	void *ctx;
	/* q leaves the router without being served: status says why
	 * (SRV_DROPPED: admission or a full buffer; SRV_FAILED: buffer timeout,
	 * retries exhausted; SRV_REJECTED: too long for the replicas) */
	void (*gave_up)(void *ctx, struct srv_req *q, int status);
};

struct rt_router {
	const struct router_ops *ops;
	const struct rt_config *cfg;
	struct sim *sim;
	struct sim_rng *rng; /* "router/<deployment>" */
	size_t next;         /* round-robin position */
	struct srv_replica **eps; /* ready endpoints, in publication order */
	double *weight;           /* their relative capacity (1: the deployment's first variant) */
	double *cur;              /* smooth weighted round-robin state */
	size_t neps, eps_cap, w_cap, c_cap;
	struct srv_req **buf; /* requests held while no endpoint is ready (a ring) */
	sim_time *buf_deadline;
	size_t buf_head, buf_n, buf_cap;
	sim_handle timer;
	struct rt_hooks hooks;
	int64_t dropped, timed_out, retried, retries_exhausted, buffered, hedged;
};

extern const struct router_ops rt_round_robin_ops, rt_random_ops, rt_least_requests_ops,
	rt_least_kv_ops, rt_power_of_two_ops, rt_prefix_affinity_ops, rt_lora_affinity_ops;
/* Indexed by enum rt_policy. */
extern const struct router_ops *const rt_policies[];

int rt_router_init(struct rt_router *rt, struct sim *s, const struct rt_config *cfg,
		   const char *deployment, uint64_t seed, const struct rt_hooks *hooks,
		   struct sim_err *err);
void rt_router_release(struct rt_router *rt);
/* The replica the policy would give q, without sending it (NULL: none ready). */
struct srv_replica *rt_pick(struct rt_router *rt, const struct srv_req *q);
/* A request for this deployment: routed, buffered, or given up. */
void rt_submit(struct rt_router *rt, struct srv_req *q);
/* A duplicate of a request that is slow to start (hedging): routed like a
 * new one but never to `avoid`; false when no other endpoint is ready. */
bool rt_submit_hedge(struct rt_router *rt, struct srv_req *q, struct srv_replica *avoid);
/* A request its replica gave back: retried unless out of retries. */
void rt_retry(struct rt_router *rt, struct srv_req *q);
void rt_endpoint_up(struct rt_router *rt, struct srv_replica *r, double weight);
void rt_endpoint_down(struct rt_router *rt, struct srv_replica *r);
size_t rt_buffered(const struct rt_router *rt);

/* Load a policy compares: requests in the replica (running + waiting + swapped)
 * per unit of capacity. */
double rt_load(const struct rt_router *rt, size_t i);
/* Rendezvous hashing with a load bound: the endpoint with the highest
 * hash(key, replica) among those under factor x the mean load. */
size_t rt_affinity_pick(struct rt_router *rt, uint64_t key);

#endif
