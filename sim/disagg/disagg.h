/*
 * sim/disagg: the KV hand-off of disaggregated (prefill/decode) serving.
 * Owns the `kv_transfer:` key of a prefill deployment and, for a request whose prefill has ended: the wait for blocks on a
 * decode replica (reserved before anything is sent), the transfer over
 * NVLink inside a node or over the source node's NIC, which the transfers
 * leaving it share equally, and the latency after it.
 *
 * Invariants:
 *  - A transfer starts only once its blocks are reserved on the decode
 *    replica; when that replica goes before the KV lands, the reservation
 *    goes with it and the hand-off starts over.
 *  - The transfers leaving one NIC always share its bandwidth equally: each
 *    start or end rebalances the others.
 *  - Every hand-off ends in exactly one `arrived` hook call, or is still in
 *    flight at the end of the run.
 */
#ifndef SIM_DISAGG_H
#define SIM_DISAGG_H

#include "../cluster/cluster.h" /* deployments' resolved hardware */
#include "../report/report.h"
#include "../route/route.h"

/* A prefill deployment's `kv_transfer:`: where each prompt's KV goes. */
enum dg_network { DG_NET_RDMA, DG_NET_ETHERNET };
struct dg_config {
	const char *decode;      /* the decode deployment */
	int decode_policy;       /* enum rt_policy: how a decode replica is chosen */
	int network;             /* enum dg_network: the nodes' NIC class */
	double bandwidth;        /* bytes/s per node NIC; 0: the class's */
	sim_time latency;        /* per transfer */
	bool has_latency;        /* else the class's */
	double nvlink_bandwidth; /* bytes/s when both replicas share a node; 0: the GPU's interconnect */
	bool layerwise;          /* send layer by layer while the prefill runs */
};
extern const struct cfg_schema dg_config_schema;

/* One request's hand-off; the caller embeds it in its request. */
struct dg_transfer {
	struct srv_req *q;
	int32_t prefill_rep, decode_rep; /* pod ids (-1: none yet) */
	struct srv_replica *decode;      /* where its blocks are reserved */
	struct rt_router *router;        /* the decode deployment's */
	sim_time prefill_start, prefill_end, start, end; /* -1: not (yet) */
	double bytes, left, rate; /* KV bytes; bytes still to send; bytes/s now */
	sim_time since;           /* when `left` was last brought up to date */
	int32_t nic;              /* source node of a NIC transfer; -1: NVLink */
	sim_handle ev;
	struct dg_transfer *next; /* transfers in flight */
	bool waited;              /* waited for decode blocks at least once */
};

/* What the hand-off needs from the world around it. */
struct dg_hooks {
	void *ctx;
	/* t->q's KV is in the blocks reserved on t->decode */
	void (*arrived)(void *ctx, struct dg_transfer *t);
	/* the node that hosts replica (pod) id, -1 when none: two replicas on
	 * one node exchange KV over NVLink, otherwise over the source's NIC */
	int32_t (*node_of)(void *ctx, int32_t replica);
	/* does replica id still serve as `rep` (ready, the same replica)? When
	 * not, *alive tells whether `rep` still exists (draining) to give its
	 * reserved blocks back to */
	bool (*serving)(void *ctx, int32_t replica, const struct srv_replica *rep, bool *alive);
};

struct dg_net {
	struct sim *sim;
	const struct clu_dep_setup *deps; /* by deployment: LLM, GPUs */
	const struct dg_config *cfgs;     /* by deployment: its kv_transfer (prefill ones) */
	struct dg_hooks hooks;
	struct dg_transfer *flows; /* in flight */
	int64_t transfers, waits;  /* ended; requests that waited for blocks */
	double bytes;
	struct rep_sketch time;    /* start (blocks reserved) to arrival, seconds */
};

void dg_init(struct dg_net *n, struct sim *sim, const struct clu_dep_setup *deps, const struct dg_config *cfgs,
	     const struct dg_hooks *hooks);
void dg_release(struct dg_net *n);
/* A new request: no hand-off yet. */
void dg_transfer_init(struct dg_transfer *t, struct srv_req *q);
/* The request was given back and starts again from its prefill. */
void dg_transfer_reset(struct dg_transfer *t);
/* q's prefill ended now on replica q->replica: reserve prompt + 1 tokens of
 * blocks on the replica `decode` picks (every 10 ms until one can take
 * them), then send the KV. */
void dg_handoff(struct dg_net *n, struct dg_transfer *t, struct rt_router *decode);

#endif
