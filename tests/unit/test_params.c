/* Unit tests for params: type matching (table in data/params/types.json),
 * input filling with defaults and errors, File/Directory completion in real
 * temporary directories, loadContents, listings and secondaryFiles. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cwld/params.h"
#include "cwld/fs.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"
#include "testutil.h"

#define HELLO_SHA1 "sha1$f572d396fae9206628714fb2ce00f72e94f2258f"

struct tp_state {
	char *dir;     /* fresh temporary directory */
	char *base;    /* file:///dir/job.yml */
};

static int
tp_setup(void **state)
{
	struct tp_state *s = xcalloc(1, sizeof *s);
	char tmpl[] = "/tmp/cwld-test-params-XXXXXX";
	char *u;

	assert_non_null(mkdtemp(tmpl));
	s->dir = xstrdup(tmpl);
	u = uri_from_path(s->dir);
	s->base = xasprintf("%s/job.yml", u);
	free(u);
	tu_write(s->dir, "hello.txt", "hello\n");
	tu_write(s->dir, ".bashrc", "x");
	*state = s;
	return 0;
}

static int
tp_teardown(void **state)
{
	struct tp_state *s = *state;

	assert_int_equal(fs_rm_rf(s->dir, NULL), 0);
	free(s->dir);
	free(s->base);
	free(s);
	return 0;
}

/* Fills one input declared by input_json with job_json; NULL on error. */
static json_t *
tp_fill(struct tp_state *s, const char *input_json, const char *job_json,
    const struct params_opts *opts, struct cwld_err *err)
{
	json_t *inputs = json_array(), *job = tu_json(job_json), *ret;

	json_array_append_new(inputs, tu_json(input_json));
	memset(err, 0, sizeof *err);
	ret = params_fill_inputs_ex(inputs, job, s->base, opts, err);
	json_decref(inputs);
	json_decref(job);
	return ret;
}

static void
test_type_table(void **state)
{
	const char *src = getenv("CWLD_SOURCE_DIR");
	char *path;
	json_t *table, *row;
	json_error_t jerr;
	size_t i;

	(void)state;
	path = xasprintf("%s/tests/unit/data/params/types.json",
	    src != NULL ? src : ".");
	table = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (table == NULL)
		fail_msg("%s: %s", path, jerr.text);
	assert_true(json_array_size(table) > 30);
	json_array_foreach(table, i, row) {
		int want = json_is_true(json_array_get(row, 2));
		int got = params_type_matches(json_array_get(row, 0),
		    json_array_get(row, 1));

		if (want != got) {
			char *t = json_dumps(row, JSON_ENCODE_ANY);

			fail_msg("row %zu %s: got %d", i, t, got);
		}
	}
	json_decref(table);
	free(path);
}

static void
test_type_name(void **state)
{
	static const char *const cases[][2] = {
		{ "\"File\"", "File" },
		{ "[\"null\", \"File\"]", "File?" },
		{ "[\"int\", \"string\"]", "int | string" },
		{ "{\"type\": \"array\", \"items\": \"File\"}", "File[]" },
		{ "[\"null\", {\"type\": \"array\", \"items\": \"int\"}]",
		    "int[]?" },
		{ "{\"type\": \"enum\", \"symbols\": [\"a\"]}", "enum" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *t = tu_json(cases[i][0]);
		char *n = params_type_name(t);

		assert_string_equal(n, cases[i][1]);
		free(n);
		json_decref(t);
	}
}

static void
test_split_name(void **state)
{
	static const char *const cases[][3] = {
		{ "a.tar.gz", "a.tar", ".gz" },
		{ "hello.txt", "hello", ".txt" },
		{ "noext", "noext", "" },
		{ ".bashrc", ".bashrc", "" },
		{ "..dots", "..dots", "" },
		{ ".a.b", ".a", ".b" },
		{ "trail.", "trail", "." },
		{ "", "", "" },
	};
	size_t i;
	char *root, *ext;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		params_split_name(cases[i][0], &root, &ext);
		assert_string_equal(root, cases[i][1]);
		assert_string_equal(ext, cases[i][2]);
		free(root);
		free(ext);
	}
}

