/* Unit tests for fetch.c without a server: which objects count as remote
 * (job values, defaults the job leaves out, defaults inside a workflow's
 * steps), locations and secondaryFiles patterns refused before any
 * transfer, and a failed transfer reported once through the callback with
 * the job left as it was. Downloads from a real server are tested in
 * tests/integration/test_s3.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cwld/fetch.h"
#include "testutil.h"

static const char process_text[] =
    "{\"class\": \"CommandLineTool\", \"inputs\": ["
    "{\"id\": \"a\", \"type\": \"File\"},"
    "{\"id\": \"d\", \"type\": \"File\", \"default\": {\"class\": \"File\","
    " \"location\": \"s3://bkt/default.txt\"}},"
    "{\"id\": \"e\", \"type\": \"File\", \"default\": {\"class\": \"File\","
    " \"location\": \"s3://bkt/unused.txt\"}}]}";

struct got {
	int calls;
	char *error;
	struct event_base *base;
};

static void
test_fetch_cb(void *arg, const char *error)
{
	struct got *g = arg;

	g->calls++;
	g->error = error != NULL ? xstrdup(error) : NULL;
	event_base_loopbreak(g->base);
}

static void
test_fetch_count(void **state)
{
	json_t *p = tu_json(process_text);
	json_t *job = tu_json("{\"a\": [{\"class\": \"File\", \"location\": "
	    "\"s3://bkt/a\"}, {\"class\": \"File\", \"location\": "
	    "\"file:///tmp/x\"}], \"e\": {\"class\": \"File\", \"location\": "
	    "\"s3://bkt/e\", \"secondaryFiles\": [{\"class\": \"File\", "
	    "\"location\": \"s3://bkt/e.idx\"}]}}");

	(void)state;
	/* a, e, e.idx, and d's default (e's default is not used) */
	assert_int_equal(fetch_count(p, job), 4);
	json_decref(job);
	job = tu_json("{\"a\": {\"class\": \"File\", \"path\": \"/tmp/x\"},"
	    " \"d\": null, \"e\": 3}");
	assert_int_equal(fetch_count(p, job), 0);
	json_decref(job);
	json_decref(p);
}

/* A workflow: step s1 has an s3:// "in" default, s2 and s3 run the same
 * loaded tool (one json_t, as the loader shares it) whose input has an
 * s3:// default, s4 a subworkflow with the same inside it. */
static void
test_fetch_count_steps(void **state)
{
	json_t *tool = tu_json("{\"class\": \"CommandLineTool\", \"inputs\": ["
	    "{\"id\": \"t\", \"type\": \"File\", \"default\": {\"class\": "
	    "\"File\", \"location\": \"s3://bkt/tool-default\"}}], "
	    "\"outputs\": []}");
	json_t *sub = tu_json("{\"class\": \"Workflow\", \"inputs\": ["
	    "{\"id\": \"w\", \"type\": \"Directory\", \"default\": "
	    "{\"class\": \"Directory\", \"location\": \"s3://bkt/sub/\"}}],"
	    " \"outputs\": [], \"steps\": [{\"id\": \"in1\", \"in\": [{\"id\": "
	    "\"f\", \"source\": [], \"default\": [{\"class\": \"File\", "
	    "\"location\": \"s3://bkt/n1\"}, {\"class\": \"File\", "
	    "\"location\": \"file:///tmp/local\"}]}], \"out\": []}]}");
	json_t *wf = tu_json("{\"class\": \"Workflow\", \"inputs\": [], "
	    "\"outputs\": [], \"steps\": ["
	    "{\"id\": \"s1\", \"in\": [{\"id\": \"f\", \"source\": [], "
	    "\"default\": {\"class\": \"File\", \"location\": "
	    "\"s3://bkt/step-default\"}}], \"out\": []},"
	    "{\"id\": \"s2\", \"in\": [], \"out\": []},"
	    "{\"id\": \"s3\", \"in\": [], \"out\": []},"
	    "{\"id\": \"s4\", \"in\": [], \"out\": []}]}");
	json_t *steps = json_object_get(wf, "steps");
	json_t *job = tu_json("{}");

	(void)state;
	json_object_set_new(json_array_get(steps, 0), "run", tu_json(
	    "{\"class\": \"CommandLineTool\", \"inputs\": [], "
	    "\"outputs\": []}"));
	json_object_set(json_array_get(steps, 1), "run", tool);
	json_object_set(json_array_get(steps, 2), "run", tool);
	json_object_set_new(json_array_get(steps, 3), "run", sub);
	/* step-default, tool-default once, sub/ and n1 */
	assert_int_equal(fetch_count(wf, job), 4);
	json_object_set_new(json_object_get(json_array_get(json_object_get(
	    tool, "inputs"), 0), "default"), "location",
	    json_string("file:///tmp/t"));
	assert_int_equal(fetch_count(wf, job), 3);
	json_decref(tool);
	json_decref(wf);
	json_decref(job);
}

