/* sim/cluster at run time: pod startup phases, node caches, the node autoscalers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"

#define MAX_DEPS 65

/* A cluster built from YAML fragments of the cluster room's own schemas. */
struct world {
	struct cfg_doc doc;
	struct sim sim;
	struct clu_cluster_config cl;
	struct clu_node_autoscaler_config na;
	struct clu_deployment_config deps[MAX_DEPS];
	struct clu_dep_setup ds[MAX_DEPS];
	const struct perf_gpu *dep_gpu[1];
	const struct perf_gpu *pool_gpus[4];
	struct clu_setup su;
	struct clu_cluster *c;
};

static void decode(struct world *w, const char *text, const struct cfg_schema *s, void *out)
{
	struct sim_err err;
	struct cfg_ctx c;
	const struct cfg_node *n;
	sim_err_clear(&err);
	cfg_ctx_init(&c, &w->doc, &err);
	n = cfg_doc_parse_fragment(&w->doc, "t", text, &err);
	if (!n)
		fail_msg("%s", err.msg);
	memset(out, 0, s->size);
	if (cfg_decode(&c, n, s, out))
		fail_msg("%s", err.msg);
}

/* `cluster` is a `cluster:` mapping; `dep` one deployment, copied ndeps
 * times (set replicas of each in w->deps before world_start). */
static void world_init(struct world *w, const char *cluster, const char *dep, size_t ndeps)
{
	struct sim_err err;
	struct cfg_ctx c;
	struct cfg_node at = {.kind = CFG_SCALAR, .str = "", .pos = {"t", 1, 1}};
	memset(w, 0, sizeof(*w));
	cfg_doc_init(&w->doc);
	sim_err_clear(&err);
	cfg_ctx_init(&c, &w->doc, &err);
	decode(w, cluster, &clu_cluster_schema, &w->cl);
	assert_int_equal(clu_node_autoscaler_decode(&c, w->cl.autoscaler, &w->na), 0);
	decode(w, dep, &clu_deployment_schema, &w->deps[0]);
	assert_true(ndeps <= MAX_DEPS);
	for (size_t i = 1; i < ndeps; i++)
		w->deps[i] = w->deps[0];
	w->dep_gpu[0] = perf_find_gpu(&c, &at, CFG_LIST_AT(w->deps[0].hardware, struct clu_hw_variant, 0)->gpu, NULL);
	assert_non_null(w->dep_gpu[0]);
	for (size_t i = 0; i < ndeps; i++) {
		w->ds[i].cfg = &w->deps[i];
		w->ds[i].llm = perf_find_llm(&c, &at, w->deps[0].model, NULL);
		w->ds[i].gpus = w->dep_gpu;
		assert_non_null(w->ds[i].llm);
	}
	assert_true(w->cl.node_pools.n <= 4);
	for (size_t k = 0; k < w->cl.node_pools.n; k++) {
		w->pool_gpus[k] = perf_find_gpu(&c, &at, CFG_LIST_AT(w->cl.node_pools, struct clu_pool_config, k)->instance.gpu, NULL);
		assert_non_null(w->pool_gpus[k]);
	}
	w->su.cluster = &w->cl;
	w->su.pool_gpus = w->pool_gpus;
	w->su.deps = w->ds;
	w->su.ndeps = ndeps;
	w->su.seed = 1;
	w->su.end = SIM_HOUR;
	w->su.node_autoscaler = &w->na;
	sim_init(&w->sim, 1);
}

static void world_start(struct world *w)
{
	struct sim_err err;
	sim_err_clear(&err);
	w->c = clu_new(&w->sim, &w->su, &err);
	if (!w->c)
		fail_msg("%s", err.msg);
}

static void world_release(struct world *w)
{
	clu_free(w->c);
	sim_release(&w->sim);
	cfg_doc_release(&w->doc);
}

static sim_time secs(double s) { return (sim_time)(s * 1e9 + 0.5); }

static void nothing(struct sim *s, void *ctx, uint64_t arg)
{
	(void)s, (void)ctx, (void)arg;
}

/* Runs to t and stays there, events or not (sim_run stops at the last one). */
static void run_to(struct world *w, sim_time t)
{
	sim_schedule(&w->sim, t, nothing, NULL, 0);
	sim_run(&w->sim, t);
	assert_int_equal(w->sim.now, t);
}

static const struct clu_pod *pod(struct world *w, size_t i)
{
	assert_true(i < clu_npods(w->c));
	return clu_pod_at(w->c, i);
}

