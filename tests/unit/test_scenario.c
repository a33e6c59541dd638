/* sim/cli scenario assembly: cross-room checks, autoscaler specs, docs coverage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"
#include "testutil.h"

static const char *BASE =
	"name: t\nduration: 1h\n"
	"deployments:\n"
	"  - name: chat\n    model: llama-3-8b\n    gpu: h100-sxm\n";

#define write_scn tu_write

static int load(const char *text, struct scenario *s, struct sim_err *e)
{
	const char *p = write_scn("s.yaml", text);
	sim_err_clear(e);
	return scn_load(s, p, NULL, 0, e);
}

static void expect_error(const char *text, const char *want)
{
	struct scenario s;
	struct sim_err e;
	if (load(text, &s, &e) == 0) {
		scn_release(&s);
		fail_msg("loaded, expected '%s'", want);
	}
	if (!strstr(e.msg, want))
		fail_msg("got '%s', expected '%s'", e.msg, want);
}

static char *cat2(const char *a, const char *b)
{
	static char buf[8192];
	snprintf(buf, sizeof(buf), "%s%s", a, b);
	return buf;
}

static void minimal_scenario_and_defaults(void **state)
{
	struct scenario s;
	struct sim_err e;
	const struct clu_deployment_config *d;
	(void)state;
	if (load(BASE, &s, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(s.name, "t");
	assert_int_equal(s.seed, 1);
	assert_int_equal(s.duration, SIM_HOUR);
	assert_int_equal(s.drain_timeout, 10 * SIM_MIN);
	d = CFG_LIST_AT(s.deployments, struct clu_deployment_config, 0);
	assert_int_equal(d->engine.max_num_seqs, 256);
	assert_int_equal(d->engine.max_num_batched_tokens, 8192);
	assert_int_equal(d->engine.block_size, 16);
	assert_true(d->engine.gpu_memory_utilization == 0.9);
	assert_int_equal(d->hardware.n, 1); /* gpu: is one variant */
	assert_string_equal(CFG_LIST_AT(d->hardware, struct clu_hw_variant, 0)->gpu, "h100-sxm");
	assert_int_equal(d->startup.readiness_probe.period, 10 * SIM_SEC);
	assert_true(d->startup.image.pull_bandwidth == 250e6);
	assert_int_equal(s.autoscalers[0].type, SC_NONE);
	assert_int_equal(s.router.policy, RT_LEAST_REQUESTS);
	assert_int_equal(s.report.outputs.timeseries_interval, 10 * SIM_SEC);
	scn_release(&s);
}

