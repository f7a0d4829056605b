/* Unit tests for outputs: glob collection in a real output directory,
 * checksums, single-file coercion, optional and missing outputs,
 * cwl.output.json, secondaryFiles, Directory outputs, confinement to the
 * output directory, and parameter-reference expressions (no JavaScript). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cwld/outputs.h"
#include "cwld/expr.h"
#include "cwld/fs.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"
#include "testutil.h"

#define HELLO_SHA1 "sha1$f572d396fae9206628714fb2ce00f72e94f2258f"
#define WORLD_SHA1 "sha1$9591818c07e900db7e1e0bc4b884c945e6a61b24"
#define EMPTY_SHA1 "sha1$da39a3ee5e6b4b0d3255bfef95601890afd80709"

struct to_state {
	char *dir;
	struct expr_ctx *ex;
};

static int
to_setup(void **state)
{
	struct to_state *s = xcalloc(1, sizeof *s);
	char tmpl[] = "/tmp/cwld-test-outputs-XXXXXX";
	struct cwld_err err;

	assert_non_null(mkdtemp(tmpl));
	s->dir = xstrdup(tmpl);
	memset(&err, 0, sizeof err);
	s->ex = expr_ctx_new(0, NULL, &err);
	if (s->ex == NULL)
		fail_msg("expr_ctx_new: %s", err.msg);
	tu_write(s->dir, "a.txt", "hello\n");
	tu_write(s->dir, "b.txt", "world\n");
	tu_write(s->dir, "c.log", "");
	*state = s;
	return 0;
}

static int
to_teardown(void **state)
{
	struct to_state *s = *state;

	assert_int_equal(fs_rm_rf(s->dir, NULL), 0);
	expr_ctx_free(s->ex);
	free(s->dir);
	free(s);
	return 0;
}

/* Collects with a tool whose outputs array is outputs_json. */
static json_t *
to_collect(struct to_state *s, const char *outputs_json,
    const char *inputs_json, const char *runtime_json, struct cwld_err *err)
{
	json_t *tool, *inputs, *runtime, *ret;

	tool = json_pack("{s:s, s:s, s:o}", "class", "CommandLineTool",
	    "cwlVersion", "v1.2", "outputs", tu_json(outputs_json));
	inputs = tu_json(inputs_json != NULL ? inputs_json : "{}");
	runtime = tu_json(runtime_json != NULL ? runtime_json : "{}");
	memset(err, 0, sizeof *err);
	ret = outputs_collect(tool, inputs, runtime, s->dir, s->ex, err);
	json_decref(tool);
	json_decref(inputs);
	json_decref(runtime);
	return ret;
}