/* Startup settings whose phases are easy to add up by hand. */
#define STARTUP_FROM(source)                                                        \
	"startup:\n"                                                                \
	"  image: {size: 10GB, pull_bandwidth: 1GB/s}\n"           /* 10 s */       \
	"  container_start: 5s\n"                                                   \
	"  weights: {source: " source ", bandwidth: 2GB/s, size: 16GB}\n" /* 8 s */  \
	"  object_store_bandwidth: 10GB/s\n"                                        \
	"  load_bandwidth: 4GB/s\n"                                /* 4 s */        \
	"  warmup: 7s\n"                                                            \
	"  readiness_probe: {initial_delay: 0s, period: 10s}\n"                     \
	"  endpoint_propagation: 2s\n"

#define STARTUP STARTUP_FROM("object-store")
#define DEP(extra) "name: chat\nmodel: llama-3-8b\ngpu: h100-sxm\n" extra STARTUP

/* ---- pod phases ---- */

static void pod_phases_add_up(void **state)
{
	struct world w;
	const struct clu_pod *p;
	const struct clu_node *n;
	(void)state;
	world_init(&w,
		   "node_pools:\n"
		   "  - {name: a, instance: {gpu: h100-sxm, gpus: 8}, initial_nodes: 1,\n"
		   "     provisioning_delay: 60s, gpu_ready_delay: 20s}\n"
		   "autoscaler: {type: none}\n",
		   DEP("replicas: 1\ncold_start: true\n"), 1);
	world_start(&w);
	sim_run(&w.sim, SIM_HOUR);
	assert_int_equal(clu_nnodes(w.c), 1);
	n = clu_node_at(w.c, 0);
	assert_int_equal(n->requested, 0);
	assert_int_equal(n->ready, secs(60));
	assert_int_equal(n->gpus_ready, secs(80));
	assert_int_equal(clu_npods(w.c), 1);
	p = pod(&w, 0);
	assert_int_equal(p->state, CLU_POD_READY);
	assert_int_equal(p->created, 0);
	assert_int_equal(p->scheduled, secs(80));            /* the node's GPUs are allocatable */
	assert_int_equal(p->pulled, secs(80 + 10));          /* 10 GB at 1 GB/s */
	assert_int_equal(p->container_up, secs(90 + 5));
	assert_int_equal(p->weights_ready, secs(95 + 8));    /* 16 GB at 2 GB/s */
	assert_int_equal(p->loaded, secs(103 + 4));          /* 16 GB at 4 GB/s */
	assert_int_equal(p->warm_done, secs(107 + 7));
	/* probes at 95, 105, 115 s: the first after warm-up succeeds */
	assert_int_equal(p->ready, secs(115));
	assert_int_equal(p->endpoint, secs(115 + 2));
	assert_int_equal(clu_ready_pods(w.c, 0), 1);
	world_release(&w);
}

/* ---- node caches ---- */

/* The second pod of a deployment on a node skips the pull and (node-cache)
 * the download. */
static void second_pod_uses_the_node_cache(void **state)
{
	struct world w;
	const struct clu_pod *p;
	(void)state;
	world_init(&w,
		   "node_pools:\n"
		   "  - {name: a, instance: {gpu: h100-sxm, gpus: 8}, initial_nodes: 1,\n"
		   "     provisioning_delay: 60s, gpu_ready_delay: 20s}\n"
		   "autoscaler: {type: none}\n",
		   "name: chat\nmodel: llama-3-8b\ngpu: h100-sxm\nreplicas: 1\ncold_start: true\n"
		   STARTUP_FROM("node-cache"), 1);
	world_start(&w);
	run_to(&w, secs(200));
	assert_int_equal(pod(&w, 0)->pulled, secs(90));
	assert_int_equal(pod(&w, 0)->weights_ready, secs(103)); /* not on the node yet: downloaded */
	clu_set_replicas(w.c, 0, 2);
	sim_run(&w.sim, SIM_HOUR);
	p = pod(&w, 1);
	assert_ptr_equal(p->node, pod(&w, 0)->node);
	assert_int_equal(p->scheduled, secs(200));
	assert_int_equal(p->pulled, secs(200));              /* image cached on the node */
	assert_int_equal(p->container_up, secs(205));
	assert_int_equal(p->weights_ready, secs(205));       /* weights cached on the node */
	assert_int_equal(p->loaded, secs(209));
	world_release(&w);
}

