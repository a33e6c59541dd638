/*
 * Trace-reader benchmark: writes an Azure-format trace of 5 M rows (2024
 * timestamps) to a temporary file, streams it through the reader, and
 * reports rows per second and peak memory after 1 M and 5 M rows: flat
 * memory is what streaming means.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "workload/workload.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

int main(void)
{
	const long rows = 5000000;
	char path[] = "/tmp/servesim-bench-trace-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct wl_trace cfg = {0};
	struct wl_trace_reader r;
	struct wl_row row;
	struct sim_err err;
	double t0, t1m = 0, dt;
	long n = 0, kb1m = 0;
	uint64_t x = 88172645463325252ull;

	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		perror("bench_trace");
		return 1;
	}
	fprintf(f, "TIMESTAMP,ContextTokens,GeneratedTokens\n");
	for (long i = 0; i < rows; i++) {
		long us = i * 120; /* ~8,300 requests per second of trace */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fprintf(f, "2024-05-10 %02ld:%02ld:%02ld.%06ld+00:00,%lu,%lu\n", us / 3600000000 % 24,
			us / 60000000 % 60, us / 1000000 % 60, us % 1000000, (unsigned long)(x % 8000 + 1),
			(unsigned long)(x >> 40) % 1000 + 1);
	}
	fclose(f);
	cfg.format = WL_FMT_AUTO;
	sim_err_clear(&err);
	t0 = now_s();
	if (wl_trace_open(&r, &cfg, path, WL_FMT_AUTO, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	while (wl_trace_next(&r, &row) == 1) {
		if (++n == 1000000) {
			t1m = now_s() - t0;
			kb1m = rss_kb();
		}
	}
	dt = now_s() - t0;
	wl_trace_close(&r);
	unlink(path);
	printf("%-32s %10s %14s %14s %14s\n", "benchmark", "rows", "wall s", "rows/s", "peak RSS MiB");
	printf("%-32s %10ld %14.3f %14.0f %14.1f\n", "azure trace read, first 1 M", 1000000L, t1m, 1e6 / t1m,
	       (double)kb1m / 1024.0);
	printf("%-32s %10ld %14.3f %14.0f %14.1f\n", "azure trace read, all 5 M", n, dt, (double)n / dt,
	       (double)rss_kb() / 1024.0);
	return n == rows ? 0 : 1;
}
