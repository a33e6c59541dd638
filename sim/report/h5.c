/*
 * results.h5: appendable compound tables (chunked, deflate), after HDF5's
 * ptExampleFL.c and h5ex_d_unlimgzip.c. Rows are buffered and written a
 * chunk at a time. The file is written under a temporary name and renamed
 * into place on commit.
 */
#include "report.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_ROWS 4096u

struct rep_h5 {
	hid_t file;
	char *path, *tmp;
};

struct rep_h5_table {
	hid_t dset, mtype;
	size_t row_size;
	hsize_t nrows;
	unsigned char *buf;
	size_t nbuf;
};

static void quiet_hdf5(void)
{
	/* Errors are reported through sim_err, not HDF5's stack dump. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct rep_h5 *rep_h5_create(const char *path, struct sim_err *err)
{
	struct rep_h5 *h = xcalloc(1, sizeof(*h));
	hid_t fapl;
	quiet_hdf5();
	h->path = xstrdup(path);
	h->tmp = xasprintf("%s.tmp", path);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	/* The oldest format that has what we use keeps files readable widely. */
	H5Pset_libver_bounds(fapl, H5F_LIBVER_EARLIEST, H5F_LIBVER_LATEST);
	h->file = H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	H5Pclose(fapl);
	if (h->file < 0) {
		sim_err_set(err, SIM_EIO, "%s: cannot create HDF5 file", path);
		free(h->path);
		free(h->tmp);
		free(h);
		return NULL;
	}
	return h;
}

int rep_h5_close(struct rep_h5 *h, bool commit, struct sim_err *err)
{
	int rc = 0;
	if (!h)
		return 0;
	if (H5Fclose(h->file) < 0) {
		rc = sim_err_set(err, SIM_EIO, "%s: cannot close HDF5 file", h->path);
		commit = false;
	}
	if (commit && rename(h->tmp, h->path) != 0)
		rc = sim_err_set(err, SIM_EIO, "%s: cannot rename into place", h->path);
	if (!commit || rc)
		unlink(h->tmp);
	free(h->path);
	free(h->tmp);
	free(h);
	return rc;
}

static hid_t col_type(const struct rep_col *c)
{
	hid_t t;
	switch (c->type) {
	case REP_COL_I64: return H5Tcopy(H5T_NATIVE_INT64);
	case REP_COL_I32: return H5Tcopy(H5T_NATIVE_INT32);
	case REP_COL_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
	case REP_COL_STR:
		t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, c->len);
		H5Tset_strpad(t, H5T_STR_NULLTERM);
		return t;
	}
	return -1;
}

struct rep_h5_table *rep_h5_table_new(struct rep_h5 *h, const char *path,
				      const struct rep_col *cols, size_t ncols,
				      size_t row_size, struct sim_err *err)
{
	struct rep_h5_table *t = xcalloc(1, sizeof(*t));
	hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {CHUNK_ROWS};
	hid_t space, dcpl, lcpl;

	t->row_size = row_size;
	t->mtype = H5Tcreate(H5T_COMPOUND, row_size);
	for (size_t i = 0; i < ncols; i++) {
		hid_t ct = col_type(&cols[i]);
		H5Tinsert(t->mtype, cols[i].name, cols[i].off, ct);
		H5Tclose(ct);
	}
	space = H5Screate_simple(1, dims, maxdims);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, chunk);
	H5Pset_shuffle(dcpl);
	H5Pset_deflate(dcpl, 4);
	lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	t->dset = H5Dcreate2(h->file, path, t->mtype, space, lcpl, dcpl, H5P_DEFAULT);
	H5Pclose(lcpl);
	H5Pclose(dcpl);
	H5Sclose(space);
	if (t->dset < 0) {
		sim_err_set(err, SIM_EIO, "cannot create dataset %s", path);
		H5Tclose(t->mtype);
		free(t);
		return NULL;
	}
	t->buf = xmalloc(row_size * CHUNK_ROWS);
	return t;
}

static int flush(struct rep_h5_table *t)
{
	hsize_t start[1], count[1], newsize[1];
	hid_t fspace, mspace;
	herr_t st;
	if (t->nbuf == 0)
		return 0;
	newsize[0] = t->nrows + t->nbuf;
	if (H5Dset_extent(t->dset, newsize) < 0)
		return -1;
	fspace = H5Dget_space(t->dset);
	start[0] = t->nrows;
	count[0] = t->nbuf;
	H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
	mspace = H5Screate_simple(1, count, NULL);
	st = H5Dwrite(t->dset, t->mtype, mspace, fspace, H5P_DEFAULT, t->buf);
	H5Sclose(mspace);
	H5Sclose(fspace);
	if (st < 0)
		return -1;
	t->nrows += t->nbuf;
	t->nbuf = 0;
	return 0;
}

int rep_h5_table_append(struct rep_h5_table *t, const void *rows, size_t n)
{
	const unsigned char *r = rows;
	while (n > 0) {
		size_t k = CHUNK_ROWS - t->nbuf;
		if (k > n)
			k = n;
		memcpy(t->buf + t->nbuf * t->row_size, r, k * t->row_size);
		t->nbuf += k;
		r += k * t->row_size;
		n -= k;
		if (t->nbuf == CHUNK_ROWS && flush(t))
			return -1;
	}
	return 0;
}

int rep_h5_table_close(struct rep_h5_table *t)
{
	int rc;
	if (!t)
		return 0;
	rc = flush(t);
	H5Dclose(t->dset);
	H5Tclose(t->mtype);
	free(t->buf);
	free(t);
	return rc;
}

int rep_h5_attr_str(struct rep_h5 *h, const char *obj, const char *name, const char *value)
{
	hid_t o, type, space, attr;
	herr_t st;
	const char *v[1] = {value};
	o = H5Oopen(h->file, obj, H5P_DEFAULT);
	if (o < 0)
		return -1;
	/* variable-length UTF-8, so h5py reads it back as str, not bytes */
	type = H5Tcopy(H5T_C_S1);
	H5Tset_size(type, H5T_VARIABLE);
	H5Tset_cset(type, H5T_CSET_UTF8);
	space = H5Screate(H5S_SCALAR);
	attr = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	st = attr < 0 ? -1 : H5Awrite(attr, type, v);
	if (attr >= 0)
		H5Aclose(attr);
	H5Sclose(space);
	H5Tclose(type);
	H5Oclose(o);
	return st < 0 ? -1 : 0;
}