/* 65 deployments: the 65th has its own cache entry, not the first's. */
static void sixty_five_deployments_pull_their_own_image(void **state)
{
	struct world w;
	const struct clu_pod *p;
	(void)state;
	world_init(&w,
		   "node_pools:\n"
		   "  - {name: a, instance: {gpu: h100-sxm, gpus: 8}, initial_nodes: 1}\n"
		   "autoscaler: {type: none}\n",
		   DEP("replicas: 0\n"), 65);
	w.deps[0].replicas = 1; /* ready at t=0: its image and weights are on the node */
	world_start(&w);
	assert_int_equal(clu_npods(w.c), 1);
	assert_int_equal(pod(&w, 0)->state, CLU_POD_READY);
	run_to(&w, secs(30));
	clu_set_replicas(w.c, 64, 1);
	clu_set_replicas(w.c, 0, 2);
	sim_run(&w.sim, SIM_HOUR);
	assert_int_equal(clu_npods(w.c), 3);
	p = pod(&w, 1); /* deployment 64 */
	assert_int_equal(p->dep, 64);
	assert_ptr_equal(p->node, pod(&w, 0)->node);
	assert_int_equal(p->scheduled, secs(30));
	assert_int_equal(p->pulled, secs(40));        /* pulled: 10 GB at 1 GB/s */
	assert_int_equal(p->state, CLU_POD_READY);
	p = pod(&w, 2); /* deployment 0 again */
	assert_int_equal(p->dep, 0);
	assert_int_equal(p->scheduled, secs(30));
	assert_int_equal(p->pulled, secs(30));        /* cached */
	assert_true(clu_node_has_image(p->node, 0));
	assert_true(clu_node_has_image(p->node, 64));
	assert_false(clu_node_has_image(p->node, 1));
	assert_true(clu_node_has_weights(p->node, 64));
	world_release(&w);
}

/* ---- Cluster Autoscaler ---- */

#define CA_CLUSTER                                                                  \
	"node_pools:\n"                                                             \
	"  - {name: a, instance: {gpu: h100-sxm, gpus: 1}, initial_nodes: 1, max_nodes: 3,\n" \
	"     provisioning_delay: 60s, gpu_ready_delay: 10s}\n"                     \
	"autoscaler: {type: cluster-autoscaler, scan_interval: 10s, scale_down_unneeded_time: 2m,\n" \
	"             scale_down_delay_after_add: 0s}\n"

/* A pending pod gets a node at the next scan, not before. */
static void ca_scales_up_at_the_next_scan(void **state)
{
	struct world w;
	const struct clu_node *n;
	(void)state;
	world_init(&w, CA_CLUSTER, DEP("replicas: 1\n"), 1);
	assert_int_equal(w.na.type, CLU_NA_CA);
	world_start(&w);
	run_to(&w, secs(5));
	clu_set_replicas(w.c, 0, 2); /* the only node is full */
	assert_int_equal(clu_pending_pods(w.c), 1);
	run_to(&w, secs(9.9));
	assert_int_equal(clu_nnodes(w.c), 1);
	run_to(&w, secs(10));
	assert_int_equal(clu_nnodes(w.c), 2);
	n = clu_node_at(w.c, 1);
	assert_int_equal(n->requested, secs(10));
	run_to(&w, SIM_HOUR / 4);
	assert_int_equal(n->ready, secs(70));
	assert_int_equal(n->gpus_ready, secs(80));
	assert_int_equal(pod(&w, 1)->scheduled, secs(80));
	assert_ptr_equal(pod(&w, 1)->node, n);
	assert_int_equal(clu_pending_pods(w.c), 0);
	assert_int_equal(clu_nnodes(w.c), 2); /* one node was enough */
	world_release(&w);
}

/* An empty node goes once it has been unneeded for scale_down_unneeded_time. */
static void ca_removes_an_unneeded_node(void **state)
{
	struct world w;
	const struct clu_node *n;
	(void)state;
	world_init(&w, CA_CLUSTER, DEP("replicas: 2\n"), 1);
	CFG_LIST_AT(w.cl.node_pools, struct clu_pool_config, 0)->initial_nodes = 2;
	world_start(&w);
	assert_int_equal(clu_nnodes(w.c), 2);
	run_to(&w, secs(200));
	n = clu_node_at(w.c, 1);
	assert_int_equal(n->state, CLU_NODE_READY);
	clu_set_replicas(w.c, 0, 1); /* the newest pod (on node 1) drains: idle, it goes within 1 s */
	run_to(&w, secs(205));
	assert_int_equal(n->pods, 0);
	/* unneeded from the scan at 210 s; gone at the scan 2 min later */
	run_to(&w, secs(329));
	assert_int_equal(n->unneeded_since, secs(210));
	assert_int_equal(n->state, CLU_NODE_READY);
	run_to(&w, secs(330));
	assert_int_equal(n->state, CLU_NODE_GONE);
	assert_int_equal(n->deleted, secs(330));
	assert_string_equal(n->reason, "scale-down");
	/* the other node serves the remaining pod: it stays */
	assert_int_equal(clu_node_at(w.c, 0)->state, CLU_NODE_READY);
	world_release(&w);
}

