/* least-kv: lowest KV-cache usage (vllm:kv_cache_usage_perc), then fewest
 * requests; ties go round-robin. */
#include "route.h"

static size_t pick(struct rt_router *rt, const struct srv_req *q)
{
	size_t best = 0, start = rt->next++ % rt->neps;
	double bu = 2.0;
	double bl = 0;
	(void)q;
	for (size_t k = 0; k < rt->neps; k++) {
		size_t i = (start + k) % rt->neps;
		struct srv_stats st;
		srv_sync(rt->eps[i]); /* srv_stats is pure: routing is a sync point */
		srv_stats(rt->eps[i], &st);
		if (st.kv_cache_usage_perc < bu ||
		    (st.kv_cache_usage_perc == bu && rt_load(rt, i) < bl)) {
			bu = st.kv_cache_usage_perc;
			bl = rt_load(rt, i);
			best = i;
		}
	}
	return best;
}

const struct router_ops rt_least_kv_ops = {"least-kv", pick};
