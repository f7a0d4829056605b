/* Unit tests for load: normalised shapes (short ids, map forms, types,
 * $graph, $import/$include, SchemaDefRequirement), error positions, jobs.
 * Fixtures live in tests/unit/data/load/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cwld/err.h"
#include "cwld/load.h"

static char test_load_dir[4096];

static const char *
test_load_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", test_load_dir, name);
	return buf;
}

/* Loads a fixture that must be valid; the caller decrefs. */
static json_t *
test_load_ok(struct load_ctx *ctx, const char *name)
{
	struct cwld_err err = { 0 };
	char path[4200];
	json_t *p;

	p = load_process(ctx, test_load_path(name, path, sizeof path), &err);
	if (p == NULL)
		fail_msg("%s: %s", name, err.msg);
	return p;
}

static json_t *
test_load_find(json_t *list, const char *field, const char *value)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		if (json_is_string(json_object_get(v, field)) &&
		    strcmp(json_string_value(json_object_get(v, field)), value) == 0)
			return v;
	}
	fail_msg("no %s '%s'", field, value);
	return NULL;
}

static void
test_load_json_eq(json_t *got, const char *want)
{
	json_error_t jerr;
	json_t *w = json_loads(want, 0, &jerr);
	char *g;

	assert_non_null(w);
	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("got %s want %s", g, want);
		free(g);
	}
	json_decref(w);
}

static void
test_load_map_forms(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	json_t *p = test_load_ok(ctx, "tool-maps.cwl"), *in, *def, *out;
	const char *loc;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(p, "class")),
	    "CommandLineTool");
	assert_string_equal(json_string_value(json_object_get(p, "cwlVersion")), "v1.2");
	assert_non_null(strstr(json_string_value(json_object_get(p, "id")),
	    "file:///"));
	assert_non_null(strstr(json_string_value(json_object_get(p, "cwld:file")),
	    "/tool-maps.cwl"));
	test_load_json_eq(json_object_get(p, "baseCommand"), "[\"echo\"]");
	in = json_object_get(p, "inputs");
	assert_int_equal(json_array_size(in), 7);
	test_load_json_eq(test_load_find(in, "id", "name"),
	    "{\"id\":\"name\",\"type\":\"string\"}");
	test_load_json_eq(test_load_find(in, "id", "count"),
	    "{\"id\":\"count\",\"type\":[\"null\",\"int\"]}");
	test_load_json_eq(json_object_get(test_load_find(in, "id", "files"), "type"),
	    "{\"type\":\"array\",\"items\":\"File\"}");
	test_load_json_eq(json_object_get(test_load_find(in, "id", "maybe_files"), "type"),
	    "[\"null\",{\"type\":\"array\",\"items\":\"File\"}]");
	test_load_json_eq(json_object_get(test_load_find(in, "id", "mode"), "type"),
	    "{\"type\":\"enum\",\"symbols\":[\"fast\",\"slow\"]}");
	test_load_find(in, "id", "full");
	/* defaults: locations absolute against the document, path -> location */
	def = json_object_get(test_load_find(in, "id", "ref"), "default");
	loc = json_string_value(json_object_get(def, "location"));
	assert_non_null(loc);
	assert_true(strncmp(loc, "file:///", 8) == 0);
	assert_non_null(strstr(loc, "/data/load/data/ref.txt"));
	loc = json_string_value(json_object_get(json_array_get(
	    json_object_get(def, "secondaryFiles"), 0), "location"));
	assert_non_null(loc);
	assert_non_null(strstr(loc, "/data/load/data/ref.txt.fai"));
	/* requirements and hints maps become arrays with class */
	test_load_json_eq(json_object_get(p, "requirements"),
	    "[{\"class\":\"EnvVarRequirement\",\"envDef\":[{\"envName\":\"GREETING\","
	    "\"envValue\":\"hello\"}]},{\"class\":\"InlineJavascriptRequirement\"}]");
	test_load_json_eq(json_object_get(p, "hints"),
	    "[{\"class\":\"DockerRequirement\",\"dockerPull\":\"debian:stable-slim\"}]");
	/* type: stdout becomes a File globbing the stdout file */
	out = test_load_find(json_object_get(p, "outputs"), "id", "out");
	assert_string_equal(json_string_value(json_object_get(out, "type")), "File");
	assert_non_null(json_object_get(p, "stdout"));
	assert_true(json_equal(json_object_get(json_object_get(out, "outputBinding"), "glob"),
	    json_object_get(p, "stdout")));
	json_decref(p);
	load_ctx_free(ctx);
}