static void
test_fill_file(void **state)
{
	struct tp_state *s = *state;
	struct params_opts o = { .with_checksum = 1 };
	struct cwld_err err;
	json_t *r, *f;
	char *want;

	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\"}",
	    "{\"f\": {\"class\": \"File\", \"location\": \"hello.txt\"}, "
	    "\"extra\": 1}", &o, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(json_object_size(r), 1);
	f = json_object_get(r, "f");
	want = fs_join(s->dir, "hello.txt");
	assert_string_equal(tu_str(f, "path"), want);
	free(want);
	want = uri_from_path(tu_str(f, "path"));
	assert_string_equal(tu_str(f, "location"), want);
	free(want);
	assert_string_equal(tu_str(f, "basename"), "hello.txt");
	assert_string_equal(tu_str(f, "nameroot"), "hello");
	assert_string_equal(tu_str(f, "nameext"), ".txt");
	assert_string_equal(tu_str(f, "dirname"), s->dir);
	assert_int_equal(json_integer_value(json_object_get(f, "size")), 6);
	assert_string_equal(tu_str(f, "checksum"), HELLO_SHA1);
	json_decref(r);

	/* "path" instead of location, no checksum by default. */
	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\"}",
	    "{\"f\": {\"class\": \"File\", \"path\": \".bashrc\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	f = json_object_get(r, "f");
	assert_string_equal(tu_str(f, "nameroot"), ".bashrc");
	assert_string_equal(tu_str(f, "nameext"), "");
	assert_null(json_object_get(f, "checksum"));
	assert_int_equal(json_integer_value(json_object_get(f, "size")), 1);
	json_decref(r);
}

static void
test_fill_defaults_and_errors(void **state)
{
	struct tp_state *s = *state;
	struct cwld_err err;
	json_t *r;

	r = tp_fill(s, "{\"id\": \"n\", \"type\": \"int\", \"default\": 7}",
	    "{}", NULL, &err);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 7);
	json_decref(r);

	/* An explicit null takes the default too. */
	r = tp_fill(s, "{\"id\": \"n\", \"type\": \"int\", \"default\": 7}",
	    "{\"n\": null}", NULL, &err);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 7);
	json_decref(r);

	r = tp_fill(s, "{\"id\": \"n\", \"type\": [\"null\", \"int\"]}",
	    "{}", NULL, &err);
	assert_non_null(r);
	assert_true(json_is_null(json_object_get(r, "n")));
	json_decref(r);

	r = tp_fill(s, "{\"id\": \"x\", \"type\": \"File\"}", "{}", NULL,
	    &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_string_equal(err.msg,
	    "missing required input 'x' (expected File)");

	r = tp_fill(s, "{\"id\": \"x\", \"type\": \"int\"}", "{\"x\": \"a\"}",
	    NULL, &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_string_equal(err.msg, "input 'x': expected int, got string");

	r = tp_fill(s, "{\"id\": \"x\", \"type\": {\"type\": \"array\", "
	    "\"items\": \"File\"}}", "{\"x\": [1]}", NULL, &err);
	assert_null(r);
	assert_string_equal(err.msg, "input 'x': expected File[], got array");

	/* A missing file names the input and the path. */
	r = tp_fill(s, "{\"id\": \"x\", \"type\": \"File\"}",
	    "{\"x\": {\"class\": \"File\", \"location\": \"nope.txt\"}}", NULL,
	    &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "input 'x': "));
	assert_non_null(strstr(err.msg, "nope.txt"));
	assert_non_null(strstr(err.msg, "does not exist"));

	/* A Directory where a File is wanted. */
	tu_mkdir(s->dir, "d");
	r = tp_fill(s, "{\"id\": \"x\", \"type\": \"File\"}",
	    "{\"x\": {\"class\": \"File\", \"location\": \"d\"}}", NULL, &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "is a directory"));
}

