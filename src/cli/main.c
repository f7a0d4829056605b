/* cwld's entry point: a table of subcommands, each in its own cmd_<name>.c.
 * Invoked as cwl-runner (the drop-in name) it behaves as `cwld run`. */
#include <stdio.h>
#include <string.h>

#include "cwld/cli.h"
#include "cwld/err.h"

struct main_cmd {
	const char *name;
	const char *usage;
	int (*fn)(int, char **);
};

static const struct main_cmd main_cmds[] = {
	{ "run", "run a CWL tool or workflow (drop-in cwl-runner)", cmd_run },
	{ "validate", "check a CWL document and report file:line:col errors", cmd_validate },
	{ "dag", "write an Apache Airflow DAG file for a workflow", cmd_dag },
	{ "gc", "remove containers left by runs whose process died", cmd_gc },
	{ "dockerfile", "write a Dockerfile for a tool's SoftwareRequirement packages", cmd_dockerfile },
	{ "serve", "run the daemon: HTTP API, GA4GH WES, live events, Airflow mirror", cmd_serve },
	{ "submit", "submit a run to a daemon", cmd_submit },
	{ "list", "list a daemon's runs", cmd_list },
	{ "status", "show a run of a daemon with its steps", cmd_status },
	{ "logs", "print (or follow) a step's stdout or stderr from a daemon", cmd_logs },
	{ "cancel", "cancel a run on a daemon", cmd_cancel },
};

static void
main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: cwld COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof main_cmds / sizeof main_cmds[0]; i++)
		fprintf(f, "  %-10s %s\n", main_cmds[i].name, main_cmds[i].usage);
	fprintf(f, "\n'cwld COMMAND --help' explains a command. Exit status: 0 success,\n"
	    "1 workflow failed, 2 usage or invalid input, 3 daemon or Docker unreachable,\n"
	    "33 unsupported CWL feature.\n");
}

int
main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	size_t i;

	if (strcmp(prog, "cwl-runner") == 0)
		return cmd_run(argc, argv);
	if (argc < 2) {
		main_usage(stderr);
		return CWLD_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return CWLD_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("cwld 0.1.0\n");
		return CWLD_EXIT_OK;
	}
	for (i = 0; i < sizeof main_cmds / sizeof main_cmds[0]; i++) {
		if (strcmp(argv[1], main_cmds[i].name) == 0)
			return main_cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "cwld: unknown command '%s'\n", argv[1]);
	main_usage(stderr);
	return CWLD_EXIT_USAGE;
}