static void
test_load_workflow_ids(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	json_t *p = test_load_ok(ctx, "wf-forms.cwl"), *steps, *s, *run;
	char where[512];

	(void)state;
	assert_non_null(strstr(json_string_value(json_object_get(p, "id")),
	    "wf-forms.cwl#main"));
	test_load_json_eq(json_object_get(p, "inputs"),
	    "[{\"id\":\"inp\",\"type\":\"string\"},{\"id\":\"other\",\"type\":\"string\"}]");
	test_load_json_eq(json_object_get(p, "outputs"),
	    "[{\"id\":\"final\",\"type\":\"File\",\"outputSource\":[\"second/out\"]}]");
	steps = json_object_get(p, "steps");
	assert_int_equal(json_array_size(steps), 2);
	s = test_load_find(steps, "id", "first");
	test_load_json_eq(json_object_get(s, "in"), "[{\"id\":\"msg\",\"source\":[\"inp\"]}]");
	test_load_json_eq(json_object_get(s, "out"), "[\"out\"]");
	run = json_object_get(s, "run");
	assert_string_equal(json_string_value(json_object_get(run, "class")),
	    "CommandLineTool");
	assert_non_null(strstr(json_string_value(json_object_get(run, "id")), "/echo.cwl"));
	s = test_load_find(steps, "id", "second");
	test_load_json_eq(json_object_get(s, "in"),
	    "[{\"id\":\"msg\",\"source\":[\"first/out\"],\"valueFrom\":\"$(self)\"},"
	    "{\"id\":\"extra\",\"source\":[\"other\"]}]");
	test_load_json_eq(json_object_get(s, "out"), "[\"out\"]");
	/* both steps run echo.cwl: normalised once, shared */
	assert_ptr_equal(json_object_get(s, "run"), run);
	/* normalised nodes keep their place in the source */
	load_where(ctx, s, where, sizeof where);
	assert_non_null(strstr(where, "wf-forms.cwl:20:"));
	load_where(ctx, json_array_get(json_object_get(
	    json_array_get(json_object_get(s, "in"), 0), "source"), 0),
	    where, sizeof where);
	if (strstr(where, "wf-forms.cwl:23:") == NULL)
		fail_msg("where: %s", where);
	json_decref(p);
	load_ctx_free(ctx);
}

static void
test_load_graph(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	struct cwld_err err = { 0 };
	json_t *p, *run;
	char path[4200];

	(void)state;
	p = test_load_ok(ctx, "packed.cwl");
	assert_string_equal(json_string_value(json_object_get(p, "class")), "Workflow");
	assert_string_equal(json_string_value(json_object_get(p, "cwlVersion")), "v1.2");
	run = json_object_get(json_array_get(json_object_get(p, "steps"), 0), "run");
	assert_string_equal(json_string_value(json_object_get(run, "class")),
	    "CommandLineTool");
	assert_string_equal(json_string_value(json_object_get(run, "cwlVersion")), "v1.2");
	test_load_json_eq(json_object_get(run, "inputs"), "[{\"id\":\"x\",\"type\":\"string\"}]");
	test_load_json_eq(json_object_get(json_array_get(json_object_get(p, "steps"), 0), "in"),
	    "[{\"id\":\"x\",\"source\":[\"x\"]}]");
	json_decref(p);

	p = test_load_ok(ctx, "packed.cwl#other");
	assert_string_equal(json_string_value(json_object_get(p, "class")), "ExpressionTool");
	assert_non_null(strstr(json_string_value(json_object_get(p, "id")),
	    "packed.cwl#other"));
	json_decref(p);

	p = load_process(ctx, test_load_path("packed.cwl#nope", path, sizeof path), &err);
	assert_null(p);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "packed.cwl:3:13: no process '#nope'"));
	load_ctx_free(ctx);
}

static void
test_load_schemadef(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	json_t *p = test_load_ok(ctx, "schemadef.cwl"), *in;

	(void)state;
	in = json_object_get(p, "inputs");
	test_load_json_eq(json_object_get(test_load_find(in, "id", "p"), "type"),
	    "{\"name\":\"Pair\",\"type\":\"record\",\"fields\":["
	    "{\"name\":\"left\",\"type\":\"string\"},"
	    "{\"name\":\"right\",\"type\":{\"name\":\"Side\",\"type\":\"enum\","
	    "\"symbols\":[\"L\",\"R\"]}}]}");
	test_load_json_eq(json_object_get(test_load_find(in, "id", "l"), "type"),
	    "{\"name\":\"Local\",\"type\":\"record\",\"fields\":["
	    "{\"name\":\"value\",\"type\":\"int\"}]}");
	test_load_json_eq(json_object_get(test_load_find(in, "id", "ls"), "type"),
	    "{\"type\":\"array\",\"items\":{\"name\":\"Local\",\"type\":\"record\","
	    "\"fields\":[{\"name\":\"value\",\"type\":\"int\"}]}}");
	/* the requirement keeps the (expanded) definitions, flattened */
	assert_int_equal(json_array_size(json_object_get(json_array_get(
	    json_object_get(p, "requirements"), 0), "types")), 3);
	json_decref(p);
	load_ctx_free(ctx);
}