/* ---- Karpenter ---- */

#define KP_CLUSTER                                                                  \
	"node_pools:\n"                                                             \
	"  - {name: a, instance: {gpu: h100-sxm, gpus: 4}, max_nodes: 5,\n"        \
	"     provisioning_delay: 60s, gpu_ready_delay: 10s}\n"                     \
	"autoscaler: {type: karpenter, batch_idle_duration: 1s, batch_max_duration: 10s}\n"

/* Pending pods open a batch; it closes 1 s after the last new one and is
 * bin-packed: six one-GPU pods on two four-GPU nodes. */
static void karpenter_provisions_a_batch(void **state)
{
	struct world w;
	(void)state;
	world_init(&w, KP_CLUSTER, DEP("replicas: 0\n"), 1);
	assert_int_equal(w.na.type, CLU_NA_KARPENTER);
	world_start(&w);
	run_to(&w, secs(2.5));
	clu_set_replicas(w.c, 0, 3); /* the batch opens at the scan at 3 s */
	run_to(&w, secs(3.5));
	assert_int_equal(clu_nnodes(w.c), 0);
	clu_set_replicas(w.c, 0, 6); /* seen at 4 s: the batch stays open until 5 s */
	run_to(&w, secs(4.5));
	assert_int_equal(clu_nnodes(w.c), 0);
	run_to(&w, secs(5));
	assert_int_equal(clu_nnodes(w.c), 2);
	assert_int_equal(clu_node_at(w.c, 0)->requested, secs(5));
	assert_int_equal(clu_node_at(w.c, 1)->requested, secs(5));
	run_to(&w, SIM_HOUR / 4);
	assert_int_equal(clu_nnodes(w.c), 2);
	assert_int_equal(clu_pending_pods(w.c), 0);
	assert_int_equal(clu_node_at(w.c, 0)->gpus_used, 4);
	assert_int_equal(clu_node_at(w.c, 1)->gpus_used, 2);
	world_release(&w);
}

/* A batch that keeps growing closes after batch_max_duration. */
static void karpenter_batch_closes_at_its_max(void **state)
{
	struct world w;
	(void)state;
	world_init(&w, KP_CLUSTER, DEP("replicas: 0\n"), 1);
	world_start(&w);
	for (int i = 1; i <= 12; i++) { /* a new pod every second, just before each scan */
		run_to(&w, secs(i - 0.5));
		clu_set_replicas(w.c, 0, i);
	}
	/* opened at 1 s, closed at the scan at 11 s with 11 pods */
	assert_int_equal(clu_nnodes(w.c), 3);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(clu_node_at(w.c, k)->requested, secs(11));
	world_release(&w);
}

/* ---- configuration ---- */

/* The type names are the ops tables'. */
static void node_autoscaler_names_come_from_the_ops(void **state)
{
	struct world w;
	(void)state;
	for (int k = 0; k < CLU_NA_KINDS; k++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "node_pools: [{name: a, instance: {gpu: h100-sxm}}]\nautoscaler: {type: %s}\n",
			 clu_node_autoscalers[k]->name);
		world_init(&w, text, DEP("replicas: 0\n"), 1);
		assert_int_equal(w.na.type, k);
		world_release(&w);
	}
	assert_string_equal(clu_ca_ops.name, "cluster-autoscaler");
	assert_string_equal(clu_karpenter_ops.name, "karpenter");
	assert_string_equal(clu_no_node_autoscaler_ops.name, "none");
	/* no `autoscaler:` under cluster: none, with the documented defaults */
	world_init(&w, "node_pools: [{name: a, instance: {gpu: h100-sxm}}]\n", DEP("replicas: 0\n"), 1);
	assert_int_equal(w.na.type, CLU_NA_NONE);
	assert_int_equal(w.na.scan_interval, 10 * SIM_SEC);
	assert_int_equal(w.na.scale_down_unneeded_time, 10 * SIM_MIN);
	assert_int_equal(w.na.batch_max_duration, 10 * SIM_SEC);
	world_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pod_phases_add_up),
		cmocka_unit_test(second_pod_uses_the_node_cache),
		cmocka_unit_test(sixty_five_deployments_pull_their_own_image),
		cmocka_unit_test(ca_scales_up_at_the_next_scan),
		cmocka_unit_test(ca_removes_an_unneeded_node),
		cmocka_unit_test(karpenter_provisions_a_batch),
		cmocka_unit_test(karpenter_batch_closes_at_its_max),
		cmocka_unit_test(node_autoscaler_names_come_from_the_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