static void
test_glob_files(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r, *l, *f;
	char *want;

	r = to_collect(s, "[{\"id\": \"all\", \"type\": {\"type\": \"array\", "
	    "\"items\": \"File\"}, \"outputBinding\": {\"glob\": \"*.txt\"}}]",
	    NULL, NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	l = json_object_get(r, "all");
	assert_int_equal(json_array_size(l), 2);
	f = json_array_get(l, 0);
	assert_string_equal(tu_str(f, "class"), "File");
	assert_string_equal(tu_str(f, "basename"), "a.txt");
	assert_string_equal(tu_str(f, "nameroot"), "a");
	assert_string_equal(tu_str(f, "nameext"), ".txt");
	assert_string_equal(tu_str(f, "checksum"), HELLO_SHA1);
	assert_int_equal(json_integer_value(json_object_get(f, "size")), 6);
	want = fs_join(s->dir, "a.txt");
	assert_string_equal(tu_str(f, "path"), want);
	free(want);
	want = uri_from_path(tu_str(f, "path"));
	assert_string_equal(tu_str(f, "location"), want);
	free(want);
	f = json_array_get(l, 1);
	assert_string_equal(tu_str(f, "basename"), "b.txt");
	assert_string_equal(tu_str(f, "checksum"), WORLD_SHA1);
	json_decref(r);

	/* An array of patterns; results in pattern order. */
	r = to_collect(s, "[{\"id\": \"x\", \"type\": {\"type\": \"array\", "
	    "\"items\": \"File\"}, \"outputBinding\": {\"glob\": [\"*.log\", "
	    "\"b.txt\", \"nothing*\"]}}]", NULL, NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	l = json_object_get(r, "x");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(tu_str(json_array_get(l, 0), "checksum"),
	    EMPTY_SHA1);
	assert_string_equal(tu_str(json_array_get(l, 1), "basename"), "b.txt");
	json_decref(r);
}

static void
test_single_and_missing(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r;

	r = to_collect(s, "[{\"id\": \"one\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"a.txt\"}}, {\"id\": \"opt\", "
	    "\"type\": [\"null\", \"File\"], \"outputBinding\": {\"glob\": "
	    "\"zzz\"}}, {\"id\": \"nob\", \"type\": [\"null\", \"string\"]}]",
	    NULL, NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(tu_str(json_object_get(r, "one"), "checksum"),
	    HELLO_SHA1);
	assert_true(json_is_null(json_object_get(r, "opt")));
	assert_true(json_is_null(json_object_get(r, "nob")));
	assert_int_equal(json_object_size(r), 3);
	json_decref(r);

	r = to_collect(s, "[{\"id\": \"x\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"y.txt\"}}]", NULL, NULL, &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_FAILED);
	assert_string_equal(err.msg, "output 'x': no file matches glob "
	    "'y.txt'");

	r = to_collect(s, "[{\"id\": \"x\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"*.txt\"}}]", NULL, NULL, &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_FAILED);
	assert_non_null(strstr(err.msg, "output 'x': 2 files match"));

	r = to_collect(s, "[{\"id\": \"x\", \"type\": \"int\"}]", NULL, NULL,
	    &err);
	assert_null(r);
	assert_string_equal(err.msg, "output 'x': missing required output "
	    "(expected int)");
}

static void
test_cwl_output_json(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r, *f;

	tu_write(s->dir, "cwl.output.json", "{\"out\": {\"class\": \"File\", "
	    "\"location\": \"a.txt\"}, \"p\": {\"class\": \"File\", \"path\": "
	    "\"b.txt\"}, \"n\": 3, \"extra\": true}");
	r = to_collect(s, "[{\"id\": \"out\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"nothing\"}}, {\"id\": \"p\", "
	    "\"type\": \"File\"}, {\"id\": \"n\", \"type\": \"int\"}, "
	    "{\"id\": \"o\", \"type\": [\"null\", \"int\"]}]", NULL, NULL,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(json_object_size(r), 4);
	f = json_object_get(r, "out");
	assert_string_equal(tu_str(f, "checksum"), HELLO_SHA1);
	assert_string_equal(tu_str(f, "basename"), "a.txt");
	assert_non_null(strstr(tu_str(f, "location"), "file:///"));
	f = json_object_get(r, "p");
	assert_string_equal(tu_str(f, "checksum"), WORLD_SHA1);
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 3);
	assert_true(json_is_null(json_object_get(r, "o")));
	json_decref(r);

	/* A wrong type in cwl.output.json fails the step. */
	r = to_collect(s, "[{\"id\": \"n\", \"type\": \"string\"}]", NULL,
	    NULL, &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_FAILED);
	assert_non_null(strstr(err.msg, "output 'n'"));

	/* Integers beyond 64 bits are read as reals, the others stay. */
	tu_write(s->dir, "cwl.output.json", "{\"big\": "
	    "1000000000000000000000000000000000000000000, \"i\": [42]}");
	r = to_collect(s, "[{\"id\": \"big\", \"type\": \"double\"}, "
	    "{\"id\": \"i\", \"type\": {\"type\": \"array\", \"items\": "
	    "\"int\"}}]", NULL, NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_true(json_real_value(json_object_get(r, "big")) == 1e42);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r,
	    "i"), 0)), 42);
	json_decref(r);

	tu_write(s->dir, "cwl.output.json", "{not json");
	r = to_collect(s, "[]", NULL, NULL, &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_FAILED);
	assert_non_null(strstr(err.msg, "cwl.output.json:1:"));
}

