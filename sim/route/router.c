/* The gateway: endpoints, buffering, admission, retries; policies in files of their own. */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct router_ops *const rt_policies[] = {
	[RT_ROUND_ROBIN] = &rt_round_robin_ops,
	[RT_RANDOM] = &rt_random_ops,
	[RT_LEAST_REQUESTS] = &rt_least_requests_ops,
	[RT_LEAST_KV] = &rt_least_kv_ops,
	[RT_POWER_OF_TWO] = &rt_power_of_two_ops,
	[RT_PREFIX_AFFINITY] = &rt_prefix_affinity_ops,
	[RT_LORA_AFFINITY] = &rt_lora_affinity_ops,
};

int rt_router_init(struct rt_router *rt, struct sim *s, const struct rt_config *cfg,
		   const char *deployment, uint64_t seed, const struct rt_hooks *hooks,
		   struct sim_err *err)
{
	char name[160];
	(void)err;
	memset(rt, 0, sizeof(*rt));
	rt->sim = s;
	rt->cfg = cfg;
	rt->ops = rt_policies[cfg->policy];
	rt->hooks = *hooks;
	rt->timer = SIM_HANDLE_NONE;
	snprintf(name, sizeof(name), "router/%s", deployment);
	rt->rng = sim_rng_new(seed, name);
	return 0;
}

void rt_router_release(struct rt_router *rt)
{
	sim_rng_free(rt->rng);
	free(rt->eps);
	free(rt->weight);
	free(rt->cur);
	free(rt->buf);
	free(rt->buf_deadline);
	memset(rt, 0, sizeof(*rt));
}

double rt_load(const struct rt_router *rt, size_t i)
{
	return (double)srv_inflight(rt->eps[i]) / rt->weight[i];
}

size_t rt_buffered(const struct rt_router *rt)
{
	return rt->buf_n;
}

static void give_up(struct rt_router *rt, struct srv_req *q, int status)
{
	q->status = status;
	rt->hooks.gave_up(rt->hooks.ctx, q, status);
}

static void on_buffer_timeout(struct sim *s, void *ctx, uint64_t arg);

static void arm_timer(struct rt_router *rt)
{
	sim_cancel(rt->sim, rt->timer);
	rt->timer = SIM_HANDLE_NONE;
	if (rt->buf_n)
		rt->timer = sim_schedule(rt->sim, rt->buf_deadline[rt->buf_head], on_buffer_timeout, rt, 0);
}

static struct srv_req *buf_pop(struct rt_router *rt)
{
	struct srv_req *q = rt->buf[rt->buf_head];
	rt->buf_head = (rt->buf_head + 1) % rt->buf_cap;
	rt->buf_n--;
	return q;
}

static void on_buffer_timeout(struct sim *s, void *ctx, uint64_t arg)
{
	struct rt_router *rt = ctx;
	(void)arg;
	rt->timer = SIM_HANDLE_NONE;
	/* deadlines are in buffer order: expire from the head */
	while (rt->buf_n && rt->buf_deadline[rt->buf_head] <= s->now) {
		rt->timed_out++;
		give_up(rt, buf_pop(rt), SRV_FAILED);
	}
	arm_timer(rt);
}

static void buffer(struct rt_router *rt, struct srv_req *q)
{
	size_t tail;
	if ((int64_t)rt->buf_n >= rt->cfg->buffer.capacity) {
		rt->dropped++;
		give_up(rt, q, SRV_DROPPED);
		return;
	}
	if (rt->buf_n == rt->buf_cap) { /* grow the ring, unrolled */
		size_t nc = rt->buf_cap ? rt->buf_cap * 2 : 64;
		struct srv_req **nb = xmalloc(nc * sizeof(*nb));
		sim_time *nd = xmalloc(nc * sizeof(*nd));
		for (size_t i = 0; i < rt->buf_n; i++) {
			nb[i] = rt->buf[(rt->buf_head + i) % rt->buf_cap];
			nd[i] = rt->buf_deadline[(rt->buf_head + i) % rt->buf_cap];
		}
		free(rt->buf);
		free(rt->buf_deadline);
		rt->buf = nb;
		rt->buf_deadline = nd;
		rt->buf_head = 0;
		rt->buf_cap = nc;
	}
	tail = (rt->buf_head + rt->buf_n) % rt->buf_cap;
	rt->buf[tail] = q;
	rt->buf_deadline[tail] = rt->sim->now + rt->cfg->buffer.timeout;
	rt->buf_n++;
	rt->buffered++;
	if (rt->buf_n == 1)
		arm_timer(rt);
}

static void route(struct rt_router *rt, struct srv_req *q)
{
	size_t i;
	if (rt->cfg->max_queue > 0) {
		int64_t waiting = 0;
		for (size_t k = 0; k < rt->neps; k++)
			waiting += srv_waiting(rt->eps[k]);
		if (waiting >= rt->cfg->max_queue) {
			rt->dropped++;
			give_up(rt, q, SRV_DROPPED);
			return;
		}
	}
	i = rt->neps == 1 ? 0 : rt->ops->pick(rt, q);
	if (!srv_submit(rt->eps[i], q))
		give_up(rt, q, SRV_REJECTED);
}