static void
test_fill_union_record_array(void **state)
{
	struct tp_state *s = *state;
	struct cwld_err err;
	json_t *r, *v;

	/* The union takes the first type that matches: File, not Any. */
	r = tp_fill(s, "{\"id\": \"u\", \"type\": [\"null\", \"File\", "
	    "\"string\"]}", "{\"u\": {\"class\": \"File\", \"location\": "
	    "\"hello.txt\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(r, "u"), "size")), 6);
	json_decref(r);

	r = tp_fill(s, "{\"id\": \"a\", \"type\": {\"type\": \"array\", "
	    "\"items\": \"File\"}, \"loadContents\": true}",
	    "{\"a\": [{\"class\": \"File\", \"location\": \"hello.txt\"}, "
	    "{\"class\": \"File\", \"location\": \".bashrc\"}]}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	v = json_object_get(r, "a");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(tu_str(json_array_get(v, 0), "contents"),
	    "hello\n");
	assert_string_equal(tu_str(json_array_get(v, 1), "contents"), "x");
	json_decref(r);

	r = tp_fill(s, "{\"id\": \"r\", \"type\": {\"type\": \"record\", "
	    "\"fields\": [{\"name\": \"f\", \"type\": \"File\", "
	    "\"loadContents\": true}, {\"name\": \"e\", \"type\": {\"type\": "
	    "\"enum\", \"symbols\": [\"a\", \"b\"]}}]}}",
	    "{\"r\": {\"f\": {\"class\": \"File\", \"location\": \"hello.txt\"}, "
	    "\"e\": \"b\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	v = json_object_get(json_object_get(r, "r"), "f");
	assert_string_equal(tu_str(v, "basename"), "hello.txt");
	assert_string_equal(tu_str(v, "contents"), "hello\n");
	json_decref(r);

	/* Files inside Any are completed too. */
	r = tp_fill(s, "{\"id\": \"any\", \"type\": \"Any\"}",
	    "{\"any\": {\"k\": [{\"class\": \"File\", \"location\": "
	    "\"hello.txt\"}]}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	v = json_array_get(json_object_get(json_object_get(r, "any"), "k"),
	    0);
	assert_int_equal(json_integer_value(json_object_get(v, "size")), 6);
	json_decref(r);
}

static void
test_load_contents_limit(void **state)
{
	struct tp_state *s = *state;
	struct cwld_err err;
	char *big = xmalloc(64 * 1024 + 2);
	json_t *r;

	memset(big, 'a', 64 * 1024);
	big[64 * 1024] = '\0';
	tu_write(s->dir, "exact.txt", big);
	big[64 * 1024] = 'a';
	big[64 * 1024 + 1] = '\0';
	tu_write(s->dir, "big.txt", big);
	free(big);

	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\", "
	    "\"loadContents\": true}", "{\"f\": {\"class\": \"File\", "
	    "\"location\": \"exact.txt\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(json_string_length(json_object_get(
	    json_object_get(r, "f"), "contents")), 64 * 1024);
	json_decref(r);

	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\", "
	    "\"loadContents\": true}", "{\"f\": {\"class\": \"File\", "
	    "\"location\": \"big.txt\"}}", NULL, &err);
	assert_null(r);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "input 'f': "));
	assert_non_null(strstr(err.msg, "larger than 64 KiB"));

	/* Without loadContents a big file is fine. */
	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\"}",
	    "{\"f\": {\"class\": \"File\", \"location\": \"big.txt\"}}", NULL,
	    &err);
	assert_non_null(r);
	json_decref(r);
}

