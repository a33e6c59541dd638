/*
 * The cluster at run time: node pools and nodes, pods and every phase of
 * their startup, placement, scaling and draining, faults, and billing.
 *
 * A pod goes Pending -> scheduled on a node (most-allocated first among the
 * nodes of a matching GPU type, in the order of the deployment's hardware
 * variants) -> image pull (skipped when the node has the image) -> container
 * start -> weight download (object store: per-node bandwidth, and a total
 * shared fairly by every concurrent download; node cache; a peer node) ->
 * load to GPU -> warm-up -> the first readiness probe after warm-up -> its
 * endpoint reaches the router after endpoint_propagation.
 *
 * Without a cluster section each pod gets a dedicated node of its own at
 * once, billed at the catalog price, and still starts up like any pod.
 *
 * The node autoscaler (ca.c, karpenter.c) runs from here: its scan loop
 * from t=0 to the run's end, and its hooks when a node fails to boot or
 * becomes Ready; it acts through the helpers internal.h declares.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PH_PULL, PH_CONTAINER, PH_WEIGHTS, PH_LOAD, PH_WARMUP, PH_PROBE, PH_ENDPOINT, PH_DONE };

static void pod_advance(struct clu_cluster *c, struct clu_pod *p);
static void schedule_pending(struct clu_cluster *c);
static void pod_gone(struct clu_cluster *c, struct clu_pod *p, const char *reason);
static void ensure_pods(struct clu_cluster *c, size_t d);

/* ---- helpers ---- */

static double s_of(sim_time t) { return sim_time_to_s(t); }
static sim_time ns_of(double s) { return (sim_time)llround(s * 1e9); }

/* Frees a pod's replica, keeping its busy time for utilization. */
static void replica_free(struct clu_cluster *c, struct clu_pod *p)
{
	struct srv_stats st;
	srv_stats(p->replica, &st);
	c->busy_gpu_s += s_of(st.busy_time) * c->deps[p->dep].v[p->variant].gpus;
	srv_free(p->replica);
	p->replica = NULL;
}

static struct clu_node *node_new(struct clu_cluster *c, int32_t pool, int32_t gpus, double price)
{
	struct clu_node *n = xcalloc(1, sizeof(*n));
	n->id = (int32_t)c->nnodes;
	n->pool = pool;
	n->gpus = gpus;
	n->price_per_hour = price;
	n->requested = c->sim->now;
	n->ready = n->gpus_ready = n->deleted = -1;
	n->warm_since = n->warm_until = -1;
	n->unneeded_since = -1;
	n->ev = SIM_HANDLE_NONE;
	/* one allocation: the image bitset, then the weight bitset */
	n->images = xcalloc(2 * clu_node_cache_words(c->ndeps) + 1, sizeof(uint64_t));
	n->weights = n->images + clu_node_cache_words(c->ndeps);
	XGROW(c->nodes, c->node_cap, c->nnodes + 1);
	c->nodes[c->nnodes++] = n;
	if (pool >= 0)
		c->pools[pool].nodes++;
	return n;
}

/* Marks deployment dep in a node's image or weight bitset. */
static void node_cache_set(uint64_t *bits, size_t dep)
{
	bits[dep / 64] |= UINT64_C(1) << (dep % 64);
}

static sim_time draw_delay(struct sim_rng *r, const struct clu_delay *d)
{
	double mu, sigma;
	if (d->p90 <= d->p50)
		return d->p50;
	mu = log(s_of(d->p50));
	sigma = (log(s_of(d->p90)) - mu) / 1.2815515655446004;
	return ns_of(sim_rng_lognormal(r, mu, sigma));
}

bool clu_pool_serves(const struct clu_cluster *c, size_t pool, const struct dep *d, size_t v)
{
	const struct clu_pool_config *pc = c->pools[pool].cfg;
	if (d->cfg->node_pool && strcmp(d->cfg->node_pool, pc->name))
		return false;
	return !strcmp(c->pools[pool].gpu->name, d->v[v].gpu->name) && pc->instance.gpus >= d->v[v].gpus;
}

/* ---- nodes ---- */

static void on_node_gpus(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_node *n = c->nodes[arg];
	(void)s;
	n->ev = SIM_HANDLE_NONE;
	if (n->state != CLU_NODE_GPU_PENDING)
		return;
	n->state = CLU_NODE_READY;
	n->gpus_ready = c->sim->now;
	schedule_pending(c);
}

static void on_node_ready(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_node *n = c->nodes[arg];
	const struct clu_pool_config *pc = c->pools[n->pool].cfg;
	(void)s;
	n->ev = SIM_HANDLE_NONE;
	if (n->state != CLU_NODE_PROVISIONING)
		return;
	if (pc->boot_failure_probability > 0 && sim_rng_uniform(c->rng_prov) < pc->boot_failure_probability) {
		/* the instance never registers: a node autoscaler may notice only
		 * later (cluster-autoscaler: max_node_provision_time); without one
		 * the node is simply gone */
		if (!c->na || !c->na->boot_failed || !c->na->boot_failed(c->na_state, n))
			clu_node_gone(c, n, "boot-failure");
		return;
	}
	n->state = CLU_NODE_GPU_PENDING;
	n->ready = c->sim->now;
	if (c->na && c->na->node_ready)
		c->na->node_ready(c->na_state, n);
	n->ev = sim_schedule_in(c->sim, pc->gpu_ready_delay, on_node_gpus, c, (uint64_t)n->id);
}

static void on_spot_notice(struct sim *s, void *ctx, uint64_t arg);
static void on_node_failure(struct sim *s, void *ctx, uint64_t arg);

