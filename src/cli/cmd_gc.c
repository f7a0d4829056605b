/* `cwld gc`: removes containers left behind by runs whose cwld process died
 * (found by their cwld.run label through the Engine API). */
#include <getopt.h>
#include <stdio.h>

#include "cwld/cli.h"
#include "cwld/docker.h"

int
cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cwld_err err = { 0 };
	const char *run = NULL;
	int ch, n;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': run = optarg; break;
		case 'h':
			printf("usage: cwld gc [--run RUN_ID]\n\n"
			    "Removes every container labelled by cwld (or only those of RUN_ID),\n"
			    "running or not. Uses $DOCKER_HOST or /var/run/docker.sock.\n");
			return CWLD_EXIT_OK;
		default:
			fprintf(stderr, "usage: cwld gc [--run RUN_ID]\n");
			return CWLD_EXIT_USAGE;
		}
	}
	n = docker_gc_sync(NULL, run, &err);
	if (n < 0) {
		fprintf(stderr, "cwld gc: %s\n", err.msg);
		return CWLD_EXIT_UNREACHABLE;
	}
	printf("removed %d container%s\n", n, n == 1 ? "" : "s");
	return CWLD_EXIT_OK;
}
