/* The `perf:` key of a deployment. */
#include "perf.h"

#include <stddef.h>

static const char *const perf_names[] = {"roofline", "profile", "constant", NULL};

#define T struct perf_config
static const struct cfg_field perf_fields[] = {
	{.key = "model", .type = CFG_T_ENUM, .off = offsetof(T, model), .enums = perf_names,
	 .def = "roofline", .doc = "roofline (analytic, calibrated), profile (Vidur-format tables) or constant (every step takes step_time: for teaching and tests)"},
	{.key = "path", .type = CFG_T_PATH, .off = offsetof(T, path),
	 .doc = "profile: directory holding mlp.csv (and attention.csv), or the mlp.csv itself"},
	{.key = "efficiency_scale", .type = CFG_T_DOUBLE, .off = offsetof(T, efficiency_scale),
	 .def = "1", .flags = CFG_GT | CFG_MAX, .min = 0, .max = 10,
	 .doc = "multiplies the calibrated compute and memory efficiencies (what-if studies)"},
	{.key = "step_overhead", .type = CFG_T_DURATION, .off = offsetof(T, step_overhead), .def = "0s",
	 .doc = "extra fixed time added to every engine step"},
	{.key = "step_time", .type = CFG_T_DURATION, .off = offsetof(T, step_time), .def = "10ms",
	 .flags = CFG_GT, .doc = "constant: the time of every step"},
	{NULL}};
#undef T

static int perf_check(struct cfg_ctx *c, const struct cfg_node *n, void *obj)
{
	const struct perf_config *p = obj;
	if (p->model == PERF_PROFILE && !p->path)
		return cfg_error(c, n, "perf model 'profile' needs 'path'");
	return 0;
}

const struct cfg_schema perf_config_schema = {"perf model", sizeof(struct perf_config),
					      perf_fields, perf_check, NULL};