/* Faults that strike a node while it lives. */
static void arm_node_faults(struct clu_cluster *c, struct clu_node *n)
{
	const struct clu_pool_config *pc = c->pools[n->pool].cfg;
	if (pc->capacity == CLU_SPOT && pc->spot_interruptions.rate_per_node_hour > 0)
		sim_schedule_in(c->sim, ns_of(sim_rng_exponential(c->rng_fault, 3600.0 / pc->spot_interruptions.rate_per_node_hour)),
				on_spot_notice, c, (uint64_t)n->id);
	if (pc->node_failure_rate_per_hour > 0)
		sim_schedule_in(c->sim, ns_of(sim_rng_exponential(c->rng_fault, 3600.0 / pc->node_failure_rate_per_hour)),
				on_node_failure, c, (uint64_t)n->id);
}

struct clu_node *clu_provision(struct clu_cluster *c, size_t pool)
{
	const struct clu_pool_config *pc = c->pools[pool].cfg;
	struct clu_node *n = NULL;
	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i]->pool == (int32_t)pool && c->nodes[i]->state == CLU_NODE_WARM) {
			n = c->nodes[i];
			break;
		}
	if (n) {
		n->warm_until = c->sim->now;
		n->requested = c->sim->now;
		n->state = CLU_NODE_PROVISIONING;
		c->pools[pool].nodes++;
		n->ev = sim_schedule_in(c->sim, pc->warm_pool.resume_delay, on_node_ready, c, (uint64_t)n->id);
	} else {
		n = node_new(c, (int32_t)pool, (int32_t)pc->instance.gpus, c->pools[pool].price_per_hour);
		n->state = CLU_NODE_PROVISIONING;
		n->ev = sim_schedule_in(c->sim, draw_delay(c->rng_prov, &pc->provisioning_delay), on_node_ready, c,
					(uint64_t)n->id);
	}
	arm_node_faults(c, n);
	c->last_scale_up = c->sim->now;
	return n;
}

void clu_node_gone(struct clu_cluster *c, struct clu_node *n, const char *reason)
{
	if (n->state == CLU_NODE_GONE)
		return;
	sim_cancel(c->sim, n->ev);
	n->state = CLU_NODE_GONE;
	n->deleted = c->sim->now;
	n->reason = reason;
	if (n->pool >= 0)
		c->pools[n->pool].nodes--;
	/* its pods go with it; their deployments start replacements */
	for (size_t i = 0; i < c->npods; i++) {
		struct clu_pod *p = c->pods[i];
		if (p->node == n && p->state != CLU_POD_GONE)
			pod_gone(c, p, reason);
	}
	for (size_t d = 0; d < c->ndeps; d++)
		ensure_pods(c, d);
	schedule_pending(c);
}

static void evict_pods(struct clu_cluster *c, struct clu_node *n, const char *reason);

static void on_spot_gone(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	(void)s;
	clu_node_gone(c, c->nodes[arg], "spot-interruption");
}

static void spot_notice(struct clu_cluster *c, struct clu_node *n)
{
	const struct clu_pool_config *pc = c->pools[n->pool].cfg;
	if (n->state == CLU_NODE_GONE || n->state == CLU_NODE_CORDONED || n->state == CLU_NODE_WARM)
		return;
	/* two minutes' notice: cordoned, pods evicted (replacements start elsewhere) */
	n->state = CLU_NODE_CORDONED;
	evict_pods(c, n, "spot-notice");
	sim_schedule_in(c->sim, pc->spot_interruptions.notice, on_spot_gone, c, (uint64_t)n->id);
}

static void on_spot_notice(struct sim *s, void *ctx, uint64_t arg)
{
	(void)s;
	spot_notice(ctx, ((struct clu_cluster *)ctx)->nodes[arg]);
}

/* A scheduled notice strikes the pool's oldest live node. */
static void on_spot_scheduled(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	(void)s;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct clu_node *n = c->nodes[i];
		if (n->pool == (int32_t)arg && n->state != CLU_NODE_GONE && n->state != CLU_NODE_CORDONED &&
		    n->state != CLU_NODE_WARM) {
			spot_notice(c, n);
			return;
		}
	}
}

static void on_node_failure(struct sim *s, void *ctx, uint64_t arg)
{
	(void)s;
	clu_node_gone(ctx, ((struct clu_cluster *)ctx)->nodes[arg], "node-failure");
}

/* ---- downloads sharing the object store ---- */

static void on_download_done(struct sim *s, void *ctx, uint64_t arg);

/* Advances every download to now, then gives each its fair share. */
static void dl_rebalance(struct clu_cluster *c)
{
	double elapsed = s_of(c->sim->now - c->dl_at);
	size_t n = c->ndl;
	for (size_t i = 0; i < n; i++)
		c->dl[i]->dl_left = fmax(0, c->dl[i]->dl_left - c->dl[i]->dl_rate * elapsed);
	c->dl_at = c->sim->now;
	for (size_t i = 0; i < n; i++) {
		struct clu_pod *p = c->dl[i];
		const struct clu_startup *st = &c->deps[p->dep].cfg->startup;
		double share = st->object_store_bandwidth / (double)n;
		p->dl_rate = fmin(st->weights.bandwidth, share);
		sim_cancel(c->sim, p->ev);
		p->ev = sim_schedule(c->sim, c->sim->now + ns_of(p->dl_left / p->dl_rate), on_download_done, c,
				     (uint64_t)p->id);
	}
}

static void dl_remove(struct clu_cluster *c, struct clu_pod *p)
{
	for (size_t i = 0; i < c->ndl; i++)
		if (c->dl[i] == p) {
			c->dl[i] = c->dl[--c->ndl];
			/* keep the order by pod id, so rebalancing is deterministic */
			for (size_t j = i; j + 1 < c->ndl && c->dl[j]->id > c->dl[j + 1]->id; j++) {
				struct clu_pod *t = c->dl[j];
				c->dl[j] = c->dl[j + 1];
				c->dl[j + 1] = t;
			}
			return;
		}
}