static void
test_directory_listing(void **state)
{
	struct tp_state *s = *state;
	struct params_opts o = { 0 };
	struct cwld_err err;
	json_t *r, *d, *l, *sub;

	tu_mkdir(s->dir, "top");
	tu_mkdir(s->dir, "top/sub");
	tu_write(s->dir, "top/b.txt", "hello\n");
	tu_write(s->dir, "top/a.txt", "");
	tu_write(s->dir, "top/sub/c.txt", "x");

	/* Default: no listing. */
	r = tp_fill(s, "{\"id\": \"d\", \"type\": \"Directory\"}",
	    "{\"d\": {\"class\": \"Directory\", \"location\": \"top\"}}", &o,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	d = json_object_get(r, "d");
	assert_string_equal(tu_str(d, "basename"), "top");
	assert_null(json_object_get(d, "listing"));
	assert_null(json_object_get(d, "size"));
	json_decref(r);

	/* The requirement gives shallow; sorted entries, subdir unlisted. */
	o.listing = PARAMS_LISTING_SHALLOW;
	r = tp_fill(s, "{\"id\": \"d\", \"type\": \"Directory\"}",
	    "{\"d\": {\"class\": \"Directory\", \"location\": \"top\"}}", &o,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	l = json_object_get(json_object_get(r, "d"), "listing");
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(tu_str(json_array_get(l, 0), "basename"), "a.txt");
	assert_string_equal(tu_str(json_array_get(l, 1), "basename"), "b.txt");
	sub = json_array_get(l, 2);
	assert_string_equal(tu_str(sub, "class"), "Directory");
	assert_null(json_object_get(sub, "listing"));
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(l, 1), "size")), 6);
	json_decref(r);

	/* The input's own loadListing wins over the requirement. */
	r = tp_fill(s, "{\"id\": \"d\", \"type\": \"Directory\", "
	    "\"loadListing\": \"deep_listing\"}",
	    "{\"d\": {\"class\": \"Directory\", \"location\": \"top\"}}", &o,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	l = json_object_get(json_object_get(r, "d"), "listing");
	sub = json_array_get(l, 2);
	l = json_object_get(sub, "listing");
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(tu_str(json_array_get(l, 0), "basename"), "c.txt");
	json_decref(r);

	/* A given listing is kept and completed. */
	o.listing = PARAMS_LISTING_NONE;
	r = tp_fill(s, "{\"id\": \"d\", \"type\": \"Directory\"}",
	    "{\"d\": {\"class\": \"Directory\", \"location\": \"top\", "
	    "\"listing\": [{\"class\": \"File\", \"location\": "
	    "\"top/b.txt\"}]}}", &o, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	l = json_object_get(json_object_get(r, "d"), "listing");
	assert_int_equal(json_array_size(l), 1);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(l, 0), "size")), 6);
	json_decref(r);

	/* params_complete_file lists one level. */
	d = json_pack("{s:s, s:s}", "class", "Directory", "path", "top");
	assert_int_equal(params_complete_file(d, s->base, 1, &err), 0);
	l = json_object_get(d, "listing");
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(tu_str(json_array_get(l, 1), "checksum"),
	    HELLO_SHA1);
	json_decref(d);
}

static void
test_secondary_files(void **state)
{
	struct tp_state *s = *state;
	struct cwld_err err;
	json_t *r, *sf;

	tu_write(s->dir, "reads.bam", "bam");
	tu_write(s->dir, "reads.bai", "bai");
	tu_write(s->dir, "reads.bam.idx", "idx");

	r = tp_fill(s, "{\"id\": \"b\", \"type\": \"File\", "
	    "\"secondaryFiles\": [\"^.bai\", {\"pattern\": \".idx\"}, "
	    "{\"pattern\": \".opt\", \"required\": false}]}",
	    "{\"b\": {\"class\": \"File\", \"location\": \"reads.bam\"}}", NULL,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	sf = json_object_get(json_object_get(r, "b"), "secondaryFiles");
	assert_int_equal(json_array_size(sf), 2);
	assert_string_equal(tu_str(json_array_get(sf, 0), "basename"),
	    "reads.bai");
	assert_string_equal(tu_str(json_array_get(sf, 1), "basename"),
	    "reads.bam.idx");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(sf, 1), "size")), 3);
	json_decref(r);

	/* Required by default on inputs. */
	r = tp_fill(s, "{\"id\": \"b\", \"type\": \"File\", "
	    "\"secondaryFiles\": \".missing\"}",
	    "{\"b\": {\"class\": \"File\", \"location\": \"reads.bam\"}}", NULL,
	    &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "input 'b': missing required "
	    "secondary file"));
	assert_non_null(strstr(err.msg, "reads.bam.missing"));

	/* Ones given in the job are kept (and completed), not duplicated. */
	r = tp_fill(s, "{\"id\": \"b\", \"type\": \"File\", "
	    "\"secondaryFiles\": [\".idx\"]}",
	    "{\"b\": {\"class\": \"File\", \"location\": \"reads.bam\", "
	    "\"secondaryFiles\": [{\"class\": \"File\", \"location\": "
	    "\"reads.bam.idx\"}, {\"class\": \"File\", \"location\": "
	    "\"hello.txt\"}]}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	sf = json_object_get(json_object_get(r, "b"), "secondaryFiles");
	assert_int_equal(json_array_size(sf), 2);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(sf, 1), "size")), 6);
	json_decref(r);
}

/* "pattern?" is optional; with no_discover (workflow steps) only the
 * secondaryFiles already on the File count. */