struct srv_replica *rt_pick(struct rt_router *rt, const struct srv_req *q)
{
	return rt->neps ? rt->eps[rt->ops->pick(rt, q)] : NULL;
}

void rt_submit(struct rt_router *rt, struct srv_req *q)
{
	if (rt->neps == 0 || rt->buf_n > 0) /* keep order behind what waits already */
		buffer(rt, q);
	else
		route(rt, q);
}

static void rt_endpoint_up_at(struct rt_router *rt, size_t at, struct srv_replica *r, double w, double cu)
{
	XGROW(rt->eps, rt->eps_cap, rt->neps + 1);
	XGROW(rt->weight, rt->w_cap, rt->neps + 1);
	XGROW(rt->cur, rt->c_cap, rt->neps + 1);
	memmove(&rt->eps[at + 1], &rt->eps[at], (rt->neps - at) * sizeof(*rt->eps));
	memmove(&rt->weight[at + 1], &rt->weight[at], (rt->neps - at) * sizeof(*rt->weight));
	memmove(&rt->cur[at + 1], &rt->cur[at], (rt->neps - at) * sizeof(*rt->cur));
	rt->eps[at] = r;
	rt->weight[at] = w;
	rt->cur[at] = cu;
	rt->neps++;
}

bool rt_submit_hedge(struct rt_router *rt, struct srv_req *q, struct srv_replica *avoid)
{
	size_t at = SIZE_MAX;
	for (size_t i = 0; i < rt->neps; i++)
		if (rt->eps[i] == avoid)
			at = i;
	if (rt->neps < (at == SIZE_MAX ? 1u : 2u))
		return false;
	rt->hedged++;
	if (at == SIZE_MAX) {
		route(rt, q);
		return true;
	}
	{ /* out of the choice for this one request */
		double w = rt->weight[at], cu = rt->cur[at];
		rt_endpoint_down(rt, avoid);
		route(rt, q);
		rt_endpoint_up_at(rt, at, avoid, w, cu);
	}
	return true;
}

void rt_retry(struct rt_router *rt, struct srv_req *q)
{
	if (q->retries >= rt->cfg->max_retries) {
		rt->retries_exhausted++;
		give_up(rt, q, SRV_FAILED);
		return;
	}
	q->retries++;
	rt->retried++;
	q->first_scheduled = q->first_token = -1; /* it starts over */
	q->generated = 0;
	rt_submit(rt, q);
}

void rt_endpoint_up(struct rt_router *rt, struct srv_replica *r, double weight)
{
	XGROW(rt->eps, rt->eps_cap, rt->neps + 1);
	XGROW(rt->weight, rt->w_cap, rt->neps + 1);
	XGROW(rt->cur, rt->c_cap, rt->neps + 1);
	rt->weight[rt->neps] = weight > 0 ? weight : 1.0;
	rt->cur[rt->neps] = 0;
	rt->eps[rt->neps++] = r;
	arm_timer(rt);
	while (rt->buf_n && rt->neps) /* what waited goes first, in order */
		route(rt, buf_pop(rt));
	arm_timer(rt);
}

void rt_endpoint_down(struct rt_router *rt, struct srv_replica *r)
{
	for (size_t i = 0; i < rt->neps; i++)
		if (rt->eps[i] == r) {
			memmove(&rt->eps[i], &rt->eps[i + 1], (rt->neps - i - 1) * sizeof(*rt->eps));
			memmove(&rt->weight[i], &rt->weight[i + 1], (rt->neps - i - 1) * sizeof(*rt->weight));
			memmove(&rt->cur[i], &rt->cur[i + 1], (rt->neps - i - 1) * sizeof(*rt->cur));
			rt->neps--;
			return;
		}
}

size_t rt_affinity_pick(struct rt_router *rt, uint64_t key)
{
	double mean = 0;
	size_t best = SIZE_MAX, fallback = 0;
	uint64_t best_score = 0, fb_score = 0;
	for (size_t i = 0; i < rt->neps; i++)
		mean += rt_load(rt, i);
	mean /= (double)rt->neps;
	for (size_t i = 0; i < rt->neps; i++) {
		uint64_t id = (uint64_t)srv_id(rt->eps[i]);
		uint64_t score = sim_hash64(&id, sizeof(id), key);
		if (score >= fb_score) {
			fb_score = score;
			fallback = i;
		}
		/* bounded load: skip replicas well above the mean */
		if (rt_load(rt, i) > rt->cfg->affinity_load_factor * (mean + 1.0))
			continue;
		if (best == SIZE_MAX || score > best_score) {
			best_score = score;
			best = i;
		}
	}
	return best != SIZE_MAX ? best : fallback;
}