static void reference_example_loads(void **state)
{
	struct scenario s;
	struct sim_err e;
	const char *p = "../shared/reference/scenario-example.yaml";
	(void)state;
	if (access(p, R_OK) != 0) {
		printf("skipped: %s not found (../shared absent)\n", p);
		skip();
	}
	sim_err_clear(&e);
	if (scn_load(&s, p, NULL, 0, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(s.autoscalers[0].type, SC_HPA);
	assert_int_equal(s.autoscalers[0].spec.maxReplicas, 16);
	assert_int_equal(s.autoscalers[0].spec.metrics.n, 1);
	{
		const struct hpa_metric_spec *m = CFG_LIST_AT(s.autoscalers[0].spec.metrics, struct hpa_metric_spec, 0);
		assert_int_equal(m->type, HPA_METRIC_PODS);
		assert_string_equal(m->pods.metric.name, "vllm:num_requests_waiting");
		assert_int_equal(m->pods.target.averageValue, 4000);
	}
	assert_true(s.autoscalers[0].spec.has_behavior);
	assert_int_equal(s.autoscalers[0].spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
	assert_false(s.autoscalers[0].spec.behavior.has_scaleUp);
	assert_int_equal(s.node_autoscaler.type, CLU_NA_CA);
	assert_int_equal(s.report.score.subject_to.n, 2);
	scn_release(&s);
}

static void cross_references(void **state)
{
	(void)state;
	expect_error(cat2(BASE, "workloads:\n  - name: w\n    deployment: caht\n    arrivals: {rate: 1/s}\n"
			       "    lengths: {prompt: {dist: fixed, value: 10}, output: {dist: fixed, value: 5}}\n"),
		     "s.yaml:9:17: workloads[0].deployment: no deployment named 'caht' (did you mean 'chat'?)");
	expect_error(cat2(BASE, "  - name: chat\n    model: x\n    gpu: l4\n"),
		     "s.yaml:7:11: deployments[1].name: duplicate deployment name 'chat'");
	expect_error(cat2(BASE, "    node_pool: gpus\n"), "no node pool named 'gpus'");
	expect_error("name: t\nduration: 1h\ndeployments: []\n", "a scenario needs at least one deployment");
	expect_error("name: t\nduration: 0s\ndeployments: []\n", "duration: must be greater than 0");
	expect_error("name: t\ndeployments: []\n", "missing required key 'duration'");
	expect_error(cat2(BASE, "    hardware: [{gpu: l4}]\n"), "give 'gpu' or 'hardware', not both");
	expect_error("name: t\nduration: 1h\ndeployments:\n  - name: x\n    model: m\n", "needs 'gpu' or 'hardware'");
	expect_error(cat2(BASE, "workloads:\n  - name: w\n    arrivals: {rate: 1/s}\n"),
		     "synthetic arrivals need 'lengths'");
	expect_error(cat2(BASE, "workloads:\n  - name: w\n    arrivals: {rate: {ramps: [[0s, 1/s]], steps: [[0s, 2/s]]}}\n"
			       "    lengths: {prompt: {dist: fixed, value: 10}, output: {dist: fixed, value: 5}}\n"),
		     "give exactly one of steps, ramps, diurnal or csv");
	expect_error(cat2(BASE, "workloads:\n  - name: w\n    arrivals: {rate: 1/s}\n"
			       "    lengths: {prompt: {dist: lognormal, p50: 10}, output: {dist: fixed, value: 5}}\n"),
		     "needs exactly two of 'mean', 'p50', 'p90'");
	expect_error(cat2(BASE, "cluster:\n  node_pools:\n    - {name: a, instance: {gpu: h100-sxm}, min_nodes: 5, max_nodes: 2}\n"),
		     "min_nodes: must not exceed max_nodes");
	expect_error(cat2(BASE, "score: {minimize: cost.usd, subject_to: [\"ttft_s.p99 =< 2\"]}\n"),
		     "expected one of <=, <, >=, >, ==");
	expect_error(cat2(BASE, "score: {minimize: cost.usds}\n"),
		     "unknown summary field 'cost.usds' (did you mean 'cost.usd'?)");
	expect_error(cat2(BASE, "slo:\n  interactive: {ttft: fast}\n"), "slo.interactive.ttft: expected a duration");
}

static void autoscaler_specs(void **state)
{
	(void)state;
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {minReplicas: 5, maxReplicas: 2}}\n"),
		     "minReplicas: must not exceed maxReplicas (2)");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {minReplicas: 1}}\n"),
		     "missing required key 'maxReplicas'");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3, metrics: [{type: Pods, resource: {name: cpu,"
			       " target: {type: Utilization, averageUtilization: 50}}}]}}\n"),
		     "metric type Pods needs 'pods'");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: "
			       "{name: x}, target: {type: Value, value: \"3\"}}}]}}\n"),
		     "a Pods metric's target must be AverageValue");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3, metrics: [{type: Pods, pods: {metric: "
			       "{name: x}, target: {type: AverageValue, value: \"3\"}}}]}}\n"),
		     "target type AverageValue needs averageValue");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3, behavior: {scaleUp: {policies: "
			       "[{type: Pods, value: 4, periodSeconds: 4000}]}}}}\n"),
		     "periodSeconds: must be at most 1800");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3, behavior: {scaleDown: {policies: []}}}}\n"),
		     "must specify at least one Policy");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3, behavior: {scaleDown: {selectPolicy: max}}}}\n"),
		     "unknown value 'max' (did you mean 'Max'?");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, spec: {maxReplicas: 3}, manifest: h.yaml}\n"),
		     "exactly one of 'spec' and 'manifest'");
	expect_error(cat2(BASE, "    autoscaler: {type: hap}\n"), "unknown value 'hap' (did you mean 'hpa'?");
	expect_error(cat2(BASE, "    autoscaler: {spec: {}}\n"), "missing required key 'type'");
	expect_error(cat2(BASE, "    autoscaler: {type: kpa, stable_window: 2s}\n"), "stable_window: must be at least 6");
	expect_error(cat2(BASE, "    autoscaler: {type: kpa, target: 10, spec: {}}\n"), "unknown key 'spec'");
	expect_error(cat2(BASE, "    autoscaler: {type: keda, spec: {triggers: []}}\n"), "at least one trigger");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, manifest: nowhere.yaml}\n"), "manifest: ");
}

