/* sim/core digest.c: SHA-256 against FIPS 180-4's examples, calendar days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void sha256_vectors(void **state)
{
	char out[65], *big;
	(void)state;
	sim_sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sim_sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the padding spills into a second block */
	sim_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	big = malloc(1000000);
	memset(big, 'a', 1000000);
	sim_sha256_hex(big, 1000000, out);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(big);
}

static void civil_days(void **state)
{
	(void)state;
	assert_int_equal(sim_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(sim_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(sim_days_from_civil(2026, 1, 1), 20454);
	assert_int_equal(sim_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(sim_days_from_civil(2024, 2, 29) + 1, sim_days_from_civil(2024, 3, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_vectors),
		cmocka_unit_test(civil_days),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
