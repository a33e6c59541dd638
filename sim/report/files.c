/* Atomic file output: write a temporary sibling, then rename into place. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rep_write_file(const char *path, const char *data, size_t len, struct sim_err *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	int rc = -1;

	if (!f) {
		sim_err_set(err, SIM_EIO, "%s: cannot write: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fwrite(data, 1, len, f) != len || fflush(f) != 0) {
		sim_err_set(err, SIM_EIO, "%s: write failed: %s", path, strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0) {
		sim_err_set(err, SIM_EIO, "%s: write failed: %s", path, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		sim_err_set(err, SIM_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int rep_mkdir_p(const char *dir, struct sim_err *err)
{
	char *p = xstrdup(dir);
	size_t n = strlen(p);
	struct stat st;

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			sim_err_set(err, SIM_EIO, "%s: cannot create directory: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0777) != 0 && errno != EEXIST) {
		sim_err_set(err, SIM_EIO, "%s: cannot create directory: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
		sim_err_set(err, SIM_EIO, "%s: not a directory", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}