static void on_download_done(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_pod *p = c->pods[arg];
	(void)s;
	p->ev = SIM_HANDLE_NONE;
	/* out of the list first: rebalancing reschedules every member's event */
	dl_remove(c, p);
	dl_rebalance(c);
	p->weights_ready = c->sim->now;
	node_cache_set(p->node->weights, (size_t)p->dep);
	p->phase = PH_LOAD;
	pod_advance(c, p);
}

/* ---- pods ---- */

static const char *phase_reason(int ph)
{
	static const char *const n[] = {"pull", "container", "weights", "load", "warmup", "probe", "endpoint", "done"};
	return n[ph];
}

static void on_pod_phase(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_pod *p = c->pods[arg];
	(void)s;
	p->ev = SIM_HANDLE_NONE;
	switch (p->phase) {
	case PH_PULL:
		p->pulled = c->sim->now;
		node_cache_set(p->node->images, (size_t)p->dep);
		p->phase = PH_CONTAINER;
		break;
	case PH_CONTAINER:
		p->container_up = c->sim->now;
		p->phase = PH_WEIGHTS;
		break;
	case PH_WEIGHTS: /* a peer copy or cache */
		p->weights_ready = c->sim->now;
		node_cache_set(p->node->weights, (size_t)p->dep);
		p->phase = PH_LOAD;
		break;
	case PH_LOAD:
		p->loaded = c->sim->now;
		p->phase = PH_WARMUP;
		break;
	case PH_WARMUP:
		p->warm_done = c->sim->now;
		p->phase = PH_PROBE;
		break;
	case PH_PROBE:
		p->ready = c->sim->now;
		p->phase = PH_ENDPOINT;
		break;
	case PH_ENDPOINT:
		p->endpoint = c->sim->now;
		p->phase = PH_DONE;
		break;
	default:
		return;
	}
	pod_advance(c, p);
}

static bool peer_has(const struct clu_cluster *c, const struct clu_pod *p)
{
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct clu_node *n = c->nodes[i];
		if (n != p->node && n->state != CLU_NODE_GONE && clu_node_has_weights(n, (size_t)p->dep))
			return true;
	}
	return false;
}

/* Starts the pod's current phase (or moves past a skipped one). */
static void pod_advance(struct clu_cluster *c, struct clu_pod *p)
{
	const struct dep *d = &c->deps[p->dep];
	const struct clu_startup *st = &d->cfg->startup;
	const struct variant *v = &d->v[p->variant];
	sim_time dt = 0;
	for (;;) {
		switch (p->phase) {
		case PH_PULL: {
			double bw = p->node->pool >= 0 && c->pools[p->node->pool].cfg->image_pull_bandwidth > 0
					    ? c->pools[p->node->pool].cfg->image_pull_bandwidth
					    : st->image.pull_bandwidth;
			if (clu_node_has_image(p->node, (size_t)p->dep)) {
				p->pulled = c->sim->now; /* cached on the node */
				p->phase = PH_CONTAINER;
				continue;
			}
			dt = ns_of((double)st->image.size / bw);
			break;
		}
		case PH_CONTAINER:
			dt = st->container_start;
			break;
		case PH_WEIGHTS:
			if (st->weights.source != CLU_WEIGHTS_OBJECT_STORE && clu_node_has_weights(p->node, (size_t)p->dep)) {
				p->weights_ready = c->sim->now; /* node cache */
				p->phase = PH_LOAD;
				continue;
			}
			if (st->weights.source == CLU_WEIGHTS_PEER && peer_has(c, p)) {
				dt = ns_of(v->weight_bytes / st->weights.peer_bandwidth);
				break;
			}
			/* the object store, shared by every download in flight */
			p->dl_left = v->weight_bytes;
			p->dl_rate = 0;
			dl_rebalance(c);
			XGROW(c->dl, c->dl_cap, c->ndl + 1);
			c->dl[c->ndl++] = p;
			for (size_t j = c->ndl - 1; j > 0 && c->dl[j - 1]->id > c->dl[j]->id; j--) {
				struct clu_pod *t = c->dl[j];
				c->dl[j] = c->dl[j - 1];
				c->dl[j - 1] = t;
			}
			dl_rebalance(c);
			return;
		case PH_LOAD:
			dt = ns_of(v->weight_bytes / st->load_bandwidth);
			break;
		case PH_WARMUP:
			dt = st->warmup;
			break;
		case PH_PROBE: {
			/* probes from container start + initial_delay, every period; the
			 * first after warm-up succeeds */
			sim_time first = p->container_up + st->readiness_probe.initial_delay, at = first;
			if (at < c->sim->now) {
				sim_time k = (c->sim->now - first + st->readiness_probe.period - 1) / st->readiness_probe.period;
				at = first + k * st->readiness_probe.period;
			}
			dt = at - c->sim->now;
			break;
		}
		case PH_ENDPOINT:
			if (p->held) { /* a warm replica waits here, loaded, until it is needed */
				p->state = CLU_POD_WARM;
				return;
			}
			dt = st->endpoint_propagation;
			break;
		case PH_DONE:
			p->state = CLU_POD_READY;
			p->weight = clu_variant_capacity(c, (size_t)p->dep, (size_t)p->variant) /
				    clu_variant_capacity(c, (size_t)p->dep, 0);
			if (!p->replica) {
				struct srv_params sp = v->sp;
				sp.fast_stepping = c->su.fast_stepping;
				p->replica = srv_new(c->sim, &sp, p->id, &c->su.hooks.srv);
			}
			if (c->su.hooks.endpoint_up)
				c->su.hooks.endpoint_up(c->su.hooks.ctx, p);
			return;
		}
		break;
	}
	(void)phase_reason;
	p->ev = sim_schedule_in(c->sim, dt, on_pod_phase, c, (uint64_t)p->id);
}