/* fetch_start on job for process; returns its error (new string) and the
 * error's code in *code. */
static char *
test_fetch_refused_by(const char *process_text_, const char *job_text,
    int *code)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	json_t *p = tu_json(process_text_);
	json_t *job = tu_json(job_text);
	struct fetch *f;

	memset(&cfg, 0, sizeof cfg);
	cfg.endpoint = "http://127.0.0.1:1";
	f = fetch_start(base, p, job, "/tmp/cwld-test-fetch-never", &cfg,
	    test_fetch_cb, &g, &err);
	assert_null(f);
	assert_int_equal(g.calls, 0);
	assert_int_equal(access("/tmp/cwld-test-fetch-never", F_OK), -1);
	json_decref(p);
	json_decref(job);
	event_base_free(base);
	if (code != NULL)
		*code = err.code;
	return xstrdup(err.msg);
}

static char *
test_fetch_refused(const char *job_text)
{
	return test_fetch_refused_by("{\"inputs\": []}", job_text, NULL);
}

static void
test_fetch_bad_secondary(void **state)
{
	static const char expr[] = "{\"inputs\": [{\"id\": \"a\", "
	    "\"type\": \"File\", \"secondaryFiles\": [{\"pattern\": \".idx\", "
	    "\"required\": true}, {\"pattern\": \"$(self.nameroot).meta\", "
	    "\"required\": false}]}]}";
	char *e;
	int code = 0;

	(void)state;
	e = test_fetch_refused_by(expr, "{\"a\": {\"class\": \"File\", "
	    "\"location\": \"s3://bkt/r.bam\"}}", &code);
	assert_string_equal(e, "input 'a': secondaryFiles pattern "
	    "'$(self.nameroot).meta' is an expression, which cwld cannot apply "
	    "to an s3:// File ('s3://bkt/r.bam'): list its secondaryFiles in "
	    "the job");
	assert_int_equal(code, CWLD_EXIT_UNSUPPORTED);
	free(e);
	/* in an array too: the patterns apply to each File of a File[] */
	e = test_fetch_refused_by("{\"inputs\": [{\"id\": \"a\", "
	    "\"type\": {\"type\": \"array\", \"items\": \"File\"}, "
	    "\"secondaryFiles\": \"$(self.nameroot).meta\"}]}",
	    "{\"a\": [{\"class\": \"File\", "
	    "\"location\": \"file:///tmp/x\"}, {\"class\": \"File\", "
	    "\"location\": \"s3://bkt/q.bam\"}]}", &code);
	assert_non_null(strstr(e, "s3:// File ('s3://bkt/q.bam')"));
	free(e);
	/* a record's field, and an optional array of them (a union) */
	e = test_fetch_refused_by("{\"inputs\": [{\"id\": \"r\", \"type\": "
	    "[\"null\", {\"type\": \"array\", \"items\": {\"type\": "
	    "\"record\", \"fields\": [{\"name\": \"f\", \"type\": \"File\", "
	    "\"secondaryFiles\": [\".idx\", \"$(1).x\"]}]}}]}]}",
	    "{\"r\": [{\"f\": {\"class\": \"File\", "
	    "\"location\": \"s3://bkt/f.bam\"}}]}", &code);
	assert_string_equal(e, "input 'r': secondaryFiles pattern '$(1).x' is "
	    "an expression, which cwld cannot apply to an s3:// File "
	    "('s3://bkt/f.bam'): list its secondaryFiles in the job");
	free(e);
	e = test_fetch_refused_by("{\"inputs\": [{\"id\": \"a\", "
	    "\"type\": \"File\", \"secondaryFiles\": \"/../../x\"}]}",
	    "{\"a\": {\"class\": \"File\", \"location\": "
	    "\"s3://bkt/r.bam\"}}", &code);
	assert_string_equal(e, "input 'a': secondaryFiles pattern '/../../x' "
	    "of 's3://bkt/r.bam' gives 'r.bam/../../x', which cannot name a "
	    "local file");
	assert_int_equal(code, CWLD_EXIT_USAGE);
	free(e);
}