static void
test_load_import_include(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	json_t *p = test_load_ok(ctx, "include.cwl");

	(void)state;
	test_load_json_eq(json_object_get(p, "requirements"),
	    "[{\"class\":\"InlineJavascriptRequirement\",\"expressionLib\":"
	    "[\"function f() { return 1; }\\n\"]}]");
	test_load_json_eq(json_object_get(p, "hints"),
	    "[{\"class\":\"ResourceRequirement\",\"coresMin\":1}]");
	json_decref(p);
	load_ctx_free(ctx);
}

static const struct test_load_bad {
	const char *file;
	const char *where; /* "line:col: " */
	const char *msg;
	int code;
} test_load_bads[] = {
	{ "bad-yaml.cwl", ":4:8: ", "did not find expected", CWLD_EXIT_USAGE },
	{ "bad-type.cwl", ":6:11: ", "unknown type 'Strng'", CWLD_EXIT_USAGE },
	{ "bad-field.cwl", ":6:9: ", "unknown field 'colour' in CommandLineTool",
	    CWLD_EXIT_USAGE },
	{ "bad-source.cwl", ":10:12: ", "unknown source 'nope' in step 'y'",
	    CWLD_EXIT_USAGE },
	{ "cycle.cwl", ":7:5: ", "cycle in workflow: step 'a' -> 'b' -> 'a'",
	    CWLD_EXIT_USAGE },
	{ "bad-version.cwl", ":1:13: ", "unsupported cwlVersion 'draft-3'",
	    CWLD_EXIT_UNSUPPORTED },
	{ "bad-basecommand.cwl", ":3:14: ",
	    "'baseCommand' must be a string or an array of strings", CWLD_EXIT_USAGE },
	{ "no-command.cwl", ":1:1: ",
	    "command line tool needs 'baseCommand' or 'arguments'", CWLD_EXIT_USAGE },
	{ "missing.cwl", "", "no such file", CWLD_EXIT_USAGE },
};

static void
test_load_errors(void **state)
{
	struct cwld_err err;
	struct load_ctx *ctx;
	char path[4200], want[4400];
	size_t i;
	json_t *p;

	(void)state;
	for (i = 0; i < sizeof test_load_bads / sizeof test_load_bads[0]; i++) {
		const struct test_load_bad *b = &test_load_bads[i];

		memset(&err, 0, sizeof err);
		ctx = load_ctx_new();
		p = load_process(ctx, test_load_path(b->file, path, sizeof path), &err);
		if (p != NULL)
			fail_msg("%s: loaded", b->file);
		snprintf(want, sizeof want, "%s%s", path, b->where);
		if (strncmp(err.msg, want, strlen(want)) != 0 ||
		    strstr(err.msg, b->msg) == NULL || err.code != b->code)
			fail_msg("%s: got '%s' (%d), want '%s...%s' (%d)", b->file,
			    err.msg, err.code, want, b->msg, b->code);
		assert_null(strchr(err.msg, '\n'));
		load_ctx_free(ctx);
	}
}

static void
test_load_job(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	struct cwld_err err = { 0 };
	char path[4200];
	json_t *job, *inp, *dir;
	const char *loc;

	(void)state;
	job = load_job(ctx, test_load_path("job.yml", path, sizeof path), &err);
	if (job == NULL)
		fail_msg("%s", err.msg);
	inp = json_object_get(job, "inp");
	loc = json_string_value(json_object_get(inp, "location"));
	assert_true(strncmp(loc, "file:///", 8) == 0);
	assert_non_null(strstr(loc, "/data/load/data/a.txt"));
	inp = json_array_get(json_object_get(inp, "secondaryFiles"), 0);
	loc = json_string_value(json_object_get(inp, "location"));
	assert_non_null(loc);
	assert_non_null(strstr(loc, "/data/load/data/a.txt.idx"));
	assert_true(strncmp(loc, "file:///", 8) == 0);
	dir = json_object_get(job, "dir");
	loc = json_string_value(json_object_get(dir, "location"));
	assert_non_null(strstr(loc, "/data/load/data"));
	loc = json_string_value(json_object_get(json_array_get(
	    json_object_get(dir, "listing"), 0), "location"));
	assert_non_null(strstr(loc, "file:///"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(job,
	    "remote"), "location")), "http://example.org/x");
	assert_int_equal(json_integer_value(json_object_get(job, "n")), 3);
	json_decref(job);

	/* a job that is not a map is refused with a position */
	memset(&err, 0, sizeof err);
	job = load_job(ctx, test_load_path("types.yml", path, sizeof path), &err);
	assert_null(job);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "types.yml:1:1: "));
	load_ctx_free(ctx);
}