static void
test_secondary_optional_and_discover(void **state)
{
	struct tp_state *s = *state;
	struct params_opts o = { 0 };
	struct cwld_err err;
	json_t *r, *sf;

	tu_write(s->dir, "ref.fa", "ref");
	tu_write(s->dir, "ref.fa.fai", "fai");
	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\", "
	    "\"secondaryFiles\": [\".fai\", \".bai?\"]}",
	    "{\"f\": {\"class\": \"File\", \"location\": \"ref.fa\"}}", NULL,
	    &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	sf = json_object_get(json_object_get(r, "f"), "secondaryFiles");
	assert_int_equal(json_array_size(sf), 1);
	assert_string_equal(tu_str(json_array_get(sf, 0), "basename"),
	    "ref.fa.fai");
	json_decref(r);

	o.no_discover = 1;
	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\", "
	    "\"secondaryFiles\": \".fai\"}",
	    "{\"f\": {\"class\": \"File\", \"location\": \"ref.fa\"}}", &o,
	    &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "missing required secondary file"));
	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\", "
	    "\"secondaryFiles\": \".fai\"}",
	    "{\"f\": {\"class\": \"File\", \"location\": \"ref.fa\", "
	    "\"secondaryFiles\": [{\"class\": \"File\", \"location\": "
	    "\"ref.fa.fai\"}]}}", &o, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	json_decref(r);
}

/* Input formats: equal, or related through $schemas ontologies (RDF/XML
 * and Turtle); a File without a format passes. */
