/* The `router:` section. */
#include "route.h"

#include <stddef.h>

/* The policies' names are their ops tables' (one list), in enum rt_policy order. */
const char *const rt_policy_names[] = {
	rt_round_robin_ops.name, rt_random_ops.name,	     rt_least_requests_ops.name, rt_least_kv_ops.name,
	rt_power_of_two_ops.name, rt_prefix_affinity_ops.name, rt_lora_affinity_ops.name, NULL};

#define T struct rt_buffer
static const struct cfg_field buffer_fields[] = {
	{.key = "capacity", .type = CFG_T_INT, .off = offsetof(T, capacity), .def = "10000",
	 .flags = CFG_MIN, .min = 0, .doc = "requests held while no replica is ready; more are dropped"},
	{.key = "timeout", .type = CFG_T_DURATION, .off = offsetof(T, timeout), .def = "5m",
	 .doc = "a buffered request older than this fails"},
	{NULL}};
#undef T

static const struct cfg_schema buffer_schema = {"router buffer", sizeof(struct rt_buffer),
						buffer_fields, NULL, NULL};

#define T struct rt_config
static const struct cfg_field rt_fields[] = {
	{.key = "policy", .type = CFG_T_ENUM, .off = offsetof(T, policy), .enums = rt_policy_names,
	 .def = "least-requests",
	 .doc = "round-robin, random, least-requests, least-kv, power-of-two, prefix-affinity, lora-affinity"},
	{.key = "buffer", .type = CFG_T_STRUCT, .off = offsetof(T, buffer), .sub = &buffer_schema,
	 .doc = "holds requests while no replica is ready (scale from zero)"},
	{.key = "max_queue", .type = CFG_T_INT, .off = offsetof(T, max_queue), .def = "0",
	 .flags = CFG_MIN, .min = 0, .doc = "admission limit of waiting requests per deployment (0 = none)"},
	{.key = "max_retries", .type = CFG_T_INT, .off = offsetof(T, max_retries), .def = "2",
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 100, .doc = "retries of a request aborted by a lost or drained replica"},
	{.key = "hedge_after", .type = CFG_T_DURATION, .off = offsetof(T, hedge_after), .def = "0s",
	 .doc = "send a duplicate after this long without a first token, cancel the loser (0s = off)"},
	{.key = "affinity_blocks", .type = CFG_T_INT, .off = offsetof(T, affinity_blocks), .def = "4",
	 .flags = CFG_MIN, .min = 1, .doc = "prefix-affinity: leading prefix blocks hashed"},
	{.key = "affinity_load_factor", .type = CFG_T_DOUBLE, .off = offsetof(T, affinity_load_factor),
	 .def = "1.25", .flags = CFG_MIN, .min = 1,
	 .doc = "prefix/lora-affinity: a replica above this times the mean load is skipped"},
	{NULL}};
#undef T

const struct cfg_schema rt_config_schema = {"router", sizeof(struct rt_config), rt_fields, NULL, NULL};