static void pod_start(struct clu_cluster *c, struct clu_pod *p, struct clu_node *n)
{
	p->node = n;
	n->gpus_used += c->deps[p->dep].v[p->variant].gpus;
	n->pods++;
	n->unneeded_since = -1;
	p->scheduled = c->sim->now;
	p->state = CLU_POD_STARTING;
	p->phase = PH_PULL;
	pod_advance(c, p);
}

/* Most-allocated first: the fullest node the pod fits on. */
static struct clu_node *fit(struct clu_cluster *c, const struct dep *d, size_t v)
{
	struct clu_node *best = NULL;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct clu_node *n = c->nodes[i];
		if (n->state != CLU_NODE_READY || n->pool < 0 || !clu_pool_serves(c, (size_t)n->pool, d, v))
			continue;
		if (n->gpus - n->gpus_used < d->v[v].gpus)
			continue;
		if (!best || n->gpus_used > best->gpus_used)
			best = n;
	}
	return best;
}

/* Places pending pods, oldest first, on the first variant that fits. */
static void schedule_pending(struct clu_cluster *c)
{
	for (size_t i = 0; i < c->npods; i++) {
		struct clu_pod *p = c->pods[i];
		const struct dep *d = &c->deps[p->dep];
		if (p->state != CLU_POD_PENDING)
			continue;
		if (!c->su.cluster) {
			const struct variant *v = &d->v[0];
			struct clu_node *n = node_new(c, -1, v->gpus, v->price_per_hour);
			n->state = CLU_NODE_READY;
			n->ready = n->gpus_ready = c->sim->now;
			p->variant = 0;
			pod_start(c, p, n);
			continue;
		}
		for (size_t v = 0; v < d->nv; v++) {
			struct clu_node *n = fit(c, d, v);
			if (n) {
				p->variant = (int32_t)v;
				pod_start(c, p, n);
				break;
			}
		}
	}
}

static struct clu_pod *pod_new(struct clu_cluster *c, size_t dep)
{
	struct clu_pod *p = xcalloc(1, sizeof(*p));
	struct dep *d = &c->deps[dep];
	p->id = (int32_t)c->npods;
	p->dep = (int32_t)dep;
	p->state = CLU_POD_PENDING;
	p->created = c->sim->now;
	p->scheduled = p->pulled = p->weights_ready = p->loaded = p->ready = p->endpoint = p->terminated = -1;
	p->container_up = -1;
	p->ev = SIM_HANDLE_NONE;
	XGROW(c->pods, c->pod_cap, c->npods + 1);
	c->pods[c->npods++] = p;
	XGROW(d->pods, d->cap, d->npods + 1);
	d->pods[d->npods++] = p;
	return p;
}

static void dep_forget(struct dep *d, struct clu_pod *p)
{
	for (size_t i = 0; i < d->npods; i++)
		if (d->pods[i] == p) {
			memmove(&d->pods[i], &d->pods[i + 1], (d->npods - i - 1) * sizeof(*d->pods));
			d->npods--;
			return;
		}
}

static void abort_cb(void *ctx, struct srv_req *q)
{
	struct clu_cluster *c = ctx;
	if (c->su.hooks.aborted)
		c->su.hooks.aborted(c->su.hooks.ctx, q);
}

/* The pod is gone: GPUs freed, requests given back. */
static void pod_gone(struct clu_cluster *c, struct clu_pod *p, const char *reason)
{
	struct dep *d = &c->deps[p->dep];
	if (p->state == CLU_POD_GONE)
		return;
	if (p->state == CLU_POD_READY && c->su.hooks.endpoint_down)
		c->su.hooks.endpoint_down(c->su.hooks.ctx, p);
	sim_cancel(c->sim, p->ev);
	if (p->phase == PH_WEIGHTS && p->state == CLU_POD_STARTING) {
		dl_remove(c, p);
		dl_rebalance(c);
	}
	if (p->replica) {
		srv_abort_all(p->replica, abort_cb, c);
		replica_free(c, p);
	}
	if (p->node) {
		p->node->gpus_used -= d->v[p->variant].gpus;
		p->node->pods--;
		if (p->node->pool < 0 && p->node->state != CLU_NODE_GONE) { /* a dedicated node goes with its pod */
			p->node->state = CLU_NODE_GONE;
			p->node->deleted = c->sim->now;
			p->node->reason = reason;
		}
	}
	p->state = CLU_POD_GONE;
	p->terminated = c->sim->now;
	p->reason = reason;
	dep_forget(d, p);
}

/* ---- draining ---- */

static void on_drain_check(struct sim *s, void *ctx, uint64_t arg);

static void on_drain_deadline(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_pod *p = c->pods[arg];
	(void)s;
	if (p->state == CLU_POD_DRAINING)
		pod_gone(c, p, p->reason ? p->reason : "scale-down");
}

/* Drain: no new requests; in-flight ones get the grace period, then are
 * aborted (and retried by the router). */
static void pod_drain(struct clu_cluster *c, struct clu_pod *p, const char *reason, sim_time grace)
{
	if (p->state != CLU_POD_READY) {
		pod_gone(c, p, reason); /* nothing served yet: it just goes */
		return;
	}
	if (c->su.hooks.endpoint_down)
		c->su.hooks.endpoint_down(c->su.hooks.ctx, p);
	p->state = CLU_POD_DRAINING;
	p->reason = reason;
	sim_cancel(c->sim, p->ev);
	p->ev = sim_schedule_in(c->sim, grace, on_drain_deadline, c, (uint64_t)p->id);
	/* check for an empty replica now and then: it may go before the grace ends */
	sim_schedule_in(c->sim, SIM_SEC, on_drain_check, c, (uint64_t)p->id);
}

