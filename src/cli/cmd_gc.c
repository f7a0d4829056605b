/* `cwld gc`: removes containers left behind by runs whose cwld process died
 * (kill -9, a crash), found through the Engine API by their labels: cwld.run,
 * and cwld.pid/cwld.host naming the process that started them. */
#include <getopt.h>
#include <stdio.h>

#include "cwld/cli.h"
#include "cwld/docker.h"

static void
gc_usage(FILE *f)
{
	fprintf(f, "usage: cwld gc [--run RUN_ID] [--all]\n");
}

int
cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cwld_err err = { 0 };
	const char *run = NULL;
	int ch, n, all = 0, kept = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': run = optarg; break;
		case 'a': all = 1; break;
		case 'h':
			gc_usage(stdout);
			printf("\nRemoves the containers that cwld started and whose cwld process\n"
			    "is gone (killed, crashed): every container is labelled with its run\n"
			    "(cwld.run), and the pid and host of the cwld process that started it\n"
			    "(cwld.pid, cwld.host). Containers of a cwld process still alive on\n"
			    "this host, started from another host, or without these labels (an\n"
			    "older cwld's), are left alone.\n"
			    "cwld also does this by itself, in the background, the next time it\n"
			    "runs a container.\n\n"
			    "  --run RUN_ID   only the containers of this run\n"
			    "  --all          every cwld container, even of live processes\n\n"
			    "Uses $DOCKER_HOST or /var/run/docker.sock. Exit status 0, or 3 when\n"
			    "the Docker engine cannot be reached.\n");
			return CWLD_EXIT_OK;
		default:
			gc_usage(stderr);
			return CWLD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		gc_usage(stderr);
		return CWLD_EXIT_USAGE;
	}
	n = docker_gc_sync(NULL, run, all, &kept, &err);
	if (n < 0) {
		fprintf(stderr, "cwld gc: %s\n", err.msg);
		return err.code == CWLD_EXIT_UNREACHABLE ? CWLD_EXIT_UNREACHABLE : CWLD_EXIT_FAILED;
	}
	printf("removed %d container%s", n, n == 1 ? "" : "s");
	if (kept > 0)
		printf("; left %d of live cwld processes (--all removes them too)", kept);
	printf("\n");
	return CWLD_EXIT_OK;
}
