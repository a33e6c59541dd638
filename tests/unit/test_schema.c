/* sim/config table-driven decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "config/config.h"

struct inner {
	int64_t size;
	double bw;
};

struct thing {
	const char *name;
	int64_t count;
	double ratio;
	bool on;
	sim_time wait;
	int mode;
	struct inner in;
	struct cfg_list items; /* of struct inner */
	struct cfg_list times; /* of sim_time */
	struct cfg_list ramp;  /* of struct cfg_tpair */
	double rate;
	int64_t q;
	bool has_ratio;
};

static const char *const modes[] = {"fast", "slow", "careful", NULL};

#define T struct inner
static const struct cfg_field inner_fields[] = {
	{.key = "size", .type = CFG_T_SIZE, .off = offsetof(T, size), .def = "1GiB"},
	{.key = "bandwidth", .type = CFG_T_BANDWIDTH, .off = offsetof(T, bw), .def = "1GB/s", .flags = CFG_GT},
	{NULL}};
#undef T
static const struct cfg_schema inner_schema = {"inner", sizeof(struct inner), inner_fields, NULL, NULL};

#define T struct thing
static const struct cfg_field thing_fields[] = {
	{.key = "name", .type = CFG_T_STR, .off = offsetof(T, name), .flags = CFG_REQUIRED},
	{.key = "count", .type = CFG_T_INT, .off = offsetof(T, count), .def = "3", .flags = CFG_MIN | CFG_MAX,
	 .min = 1, .max = 100},
	{.key = "ratio", .type = CFG_T_DOUBLE, .off = offsetof(T, ratio), .def = "0.5",
	 .flags = CFG_MIN | CFG_MAX, .min = 0, .max = 1, .has = true, .has_off = offsetof(T, has_ratio)},
	{.key = "enabled", .type = CFG_T_BOOL, .off = offsetof(T, on), .def = "true"},
	{.key = "wait", .type = CFG_T_DURATION, .off = offsetof(T, wait), .def = "15s"},
	{.key = "mode", .type = CFG_T_ENUM, .off = offsetof(T, mode), .enums = modes, .def = "slow"},
	{.key = "inner", .type = CFG_T_STRUCT, .off = offsetof(T, in), .sub = &inner_schema},
	{.key = "items", .type = CFG_T_LIST, .off = offsetof(T, items), .sub = &inner_schema},
	{.key = "times", .type = CFG_T_LIST, .off = offsetof(T, times), .elem = CFG_T_DURATION,
	 .def = "[1s, 2m]"},
	{.key = "ramp", .type = CFG_T_CUSTOM, .off = offsetof(T, ramp), .fn = cfg_custom_rate_pairs},
	{.key = "rate", .type = CFG_T_RATE, .off = offsetof(T, rate), .def = "5/s"},
	{.key = "target", .type = CFG_T_QUANTITY, .off = offsetof(T, q), .def = "500m"},
	{NULL}};
#undef T
static const struct cfg_schema thing_schema = {"thing", sizeof(struct thing), thing_fields, NULL, NULL};

static struct cfg_doc doc;
static struct sim_err err;

static int decode(const char *text, struct thing *t)
{
	struct cfg_ctx c;
	cfg_doc_release(&doc);
	cfg_doc_init(&doc);
	sim_err_clear(&err);
	memset(t, 0, sizeof(*t));
	if (cfg_doc_load_string(&doc, "s.yaml", text, strlen(text), &err))
		return -1;
	cfg_ctx_init(&c, &doc, &err);
	return cfg_decode(&c, doc.root, &thing_schema, t);
}

static void expect_error(const char *text, const char *want)
{
	struct thing t;
	assert_int_equal(decode(text, &t), -1);
	if (!strstr(err.msg, want))
		fail_msg("got '%s', expected '%s'", err.msg, want);
}

static void defaults_fill_what_is_absent(void **state)
{
	struct thing t;
	(void)state;
	assert_int_equal(decode("name: a\n", &t), 0);
	assert_string_equal(t.name, "a");
	assert_int_equal(t.count, 3);
	assert_true(t.ratio == 0.5);
	assert_false(t.has_ratio);
	assert_true(t.on);
	assert_int_equal(t.wait, 15 * SIM_SEC);
	assert_int_equal(t.mode, 1);
	assert_int_equal(t.in.size, 1073741824);
	assert_true(t.in.bw == 1e9);
	assert_int_equal(t.times.n, 2);
	assert_int_equal(*CFG_LIST_AT(t.times, sim_time, 1), 2 * SIM_MIN);
	assert_true(t.rate == 5.0);
	assert_int_equal(t.q, 500);
	/* null means "the default" */
	assert_int_equal(decode("name: a\ncount: ~\nratio: null\n", &t), 0);
	assert_int_equal(t.count, 3);
	assert_false(t.has_ratio);
}

