/* sim/report HDF5 tables and atomic files: write, read back with the HDF5 API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"
#include "testutil.h"

#define dir tu_dir

struct row {
	int64_t id;
	double t;
	int32_t k;
	char name[16];
};

static void table_round_trip(void **state)
{
	char path[128];
	struct sim_err e;
	struct rep_h5 *h;
	struct rep_h5_table *t;
	const struct rep_col cols[] = {
		{"id", REP_COL_I64, offsetof(struct row, id), 0},
		{"t_s", REP_COL_F64, offsetof(struct row, t), 0},
		{"k", REP_COL_I32, offsetof(struct row, k), 0},
		{"name", REP_COL_STR, offsetof(struct row, name), 16},
	};
	const size_t n = 10000; /* more than two chunks */
	(void)state;
	snprintf(path, sizeof(path), "%s/r.h5", dir);
	sim_err_clear(&e);
	h = rep_h5_create(path, &e);
	assert_non_null(h);
	t = rep_h5_table_new(h, "/timeseries/chat/kv", cols, 4, sizeof(struct row), &e);
	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		struct row r;
		memset(&r, 0, sizeof(r));
		r.id = (int64_t)i;
		r.t = (double)i * 0.5;
		r.k = (int32_t)(i % 7);
		snprintf(r.name, sizeof(r.name), "r%zu", i);
		assert_int_equal(rep_h5_table_append(t, &r, 1), 0);
	}
	assert_int_equal(rep_h5_table_close(t), 0);
	assert_int_equal(rep_h5_attr_str(h, "/", "scenario", "name: x\nseed: 1\n"), 0);
	assert_int_equal(access(path, F_OK), -1); /* not visible before commit */
	assert_int_equal(rep_h5_close(h, true, &e), 0);
	assert_int_equal(access(path, F_OK), 0);

	{
		hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
		hid_t d = H5Dopen2(f, "/timeseries/chat/kv", H5P_DEFAULT);
		hid_t sp = H5Dget_space(d);
		hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(struct row));
		hid_t st = H5Tcopy(H5T_C_S1);
		hsize_t dims[1];
		struct row *rows = calloc(n, sizeof(*rows));
		hid_t dcpl = H5Dget_create_plist(d);
		H5Z_filter_t filters[4];
		int nf = H5Pget_nfilters(dcpl);
		char *attr = NULL;
		hid_t a, at;

		H5Tset_size(st, 16);
		H5Tinsert(mt, "id", offsetof(struct row, id), H5T_NATIVE_INT64);
		H5Tinsert(mt, "t_s", offsetof(struct row, t), H5T_NATIVE_DOUBLE);
		H5Tinsert(mt, "k", offsetof(struct row, k), H5T_NATIVE_INT32);
		H5Tinsert(mt, "name", offsetof(struct row, name), st);
		assert_true(f >= 0 && d >= 0);
		H5Sget_simple_extent_dims(sp, dims, NULL);
		assert_int_equal(dims[0], n);
		assert_true(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
		for (size_t i = 0; i < n; i += 997) {
			char want[16];
			snprintf(want, sizeof(want), "r%zu", i);
			assert_int_equal(rows[i].id, (int64_t)i);
			assert_true(rows[i].t == (double)i * 0.5);
			assert_int_equal(rows[i].k, (int32_t)(i % 7));
			assert_string_equal(rows[i].name, want);
		}
		assert_int_equal(H5Pget_layout(dcpl) == H5D_CHUNKED, 1);
		for (int i = 0; i < nf && i < 4; i++) {
			unsigned flags;
			size_t ne = 0;
			filters[i] = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ne, NULL, 0, NULL, NULL);
		}
		assert_true(nf >= 1);
		assert_true(filters[nf - 1] == H5Z_FILTER_DEFLATE);
		a = H5Aopen(f, "scenario", H5P_DEFAULT);
		at = H5Aget_type(a);
		assert_true(H5Tis_variable_str(at) > 0);
		assert_true(H5Aread(a, at, &attr) >= 0);
		assert_string_equal(attr, "name: x\nseed: 1\n");
		H5free_memory(attr);
		H5Tclose(at);
		H5Aclose(a);
		H5Pclose(dcpl);
		free(rows);
		H5Tclose(st);
		H5Tclose(mt);
		H5Sclose(sp);
		H5Dclose(d);
		H5Fclose(f);
	}
}

static void discarded_file_leaves_nothing(void **state)
{
	char path[128], tmp[140];
	struct sim_err e;
	struct rep_h5 *h;
	(void)state;
	snprintf(path, sizeof(path), "%s/gone.h5", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	sim_err_clear(&e);
	h = rep_h5_create(path, &e);
	assert_non_null(h);
	assert_int_equal(access(tmp, F_OK), 0);
	assert_int_equal(rep_h5_close(h, false, &e), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	/* an unwritable place is an I/O error, not a crash */
	h = rep_h5_create("/nonexistent-dir/x.h5", &e);
	assert_null(h);
	assert_int_equal(e.kind, SIM_EIO);
}

static void atomic_text_files(void **state)
{
	char path[160], sub[128];
	struct sim_err e;
	FILE *f;
	char buf[32] = {0};
	(void)state;
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	sim_err_clear(&e);
	assert_int_equal(rep_mkdir_p(sub, &e), 0);
	assert_int_equal(rep_mkdir_p(sub, &e), 0); /* exists: fine */
	snprintf(path, sizeof(path), "%s/s.json", sub);
	assert_int_equal(rep_write_file(path, "{}\n", 3, &e), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 3);
	fclose(f);
	assert_string_equal(buf, "{}\n");
	assert_int_equal(rep_write_file("/nonexistent-dir/s.json", "x", 1, &e), -1);
	assert_int_equal(e.kind, SIM_EIO);
	sim_err_clear(&e);
	assert_int_equal(rep_mkdir_p(path, &e), -1); /* a file is in the way */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_round_trip),
		cmocka_unit_test(discarded_file_leaves_nothing),
		cmocka_unit_test(atomic_text_files),
	};
	return cmocka_run_group_tests_name("report: hdf5 and files", tests, tu_setup, tu_teardown);
}
