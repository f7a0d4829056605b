/* libFuzzer target for the CWL loader: the input is written to a file and
 * loaded as a process (with a sibling document it may $import or run) and
 * as a job. Any crash, leak or sanitizer report is a bug; errors are not. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cwld/err.h"
#include "cwld/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_load_dir[64];
static char fuzz_load_doc[128];

static const char fuzz_load_sibling[] =
    "cwlVersion: v1.2\n"
    "class: CommandLineTool\n"
    "baseCommand: echo\n"
    "requirements:\n"
    "  SchemaDefRequirement:\n"
    "    types:\n"
    "      - {name: Rec, type: record, fields: {a: string, b: 'Rec[]?'}}\n"
    "inputs: {x: Any, r: Rec?}\n"
    "outputs: {o: stdout}\n";

static int
fuzz_load_write(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static int
fuzz_load_setup(void)
{
	char path[160];

	snprintf(fuzz_load_dir, sizeof fuzz_load_dir, "/tmp/fuzz_load.XXXXXX");
	if (mkdtemp(fuzz_load_dir) == NULL)
		return -1;
	snprintf(fuzz_load_doc, sizeof fuzz_load_doc, "%s/doc.cwl", fuzz_load_dir);
	snprintf(path, sizeof path, "%s/tool.cwl", fuzz_load_dir);
	if (fuzz_load_write(path, fuzz_load_sibling, sizeof fuzz_load_sibling - 1) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/lib.js", fuzz_load_dir);
	return fuzz_load_write(path, "var x = 1;\n", 11);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct cwld_err err = { 0 };
	struct load_ctx *ctx;
	char where[512];
	json_t *p;

	if (!ready) {
		if (fuzz_load_setup() < 0)
			abort();
		ready = 1;
	}
	if (size > 1 << 20 || fuzz_load_write(fuzz_load_doc, data, size) < 0)
		return 0;
	ctx = load_ctx_new();
	p = load_process(ctx, fuzz_load_doc, &err);
	if (p != NULL) {
		load_where(ctx, p, where, sizeof where);
		json_decref(p);
	} else if (err.code == 0 || strchr(err.msg, '\n') != NULL)
		abort(); /* every failure says what and where, on one line */
	p = load_job(ctx, fuzz_load_doc, &err);
	json_decref(p);
	load_ctx_free(ctx);
	return 0;
}
