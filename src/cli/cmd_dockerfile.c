/* `cwld dockerfile`: writes the Dockerfile for a tool's SoftwareRequirement
 * (its packages as Debian packages, see dockerfile.h), the one `cwld run
 * --build-missing` builds. Loading is the loader's, the text dockerfile.c's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/cli.h"
#include "cwld/docker.h"
#include "cwld/dockerfile.h"
#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/scheduler.h"
#include "cwld/xmalloc.h"

static void
dockerfile_usage(FILE *f)
{
	fprintf(f,
	    "usage: cwld dockerfile [OPTIONS] TOOL\n"
	    "\n"
	    "Writes a Dockerfile that installs the packages of TOOL's SoftwareRequirement\n"
	    "(under requirements or hints) as Debian packages on a Debian base image:\n"
	    "\n"
	    "  FROM debian:stable-slim\n"
	    "  RUN apt-get update && apt-get install -y --no-install-recommends PKG=VER ...\n"
	    "\n"
	    "Each entry's `package` is the Debian package name; with a `version` list the\n"
	    "first version is pinned (PKG=VER), else apt picks the newest. `specs` (URLs\n"
	    "naming the software elsewhere) are not used: a comment line lists them.\n"
	    "A name or version apt-get would not take as one word is an error. TOOL is a\n"
	    "CommandLineTool file (FILE#id picks one from a $graph). Without a\n"
	    "SoftwareRequirement the Dockerfile is the base image alone.\n"
	    "\n"
	    "`cwld run --build-missing` builds this same Dockerfile for tools that have a\n"
	    "SoftwareRequirement but no image in a DockerRequirement, tagged\n"
	    "cwld-dockerfile:<first 16 hex of the sha256 of the text> and built once. To\n"
	    "build it yourself: docker build -t NAME - < Dockerfile (apt-get needs a Debian\n"
	    "mirror such as deb.debian.org during the build).\n"
	    "\n"
	    "options:\n"
	    "  -o, --output FILE   write here (atomically) instead of stdout\n"
	    "  --base IMAGE        base image (default " DOCKERFILE_DEFAULT_BASE "; must be\n"
	    "                      Debian-based: apt-get installs the packages; for\n"
	    "                      cwld run --build-missing it is --default-container)\n"
	    "  -h, --help          this text\n"
	    "\n"
	    "exit status: 0 written, 1 cannot write FILE, 2 invalid tool or package names.\n");
}

int
cmd_dockerfile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "base", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cwld_err err = { 0, "" };
	struct docker_image_req req;
	struct load_ctx *lc = NULL;
	json_t *process = NULL;
	const json_t *sw, *dr;
	const char *out = NULL, *base = NULL, *cls, *img;
	char *text = NULL, *tag = NULL;
	int ch, rc = CWLD_EXIT_USAGE;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'b': base = optarg; break;
		case 'h': dockerfile_usage(stdout); return CWLD_EXIT_OK;
		default: dockerfile_usage(stderr); return CWLD_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		dockerfile_usage(stderr);
		return CWLD_EXIT_USAGE;
	}
	lc = load_ctx_new();
	process = load_process(lc, argv[optind], &err);
	if (process == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		rc = err.code ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	cls = json_string_value(json_object_get(process, "class"));
	if (cls == NULL || strcmp(cls, "CommandLineTool") != 0) {
		fprintf(stderr, "cwld dockerfile: '%s' is a%s %s, not a CommandLineTool: "
		    "give the file of the tool whose image you want\n", argv[optind],
		    cls && strchr("AEIOU", cls[0]) ? "n" : "", cls ? cls : "document");
		goto out;
	}
	sw = sched_find_req(process, NULL, NULL, "SoftwareRequirement", NULL);
	text = dockerfile_from_software(sw, base, &err);
	if (text == NULL) {
		fprintf(stderr, "cwld dockerfile: %s: %s\n", argv[optind], err.msg);
		rc = err.code ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	if (sw == NULL)
		fprintf(stderr, "cwld dockerfile: note: '%s' has no SoftwareRequirement: "
		    "the Dockerfile is the base image alone\n", argv[optind]);
	dr = sched_find_req(process, NULL, NULL, "DockerRequirement", NULL);
	img = json_string_value(json_object_get(dr, "dockerPull"));
	if (img == NULL)
		img = json_string_value(json_object_get(dr, "dockerImageId"));
	if (dr != NULL && (img != NULL || json_object_get(dr, "dockerFile") ||
	    json_object_get(dr, "dockerLoad") || json_object_get(dr, "dockerImport")))
		fprintf(stderr, "cwld dockerfile: note: '%s' names its image in a "
		    "DockerRequirement%s%s%s: cwld run uses that one, not this Dockerfile\n",
		    argv[optind], img ? " ('" : "", img ? img : "", img ? "')" : "");
	if (out == NULL || strcmp(out, "-") == 0) {
		if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
			fprintf(stderr, "cwld dockerfile: cannot write to stdout\n");
			rc = CWLD_EXIT_FAILED;
			goto out;
		}
	} else {
		if (fs_write_file_atomic(out, text, strlen(text), &err) < 0) {
			fprintf(stderr, "cwld dockerfile: %s\n", err.msg);
			rc = CWLD_EXIT_FAILED;
			goto out;
		}
		memset(&req, 0, sizeof req);
		req.dockerfile = text;
		tag = docker_image_name(&req);
		fprintf(stderr, "cwld dockerfile: wrote %s (cwld run --build-missing "
		    "builds it as %s)\n", out, tag);
	}
	rc = CWLD_EXIT_OK;
out:
	free(text);
	free(tag);
	json_decref(process);
	load_ctx_free(lc);
	return rc;
}
