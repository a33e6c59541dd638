/* Private to sim/exp: what the sweep and its tables share. */
#ifndef SIM_EXP_INTERNAL_H
#define SIM_EXP_INTERNAL_H

#include "exp.h"

/* Writes DIR/sweep.meta and the tables over the rows of DIR/rows that
 * belong to this shard. */
int exp_tables_write_dir(const struct exp_file *e, size_t npoints, const struct exp_sweep_opts *o,
			 struct exp_sweep_result *res, struct sim_err *err);

#endif
