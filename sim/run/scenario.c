/* The scenario: the top-level schema, and the checks that span rooms. */
#include "run.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define T struct perf_catalog_extra
static const struct cfg_field catalog_fields[] = {
	{.key = "gpus", .type = CFG_T_LIST, .off = offsetof(T, gpus), .sub = &perf_gpu_schema,
	 .doc = "GPUs defined here, in the form of models/gpus files; they take precedence over the catalog"},
	{.key = "llms", .type = CFG_T_LIST, .off = offsetof(T, llms), .sub = &perf_llm_schema,
	 .doc = "LLMs defined here, in the form of models/llms files; they take precedence over the catalog"},
	{NULL}};
#undef T
static const struct cfg_schema catalog_schema = {"catalog", sizeof(struct perf_catalog_extra),
						 catalog_fields, NULL, NULL};

#define T struct scenario
static const struct cfg_field scn_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED,
	 .doc = "scenario name; appears in summary.json as \"scenario\""},
	{.key = "description", .type = CFG_T_STR, .off = offsetof(T, description),
	 .doc = "free text"},
	{.key = "seed", .type = CFG_T_INT, .off = offsetof(T, seed), .def = "1", .flags = CFG_MIN,
	 .min = 0, .doc = "random seed (overridden by --seed)"},
	{.key = "duration", .type = CFG_T_DURATION, .off = offsetof(T, duration),
	 .flags = CFG_REQUIRED | CFG_GT, .min = 0, .doc = "arrivals stop here; in-flight requests then drain"},
	{.key = "rate_multiplier", .type = CFG_T_DOUBLE, .off = offsetof(T, rate_multiplier), .def = "1",
	 .flags = CFG_GT, .min = 0, .doc = "scales the rate of every workload (a trace's rate_scale too)"},
	{.key = "drain_timeout", .type = CFG_T_DURATION, .off = offsetof(T, drain_timeout), .def = "10m",
	 .doc = "what is still in flight after duration + drain_timeout counts as in_flight_at_end"},
	{.key = "catalog", .type = CFG_T_STRUCT, .off = offsetof(T, catalog), .sub = &catalog_schema,
	 .doc = "GPUs and LLMs defined in the scenario itself"},
	{.key = "cluster", .type = CFG_T_STRUCT, .off = offsetof(T, cluster), .sub = &clu_cluster_schema,
	 .has = true, .has_off = offsetof(T, has_cluster),
	 .doc = "node pools; without it every replica gets dedicated GPUs at once, billed at catalog prices"},
	{.key = "deployments", .type = CFG_T_LIST, .off = offsetof(T, deployments),
	 .sub = &clu_deployment_schema, .flags = CFG_REQUIRED, .doc = "model-server deployments"},
	{.key = "router", .type = CFG_T_STRUCT, .off = offsetof(T, router), .sub = &rt_config_schema,
	 .doc = "the gateway in front of every deployment"},
	{.key = "workloads", .type = CFG_T_LIST, .off = offsetof(T, workloads), .sub = &wl_config_schema,
	 .doc = "request sources"},
	{.key = "slo", .type = CFG_T_CUSTOM, .off = offsetof(T, report.slo), .fn = rep_decode_slo,
	 .sub = &rep_slo_class_schema,
	 .doc = "SLO thresholds per class name (e.g. default, interactive); `default` applies to all others"},
	{.key = "score", .type = CFG_T_STRUCT, .off = offsetof(T, report.score), .sub = &rep_score_schema,
	 .has = true, .has_off = offsetof(T, report.has_score), .doc = "the composite score"},
	{.key = "outputs", .type = CFG_T_STRUCT, .off = offsetof(T, report.outputs),
	 .sub = &rep_outputs_schema, .doc = "what is recorded"},
	{NULL}};
#undef T

static int dup_check(struct cfg_ctx *c, const struct cfg_node *root, const char *list,
		     const struct cfg_list *l, size_t size, size_t name_off, const char *what)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *a = *(const char *const *)((const char *)l->items + i * size + name_off);
		for (size_t j = 0; j < i; j++) {
			const char *b = *(const char *const *)((const char *)l->items + j * size + name_off);
			if (!strcmp(a, b)) {
				char key[96];
				snprintf(key, sizeof(key), "%s[%zu].name", list, i);
				return cfg_error_at_key(c, root, key, "duplicate %s name '%s'", what, a);
			}
		}
	}
	return 0;
}

static const struct clu_deployment_config *dep_at(const struct scenario *s, size_t i)
{
	return CFG_LIST_AT(s->deployments, struct clu_deployment_config, i);
}

