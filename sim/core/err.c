/* Errors with positions, bugs and logging. */
#include "core.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local const struct sim *sim_current;
enum sim_log_level sim_log_threshold = SIM_LOG_WARN;

void sim_err_clear(struct sim_err *e)
{
	e->kind = SIM_OK;
	e->msg[0] = '\0';
}

int sim_err_vat(struct sim_err *e, enum sim_err_kind kind, const char *file,
		int line, int col, const char *fmt, va_list ap)
{
	size_t off = 0;

	if (!e || e->kind != SIM_OK)
		return -1;
	e->kind = kind;
	if (file && line > 0) {
		int n = col > 0 ? snprintf(e->msg, sizeof(e->msg), "%s:%d:%d: ",
					    file, line, col)
				: snprintf(e->msg, sizeof(e->msg), "%s:%d: ", file, line);
		off = n > 0 ? (size_t)n : 0;
	} else if (file) {
		int n = snprintf(e->msg, sizeof(e->msg), "%s: ", file);
		off = n > 0 ? (size_t)n : 0;
	}
	if (off >= sizeof(e->msg))
		off = sizeof(e->msg) - 1;
	vsnprintf(e->msg + off, sizeof(e->msg) - off, fmt, ap);
	return -1;
}

int sim_err_set(struct sim_err *e, enum sim_err_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sim_err_vat(e, kind, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int sim_err_at(struct sim_err *e, const char *file, int line, int col,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sim_err_vat(e, SIM_EINPUT, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

int sim_err_exit_code(const struct sim_err *e)
{
	switch (e->kind) {
	case SIM_OK:
		return 0;
	case SIM_EINPUT:
	case SIM_EIO:
		return 2;
	case SIM_EINTERNAL:
		break;
	}
	return 1;
}

const char *sim_time_fmt(sim_time t, char *buf, size_t n)
{
	const char *sign = t < 0 ? "-" : "";
	uint64_t a = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
	snprintf(buf, n, "%s%" PRIu64 ".%06" PRIu64 "s", sign, a / 1000000000u,
		 (a % 1000000000u) / 1000u);
	return buf;
}

void sim_bug(const char *file, int line, const char *cond)
{
	char tb[48];
	fflush(stdout);
	if (sim_current)
		fprintf(stderr, "servesim: bug: %s:%d: assertion '%s' failed at simulated time %s\n",
			file, line, cond, sim_time_fmt(sim_current->now, tb, sizeof(tb)));
	else
		fprintf(stderr, "servesim: bug: %s:%d: assertion '%s' failed\n",
			file, line, cond);
	abort();
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sim_log(enum sim_log_level level, const char *fmt, ...)
{
	char tb[48];
	va_list ap;

	if (level > sim_log_threshold)
		return;
	if (sim_current)
		fprintf(stderr, "[%14s] %s: ",
			sim_time_fmt(sim_current->now, tb, sizeof(tb)),
			level_names[level]);
	else
		fprintf(stderr, "servesim: %s: ", level_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
