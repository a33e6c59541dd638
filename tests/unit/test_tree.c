/* sim/config YAML tree: positions, YAML errors, includes, --set, emitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "testutil.h"


/* Loads text; expects an error containing `want`. */
static void load_fails(const char *text, const char *want)
{
	struct cfg_doc d;
	struct sim_err e;
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_string(&d, "t.yaml", text, strlen(text), &e), -1);
	if (!strstr(e.msg, want))
		fail_msg("got '%s', expected '%s'", e.msg, want);
	cfg_doc_release(&d);
}

static void positions_are_one_based(void **state)
{
	struct cfg_doc d;
	struct sim_err e;
	const char *t = "name: x\nlist:\n  - a\n  - {k: v}\n";
	struct cfg_node *n;
	(void)state;
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_string(&d, "t.yaml", t, strlen(t), &e), 0);
	n = cfg_lookup(d.root, "list[1].k");
	assert_non_null(n);
	assert_string_equal(n->str, "v");
	assert_int_equal(n->pos.line, 4);
	assert_int_equal(n->pos.col, 9);
	n = cfg_lookup(d.root, "name");
	assert_int_equal(n->pos.line, 1);
	assert_int_equal(n->pos.col, 7);
	assert_null(cfg_lookup(d.root, "list[5]"));
	assert_null(cfg_lookup(d.root, "nope.x"));
	cfg_doc_release(&d);
}

static void yaml_errors_have_positions(void **state)
{
	(void)state;
	load_fails("a: 1\n\tb: 2\n", "t.yaml:2:1: tab character");
	load_fails("a: [1, 2\n", "t.yaml:2:1:");
	load_fails("a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a' (first given at line 1)");
	load_fails("a: 1\n--- \nb: 2\n", "more than one YAML document");
	load_fails("", "t.yaml:1:1: empty scenario");
	load_fails("# only a comment\n", "empty scenario");
	load_fails("- a\n- b\n", "t.yaml:1:1: a scenario must be a mapping");
	load_fails("a: \"unterminated\n", "t.yaml:");
	load_fails("\xff\xfe garbage", "not a text file");
	load_fails("\xef\xbb\xbf" "a: 1\nb\xc3: 2\n", "not a text file");
	load_fails("a: b\x01c\n", "t.yaml:1:5");
	load_fails("? [1, 2]\n: v\n", "a mapping key must be a plain string");
	load_fails("<<: {a: 1}\n", "merge keys");
	load_fails("a: &x {b: 1}\nc: *y\n", "t.yaml:2:4");
}

static void alias_bomb_is_refused(void **state)
{
	/* Each level doubles the expansion: 2^25 nodes is far over the limit. */
	char text[4096];
	size_t o = 0;
	(void)state;
	o += (size_t)snprintf(text + o, sizeof(text) - o, "a0: &a0 [x, x]\n");
	for (int i = 1; i < 26; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "a%d: &a%d [*a%d, *a%d]\n", i, i, i - 1, i - 1);
	load_fails(text, "alias");
}

static void deep_nesting_is_refused(void **state)
{
	char *t = malloc(3000);
	(void)state;
	strcpy(t, "a: ");
	for (int i = 0; i < 1000; i++)
		strcat(t, "[");
	for (int i = 0; i < 1000; i++)
		strcat(t, "]");
	load_fails(t, "nesting deeper than");
	free(t);
}

static void includes_merge_and_override(void **state)
{
	struct cfg_doc d;
	struct sim_err e;
	struct cfg_node *n;
	(void)state;
	tu_write("base.yaml", "name: base\nseed: 1\nengine: {a: 1, b: 2}\nlist: [1, 2]\n");
	tu_write("extra.yaml", "engine: {b: 3, c: 4}\n");
	tu_write("top.yaml", "include: [base.yaml, extra.yaml]\nname: top\nengine: {a: 9}\n"
			       "deps:\n  - include: sub/dep.yaml\n    replicas: 5\n");
	tu_write("sub/dep.yaml", "name: d\nreplicas: 1\nmodel: m\n");
	cfg_doc_init(&d);
	sim_err_clear(&e);
	if (cfg_doc_load_file(&d, tu_path("top.yaml"), &e))
		fail_msg("%s", e.msg);
	assert_string_equal(cfg_lookup(d.root, "name")->str, "top");
	assert_string_equal(cfg_lookup(d.root, "seed")->str, "1");
	assert_string_equal(cfg_lookup(d.root, "engine.a")->str, "9");
	assert_string_equal(cfg_lookup(d.root, "engine.b")->str, "3");
	assert_string_equal(cfg_lookup(d.root, "engine.c")->str, "4");
	assert_string_equal(cfg_lookup(d.root, "deps[0].replicas")->str, "5");
	n = cfg_lookup(d.root, "deps[0].model");
	assert_string_equal(n->str, "m");
	/* the position is in the file where it was written */
	assert_non_null(strstr(n->pos.file, "sub/dep.yaml"));
	assert_int_equal(n->pos.line, 3);
	assert_null(cfg_map_get(d.root, "include"));
	cfg_doc_release(&d);
}