static void values_decode(void **state)
{
	struct thing t;
	(void)state;
	assert_int_equal(decode("name: b\ncount: 7\nratio: 0.25\nenabled: false\nwait: 250ms\nmode: careful\n"
				"inner: {size: 2GB}\nitems: [{size: 1KB}, {bandwidth: 10Gbps}]\ntimes: []\n"
				"ramp: [[0s, 1/s], [10m, 600/min]]\nrate: 120/min\ntarget: \"2\"\n", &t), 0);
	assert_int_equal(t.count, 7);
	assert_true(t.has_ratio);
	assert_false(t.on);
	assert_int_equal(t.wait, 250 * SIM_MS);
	assert_int_equal(t.mode, 2);
	assert_int_equal(t.in.size, 2000000000);
	assert_true(t.in.bw == 1e9); /* default inside a given struct */
	assert_int_equal(t.items.n, 2);
	assert_int_equal(CFG_LIST_AT(t.items, struct inner, 0)->size, 1000);
	assert_true(CFG_LIST_AT(t.items, struct inner, 1)->bw == 1.25e9);
	assert_int_equal(t.times.n, 0);
	assert_int_equal(t.ramp.n, 2);
	assert_int_equal(CFG_LIST_AT(t.ramp, struct cfg_tpair, 1)->t, 10 * SIM_MIN);
	assert_true(CFG_LIST_AT(t.ramp, struct cfg_tpair, 1)->v == 10.0);
	assert_true(t.rate == 2.0);
	assert_int_equal(t.q, 2000);
}

static void unknown_keys_name_the_closest(void **state)
{
	(void)state;
	expect_error("name: a\ncuont: 3\n", "s.yaml:2:1: unknown key 'cuont' (did you mean 'count'?)");
	expect_error("name: a\ninner: {sise: 1GB}\n", "s.yaml:2:9: inner: unknown key 'sise' (did you mean 'size'?)");
	expect_error("name: a\nzzzzzzzz: 1\n", "s.yaml:2:1: unknown key 'zzzzzzzz' in thing");
	expect_error("name: a\nitems: [{}, {bandwith: 1GB/s}]\n",
		     "s.yaml:2:14: items[1]: unknown key 'bandwith' (did you mean 'bandwidth'?)");
}

static void wrong_types_and_bounds(void **state)
{
	(void)state;
	expect_error("name: a\ncount: many\n", "s.yaml:2:8: count: expected a whole number, got 'many'");
	expect_error("name: a\ncount: {a: 1}\n", "s.yaml:2:8: count: expected a whole number, got a mapping");
	expect_error("name: a\ncount: 0\n", "count: must be at least 1, got 0");
	expect_error("name: a\ncount: 101\n", "count: must be at most 100, got 101");
	expect_error("name: a\ncount: -5\n", "must be at least 1");
	expect_error("name: a\ncount: 99999999999999999999999\n", "out of range");
	expect_error("name: a\nratio: 1.5\n", "ratio: must be at most 1");
	expect_error("name: a\nenabled: yes\n", "enabled: expected true or false, got 'yes'");
	expect_error("name: a\nwait: 5 fortnights\n", "s.yaml:2:7: wait: unknown duration unit");
	expect_error("name: a\nwait: -1s\n", "must not be negative");
	expect_error("name: a\nmode: slwo\n", "mode: unknown value 'slwo' (did you mean 'slow'? expected one of: fast, slow, careful)");
	expect_error("name: a\ninner: [1]\n", "inner: expected a mapping, got a list");
	expect_error("name: a\nitems: {size: 1}\n", "items: expected a list, got a mapping");
	expect_error("name: a\nitems: [5]\n", "items[0]: expected a mapping, got a scalar");
	expect_error("name: a\ninner: {bandwidth: 0MB/s}\n", "inner.bandwidth: must be greater than 0");
	expect_error("name: a\nramp: [[1m, 2/s], [30s, 1/s]]\n", "times must not go backwards");
	expect_error("name: a\nramp: [[1m]]\n", "expected a pair [time, rate]");
	expect_error("name: a\ntarget: lots\n", "target: expected a quantity");
	expect_error("name: [a]\n", "name: expected a string, got a list");
}

static void required_keys(void **state)
{
	(void)state;
	expect_error("count: 2\n", "s.yaml:1:1: missing required key 'name'");
	expect_error("name: ~\n", "s.yaml:1:7: name: required, must not be null");
	expect_error("name: \"\"\n", "s.yaml:1:7: name: must not be empty");
}

static void closest_match(void **state)
{
	const char *const c[] = {"replicas", "max_num_seqs", "max_num_batched_tokens", "model"};
	(void)state;
	assert_string_equal(cfg_closest("replicass", c, 4), "replicas");
	assert_string_equal(cfg_closest("max_num_seq", c, 4), "max_num_seqs");
	assert_string_equal(cfg_closest("modle", c, 4), "model");
	assert_null(cfg_closest("xyz", c, 4));
}

static int teardown(void **state)
{
	(void)state;
	cfg_doc_release(&doc);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_fill_what_is_absent),
		cmocka_unit_test(values_decode),
		cmocka_unit_test(unknown_keys_name_the_closest),
		cmocka_unit_test(wrong_types_and_bounds),
		cmocka_unit_test(required_keys),
		cmocka_unit_test(closest_match),
	};
	cfg_doc_init(&doc);
	return cmocka_run_group_tests_name("config: schema decoding", tests, NULL, teardown);
}