static int scn_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	struct scenario *s = obj;
	char key[96];

	if (s->deployments.n == 0)
		return cfg_error_at_key(c, n, "deployments", "a scenario needs at least one deployment");
	if (dup_check(c, n, "deployments", &s->deployments, sizeof(struct clu_deployment_config),
		      offsetof(struct clu_deployment_config, name), "deployment") ||
	    dup_check(c, n, "workloads", &s->workloads, sizeof(struct wl_config),
		      offsetof(struct wl_config, name), "workload"))
		return -1;

	/* Each workload goes to one deployment. */
	s->workload_target = sim_arena_alloc(&c->doc->arena, sizeof(size_t) * (s->workloads.n + 1));
	for (size_t i = 0; i < s->workloads.n; i++) {
		const struct wl_config *w = CFG_LIST_AT(s->workloads, struct wl_config, i);
		size_t found = SIZE_MAX, matches = 0;
		for (size_t d = 0; d < s->deployments.n; d++) {
			if (!w->deployment && dep_at(s, d)->role == CLU_ROLE_DECODE)
				continue; /* a decode deployment is reached through its prefill one */
			if (w->deployment ? !strcmp(w->deployment, dep_at(s, d)->name)
					  : w->model ? !strcmp(w->model, dep_at(s, d)->model) : true) {
				if (found == SIZE_MAX)
					found = d;
				matches++;
			}
		}
		if (w->deployment && found == SIZE_MAX) {
			const char *names[64];
			size_t k = 0;
			const char *near;
			for (size_t d = 0; d < s->deployments.n && k < 64; d++)
				names[k++] = dep_at(s, d)->name;
			near = cfg_closest(w->deployment, names, k);
			snprintf(key, sizeof(key), "workloads[%zu].deployment", i);
			if (near)
				return cfg_error_at_key(c, n, key, "no deployment named '%s' (did you mean '%s'?)",
							w->deployment, near);
			return cfg_error_at_key(c, n, key, "no deployment named '%s'", w->deployment);
		}
		if (!w->deployment && w->model && found == SIZE_MAX) {
			snprintf(key, sizeof(key), "workloads[%zu].model", i);
			return cfg_error_at_key(c, n, key, "no deployment serves model '%s'", w->model);
		}
		if (!w->deployment && matches > 1) {
			snprintf(key, sizeof(key), "workloads[%zu]", i);
			return cfg_error_at_key(c, n, key,
						"workload '%s' could go to %zu deployments: name one with 'deployment'",
						w->name, matches);
		}
		s->workload_target[i] = found;
	}

	/* Disaggregation: each prefill deployment names a decode deployment; decode
	 * deployments are reached only through one; workloads go to prefill or colocated. */
	s->decode_of = sim_arena_alloc(&c->doc->arena, sizeof(size_t) * (s->deployments.n + 1));
	s->kv_transfer = sim_arena_alloc(&c->doc->arena, sizeof(*s->kv_transfer) * (s->deployments.n + 1));
	for (size_t d = 0; d < s->deployments.n; d++) {
		const struct clu_deployment_config *dp = dep_at(s, d);
		const struct dg_config *kv = &s->kv_transfer[d];
		s->decode_of[d] = SIZE_MAX;
		if (dp->has_kv_transfer) { /* the raw node the cluster room kept goes to sim/disagg */
			size_t mark;
			snprintf(key, sizeof(key), "deployments[%zu].kv_transfer", d);
			mark = cfg_path_push_key(c, key);
			if (cfg_decode(c, dp->kv_transfer, &dg_config_schema, &s->kv_transfer[d]))
				return -1;
			cfg_path_pop(c, mark);
		}
		snprintf(key, sizeof(key), "deployments[%zu]", d);
		if (dp->role == CLU_ROLE_PREFILL && !dp->has_kv_transfer)
			return cfg_error_at_key(c, cfg_lookup(n, key), "role",
						"a prefill deployment needs kv_transfer: {decode: NAME}");
		if (dp->role != CLU_ROLE_PREFILL && dp->has_kv_transfer)
			return cfg_error_at_key(c, cfg_lookup(n, key), "kv_transfer", "only a prefill deployment sends KV");
		if (dp->role == CLU_ROLE_PREFILL) {
			for (size_t e = 0; e < s->deployments.n; e++)
				if (!strcmp(dep_at(s, e)->name, kv->decode))
					s->decode_of[d] = e;
			size_t mark;
			snprintf(key, sizeof(key), "deployments[%zu].kv_transfer.decode", d);
			mark = cfg_path_push_key(c, key);
			if (s->decode_of[d] == SIZE_MAX)
				return cfg_error(c, cfg_lookup(n, key), "no deployment named '%s'", kv->decode);
			if (dep_at(s, s->decode_of[d])->role != CLU_ROLE_DECODE)
				return cfg_error(c, cfg_lookup(n, key), "'%s' must have role: decode", kv->decode);
			if (strcmp(dep_at(s, s->decode_of[d])->model, dp->model))
				return cfg_error(c, cfg_lookup(n, key), "'%s' serves another model (%s, not %s)",
						 kv->decode, dep_at(s, s->decode_of[d])->model, dp->model);
			cfg_path_pop(c, mark);
		}
	}
	for (size_t i = 0; i < s->workloads.n; i++)
		if (dep_at(s, s->workload_target[i])->role == CLU_ROLE_DECODE) {
			snprintf(key, sizeof(key), "workloads[%zu]", i);
			return cfg_error_at_key(c, n, key,
						"workload '%s' goes to a decode deployment: send it to the prefill one",
						CFG_LIST_AT(s->workloads, struct wl_config, i)->name);
		}

	/* Pinned node pools exist; pools exist for every GPU when a cluster is given. */
	for (size_t d = 0; d < s->deployments.n; d++) {
		const struct clu_deployment_config *dp = dep_at(s, d);
		if (dp->node_pool) {
			bool ok = false;
			for (size_t p = 0; p < s->cluster.node_pools.n; p++)
				ok |= !strcmp(CFG_LIST_AT(s->cluster.node_pools, struct clu_pool_config, p)->name,
					      dp->node_pool);
			if (!ok) {
				snprintf(key, sizeof(key), "deployments[%zu].node_pool", d);
				return cfg_error_at_key(c, n, key, "no node pool named '%s'", dp->node_pool);
			}
		}
	}

	/* Every model and GPU a deployment or pool names exists (catalog, scenario, or file);
	 * resolved once here, so that runs only read the scenario. */
	s->llms = sim_arena_alloc(&c->doc->arena, sizeof(*s->llms) * (s->deployments.n + 1));
	s->gpus = sim_arena_alloc(&c->doc->arena, sizeof(*s->gpus) * (s->deployments.n + 1));
	s->pool_gpus = sim_arena_alloc(&c->doc->arena, sizeof(*s->pool_gpus) * (s->cluster.node_pools.n + 1));
	for (size_t d = 0; d < s->deployments.n; d++) {
		const struct clu_deployment_config *dp = dep_at(s, d);
		size_t mark;
		snprintf(key, sizeof(key), "deployments[%zu].model", d);
		mark = cfg_path_push_key(c, key);
		if (!(s->llms[d] = perf_find_llm(c, cfg_lookup(n, key), dp->model, &s->catalog)))
			return -1;
		s->gpus[d] = sim_arena_alloc(&c->doc->arena, sizeof(**s->gpus) * (dp->hardware.n + 1));
		cfg_path_pop(c, mark);
		for (size_t v = 0; v < dp->hardware.n; v++) {
			if (dp->gpu)
				snprintf(key, sizeof(key), "deployments[%zu].gpu", d);
			else
				snprintf(key, sizeof(key), "deployments[%zu].hardware[%zu].gpu", d, v);
			mark = cfg_path_push_key(c, key);
			if (!(s->gpus[d][v] = perf_find_gpu(c, cfg_lookup(n, key),
							     CFG_LIST_AT(dp->hardware, struct clu_hw_variant, v)->gpu, &s->catalog)))
				return -1;
			cfg_path_pop(c, mark);
		}
	}
	for (size_t p = 0; p < s->cluster.node_pools.n; p++) {
		size_t mark;
		snprintf(key, sizeof(key), "cluster.node_pools[%zu].instance.gpu", p);
		mark = cfg_path_push_key(c, key);
		if (!(s->pool_gpus[p] = perf_find_gpu(c, cfg_lookup(n, key),
						      CFG_LIST_AT(s->cluster.node_pools, struct clu_pool_config, p)->instance.gpu,
						      &s->catalog)))
			return -1;
		cfg_path_pop(c, mark);
	}

	/* Autoscalers: the raw nodes the cluster room kept go to the scale room. */
	s->autoscalers = sim_arena_alloc(&c->doc->arena,
					 sizeof(*s->autoscalers) * (s->deployments.n + 1));
	for (size_t d = 0; d < s->deployments.n; d++) {
		size_t mark;
		snprintf(key, sizeof(key), "deployments[%zu].autoscaler", d);
		mark = cfg_path_push_key(c, key);
		if (sc_autoscaler_decode(c, dep_at(s, d)->autoscaler, &s->autoscalers[d]))
			return -1;
		cfg_path_pop(c, mark);
		/* two owners of spec.replicas would fight: Kubernetes users see this as flapping */
		if (s->autoscalers[d].type != SC_NONE && dep_at(s, d)->replicas_schedule.n > 0) {
			snprintf(key, sizeof(key), "deployments[%zu]", d);
			cfg_path_push_key(c, key);
			snprintf(key, sizeof(key), "deployments[%zu].replicas_schedule", d);
			return cfg_error(c, cfg_lookup(n, key),
					 "a deployment with an autoscaler cannot also have a replicas_schedule");
		}
	}
	{
		size_t mark = cfg_path_push_key(c, "cluster.autoscaler");
		if (clu_node_autoscaler_decode(c, s->has_cluster ? s->cluster.autoscaler : NULL,
					       &s->node_autoscaler))
			return -1;
		cfg_path_pop(c, mark);
		if (!s->has_cluster && s->node_autoscaler.type != CLU_NA_NONE)
			s->node_autoscaler.type = CLU_NA_NONE;
	}
	if (s->has_cluster && s->cluster.node_pools.n == 0)
		return cfg_error_at_key(c, n, "cluster", "a cluster needs at least one node pool");
	return 0;
}

