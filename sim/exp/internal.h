/* Private to sim/exp: what the sweep and its tables share. */
#ifndef SIM_EXP_INTERNAL_H
#define SIM_EXP_INTERNAL_H

#include "exp.h"

/* The most rows (points x seeds) a sweep may have. */
#define EXP_MAX_ROWS 10000000

/* Writes DIR/sweep.meta and the tables over the rows of DIR/rows that
 * belong to this shard. */
int exp_tables_write_dir(const struct exp_file *e, size_t npoints, const struct exp_sweep_opts *o,
			 struct exp_sweep_result *res, struct sim_err *err);

/* A number as the tables and row files write it: integers as integers, NaN
 * as nan, others as the shortest text that reads back to the same double. */
void exp_num_text(double v, char *buf, size_t n);

#endif
