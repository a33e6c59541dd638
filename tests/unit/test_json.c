/* sim/report JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

static char *esc(const char *s)
{
	static char out[256];
	struct rep_json j;
	rep_json_init(&j);
	rep_json_escape(&j, s);
	snprintf(out, sizeof(out), "%s", j.buf);
	rep_json_release(&j);
	return out;
}

static void string_escaping(void **state)
{
	(void)state;
	assert_string_equal(esc("plain"), "\"plain\"");
	assert_string_equal(esc("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(esc("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
	assert_string_equal(esc("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");
	/* invalid UTF-8: a lone continuation byte, an overlong form, a surrogate */
	assert_string_equal(esc("\x80"), "\"\\ufffd\"");
	assert_string_equal(esc("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	assert_string_equal(esc("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(esc("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
}

static void doubles_round_trip_shortest(void **state)
{
	char b[40];
	const double vals[] = {0.1, 1.0 / 3.0, 600.0, 1e-7, 123456789.125, 5e-324, 1.7976931348623157e308,
			       -2.5, 0.3, 1e16, 9007199254740993.0, 2.0 / 3.0 * 1e-5};
	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		rep_fmt_double(vals[i], b, sizeof(b));
		assert_true(strtod(b, NULL) == vals[i]);
	}
	rep_fmt_double(0.1, b, sizeof(b));
	assert_string_equal(b, "0.1");
	rep_fmt_double(600, b, sizeof(b));
	assert_string_equal(b, "600.0");
	rep_fmt_double(-2.5, b, sizeof(b));
	assert_string_equal(b, "-2.5");
	rep_fmt_double(1e-7, b, sizeof(b));
	assert_string_equal(b, "1e-7");
	rep_fmt_double(0.00012, b, sizeof(b));
	assert_string_equal(b, "0.00012");
	rep_fmt_double(1e20, b, sizeof(b));
	assert_string_equal(b, "1e20");
	rep_fmt_double(NAN, b, sizeof(b));
	assert_string_equal(b, "null");
	rep_fmt_double(INFINITY, b, sizeof(b));
	assert_string_equal(b, "null");
}

static void nesting_and_key_order(void **state)
{
	struct rep_json j;
	(void)state;
	rep_json_init(&j);
	rep_json_begin_object(&j);
	rep_json_key(&j, "z");
	rep_json_int(&j, 1);
	rep_json_key(&j, "a");
	rep_json_begin_array(&j);
	rep_json_bool(&j, true);
	rep_json_null(&j);
	rep_json_str(&j, "x");
	rep_json_end_array(&j);
	rep_json_key(&j, "empty");
	rep_json_begin_object(&j);
	rep_json_end_object(&j);
	rep_json_key(&j, "d");
	rep_json_double(&j, 0.5);
	rep_json_end_object(&j);
	assert_string_equal(j.buf, "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    null,\n    \"x\"\n  ],\n"
				   "  \"empty\": {},\n  \"d\": 0.5\n}\n");
	rep_json_release(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(string_escaping),
		cmocka_unit_test(doubles_round_trip_shortest),
		cmocka_unit_test(nesting_and_key_order),
	};
	return cmocka_run_group_tests_name("report: json", tests, NULL, NULL);
}
