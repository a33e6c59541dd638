/* Profile tables: Vidur-format mlp.csv, interpolated. Filled in below. */
#include "perf.h"

#include <stdlib.h>

struct perf_profile {
	int unused;
};

void perf_profile_free(struct perf_profile *p)
{
	free(p);
}

double perf_profile_linear(const struct perf_profile *p, double tokens)
{
	(void)p;
	(void)tokens;
	return -1;
}

int perf_profile_load(struct perf_model *m, const char *path, struct sim_err *err)
{
	(void)m;
	return sim_err_set(err, SIM_EINPUT, "%s: profile tables are not read yet", path);
}
