/*
 * Private to sim/scale: what one controller file lends another (KEDA drives
 * an HPA of its own).
 */
#ifndef SIM_SCALE_CTL_H
#define SIM_SCALE_CTL_H

#include "scale.h"
#include "hpa.h"

void sc_hpa_behavior_rt(const struct hpa_behavior *b, struct hpa_behavior_rt *out);
/* An HPA controller on `spec`'s metrics (or none: metrics filled by the caller). */
void *sc_hpa_create_with(const struct sc_autoscaler_config *cfg, const struct hpa_spec *spec,
			 const struct hpa_behavior *beh, bool has_beh, const struct sc_env *env, size_t dep,
			 const char *where, struct sim_err *err);
/* One reconcile; returns the replicas to set, *input the first metric's value. */
int32_t sc_hpa_reconcile(void *state, const struct sc_series *series, int32_t min, int32_t max, double *input,
			 const char **reason);
void sc_hpa_destroy(void *state);
/* KEDA: replaces the HPA's metrics by External ones on the triggers. */
void sc_hpa_set_external(void *state, size_t n, const struct sc_query *metric, const int64_t *target_m,
			 const bool *average);

#endif
