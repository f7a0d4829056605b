/* What the subcommands share: where the state (database and work
 * directories) lives when no --state-dir is given, and the options of the
 * resource budget. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/cli.h"
#include "cwld/fs.h"
#include "cwld/s3.h"
#include "cwld/xmalloc.h"

char *
cli_state_dir(const char *opt)
{
	const char *e;

	if (opt)
		return fs_abspath(opt);
	if ((e = getenv("CWLD_STATE_DIR")) && *e)
		return fs_abspath(e);
	if ((e = getenv("XDG_DATA_HOME")) && *e)
		return xasprintf("%s/cwld", e);
	if ((e = getenv("HOME")) && *e)
		return xasprintf("%s/.local/share/cwld", e);
	return xstrdup("/tmp/cwld");
}

int
cli_parse_cores(const char *cmd, const char *v, double *out)
{
	char *end;
	double n;

	errno = 0;
	n = strtod(v, &end);
	if (end == v || *end != '\0' || errno != 0 || !isfinite(n) || n < 0.001 || n > 1e6) {
		fprintf(stderr, "cwld %s: --cores wants a number of cores from 0.001 to "
		    "1000000, not '%s'\n", cmd, v);
		return -1;
	}
	*out = n;
	return 0;
}

int
cli_parse_s3_addressing(const char *cmd, const char *v, int *out)
{
	if (strcmp(v, "path") == 0)
		*out = S3_ADDR_PATH;
	else if (strcmp(v, "virtual-host") == 0)
		*out = S3_ADDR_VHOST;
	else {
		fprintf(stderr, "cwld %s: --s3-addressing wants path or virtual-host, not '%s'\n",
		    cmd, v);
		return -1;
	}
	return 0;
}

int
cli_parse_ram(const char *cmd, const char *v, int64_t *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0 || n < 1 || n > (1LL << 40)) {
		fprintf(stderr, "cwld %s: --ram wants a number of MiB from 1 to %lld, not '%s'\n",
		    cmd, 1LL << 40, v);
		return -1;
	}
	*out = n;
	return 0;
}