static void on_drain_check(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_pod *p = c->pods[arg];
	(void)s;
	if (p->state != CLU_POD_DRAINING)
		return;
	if (srv_inflight(p->replica) == 0) {
		pod_gone(c, p, p->reason);
		schedule_pending(c);
		return;
	}
	sim_schedule_in(c->sim, SIM_SEC, on_drain_check, c, (uint64_t)p->id);
}

static void evict_pods(struct clu_cluster *c, struct clu_node *n, const char *reason)
{
	for (size_t i = 0; i < c->npods; i++) {
		struct clu_pod *p = c->pods[i];
		const struct dep *d;
		sim_time grace;
		if (p->node != n || p->state == CLU_POD_GONE || p->state == CLU_POD_DRAINING)
			continue;
		d = &c->deps[p->dep];
		grace = d->cfg->termination_grace_period;
		if (n->pool >= 0 && c->pools[n->pool].cfg->spot_interruptions.notice < grace)
			grace = c->pools[n->pool].cfg->spot_interruptions.notice;
		pod_drain(c, p, reason, grace);
	}
	for (size_t d = 0; d < c->ndeps; d++)
		ensure_pods(c, d);
	schedule_pending(c);
}

/* ---- scaling a deployment ---- */

/* Pods that serve or will: not draining, not held warm. */
static int64_t live_pods(const struct dep *d)
{
	int64_t n = 0;
	for (size_t i = 0; i < d->npods; i++)
		n += d->pods[i]->state != CLU_POD_DRAINING && !d->pods[i]->held;
	return n;
}

static int64_t held_pods(const struct dep *d)
{
	int64_t n = 0;
	for (size_t i = 0; i < d->npods; i++)
		n += d->pods[i]->held;
	return n;
}

/* The held pod closest to serving: warm first, then the furthest along its startup. */
static struct clu_pod *warm_pick(struct dep *d, bool closest)
{
	struct clu_pod *best = NULL;
	int best_rank = 0;
	for (size_t i = 0; i < d->npods; i++) {
		struct clu_pod *p = d->pods[i];
		int rank;
		if (!p->held)
			continue;
		rank = p->state == CLU_POD_WARM ? 100 : p->state == CLU_POD_PENDING ? 0 : 1 + p->phase;
		if (!best || (closest ? rank > best_rank : rank <= best_rank)) {
			best = p;
			best_rank = rank;
		}
	}
	return best;
}

/* A warm replica joins the deployment: only its endpoint is left to publish. */
static void pod_promote(struct clu_cluster *c, struct clu_pod *p)
{
	p->held = false;
	if (p->state == CLU_POD_WARM) {
		p->state = CLU_POD_STARTING;
		pod_advance(c, p);
	}
}

/* Which pod goes first: unscheduled, then not ready, then by the order. */
static struct clu_pod *victim(struct clu_cluster *c, struct dep *d)
{
	struct clu_pod *best = NULL;
	int best_rank = -1;
	for (size_t i = 0; i < d->npods; i++) {
		struct clu_pod *p = d->pods[i];
		int rank;
		if (p->state == CLU_POD_DRAINING || p->held)
			continue;
		rank = p->state == CLU_POD_PENDING ? 3 : p->state != CLU_POD_READY ? 2 : 1;
		if (rank > best_rank) {
			best = p;
			best_rank = rank;
			continue;
		}
		if (rank < best_rank)
			continue;
		switch (d->cfg->scale_down_order) {
		case CLU_LEAST_LOADED_FIRST:
			if (p->replica && best->replica && srv_inflight(p->replica) < srv_inflight(best->replica))
				best = p;
			break;
		case CLU_DELETION_COST: /* the most expensive hardware first, then newest */
			if (d->v[p->variant].price_per_hour / d->v[p->variant].gpus >=
			    d->v[best->variant].price_per_hour / d->v[best->variant].gpus)
				best = p;
			break;
		default: /* CLU_NEWEST_FIRST, as a ReplicaSet does */
			best = p;
		}
	}
	(void)c;
	return best;
}

static void ensure_pods(struct clu_cluster *c, size_t di)
{
	struct dep *d = &c->deps[di];
	while (live_pods(d) < d->desired) {
		struct clu_pod *w = warm_pick(d, true);
		if (w)
			pod_promote(c, w);
		else
			pod_new(c, di);
	}
	while (live_pods(d) > d->desired) {
		struct clu_pod *p = victim(c, d);
		if (!p)
			break;
		pod_drain(c, p, "scale-down", d->cfg->termination_grace_period);
	}
	/* the warm pool is refilled (or trimmed, least advanced first) */
	while (held_pods(d) < d->cfg->warm_replicas)
		pod_new(c, di)->held = true;
	while (held_pods(d) > d->cfg->warm_replicas)
		pod_gone(c, warm_pick(d, false), "scale-down");
}

void clu_set_replicas(struct clu_cluster *c, size_t dep, int64_t n)
{
	n = n < 0 ? 0 : n;
	if (n != c->deps[dep].desired && c->su.hooks.replicas_changed)
		c->su.hooks.replicas_changed(c->su.hooks.ctx, dep, n);
	c->deps[dep].desired = n;
	ensure_pods(c, dep);
	schedule_pending(c);
}

int64_t clu_desired(const struct clu_cluster *c, size_t dep)
{
	return c->deps[dep].desired;
}

static void on_schedule_point(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	size_t dep = (size_t)(arg >> 32), i = (size_t)(arg & 0xffffffffu);
	(void)s;
	clu_set_replicas(c, dep, (int64_t)CFG_LIST_AT(c->deps[dep].cfg->replicas_schedule, struct cfg_tpair, i)->v);
}

