/*
 * Random streams: one GSL mt19937 generator per named component. The seed of
 * a stream is a hash of (scenario seed, name) and nothing else, so streams
 * are independent of how many others exist (common random numbers).
 */
#include "core.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_rng {
	gsl_rng *g;
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t sim_hash64(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ splitmix64(seed);
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return splitmix64(h);
}

uint64_t sim_hash_str(const char *s, uint64_t seed)
{
	return sim_hash64(s, strlen(s), seed);
}

struct sim_rng *sim_rng_new(uint64_t seed, const char *name)
{
	struct sim_rng *r = xmalloc(sizeof(*r));
	uint64_t h = sim_hash_str(name, seed);
	/* mt19937 takes a 32-bit seed; fold all 64 bits into it. */
	unsigned long s32 = (unsigned long)((h ^ (h >> 32)) & 0xffffffffu);
	r->g = gsl_rng_alloc(gsl_rng_mt19937);
	if (!r->g) {
		fprintf(stderr, "servesim: out of memory (random stream '%s')\n", name);
		abort();
	}
	gsl_rng_set(r->g, s32 ? s32 : 0x5eed5eedu);
	return r;
}

void sim_rng_free(struct sim_rng *r)
{
	if (!r)
		return;
	gsl_rng_free(r->g);
	free(r);
}

double sim_rng_uniform(struct sim_rng *r) { return gsl_rng_uniform(r->g); }
double sim_rng_uniform_pos(struct sim_rng *r) { return gsl_rng_uniform_pos(r->g); }

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	SIM_ASSERT(n >= 1);
	if (n <= 0xffffffffu)
		return gsl_rng_uniform_int(r->g, (unsigned long)n);
	/* 64-bit range from two 32-bit draws, rejection for exact uniformity. */
	for (;;) {
		uint64_t hi = gsl_rng_get(r->g) & 0xffffffffu;
		uint64_t lo = gsl_rng_get(r->g) & 0xffffffffu;
		uint64_t x = (hi << 32) | lo;
		uint64_t lim = UINT64_MAX - UINT64_MAX % n;
		if (x < lim)
			return x % n;
	}
}

double sim_rng_exponential(struct sim_rng *r, double mean) { return gsl_ran_exponential(r->g, mean); }
double sim_rng_gaussian(struct sim_rng *r, double sigma) { return gsl_ran_gaussian_ziggurat(r->g, sigma); }
double sim_rng_gamma(struct sim_rng *r, double shape, double scale) { return gsl_ran_gamma(r->g, shape, scale); }
double sim_rng_lognormal(struct sim_rng *r, double mu, double sigma) { return gsl_ran_lognormal(r->g, mu, sigma); }
void *sim_rng_gsl(struct sim_rng *r) { return r->g; }