static void
test_fetch_bad_locations(void **state)
{
	char *e;

	(void)state;
	e = test_fetch_refused("{\"a\": {\"class\": \"File\", \"location\": "
	    "\"s3://bkt/dir/\"}}");
	assert_non_null(strstr(e, "names an object, not a prefix"));
	free(e);
	e = test_fetch_refused("{\"a\": {\"class\": \"File\", \"location\": "
	    "\"s3://bkt/x\", \"basename\": \"..\"}}");
	assert_non_null(strstr(e, "basename '..' cannot name a local file"));
	free(e);
	e = test_fetch_refused("{\"a\": {\"class\": \"File\", \"location\": "
	    "\"s3://b!d/x\"}}");
	assert_non_null(strstr(e, "invalid character '!' in bucket name"));
	free(e);
}

static void
test_fetch_unreachable(void **state)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	char tmpl[] = "/tmp/cwld-test-fetch.XXXXXX";
	json_t *p = tu_json("{\"inputs\": []}");
	json_t *job = tu_json("{\"a\": {\"class\": \"File\", \"location\": "
	    "\"s3://bkt/k/a.txt\"}, \"b\": {\"class\": \"Directory\", "
	    "\"location\": \"s3://bkt/k\"}}");
	struct fetch *f;
	long n;
	long long bytes;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	memset(&cfg, 0, sizeof cfg);
	cfg.endpoint = "http://127.0.0.1:1";
	cfg.access_key = "AK";
	cfg.secret_key = "SK";
	cfg.max_attempts = 2;
	cfg.retry_base_ms = 1;
	f = fetch_start(base, p, job, tmpl, &cfg, test_fetch_cb, &g, &err);
	assert_non_null(f);
	assert_int_equal(g.calls, 0);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.error);
	assert_non_null(strstr(g.error, "s3: "));
	assert_non_null(strstr(g.error, "s3://bkt/k"));
	assert_non_null(strstr(g.error, "127.0.0.1 port 1"));
	assert_non_null(strstr(g.error, "(after 2 attempts)"));
	/* nothing was rewritten */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    job, "a"), "location")), "s3://bkt/k/a.txt");
	fetch_stats(f, &n, &bytes);
	assert_int_equal(n, 0);
	fetch_free(f);
	free(g.error);
	json_decref(p);
	json_decref(job);
	event_base_free(base);
	fs_rm_rf(tmpl, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_count),
		cmocka_unit_test(test_fetch_count_steps),
		cmocka_unit_test(test_fetch_bad_secondary),
		cmocka_unit_test(test_fetch_bad_locations),
		cmocka_unit_test(test_fetch_unreachable),
	};

	/* no ~/.aws of the user's: the settings come from the tests */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