static void inline_manifests(struct scenario *s);

const struct cfg_schema scn_schema = {"scenario", sizeof(struct scenario), scn_fields, scn_check, NULL};

int scn_load(struct scenario *s, const char *path, const char *const *sets, size_t nsets,
	     struct sim_err *err)
{
	struct cfg_ctx c;
	struct cfg_doc doc;

	memset(s, 0, sizeof(*s));
	cfg_doc_init(&doc);
	if (cfg_doc_load_file(&doc, path, err))
		goto fail;
	for (size_t i = 0; i < nsets; i++)
		if (cfg_doc_set(&doc, sets[i], err))
			goto fail;
	cfg_ctx_init(&c, &doc, err);
	if (cfg_decode(&c, doc.root, &scn_schema, s))
		goto fail;
	s->doc = doc;
	inline_manifests(s); /* the tree is what is stored and hashed: self-contained */
	return 0;
fail:
	cfg_doc_release(&doc);
	memset(s, 0, sizeof(*s));
	return -1;
}

void scn_release(struct scenario *s)
{
	cfg_doc_release(&s->doc);
	memset(s, 0, sizeof(*s));
}

/* ---- documentation ---- */

const struct scn_doc_root scn_doc_roots[] = {
	{"", &scn_schema, "Scenario keys"},
	{"deployments[].autoscaler", &sc_hpa_schema, "Autoscaler `type: hpa`"},
	{"deployments[].autoscaler", &sc_kpa_schema, "Autoscaler `type: kpa` (Knative)"},
	{"deployments[].autoscaler", &sc_keda_schema, "Autoscaler `type: keda`"},
	{"deployments[].autoscaler", &sc_predictive_schema, "Autoscaler `type: predictive`"},
	{"cluster.autoscaler", &clu_node_autoscaler_schema, "Node autoscaler"},
	{"deployments[].kv_transfer", &dg_config_schema, "KV transfer (`role: prefill`, sim/disagg)"},
	{NULL, NULL, NULL}};