/* ---- pod crashes ---- */

static void on_pod_restart(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_pod *p = c->pods[arg];
	(void)s;
	if (p->state != CLU_POD_CRASHED)
		return;
	/* the container starts again: image and weights are on the node */
	p->state = CLU_POD_STARTING;
	p->phase = PH_CONTAINER;
	pod_advance(c, p);
}

static void on_pod_crash(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct dep *d = &c->deps[arg];
	const struct clu_pod_faults *f = &d->cfg->faults;
	struct clu_pod *ready[4096];
	size_t n = 0;
	(void)s;
	for (size_t i = 0; i < d->npods && n < 4096; i++)
		if (d->pods[i]->state == CLU_POD_READY)
			ready[n++] = d->pods[i];
	if (n > 0) {
		struct clu_pod *p = ready[sim_rng_below(c->rng_fault, n)];
		sim_time backoff = f->restart_backoff;
		for (int32_t k = 0; k < p->restarts && backoff < f->max_restart_backoff; k++)
			backoff *= 2; /* CrashLoopBackOff */
		if (backoff > f->max_restart_backoff)
			backoff = f->max_restart_backoff;
		p->restarts++;
		if (c->su.hooks.endpoint_down)
			c->su.hooks.endpoint_down(c->su.hooks.ctx, p);
		srv_abort_all(p->replica, abort_cb, c);
		replica_free(c, p);
		p->state = CLU_POD_CRASHED;
		p->ev = sim_schedule_in(c->sim, backoff, on_pod_restart, c, (uint64_t)p->id);
	}
	/* crashes are a Poisson process per ready pod; the next is drawn for the
	 * deployment at its current size (at least one pod, so it keeps running) */
	d->crash_ev = sim_schedule_in(c->sim,
				      ns_of(sim_rng_exponential(c->rng_fault, 3600.0 / (f->crash_rate_per_pod_hour *
										(double)(n > 0 ? n : 1)))),
				      on_pod_crash, c, arg);
}

/* ---- node autoscalers' helpers ---- */

static void on_node_drained(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	struct clu_node *n = c->nodes[arg];
	(void)s;
	clu_node_gone(c, n, n->reason ? n->reason : "scale-down");
}

void clu_drain_node(struct clu_cluster *c, struct clu_node *n, const char *reason)
{
	sim_time grace = 0;
	for (size_t j = 0; j < c->npods; j++)
		if (c->pods[j]->node == n && c->pods[j]->state != CLU_POD_GONE &&
		    c->deps[c->pods[j]->dep].cfg->termination_grace_period > grace)
			grace = c->deps[c->pods[j]->dep].cfg->termination_grace_period;
	n->state = CLU_NODE_CORDONED;
	n->reason = reason;
	evict_pods(c, n, reason);
	sim_schedule_in(c->sim, grace, on_node_drained, c, (uint64_t)n->id);
}

bool clu_fits_elsewhere(struct clu_cluster *c, const struct clu_node *n)
{
	int64_t *free_gpus = xcalloc(c->nnodes + 1, sizeof(int64_t));
	bool ok = true;
	for (size_t i = 0; i < c->nnodes; i++)
		free_gpus[i] = c->nodes[i]->state == CLU_NODE_READY && c->nodes[i] != n
				       ? c->nodes[i]->gpus - c->nodes[i]->gpus_used
				       : 0;
	for (size_t i = 0; i < c->npods && ok; i++) {
		const struct clu_pod *p = c->pods[i];
		const struct dep *d = &c->deps[p->dep];
		bool placed = false;
		if (p->node != n || p->state == CLU_POD_GONE || p->state == CLU_POD_DRAINING)
			continue;
		for (size_t j = 0; j < c->nnodes && !placed; j++) {
			const struct clu_node *m = c->nodes[j];
			if (m->pool >= 0 && free_gpus[j] >= d->v[p->variant].gpus &&
			    clu_pool_serves(c, (size_t)m->pool, d, (size_t)p->variant)) {
				free_gpus[j] -= d->v[p->variant].gpus;
				placed = true;
			}
		}
		ok = placed;
	}
	free(free_gpus);
	return ok;
}

/* ---- the node autoscaler's loop ---- */

static void on_na_scan(struct sim *s, void *ctx, uint64_t arg)
{
	struct clu_cluster *c = ctx;
	sim_time next = c->na->scan(c->na_state);
	(void)arg;
	c->na_ev = SIM_HANDLE_NONE;
	if (s->now < c->su.end)
		c->na_ev = sim_schedule_in(s, next, on_na_scan, c, 0);
}
/* ---- setup ---- */

