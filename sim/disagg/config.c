/* The `kv_transfer:` key of a prefill deployment. */
#include "disagg.h"

#include <stddef.h>

static const char *const network_names[] = {[DG_NET_RDMA] = "rdma", [DG_NET_ETHERNET] = "ethernet", NULL};

#define T struct dg_config
static const struct cfg_field kvt_fields[] = {
	{.key = "decode", .type = CFG_T_STR, .off = offsetof(T, decode), .flags = CFG_REQUIRED,
	 .doc = "the decode deployment (role: decode) that generates after this prefill"},
	{.key = "decode_policy", .type = CFG_T_ENUM, .off = offsetof(T, decode_policy), .enums = rt_policy_names,
	 .def = "least-kv", .doc = "how a decode replica is chosen (a router policy)"},
	{.key = "network", .type = CFG_T_ENUM, .off = offsetof(T, network), .enums = network_names,
	 .def = "rdma", .doc = "NIC class between nodes: rdma (400 Gb/s, 10us) or ethernet (100 Gb/s, 100us)"},
	{.key = "bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, bandwidth), .def = "0B/s",
	 .doc = "per-node NIC bandwidth (0 = the class's); concurrent transfers share it"},
	{.key = "latency", .type = CFG_T_DURATION, .off = offsetof(T, latency), .has = true,
	 .has_off = offsetof(T, has_latency), .doc = "per-transfer latency (default: the class's)"},
	{.key = "nvlink_bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, nvlink_bandwidth), .def = "0B/s",
	 .doc = "when both replicas share a node (0 = the GPU's interconnect bandwidth)"},
	{.key = "layerwise", .type = CFG_T_BOOL, .off = offsetof(T, layerwise), .def = "false",
	 .doc = "send the KV layer by layer while the prefill runs (overlap)"},
	{NULL}};
#undef T
const struct cfg_schema dg_config_schema = {"kv_transfer", sizeof(struct dg_config), kvt_fields, NULL, NULL};
