/* `cwld dag`: loads a CWL workflow and writes an Apache Airflow DAG file for
 * it, to stdout or atomically to a file. The file's contents are
 * dag_emit.c's business; loading and validation are load.c's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cwld/cli.h"
#include "cwld/dag_emit.h"
#include "cwld/err.h"
#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/xmalloc.h"

static void
cmd_dag_usage(FILE *f)
{
	fprintf(f, "usage: cwld dag [-o FILE] [--dag-id ID] WORKFLOW\n"
	    "\n"
	    "Writes an Apache Airflow DAG file for a CWL workflow (or tool): one\n"
	    "BashOperator task per step, calling cwld, with the workflow's\n"
	    "dependencies. The DAG is created paused.\n"
	    "\n"
	    "  -o, --output FILE  write FILE atomically instead of stdout\n"
	    "      --dag-id ID    the DAG's id (default: the workflow's file name;\n"
	    "                     characters outside [A-Za-z0-9_.-] become '_')\n"
	    "  -h, --help         show this help\n");
}

int
cmd_dag(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "dag-id", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cwld_err err = { 0 };
	struct load_ctx *ctx = NULL;
	const char *output = NULL, *dag_id = NULL, *workflow;
	json_t *process = NULL;
	char *cwl_path = NULL, *buf = NULL;
	size_t len = 0;
	FILE *mem = NULL;
	int c, ret = CWLD_EXIT_USAGE;

	optind = 0; /* glibc: full reset, in case another command parsed before */
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'd':
			dag_id = optarg;
			break;
		case 'h':
			cmd_dag_usage(stdout);
			ret = CWLD_EXIT_OK;
			goto out;
		default:
			cmd_dag_usage(stderr);
			goto out;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "cwld dag: expected one WORKFLOW argument\n");
		cmd_dag_usage(stderr);
		goto out;
	}
	workflow = argv[optind];

	ctx = load_ctx_new();
	if ((process = load_process(ctx, workflow, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		ret = err.code != 0 ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	/* Tasks run wherever Airflow puts them: hand cwld an absolute path
	 * (URIs stay as they are). */
	cwl_path = strstr(workflow, "://") != NULL ? xstrdup(workflow) :
	    fs_abspath(workflow);
	if (cwl_path == NULL) {
		fprintf(stderr, "cwld dag: %s: cannot make the path absolute\n", workflow);
		goto out;
	}
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		fprintf(stderr, "cwld dag: open_memstream failed\n");
		ret = CWLD_EXIT_FAILED;
		goto out;
	}
	if (dag_emit(process, dag_id, cwl_path, mem, &err) == -1) {
		fprintf(stderr, "cwld dag: %s: %s\n", workflow, err.msg);
		ret = err.code != 0 ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	if (fclose(mem) != 0) {
		mem = NULL;
		fprintf(stderr, "cwld dag: writing to memory failed\n");
		ret = CWLD_EXIT_FAILED;
		goto out;
	}
	mem = NULL;
	if (output != NULL) {
		if (fs_write_file_atomic(output, buf, len, &err) == -1) {
			fprintf(stderr, "cwld dag: %s\n", err.msg);
			ret = CWLD_EXIT_FAILED;
			goto out;
		}
	} else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "cwld dag: writing to stdout failed\n");
		ret = CWLD_EXIT_FAILED;
		goto out;
	}
	ret = CWLD_EXIT_OK;
out:
	if (mem != NULL)
		fclose(mem);
	free(buf);
	free(cwl_path);
	json_decref(process);
	load_ctx_free(ctx);
	return ret;
}