/* The same context loads several documents and reuses its cache. */
static void
test_load_reuse(void **state)
{
	struct load_ctx *ctx = load_ctx_new();
	json_t *a = test_load_ok(ctx, "wf-forms.cwl"), *b = test_load_ok(ctx, "echo.cwl");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(b, "class")),
	    "CommandLineTool");
	assert_non_null(load_ctx_srcmap(ctx));
	json_decref(a);
	json_decref(b);
	load_ctx_free(ctx);
	load_ctx_free(NULL);
}

/* Workflows of two steps running the workflow one level down, 13 levels:
 * shared loads are cheap, but 2^13 processes still exceed the budget, so
 * what walks the tree later is bounded too. */
static void
test_load_budget(void **state)
{
	char dir[] = "/tmp/cwld-test-load-XXXXXX", path[4200];
	struct cwld_err err = { 0 };
	struct load_ctx *ctx;
	json_t *p;
	FILE *f;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i <= 13; i++) {
		snprintf(path, sizeof path, "%s/l%d.cwl", dir, i);
		f = fopen(path, "w");
		assert_non_null(f);
		if (i == 0)
			fputs("cwlVersion: v1.2\nclass: CommandLineTool\n"
			    "baseCommand: [\"true\"]\ninputs: []\noutputs: []\n", f);
		else
			fprintf(f, "cwlVersion: v1.2\nclass: Workflow\ninputs: []\n"
			    "outputs: []\nsteps:\n"
			    "  a: {run: l%d.cwl, in: [], out: []}\n"
			    "  b: {run: l%d.cwl, in: [], out: []}\n", i - 1, i - 1);
		fclose(f);
	}
	/* 2^11 - 1 = 2047 processes fit */
	ctx = load_ctx_new();
	snprintf(path, sizeof path, "%s/l10.cwl", dir);
	p = load_process(ctx, path, &err);
	if (p == NULL)
		fail_msg("l10: %s", err.msg);
	json_decref(p);
	load_ctx_free(ctx);
	ctx = load_ctx_new();
	snprintf(path, sizeof path, "%s/l13.cwl", dir);
	assert_null(load_process(ctx, path, &err));
	if (strstr(err.msg, "too many processes") == NULL)
		fail_msg("l13: %s", err.msg);
	load_ctx_free(ctx);
	for (i = 0; i <= 13; i++) {
		snprintf(path, sizeof path, "%s/l%d.cwl", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

/* A few documents of the conformance suite, when it is around. */
static void
test_load_suite_sample(void **state)
{
	static const char *const docs[] = {
		"scatter-valuefrom-wf4.cwl", "schemadef_types_with_import-tool.cwl",
		"params.cwl", "template-tool.cwl", "formattest2.cwl",
		"import_schema-def_packed.cwl", "revsort-packed.cwl",
	};
	const char *shared = getenv("CWLD_SHARED_DIR");
	struct load_ctx *ctx;
	struct cwld_err err;
	char path[4200];
	json_t *p;
	size_t i;

	(void)state;
	if (shared == NULL)
		skip();
	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		snprintf(path, sizeof path, "%s/conformance/cwl-v1.2/tests/%s", shared,
		    docs[i]);
		ctx = load_ctx_new();
		memset(&err, 0, sizeof err);
		p = load_process(ctx, path, &err);
		if (p == NULL && strstr(err.msg, "no such file") != NULL) {
			load_ctx_free(ctx);
			skip();
		}
		if (p == NULL)
			fail_msg("%s: %s", docs[i], err.msg);
		if (strcmp(docs[i], "formattest2.cwl") == 0)
			assert_string_equal(json_string_value(json_object_get(json_array_get(
			    json_object_get(p, "inputs"), 0), "format")),
			    "http://edamontology.org/format_2330");
		json_decref(p);
		load_ctx_free(ctx);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_map_forms),
		cmocka_unit_test(test_load_workflow_ids),
		cmocka_unit_test(test_load_graph),
		cmocka_unit_test(test_load_schemadef),
		cmocka_unit_test(test_load_import_include),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_job),
		cmocka_unit_test(test_load_reuse),
		cmocka_unit_test(test_load_budget),
		cmocka_unit_test(test_load_suite_sample),
	};
	const char *slash = strrchr(__FILE__, '/');

	snprintf(test_load_dir, sizeof test_load_dir, "%.*s/data/load",
	    slash != NULL ? (int)(slash - __FILE__) : 1,
	    slash != NULL ? __FILE__ : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
