/* `cwld validate [--print] FILE[#frag]`: loads a CWL document the way `run`
 * would and reports the first problem as one "file:line:col: message" line,
 * or prints the normalised process. Nothing is executed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cwld/cli.h"
#include "cwld/err.h"
#include "cwld/load.h"

static void
cmd_validate_usage(FILE *f)
{
	fprintf(f, "usage: cwld validate [--print] FILE[#process]\n"
	    "\n"
	    "Checks a CWL document (v1.0 to v1.2, v1.3.0-dev1) without running it.\n"
	    "  -p, --print   print the normalised process as JSON\n"
	    "  -h, --help    show this help\n"
	    "Exit status: 0 valid, 2 invalid, 33 unsupported cwlVersion.\n");
}

int
cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "print", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cwld_err err = { 0 };
	struct load_ctx *ctx = NULL;
	json_t *proc = NULL;
	int c, print = 0, rc = CWLD_EXIT_USAGE;
	char *p;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+ph", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			print = 1;
			break;
		case 'h':
			cmd_validate_usage(stdout);
			return CWLD_EXIT_OK;
		default:
			cmd_validate_usage(stderr);
			return CWLD_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cmd_validate_usage(stderr);
		return CWLD_EXIT_USAGE;
	}
	ctx = load_ctx_new();
	proc = load_process(ctx, argv[optind], &err);
	if (proc == NULL) {
		for (p = err.msg; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		fprintf(stderr, "%s\n", err.msg);
		rc = err.code != 0 ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	if (print) {
		if (json_dumpf(proc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
			fprintf(stderr, "cwld: cannot write output\n");
			goto out;
		}
		fputc('\n', stdout);
	} else
		printf("%s is valid CWL\n", argv[optind]);
	rc = CWLD_EXIT_OK;
out:
	json_decref(proc);
	load_ctx_free(ctx);
	return rc;
}