static void
test_secondary_files(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r, *sf;

	tu_write(s->dir, "r.bam", "bam");
	tu_write(s->dir, "r.bai", "hello\n");
	tu_write(s->dir, "r.sec", "x");
	r = to_collect(s, "[{\"id\": \"b\", \"type\": \"File\", "
	    "\"secondaryFiles\": [\"^.bai\", \".idx\", "
	    "\"$(self.nameroot).sec\"], \"outputBinding\": {\"glob\": "
	    "\"r.bam\"}}]", NULL, NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	sf = json_object_get(json_object_get(r, "b"), "secondaryFiles");
	assert_int_equal(json_array_size(sf), 2);
	assert_string_equal(tu_str(json_array_get(sf, 0), "basename"),
	    "r.bai");
	assert_string_equal(tu_str(json_array_get(sf, 0), "checksum"),
	    HELLO_SHA1);
	assert_string_equal(tu_str(json_array_get(sf, 1), "basename"),
	    "r.sec");
	json_decref(r);

	r = to_collect(s, "[{\"id\": \"b\", \"type\": \"File\", "
	    "\"secondaryFiles\": [{\"pattern\": \".idx\", \"required\": "
	    "true}], \"outputBinding\": {\"glob\": \"r.bam\"}}]", NULL, NULL,
	    &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_FAILED);
	assert_non_null(strstr(err.msg, "output 'b': missing required "
	    "secondary file"));
}

static void
test_confinement(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r;
	char *link;

	r = to_collect(s, "[{\"id\": \"x\", \"type\": {\"type\": \"array\", "
	    "\"items\": \"File\"}, \"outputBinding\": {\"glob\": \"../*\"}}]",
	    NULL, NULL, &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "outside the output directory"));

	r = to_collect(s, "[{\"id\": \"x\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"/etc/passwd\"}}]", NULL, NULL,
	    &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "outside the output directory"));

	link = fs_join(s->dir, "evil");
	assert_int_equal(symlink("/etc/passwd", link), 0);
	free(link);
	r = to_collect(s, "[{\"id\": \"x\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"evil\"}}]", NULL, NULL, &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "points outside"));

	/* A container path under runtime.outdir is the host outdir. */
	r = to_collect(s, "[{\"id\": \"x\", \"type\": \"File\", "
	    "\"outputBinding\": {\"glob\": \"/var/spool/cwl/a.txt\"}}]", NULL,
	    "{\"outdir\": \"/var/spool/cwl\"}", &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(tu_str(json_object_get(r, "x"), "checksum"),
	    HELLO_SHA1);
	json_decref(r);
}

