/* sim/config units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "config/config.h"

static char msg[256];

static sim_time dur(const char *s)
{
	sim_time t = -1;
	assert_int_equal(cfg_parse_duration(s, &t, msg, sizeof(msg)), 0);
	return t;
}

static void dur_bad(const char *s, const char *want)
{
	sim_time t;
	assert_int_equal(cfg_parse_duration(s, &t, msg, sizeof(msg)), -1);
	if (!strstr(msg, want))
		fail_msg("'%s' gave '%s', expected it to mention '%s'", s, msg, want);
}

static void durations_are_exact(void **state)
{
	(void)state;
	assert_int_equal(dur("250ms"), 250 * SIM_MS);
	assert_int_equal(dur("15s"), 15 * SIM_SEC);
	assert_int_equal(dur("5m"), 5 * SIM_MIN);
	assert_int_equal(dur("1h"), SIM_HOUR);
	assert_int_equal(dur("2d"), 48 * SIM_HOUR);
	assert_int_equal(dur("100us"), 100 * SIM_US);
	assert_int_equal(dur("7ns"), 7);
	assert_int_equal(dur("1.1s"), 1100000000); /* no float rounding */
	assert_int_equal(dur("0.1"), 100 * SIM_MS); /* a plain number is seconds */
	assert_int_equal(dur(" 30 s "), 30 * SIM_SEC);
	assert_int_equal(dur("1.5e3ms"), 1500 * SIM_MS);
	assert_int_equal(dur("0s"), 0);
	assert_int_equal(dur("0.0000000004s"), 0); /* rounds to the nanosecond */
	assert_int_equal(dur("0.0000000006s"), 1);
	assert_int_equal(dur("9223372036s"), 9223372036 * SIM_SEC); /* ~292 years */
}

static void duration_errors(void **state)
{
	(void)state;
	dur_bad("", "empty");
	dur_bad("abc", "duration");
	dur_bad("5 parsecs", "unknown duration unit");
	dur_bad("-5s", "negative");
	dur_bad("9223372037s", "out of range");
	dur_bad("99999999999999999999999999999h", "out of range");
	dur_bad("1e400s", "out of range");
	dur_bad("1e999s", "exponent");
	dur_bad("10ss", "unit");
	dur_bad("1.2.3s", "unit");
	dur_bad("NaN", "duration");
}

static void sizes(void **state)
{
	int64_t b;
	(void)state;
	assert_int_equal(cfg_parse_size("10GB", &b, msg, sizeof(msg)), 0);
	assert_int_equal(b, 10000000000);
	assert_int_equal(cfg_parse_size("500MiB", &b, msg, sizeof(msg)), 0);
	assert_int_equal(b, 500 * 1048576LL);
	assert_int_equal(cfg_parse_size("1.5KiB", &b, msg, sizeof(msg)), 0);
	assert_int_equal(b, 1536);
	assert_int_equal(cfg_parse_size("4096", &b, msg, sizeof(msg)), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(cfg_parse_size("10 XB", &b, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "unknown size unit"));
	assert_int_equal(cfg_parse_size("-1GB", &b, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_size("9999999PiB", &b, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "out of range"));
}

static void bandwidths_and_rates(void **state)
{
	double v;
	(void)state;
	assert_int_equal(cfg_parse_bandwidth("500MB/s", &v, msg, sizeof(msg)), 0);
	assert_true(v == 500e6);
	assert_int_equal(cfg_parse_bandwidth("10Gbps", &v, msg, sizeof(msg)), 0);
	assert_true(v == 1.25e9);
	assert_int_equal(cfg_parse_bandwidth("1GiB/s", &v, msg, sizeof(msg)), 0);
	assert_true(v == 1073741824.0);
	assert_int_equal(cfg_parse_bandwidth("10 furlongs", &v, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_rate("10/s", &v, msg, sizeof(msg)), 0);
	assert_true(v == 10.0);
	assert_int_equal(cfg_parse_rate("600/min", &v, msg, sizeof(msg)), 0);
	assert_true(v == 10.0);
	assert_int_equal(cfg_parse_rate("36000/h", &v, msg, sizeof(msg)), 0);
	assert_true(v == 10.0);
	assert_int_equal(cfg_parse_rate("2.5", &v, msg, sizeof(msg)), 0);
	assert_true(v == 2.5);
	assert_int_equal(cfg_parse_rate("-1/s", &v, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_rate("5/fortnight", &v, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_rate("1e400/s", &v, msg, sizeof(msg)), -1);
}

static void kubernetes_quantities(void **state)
{
	int64_t m;
	(void)state;
	assert_int_equal(cfg_parse_quantity("4", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 4000);
	assert_int_equal(cfg_parse_quantity("500m", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 500);
	assert_int_equal(cfg_parse_quantity("1.5", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 1500);
	assert_int_equal(cfg_parse_quantity("2Ki", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 2048000);
	assert_int_equal(cfg_parse_quantity("1k", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 1000000);
	assert_int_equal(cfg_parse_quantity("1e3", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 1000000);
	/* MilliValue rounds up: 1n is 0.000001 milli -> 1 */
	assert_int_equal(cfg_parse_quantity("1n", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 1);
	assert_int_equal(cfg_parse_quantity("1.0001m", &m, msg, sizeof(msg)), 0);
	assert_int_equal(m, 2);
	assert_int_equal(cfg_parse_quantity("1Zi", &m, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_quantity("100Ei", &m, msg, sizeof(msg)), -1);
}

static void integers_numbers_bools(void **state)
{
	int64_t i;
	double d;
	bool b;
	(void)state;
	assert_int_equal(cfg_parse_int("42", &i, msg, sizeof(msg)), 0);
	assert_int_equal(i, 42);
	assert_int_equal(cfg_parse_int("-7", &i, msg, sizeof(msg)), 0);
	assert_int_equal(i, -7);
	assert_int_equal(cfg_parse_int("8.0", &i, msg, sizeof(msg)), 0);
	assert_int_equal(i, 8);
	assert_int_equal(cfg_parse_int("8.5", &i, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_int("99999999999999999999", &i, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "out of range"));
	assert_int_equal(cfg_parse_int("12abc", &i, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_int("0x10", &i, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_double("0.25", &d, msg, sizeof(msg)), 0);
	assert_true(d == 0.25);
	assert_int_equal(cfg_parse_double("inf", &d, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_double("nan", &d, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_double("0x1p3", &d, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_double("1e999", &d, msg, sizeof(msg)), -1);
	assert_int_equal(cfg_parse_bool("true", &b, msg, sizeof(msg)), 0);
	assert_true(b);
	assert_int_equal(cfg_parse_bool("False", &b, msg, sizeof(msg)), 0);
	assert_false(b);
	assert_int_equal(cfg_parse_bool("yes", &b, msg, sizeof(msg)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_are_exact),
		cmocka_unit_test(duration_errors),
		cmocka_unit_test(sizes),
		cmocka_unit_test(bandwidths_and_rates),
		cmocka_unit_test(kubernetes_quantities),
		cmocka_unit_test(integers_numbers_bools),
	};
	return cmocka_run_group_tests_name("config: units", tests, NULL, NULL);
}
