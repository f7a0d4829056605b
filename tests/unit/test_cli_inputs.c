/* Unit tests for cli_inputs.c: inputs typed from "--name value" arguments,
 * flags, repeated options for arrays, paths made locations, and the errors
 * for unknown inputs, bad values and types only a job file can give. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/cli_inputs.h"

/* A normalised process (load.h's shape) with one input of each kind. */
static const char *PROCESS = "{\"class\": \"CommandLineTool\", \"inputs\": ["
    "{\"id\": \"n\", \"type\": \"int\"},"
    "{\"id\": \"big\", \"type\": \"long\"},"
    "{\"id\": \"ratio\", \"type\": [\"null\", \"double\"]},"
    "{\"id\": \"name\", \"type\": \"string\", \"default\": \"x\", \"doc\": \"who\"},"
    "{\"id\": \"verbose\", \"type\": \"boolean\"},"
    "{\"id\": \"reads\", \"type\": {\"type\": \"array\", \"items\": \"File\"}},"
    "{\"id\": \"ref\", \"type\": \"Directory\"},"
    "{\"id\": \"mode\", \"type\": {\"type\": \"enum\", \"symbols\": [\"file:///t.cwl#mode/fast\", \"file:///t.cwl#mode/slow\"]}},"
    "{\"id\": \"rec\", \"type\": {\"type\": \"record\", \"fields\": []}},"
    "{\"id\": \"either\", \"type\": [\"int\", \"string\"]}"
    "]}";

static json_t *
parse(json_t *job, int n, const char *const *args, struct cwld_err *err)
{
	json_t *p = json_loads(PROCESS, 0, NULL);
	int rc;

	assert_non_null(p);
	rc = cli_inputs_parse(p, job, n, args, "/work", err);
	json_decref(p);
	return rc == 0 ? job : NULL;
}

static void
test_scalars_and_flags(void **state)
{
	struct cwld_err err = { 0, "" };
	const char *args[] = { "--n", "42", "--big=9000000000", "--ratio", "0.5", "--name", "bob",
	    "--verbose", "--mode", "fast", NULL };
	json_t *job = json_object();

	(void)state;
	assert_non_null(parse(job, 10, args, &err));
	assert_int_equal(json_integer_value(json_object_get(job, "n")), 42);
	assert_true(json_integer_value(json_object_get(job, "big")) == 9000000000LL);
	assert_true(json_real_value(json_object_get(job, "ratio")) == 0.5);
	assert_string_equal(json_string_value(json_object_get(job, "name")), "bob");
	assert_true(json_is_true(json_object_get(job, "verbose")));
	assert_string_equal(json_string_value(json_object_get(job, "mode")), "fast");
	json_decref(job);

	job = json_object();
	const char *off[] = { "--verbose=false", NULL };
	assert_non_null(parse(job, 1, off, &err));
	assert_true(json_is_false(json_object_get(job, "verbose")));
	json_decref(job);
}

static void
test_files_and_arrays(void **state)
{
	struct cwld_err err = { 0, "" };
	const char *args[] = { "--reads", "a.fq", "--reads", "/data/b.fq", "--ref", "s3://bucket/ref/", NULL };
	json_t *job = json_loads("{\"reads\": [{\"class\": \"File\", \"location\": \"file:///old\"}],"
	    " \"n\": 1}", 0, NULL);
	json_t *reads;

	(void)state;
	assert_non_null(parse(job, 6, args, &err));
	reads = json_object_get(job, "reads");
	/* the command line replaces the job file's list, keeps the rest */
	assert_int_equal(json_array_size(reads), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reads, 0), "location")),
	    "file:///work/a.fq");
	assert_string_equal(json_string_value(json_object_get(json_array_get(reads, 0), "class")), "File");
	assert_string_equal(json_string_value(json_object_get(json_array_get(reads, 1), "location")),
	    "file:///data/b.fq");
	assert_string_equal(json_string_value(json_object_get(json_object_get(job, "ref"), "location")),
	    "s3://bucket/ref/");
	assert_string_equal(json_string_value(json_object_get(json_object_get(job, "ref"), "class")),
	    "Directory");
	assert_int_equal(json_integer_value(json_object_get(job, "n")), 1);
	json_decref(job);
}

static void
expect_error(int n, const char **args, const char *want)
{
	struct cwld_err err = { 0, "" };
	json_t *job = json_object();

	assert_null(parse(job, n, args, &err));
	if (strstr(err.msg, want) == NULL)
		print_error("error '%s' lacks '%s'\n", err.msg, want);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	json_decref(job);
}

static void
test_errors(void **state)
{
	const char *unknown[] = { "--nope", "1" };
	const char *badint[] = { "--n", "4x" };
	const char *toobig[] = { "--n", "9000000000" };
	const char *missing[] = { "--n" };
	const char *badenum[] = { "--mode", "medium" };
	const char *rec[] = { "--rec", "x" };
	const char *uni[] = { "--either", "1" };
	const char *bare[] = { "job.yml" };
	const char *badbool[] = { "--verbose=yes" };

	(void)state;
	expect_error(2, unknown, "unknown input '--nope'");
	expect_error(2, unknown, "--n, --big, --ratio");
	expect_error(2, badint, "--n: '4x' is not a valid int");
	expect_error(2, toobig, "is not a valid int");
	expect_error(1, missing, "--n needs a value");
	expect_error(2, badenum, "'medium' is not a valid fast|slow");
	expect_error(2, rec, "type record cannot be given on the command line");
	expect_error(2, uni, "type int|string cannot be given");
	expect_error(1, bare, "unexpected argument 'job.yml'");
	expect_error(1, badbool, "'yes' is not a valid boolean");
}

static void
test_usage(void **state)
{
	json_t *p = json_loads(PROCESS, 0, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	cli_inputs_usage(p, f);
	fclose(f);
	assert_non_null(strstr(buf, "--n int\n"));
	assert_non_null(strstr(buf, "--ratio double (optional)"));
	assert_non_null(strstr(buf, "--name string (optional) [default \"x\"]\n      who"));
	assert_non_null(strstr(buf, "--reads File[]"));
	assert_non_null(strstr(buf, "--mode fast|slow"));
	free(buf);
	json_decref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_and_flags),
		cmocka_unit_test(test_files_and_arrays),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
