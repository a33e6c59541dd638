/* Helpers shared by the unit tests: a scratch directory per test program. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tu_dir[64];

/* cmocka group setup/teardown: creates and removes tu_dir. */
static int tu_setup(void **state)
{
	(void)state;
	snprintf(tu_dir, sizeof(tu_dir), "/tmp/servesim-test-XXXXXX");
	return mkdtemp(tu_dir) ? 0 : -1;
}

static int tu_teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tu_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The path of `name` inside tu_dir (a static buffer: use it at once). */
static inline const char *tu_path(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", tu_dir, name);
	return p;
}

/* Writes text to tu_dir/name (its folder must exist); returns the path. */
static inline const char *tu_write(const char *name, const char *text)
{
	const char *p = tu_path(name);
	FILE *f = fopen(p, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s\n", p);
		abort();
	}
	fputs(text, f);
	fclose(f);
	return p;
}

#endif