struct clu_cluster *clu_new(struct sim *s, const struct clu_setup *su, struct sim_err *err)
{
	struct clu_cluster *c = xcalloc(1, sizeof(*c));
	c->sim = s;
	c->su = *su;
	c->rng_prov = sim_rng_new(su->seed, "cluster/provisioning");
	c->rng_fault = sim_rng_new(su->seed, "cluster/faults");
	c->na_ev = SIM_HANDLE_NONE;
	c->last_scale_up = -SIM_HOUR * 24;
	c->ndeps = su->ndeps;
	c->deps = xcalloc(c->ndeps + 1, sizeof(*c->deps));
	for (size_t i = 0; i < c->ndeps; i++) {
		struct dep *d = &c->deps[i];
		const struct clu_deployment_config *dc = su->deps[i].cfg;
		d->cfg = dc;
		d->nv = dc->hardware.n;
		d->v = xcalloc(d->nv, sizeof(*d->v));
		d->crash_ev = SIM_HANDLE_NONE;
		for (size_t v = 0; v < d->nv; v++) {
			const struct clu_hw_variant *hw = CFG_LIST_AT(dc->hardware, struct clu_hw_variant, v);
			struct variant *vr = &d->v[v];
			int tp = (int)(dc->engine.tensor_parallel_size ? dc->engine.tensor_parallel_size
					   : hw->tensor_parallel_size ? hw->tensor_parallel_size : hw->count);
			int dtype = dc->engine.dtype == SRV_DTYPE_AUTO ? su->deps[i].llm->dtype : dc->engine.dtype - 1;
			int kvd = dc->engine.kv_cache_dtype == SRV_DTYPE_AUTO ? dtype : dc->engine.kv_cache_dtype - 1;
			int64_t blocks;
			vr->gpu = su->deps[i].gpus[v];
			vr->gpus = (int)hw->count > tp ? (int)hw->count : tp;
			vr->price_per_hour = vr->gpu->price_per_hour * vr->gpus;
			if (perf_model_init(&vr->perf, vr->gpu, su->deps[i].llm, tp, dtype, kvd, &dc->perf, err))
				goto fail;
			if (dc->perf.model == PERF_PROFILE && perf_profile_load(&vr->perf, dc->perf.path, err))
				goto fail;
			vr->weight_bytes = dc->startup.weights.size > 0 ? (double)dc->startup.weights.size
									 : perf_llm_params(su->deps[i].llm) * perf_dtype_bytes(dtype);
			vr->sp.engine = dc->engine;
			vr->sp.engine.tensor_parallel_size = tp;
			if (!vr->sp.engine.max_model_len)
				vr->sp.engine.max_model_len = su->deps[i].llm->context_length;
			vr->sp.perf = &vr->perf;
			blocks = srv_kv_blocks(&vr->sp.engine, &vr->perf, err);
			if (blocks < 0) {
				char msg[sizeof(err->msg)];
				snprintf(msg, sizeof(msg), "%s", err->msg);
				sim_err_clear(err);
				sim_err_set(err, SIM_EINPUT, "deployment '%s' on %s: %s", dc->name, vr->gpu->name, msg);
				goto fail;
			}
			vr->sp.num_blocks = blocks;
		}
	}
	if (su->cluster) {
		c->npools = su->cluster->node_pools.n;
		c->pools = xcalloc(c->npools + 1, sizeof(*c->pools));
		for (size_t k = 0; k < c->npools; k++) {
			struct pool *pl = &c->pools[k];
			pl->cfg = CFG_LIST_AT(su->cluster->node_pools, struct clu_pool_config, k);
			pl->gpu = su->pool_gpus[k];
			pl->price_per_hour = pl->cfg->instance.price_per_hour > 0
						     ? pl->cfg->instance.price_per_hour
						     : pl->gpu->price_per_hour * (double)pl->cfg->instance.gpus;
		}
		if (su->node_autoscaler && clu_node_autoscalers[su->node_autoscaler->type]->create) {
			c->na = clu_node_autoscalers[su->node_autoscaler->type];
			c->na_state = c->na->create(c, su->node_autoscaler);
		}
		/* initial nodes; warm-pool nodes hibernate from t=0 */
		for (size_t k = 0; k < c->npools; k++) {
			const struct clu_pool_config *pc = c->pools[k].cfg;
			bool cold = false;
			for (size_t i = 0; i < c->ndeps; i++)
				cold |= c->deps[i].cfg->cold_start;
			for (int64_t j = 0; j < pc->initial_nodes; j++) {
				if (cold) {
					clu_provision(c, k);
				} else {
					struct clu_node *n = node_new(c, (int32_t)k, (int32_t)pc->instance.gpus,
								      c->pools[k].price_per_hour);
					n->state = CLU_NODE_READY;
					n->ready = n->gpus_ready = 0;
					arm_node_faults(c, n);
				}
			}
			for (int64_t j = 0; j < pc->warm_pool.size; j++) {
				struct clu_node *n = node_new(c, (int32_t)k, (int32_t)pc->instance.gpus, c->pools[k].price_per_hour);
				c->pools[k].nodes--; /* warm nodes are not in the pool yet */
				n->state = CLU_NODE_WARM;
				n->warm_since = 0;
			}
			for (size_t j = 0; j < pc->spot_interruptions.schedule.n; j++)
				sim_schedule(s, *CFG_LIST_AT(pc->spot_interruptions.schedule, sim_time, j), on_spot_scheduled, c,
					     (uint64_t)k);
		}
	}
	/* initial replicas: ready at t=0 unless cold_start (then they start up) */
	for (size_t i = 0; i < c->ndeps; i++) {
		struct dep *d = &c->deps[i];
		d->desired = d->cfg->replicas;
		ensure_pods(c, i);
	}
	for (size_t i = 0; i < c->npods; i++) {
		struct clu_pod *p = c->pods[i];
		const struct dep *d = &c->deps[p->dep];
		struct clu_node *n = NULL;
		if (d->cfg->cold_start)
			continue;
		if (!su->cluster) {
			n = node_new(c, -1, d->v[0].gpus, d->v[0].price_per_hour);
			n->state = CLU_NODE_READY;
			n->ready = n->gpus_ready = 0;
			p->variant = 0;
		} else {
			for (size_t v = 0; v < d->nv && !n; v++)
				if ((n = fit(c, d, v)))
					p->variant = (int32_t)v;
		}
		if (!n)
			continue; /* no room at t=0: it waits for a node like any pod */
		p->node = n;
		n->gpus_used += d->v[p->variant].gpus;
		n->pods++;
		node_cache_set(n->images, (size_t)p->dep);
		node_cache_set(n->weights, (size_t)p->dep);
		p->scheduled = p->pulled = p->weights_ready = p->loaded = p->ready = 0;
		p->container_up = p->warm_done = 0;
		p->state = CLU_POD_STARTING;
		if (p->held) { /* a warm replica at t=0: loaded, waiting */
			p->phase = PH_ENDPOINT;
			pod_advance(c, p);
			continue;
		}
		p->endpoint = 0;
		p->phase = PH_DONE;
		pod_advance(c, p); /* PH_DONE: replica up, endpoint published */
	}
	schedule_pending(c);
	for (size_t i = 0; i < c->ndeps; i++) {
		struct dep *d = &c->deps[i];
		for (size_t k = 0; k < d->cfg->replicas_schedule.n; k++)
			sim_schedule(s, CFG_LIST_AT(d->cfg->replicas_schedule, struct cfg_tpair, k)->t, on_schedule_point, c,
				     ((uint64_t)i << 32) | k);
		if (d->cfg->faults.crash_rate_per_pod_hour > 0)
			d->crash_ev = sim_schedule_in(s, ns_of(sim_rng_exponential(c->rng_fault, 3600.0 / (d->cfg->faults.crash_rate_per_pod_hour * (double)(d->desired > 0 ? d->desired : 1)))),
						      on_pod_crash, c, (uint64_t)i);
	}
	if (c->na) /* its first scan comes after everything set up above */
		c->na_ev = sim_schedule(s, 0, on_na_scan, c, 0);
	return c;
fail:
	clu_free(c);
	return NULL;
}

