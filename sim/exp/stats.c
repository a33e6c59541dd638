/* Statistics over seeds: mean, standard deviation and 95 % confidence
 * intervals from GSL (Student t with n - 1 degrees of freedom). */
#include "exp.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

void exp_stat_of(const double *v, size_t n, struct exp_stat *out)
{
	double *x = xmalloc((n ? n : 1) * sizeof(*x));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			x[k++] = v[i];
	out->n = k;
	out->mean = out->sd = out->half = NAN;
	if (k)
		out->mean = gsl_stats_mean(x, 1, k);
	if (k >= 2) {
		out->sd = gsl_stats_sd_m(x, 1, k, out->mean);
		out->half = gsl_cdf_tdist_Pinv(0.975, (double)(k - 1)) * out->sd / sqrt((double)k);
	}
	free(x);
}

void exp_paired_of(const double *a, const double *b, size_t n, struct exp_paired *out)
{
	double *d = xmalloc((n ? n : 1) * sizeof(*d));
	struct exp_stat st;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(a[i]) && isfinite(b[i]))
			d[k++] = b[i] - a[i];
	exp_stat_of(d, k, &st);
	out->n = st.n;
	out->diff = st.mean;
	out->half = st.half;
	/* a constant non-zero difference (sd 0) is significant: its interval is the point */
	out->significant = st.n >= 2 && !isnan(st.half) && fabs(st.mean) > st.half;
	free(d);
}
