/*
 * sim/perf: how long one engine step takes on a GPU for an LLM. Owns the
 * `perf:` key of a deployment (which model: roofline or profile tables) and,
 * from the model-server issue on, the step-time models and their calibration.
 *
 * Invariants:
 *  - A step time is a pure function of the batch aggregates, the GPU, the
 *    LLM, the dtype and the parallelism; it is computed in O(1) per step.
 */
#ifndef SIM_PERF_H
#define SIM_PERF_H

#include "../config/config.h"

enum perf_kind { PERF_ROOFLINE, PERF_PROFILE };

struct perf_config {
	int model;        /* enum perf_kind */
	const char *path; /* profile: directory or mlp.csv of Vidur-format tables */
	double efficiency_scale; /* multiplies the calibrated efficiencies */
	sim_time step_overhead;  /* added to every step, on top of the calibration */
};

extern const struct cfg_schema perf_config_schema;

#endif