double clu_variant_capacity(const struct clu_cluster *c, size_t dep, size_t variant)
{
	struct perf_batch b = {0};
	b.decodes = 64;
	b.decode_ctx = 64 * 1024;
	b.logits = 64;
	return 64.0 / s_of(perf_step_time(&c->deps[dep].v[variant].perf, &b, NULL));
}

/* the replica of a pod (NULL when it has none), for metrics */
struct srv_replica *clu_pod_replica(const struct clu_pod *p)
{
	return p->replica;
}

void clu_free(struct clu_cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npods; i++) {
		if (c->pods[i]->replica)
			srv_free(c->pods[i]->replica);
		free(c->pods[i]);
	}
	for (size_t i = 0; i < c->nnodes; i++) {
		free(c->nodes[i]->images);
		free(c->nodes[i]);
	}
	for (size_t i = 0; i < c->ndeps; i++) {
		for (size_t v = 0; v < c->deps[i].nv; v++)
			perf_model_release(&c->deps[i].v[v].perf);
		free(c->deps[i].v);
		free(c->deps[i].pods);
	}
	if (c->na)
		c->na->destroy(c->na_state);
	free(c->deps);
	free(c->pools);
	free(c->pods);
	free(c->nodes);
	free(c->dl);
	sim_rng_free(c->rng_prov);
	sim_rng_free(c->rng_fault);
	free(c);
}

/* ---- queries ---- */

size_t clu_ready_pods(const struct clu_cluster *c, size_t dep)
{
	size_t n = 0;
	const struct dep *d = &c->deps[dep];
	for (size_t i = 0; i < d->npods; i++)
		n += d->pods[i]->state == CLU_POD_READY;
	return n;
}

size_t clu_npods(const struct clu_cluster *c) { return c->npods; }
const struct clu_pod *clu_pod_at(const struct clu_cluster *c, size_t i) { return c->pods[i]; }
size_t clu_nnodes(const struct clu_cluster *c) { return c->nnodes; }
const struct clu_node *clu_node_at(const struct clu_cluster *c, size_t i) { return c->nodes[i]; }

int64_t clu_pending_pods(const struct clu_cluster *c)
{
	int64_t n = 0;
	for (size_t i = 0; i < c->npods; i++)
		n += c->pods[i]->state == CLU_POD_PENDING;
	return n;
}

/* Per second with a 60 s minimum; warm-pool time at the idle fraction. */
void clu_cost(const struct clu_cluster *c, sim_time now, double *usd, double *gpu_hours, double *busy)
{
	*usd = *gpu_hours = 0;
	*busy = c->busy_gpu_s;
	for (size_t i = 0; i < c->npods; i++) {
		const struct clu_pod *p = c->pods[i];
		if (p->replica) {
			struct srv_stats st;
			srv_stats(p->replica, &st);
			*busy += s_of(st.busy_time) * c->deps[p->dep].v[p->variant].gpus;
		}
	}
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct clu_node *n = c->nodes[i];
		double life, warm = 0;
		if (n->warm_since >= 0) {
			sim_time wu = n->warm_until >= 0 ? n->warm_until : now;
			warm = s_of(wu - n->warm_since);
			if (n->pool >= 0)
				*usd += warm / 3600.0 * n->price_per_hour * c->pools[n->pool].cfg->warm_pool.idle_cost_fraction;
			if (n->state == CLU_NODE_WARM)
				continue;
		}
		life = s_of((n->deleted >= 0 ? n->deleted : now) - n->requested);
		if (life < 0)
			life = 0;
		*usd += fmax(life, 60.0) / 3600.0 * n->price_per_hour;
		*gpu_hours += life / 3600.0 * (double)n->gpus;
	}
}

void clu_node_counts(const struct clu_cluster *c, int64_t counts[CLU_NODE_GONE + 1])
{
	memset(counts, 0, sizeof(int64_t) * (CLU_NODE_GONE + 1));
	for (size_t i = 0; i < c->nnodes; i++)
		counts[c->nodes[i]->state]++;
}

const char *clu_node_state_name(int s)
{
	static const char *const n[] = {"warm", "provisioning", "gpu-pending", "ready", "cordoned", "gone"};
	return s >= 0 && s <= CLU_NODE_GONE ? n[s] : "?";
}

const char *clu_pod_state_name(int s)
{
	static const char *const n[] = {"pending", "starting", "ready", "draining", "crashed", "warm", "gone"};
	return s >= 0 && s <= CLU_POD_GONE ? n[s] : "?";
}