static void
test_format_check(void **state)
{
	struct tp_state *s = *state;
	struct cwld_err err;
	char *input, *u;
	json_t *r;

	tu_write(s->dir, "onto.owl", "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE rdf:RDF [ <!ENTITY ex \"http://ex.org/\" > ]>\n"
	    "<rdf:RDF>\n<!-- <owl:Class rdf:about=\"http://ex.org/z\"> -->\n"
	    "<owl:Class rdf:about=\"http://ex.org/fasta\">\n"
	    "  <rdfs:subClassOf rdf:resource=\"&ex;text\"/>\n"
	    "</owl:Class>\n</rdf:RDF>\n");
	tu_write(s->dir, "gx.ttl", "@prefix gx: <http://gx.org/> .\n"
	    "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
	    "# a comment\n"
	    "gx:fa a owl:Class ;\n  owl:equivalentClass <http://ex.org/fasta> .\n");
	u = uri_from_path(s->dir);
	input = xasprintf("{\"id\": \"f\", \"type\": \"File\", \"format\": "
	    "\"http://ex.org/text\", \"cwld:schemas\": [\"%s/onto.owl\", "
	    "\"%s/gx.ttl\"]}", u, u);
	r = tp_fill(s, input, "{\"f\": {\"class\": \"File\", \"location\": "
	    "\"hello.txt\", \"format\": \"http://gx.org/fa\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	json_decref(r);
	r = tp_fill(s, input, "{\"f\": {\"class\": \"File\", \"location\": "
	    "\"hello.txt\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	json_decref(r);
	r = tp_fill(s, input, "{\"f\": {\"class\": \"File\", \"location\": "
	    "\"hello.txt\", \"format\": \"http://ex.org/z\"}}", NULL, &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "has format 'http://ex.org/z'"));
	/* in a record field, and no ontology at all */
	r = tp_fill(s, "{\"id\": \"r\", \"type\": {\"type\": \"record\", "
	    "\"fields\": [{\"name\": \"a\", \"type\": {\"type\": \"array\", "
	    "\"items\": \"File\"}, \"format\": \"http://ex.org/text\"}]}}",
	    "{\"r\": {\"a\": [{\"class\": \"File\", \"location\": "
	    "\"hello.txt\", \"format\": \"http://ex.org/fasta\"}]}}", NULL,
	    &err);
	assert_null(r);
	assert_non_null(strstr(err.msg, "field 'a'"));
	free(input);
	free(u);
}

static int
tp_count(json_t *obj, void *arg)
{
	(void)obj;
	(*(int *)arg)++;
	return 0;
}

static int
tp_stop(json_t *obj, void *arg)
{
	(void)arg;
	return strcmp(json_string_value(json_object_get(obj, "class")),
	    "Directory") == 0 ? 42 : 0;
}

static void
test_walk_files(void **state)
{
	json_t *v = tu_json("{\"a\": [{\"class\": \"File\", \"secondaryFiles\": "
	    "[{\"class\": \"File\"}]}, 3, {\"r\": {\"class\": \"Directory\", "
	    "\"listing\": [{\"class\": \"File\"}, {\"class\": \"x\"}]}}]}");
	int n = 0;

	(void)state;
	assert_int_equal(params_walk_files(v, tp_count, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(params_walk_files(v, tp_stop, NULL), 42);
	json_decref(v);
}

static void
test_literal_and_remote(void **state)
{
	struct tp_state *s = *state;
	struct cwld_err err;
	json_t *r, *f;

	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\"}",
	    "{\"f\": {\"class\": \"File\", \"basename\": \"lit.tar.gz\", "
	    "\"contents\": \"abc\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	f = json_object_get(r, "f");
	assert_null(json_object_get(f, "location"));
	assert_string_equal(tu_str(f, "nameroot"), "lit.tar");
	assert_string_equal(tu_str(f, "contents"), "abc");
	json_decref(r);

	r = tp_fill(s, "{\"id\": \"f\", \"type\": \"File\"}",
	    "{\"f\": {\"class\": \"File\", \"location\": "
	    "\"s3://bucket/key.txt\"}}", NULL, &err);
	if (r == NULL)
		fail_msg("%s", err.msg);
	f = json_object_get(r, "f");
	assert_string_equal(tu_str(f, "location"), "s3://bucket/key.txt");
	assert_null(json_object_get(f, "path"));
	json_decref(r);
}

static void
test_listing_parse(void **state)
{
	(void)state;
	assert_int_equal(params_listing_parse("no_listing"),
	    PARAMS_LISTING_NONE);
	assert_int_equal(params_listing_parse("shallow_listing"),
	    PARAMS_LISTING_SHALLOW);
	assert_int_equal(params_listing_parse("deep_listing"),
	    PARAMS_LISTING_DEEP);
	assert_int_equal(params_listing_parse("deep"), -1);
	assert_int_equal(params_listing_parse(NULL), -1);
}

/* The names plain secondaryFiles patterns give (as fetch.c applies them to
 * s3:// keys): carets strip extensions, extra ones go, "?" stays. */
static void
test_secondary_name(void **state)
{
	static const char *cases[][3] = {
		{ "r.bam", ".idx", "r.bam.idx" },
		{ "r.bam", "^.bai", "r.bai" },
		{ "r.tar.gz", "^^.md5", "r.md5" },
		{ "noext", "^^.x", "noext.x" },
		{ "r.bam", "^.meta?", "r.meta?" },
	};
	json_t *p = tu_json("{\"class\": \"File\", \"secondaryFiles\": ["
	    "{\"class\": \"File\", \"location\": \"s3://b/k/r.bam.idx\"},"
	    "{\"class\": \"File\", \"basename\": \"r.bai\", "
	    "\"location\": \"file:///tmp/other\"}]}");
	char *n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = params_secondary_name(cases[i][0], cases[i][1]);
		assert_string_equal(n, cases[i][2]);
		free(n);
	}
	assert_true(params_secondary_has(p, "r.bam.idx"));
	assert_true(params_secondary_has(p, "r.bai"));
	assert_false(params_secondary_has(p, "other"));
	assert_false(params_secondary_has(p, "r.meta"));
	json_decref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_table),
		cmocka_unit_test(test_secondary_name),
		cmocka_unit_test(test_type_name),
		cmocka_unit_test(test_split_name),
		cmocka_unit_test(test_listing_parse),
		cmocka_unit_test(test_walk_files),
		cmocka_unit_test_setup_teardown(test_fill_file, tp_setup,
		    tp_teardown),
		cmocka_unit_test_setup_teardown(test_fill_defaults_and_errors,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_fill_union_record_array,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_load_contents_limit,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_directory_listing,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_secondary_optional_and_discover,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_format_check, tp_setup,
		    tp_teardown),
		cmocka_unit_test_setup_teardown(test_secondary_files, tp_setup,
		    tp_teardown),
		cmocka_unit_test_setup_teardown(test_literal_and_remote,
		    tp_setup, tp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