static void hpa_manifest_file(void **state)
{
	struct scenario s;
	struct sim_err e;
	(void)state;
	write_scn("hpa.yaml", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\n"
			      "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: chat}\n"
			      "  minReplicas: 2\n  maxReplicas: 9\n  metrics:\n  - type: External\n    external:\n"
			      "      metric: {name: servesim:router_queue_length}\n"
			      "      target: {type: Value, value: 500m}\n");
	if (load(cat2(BASE, "    autoscaler: {type: hpa, manifest: hpa.yaml}\n"), &s, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(s.autoscalers[0].spec.minReplicas, 2);
	assert_int_equal(s.autoscalers[0].spec.maxReplicas, 9);
	assert_int_equal(CFG_LIST_AT(s.autoscalers[0].spec.metrics, struct hpa_metric_spec, 0)->external.target.value, 500);
	scn_release(&s);
	write_scn("hpa.yaml", "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nspec: {maxReplicas: 3}\n");
	expect_error(cat2(BASE, "    autoscaler: {type: hpa, manifest: hpa.yaml}\n"),
		     "hpa.yaml:1:13: apiVersion: expected autoscaling/v2");
}

static void set_overrides_apply_before_validation(void **state)
{
	struct scenario s;
	struct sim_err e;
	const char *sets[] = {"deployments[0].replicas=7", "seed=99"};
	const char *bad[] = {"deployments[0].replicas=-1"};
	const char *p = write_scn("s.yaml", BASE);
	(void)state;
	sim_err_clear(&e);
	if (scn_load(&s, p, sets, 2, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(CFG_LIST_AT(s.deployments, struct clu_deployment_config, 0)->replicas, 7);
	assert_int_equal(s.seed, 99);
	scn_release(&s);
	sim_err_clear(&e);
	assert_int_equal(scn_load(&s, p, bad, 1, &e), -1);
	assert_non_null(strstr(e.msg, "<--set #1>:1:25: deployments[0].replicas: must be at least 0"));
}

/* Every key a scenario can hold is in docs/scenario.md. */
struct doc_check {
	char *text;
	int missing;
};

static void check_key(void *ud, const char *path, const struct cfg_field *f)
{
	struct doc_check *d = ud;
	char want[600];
	(void)f;
	snprintf(want, sizeof(want), "`%s`", path);
	if (!strstr(d->text, want)) {
		printf("docs/scenario.md lacks %s\n", want);
		d->missing++;
	}
}

static void every_key_is_documented(void **state)
{
	FILE *f = fopen("docs/scenario.md", "rb");
	struct doc_check d = {NULL, 0};
	long n;
	(void)state;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d.text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(d.text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	for (size_t i = 0; scn_doc_roots[i].schema; i++)
		cfg_schema_walk(scn_doc_roots[i].schema, scn_doc_roots[i].prefix, check_key, &d);
	free(d.text);
	if (d.missing)
		fail_msg("%d scenario keys are not in docs/scenario.md (run `make docs`)", d.missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_scenario_and_defaults),
		cmocka_unit_test(reference_example_loads),
		cmocka_unit_test(cross_references),
		cmocka_unit_test(autoscaler_specs),
		cmocka_unit_test(hpa_manifest_file),
		cmocka_unit_test(set_overrides_apply_before_validation),
		cmocka_unit_test(every_key_is_documented),
	};
	return cmocka_run_group_tests_name("cli: scenario", tests, tu_setup, tu_teardown);
}