/* ---- the scenario as it runs ---- */

int scn_set_seed(struct scenario *s, uint64_t seed, struct sim_err *err)
{
	char set[64];
	struct sim_err local;
	if (!err) {
		sim_err_clear(&local);
		err = &local;
	}
	if (seed > (uint64_t)INT64_MAX)
		return sim_err_set(err, SIM_EINPUT, "seed %llu: expected 0 to %lld", (unsigned long long)seed,
				   (long long)INT64_MAX);
	snprintf(set, sizeof(set), "seed=%llu", (unsigned long long)seed);
	if (cfg_doc_set(&s->doc, set, err))
		return -1;
	s->seed = (int64_t)seed;
	return 0;
}

size_t scn_first_trace(const struct scenario *s)
{
	for (size_t i = 0; i < s->workloads.n; i++)
		if (CFG_LIST_AT(s->workloads, struct wl_config, i)->has_trace)
			return i;
	return SIZE_MAX;
}

/* An HPA given as `manifest: FILE` becomes `spec:` with the manifest's spec,
 * so the stored scenario runs without the file. */
static void inline_manifests(struct scenario *s)
{
	char key[96];
	for (size_t d = 0; d < s->deployments.n; d++) {
		struct cfg_node *a, *m, *spec;
		const struct sc_autoscaler_config *ac = &s->autoscalers[d];
		if (ac->type != SC_HPA || !ac->manifest_node)
			continue;
		snprintf(key, sizeof(key), "deployments[%zu].autoscaler", d);
		a = cfg_lookup(s->doc.root, key);
		spec = cfg_map_get(ac->manifest_node, "spec");
		if (!a || a->kind != CFG_MAP || !spec)
			continue;
		for (size_t i = 0; i < a->n; i++) {
			m = a->keys[i];
			if (strcmp(m->str, "manifest"))
				continue;
			m->str = "spec";
			a->vals[i] = spec;
		}
	}
}

char *scn_resolved_yaml(const struct scenario *s)
{
	return cfg_to_yaml(s->doc.root);
}