static void include_errors(void **state)
{
	struct cfg_doc d;
	struct sim_err e;
	(void)state;
	tu_write("cyc_a.yaml", "include: cyc_b.yaml\nx: 1\n");
	tu_write("cyc_b.yaml", "include: cyc_a.yaml\ny: 1\n");
	tu_write("missing.yaml", "x: 1\ninclude: nowhere.yaml\n");
	tu_write("notmap.yaml", "include: list.yaml\n");
	tu_write("list.yaml", "- 1\n");
	tu_write("bad_inner.yaml", "include: broken.yaml\n");
	tu_write("broken.yaml", "a: 1\n  b: 2\n");
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_file(&d, tu_path("cyc_a.yaml"), &e), -1);
	assert_non_null(strstr(e.msg, "include cycle"));
	cfg_doc_release(&d);
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_file(&d, tu_path("missing.yaml"), &e), -1);
	assert_non_null(strstr(e.msg, "missing.yaml:2:10: include:"));
	assert_non_null(strstr(e.msg, "cannot open"));
	cfg_doc_release(&d);
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_file(&d, tu_path("notmap.yaml"), &e), -1);
	assert_non_null(strstr(e.msg, "must hold a mapping"));
	cfg_doc_release(&d);
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_file(&d, tu_path("bad_inner.yaml"), &e), -1);
	assert_non_null(strstr(e.msg, "broken.yaml:2:"));
	cfg_doc_release(&d);
}

static void set_overrides(void **state)
{
	struct cfg_doc d;
	struct sim_err e;
	const char *t = "deployments:\n  - name: a\n    engine: {max_num_seqs: 8}\n";
	(void)state;
	cfg_doc_init(&d);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_string(&d, "t.yaml", t, strlen(t), &e), 0);
	assert_int_equal(cfg_doc_set(&d, "deployments[0].engine.max_num_seqs=64", &e), 0);
	assert_string_equal(cfg_lookup(d.root, "deployments[0].engine.max_num_seqs")->str, "64");
	assert_int_equal(cfg_doc_set(&d, "deployments[0].new.deep.key=x", &e), 0);
	assert_string_equal(cfg_lookup(d.root, "deployments[0].new.deep.key")->str, "x");
	assert_int_equal(cfg_doc_set(&d, "deployments[1]={name: b}", &e), 0); /* append */
	assert_string_equal(cfg_lookup(d.root, "deployments[1].name")->str, "b");
	assert_int_equal(cfg_doc_set(&d, "router.buffer={capacity: 10, timeout: 5s}", &e), 0);
	assert_string_equal(cfg_lookup(d.root, "router.buffer.timeout")->str, "5s");
	assert_int_equal(cfg_doc_set(&d, "tags=[a, b]", &e), 0);
	assert_int_equal(cfg_lookup(d.root, "tags")->kind, CFG_SEQ);
	/* the value node's column points into the whole argument */
	assert_int_equal(cfg_lookup(d.root, "deployments[0].engine.max_num_seqs")->pos.col, 36);
	assert_int_equal(e.kind, SIM_OK);

	assert_int_equal(cfg_doc_set(&d, "deployments[5].name=z", &e), -1);
	assert_non_null(strstr(e.msg, "out of range"));
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_set(&d, "novalue", &e), -1);
	assert_non_null(strstr(e.msg, "expected path=value"));
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_set(&d, "deployments.name=z", &e), -1);
	assert_non_null(strstr(e.msg, "not a mapping"));
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_set(&d, "a..b=1", &e), -1);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_set(&d, "x[abc]=1", &e), -1);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_set(&d, "x=[1, 2", &e), -1);
	assert_non_null(strstr(e.msg, "<--set #"));
	cfg_doc_release(&d);
}

static void emitted_yaml_reads_back_the_same(void **state)
{
	struct cfg_doc a, b;
	struct sim_err e;
	const char *t = "name: \"x: y\"\nn: 5\ns: \"5\"\nt: 'true'\nq: \"a#b c # d\"\n"
			"nested:\n  - {k: [1, 2, {z: ~}], e: {}, l: []}\n  - \"\\ttab\"\nempty: \"\"\n"
			"neg: -3\ndash: \"- x\"\nmetric: vllm:num_requests_waiting\n";
	char *y1, *y2;
	(void)state;
	cfg_doc_init(&a);
	cfg_doc_init(&b);
	sim_err_clear(&e);
	assert_int_equal(cfg_doc_load_string(&a, "a.yaml", t, strlen(t), &e), 0);
	y1 = cfg_to_yaml(a.root);
	if (cfg_doc_load_string(&b, "b.yaml", y1, strlen(y1), &e))
		fail_msg("re-read failed: %s\n%s", e.msg, y1);
	y2 = cfg_to_yaml(b.root);
	assert_string_equal(y1, y2);
	assert_string_equal(cfg_lookup(b.root, "name")->str, "x: y");
	assert_true(cfg_lookup(b.root, "s")->quoted);
	assert_true(cfg_lookup(b.root, "t")->quoted);
	assert_string_equal(cfg_lookup(b.root, "nested[1]")->str, "\ttab");
	assert_int_equal(cfg_lookup(b.root, "nested[0].k[2].z")->kind, CFG_NULL);
	assert_string_equal(cfg_lookup(b.root, "metric")->str, "vllm:num_requests_waiting");
	free(y1);
	free(y2);
	cfg_doc_release(&a);
	cfg_doc_release(&b);
}

static int setup(void **state)
{
	if (tu_setup(state))
		return -1;
	return mkdir(tu_path("sub"), 0700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(positions_are_one_based),
		cmocka_unit_test(yaml_errors_have_positions),
		cmocka_unit_test(alias_bomb_is_refused),
		cmocka_unit_test(deep_nesting_is_refused),
		cmocka_unit_test(includes_merge_and_override),
		cmocka_unit_test(include_errors),
		cmocka_unit_test(set_overrides),
		cmocka_unit_test(emitted_yaml_reads_back_the_same),
	};
	return cmocka_run_group_tests_name("config: yaml tree", tests, setup, tu_teardown);
}