static void
test_directories(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r, *d, *l;

	tu_mkdir(s->dir, "a_dir");
	tu_mkdir(s->dir, "b_dir");
	tu_mkdir(s->dir, "c_dir");
	tu_write(s->dir, "a_dir/in.txt", "hello\n");
	r = to_collect(s, "[{\"id\": \"dirs\", \"type\": {\"type\": "
	    "\"array\", \"items\": \"Directory\"}, \"outputBinding\": "
	    "{\"glob\": \"[a,b]_dir\"}}, {\"id\": \"top\", \"type\": "
	    "\"Directory\", \"outputBinding\": {\"glob\": \".\"}}]", NULL, NULL,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	l = json_object_get(r, "dirs");
	assert_int_equal(json_array_size(l), 2);
	d = json_array_get(l, 0);
	assert_string_equal(tu_str(d, "class"), "Directory");
	assert_string_equal(tu_str(d, "basename"), "a_dir");
	l = json_object_get(d, "listing");
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(tu_str(json_array_get(l, 0), "checksum"),
	    HELLO_SHA1);
	d = json_array_get(json_object_get(r, "dirs"), 1);
	assert_int_equal(json_array_size(json_object_get(d, "listing")), 0);
	/* glob "." is the output directory itself, listed in full. */
	d = json_object_get(r, "top");
	assert_string_equal(tu_str(d, "path"), s->dir);
	l = json_object_get(d, "listing");
	assert_int_equal(json_array_size(l), 6);
	d = json_array_get(l, 0);
	assert_string_equal(tu_str(d, "basename"), "a.txt");
	d = json_array_get(l, 1);
	assert_string_equal(tu_str(d, "basename"), "a_dir");
	assert_int_equal(json_array_size(json_object_get(d, "listing")), 1);
	json_decref(r);
}

static void
test_expressions(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *r;

	r = to_collect(s, "[{\"id\": \"c\", \"type\": \"string\", "
	    "\"outputBinding\": {\"glob\": \"$(inputs.pat)\", "
	    "\"loadContents\": true, \"outputEval\": "
	    "\"$(self[0].contents)\"}}, {\"id\": \"n\", \"type\": \"int\", "
	    "\"outputBinding\": {\"glob\": \"*.txt\", \"outputEval\": "
	    "\"$(self.length)\"}}, {\"id\": \"second\", \"type\": \"File\", "
	    "\"format\": \"http://edamontology.org/format_1929\", "
	    "\"outputBinding\": {\"glob\": \"*.txt\", \"outputEval\": "
	    "\"$(self[1])\"}}]", "{\"pat\": \"b.txt\"}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(json_string_value(json_object_get(r, "c")),
	    "world\n");
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 2);
	assert_string_equal(tu_str(json_object_get(r, "second"), "checksum"),
	    WORLD_SHA1);
	assert_string_equal(tu_str(json_object_get(r, "second"), "format"),
	    "http://edamontology.org/format_1929");
	json_decref(r);
}

static void
test_stdout_and_record(void **state)
{
	struct to_state *s = *state;
	struct cwld_err err;
	json_t *tool, *r, *rec;

	tu_write(s->dir, "out.txt", "hello\n");
	tool = tu_json("{\"class\": \"CommandLineTool\", \"stdout\": "
	    "\"out.txt\", \"outputs\": [{\"id\": \"o\", \"type\": \"stdout\"}, "
	    "{\"id\": \"rec\", \"type\": {\"type\": \"record\", \"fields\": "
	    "[{\"name\": \"f\", \"type\": \"File\", \"outputBinding\": "
	    "{\"glob\": \"b.txt\"}}, {\"name\": \"g\", \"type\": [\"null\", "
	    "\"File\"], \"outputBinding\": {\"glob\": \"none\"}}]}}]}");
	memset(&err, 0, sizeof err);
	r = outputs_collect(tool, NULL, NULL, s->dir, s->ex, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(tu_str(json_object_get(r, "o"), "checksum"),
	    HELLO_SHA1);
	rec = json_object_get(r, "rec");
	assert_string_equal(tu_str(json_object_get(rec, "f"), "checksum"),
	    WORLD_SHA1);
	assert_true(json_is_null(json_object_get(rec, "g")));
	json_decref(r);
	json_decref(tool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_glob_files, to_setup,
		    to_teardown),
		cmocka_unit_test_setup_teardown(test_single_and_missing,
		    to_setup, to_teardown),
		cmocka_unit_test_setup_teardown(test_cwl_output_json, to_setup,
		    to_teardown),
		cmocka_unit_test_setup_teardown(test_secondary_files, to_setup,
		    to_teardown),
		cmocka_unit_test_setup_teardown(test_confinement, to_setup,
		    to_teardown),
		cmocka_unit_test_setup_teardown(test_directories, to_setup,
		    to_teardown),
		cmocka_unit_test_setup_teardown(test_expressions, to_setup,
		    to_teardown),
		cmocka_unit_test_setup_teardown(test_stdout_and_record,
		    to_setup, to_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
