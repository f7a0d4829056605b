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

#include <sys/stat.h>

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

/* Settings of a server that is not there (nothing listens on port 1),
 * with keys, tried attempts times. */
static void
test_fetch_nowhere(struct s3_config *cfg, int attempts)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->endpoint = "http://127.0.0.1:1";
	cfg->access_key = "AK";
	cfg->secret_key = "SK";
	cfg->max_attempts = attempts;
	cfg->retry_base_ms = 1;
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

/* fetch_inputs on job for process; returns its error (new string) and the
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
	f = fetch_new(base, "/tmp/cwld-test-fetch-never", &cfg);
	assert_non_null(f);
	assert_null(fetch_inputs(f, p, job, test_fetch_cb, &g, &err));
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(g.calls, 0);
	assert_int_equal(access("/tmp/cwld-test-fetch-never", F_OK), -1);
	fetch_free(f);
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
	test_fetch_nowhere(&cfg, 2);
	f = fetch_new(base, tmpl, &cfg);
	assert_non_null(fetch_inputs(f, p, job, test_fetch_cb, &g, &err));
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

/* What the start (or a step's wait) asks the server first, told by the
 * error of a server that is not there: the error names the request.
 * proc/job as JSON; value: fetch_value on it instead when not NULL. The
 * error (new string, or NULL) is returned; *job_out keeps the job. */
static char *
test_fetch_first(const char *proc_text, const char *job_text,
    const char *value_text, json_t **job_out)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	char tmpl[] = "/tmp/cwld-test-fetch.XXXXXX";
	json_t *p = tu_json(proc_text);
	json_t *job = tu_json(value_text != NULL ? value_text : job_text);
	struct fetch *f;

	assert_non_null(mkdtemp(tmpl));
	test_fetch_nowhere(&cfg, 1);
	f = fetch_new(base, tmpl, &cfg);
	if (value_text != NULL)
		assert_non_null(fetch_value(f, job, test_fetch_cb, &g, &err));
	else
		assert_non_null(fetch_inputs(f, p, job, test_fetch_cb, &g,
		    &err));
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	fetch_free(f);
	json_decref(p);
	if (job_out != NULL)
		*job_out = job;
	else
		json_decref(job);
	event_base_free(base);
	fs_rm_rf(tmpl, NULL);
	return g.error;
}

static void
test_fetch_lazy(void **state)
{
	static const char file_in[] = "{\"cwlVersion\": \"v1.2\", "
	    "\"inputs\": [{\"id\": \"a\", \"type\": \"File\"}]}";
	static const char file_job[] = "{\"a\": {\"class\": \"File\", "
	    "\"location\": \"s3://bkt/k/a.txt\"}}";
	static const char dir_job[] = "{\"a\": {\"class\": \"Directory\", "
	    "\"location\": \"s3://bkt/k\"}}";
	json_t *job = NULL;
	char *e;

	(void)state;
	/* a File is looked at, not downloaded */
	e = test_fetch_first(file_in, file_job, NULL, NULL);
	assert_non_null(e);
	assert_non_null(strstr(e, "s3: HEAD s3://bkt/k/a.txt: "));
	free(e);
	/* unless the input loads its contents */
	e = test_fetch_first("{\"inputs\": [{\"id\": \"a\", \"type\": "
	    "\"File\", \"loadContents\": true}]}", file_job, NULL, NULL);
	assert_non_null(strstr(e, "s3: GET s3://bkt/k/a.txt: "));
	free(e);
	/* or a step's "in" does, anywhere in the workflow */
	e = test_fetch_first("{\"class\": \"Workflow\", \"inputs\": [{\"id\": "
	    "\"a\", \"type\": \"File\"}], \"steps\": [{\"id\": \"s\", "
	    "\"in\": [{\"id\": \"x\", \"source\": \"a\", "
	    "\"loadContents\": true}], \"run\": {\"class\": "
	    "\"CommandLineTool\", \"inputs\": []}}]}", file_job, NULL, NULL);
	assert_non_null(strstr(e, "s3: GET s3://bkt/k/a.txt: "));
	free(e);
	/* a Directory without a listing waits for its step: nothing asked,
	 * it keeps its location and gets its name */
	e = test_fetch_first("{\"cwlVersion\": \"v1.2\", \"inputs\": "
	    "[{\"id\": \"a\", \"type\": \"Directory\"}]}", dir_job, NULL,
	    &job);
	assert_null(e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    job, "a"), "location")), "s3://bkt/k");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    job, "a"), "basename")), "k");
	json_decref(job);
	/* with a listing (v1.0's default deep one, or loadListing) it is
	 * listed now */
	e = test_fetch_first("{\"cwlVersion\": \"v1.0\", \"inputs\": "
	    "[{\"id\": \"a\", \"type\": \"Directory\"}]}", dir_job, NULL,
	    NULL);
	assert_non_null(strstr(e, "s3: LIST s3://bkt/k/: "));
	free(e);
	e = test_fetch_first("{\"cwlVersion\": \"v1.2\", \"inputs\": "
	    "[{\"id\": \"a\", \"type\": \"Directory\", \"loadListing\": "
	    "\"shallow_listing\"}]}", dir_job, NULL, NULL);
	assert_non_null(strstr(e, "s3: LIST s3://bkt/k/: "));
	free(e);
	/* a step's wait downloads, and leaves the value as it was when it
	 * cannot */
	e = test_fetch_first(file_in, NULL, "{\"x\": [{\"class\": \"File\", "
	    "\"location\": \"s3://bkt/k/b.txt\", \"basename\": \"b\"}]}",
	    &job);
	assert_non_null(strstr(e, "s3: GET s3://bkt/k/b.txt: "));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(job, "x"), 0), "location")), "s3://bkt/k/b.txt");
	json_decref(job);
	free(e);
}

/* A slot directory that exists (a daemon before a restart made it, and a
 * resumed step's outputs may point into it) is not used again. */
static void
test_fetch_slot_kept(void **state)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	char tmpl[] = "/tmp/cwld-test-fetch.XXXXXX";
	char *one, *two;
	json_t *v = tu_json("{\"class\": \"File\", \"location\": "
	    "\"s3://bkt/a\"}");
	struct fetch *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	one = xasprintf("%s/1", tmpl);
	two = xasprintf("%s/2", tmpl);
	assert_int_equal(mkdir(one, 0755), 0);
	test_fetch_nowhere(&cfg, 1);
	f = fetch_new(base, tmpl, &cfg);
	assert_non_null(fetch_value(f, v, test_fetch_cb, &g, &err));
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.error);
	/* the copy was to be made in 2/, and 1/ was left as it was */
	assert_int_equal(access(two, F_OK), 0);
	assert_int_equal(rmdir(one), 0);
	fetch_free(f);
	fs_rm_rf(tmpl, NULL);
	free(one);
	free(two);
	free(g.error);
	json_decref(v);
	event_base_free(base);
}

/* A cancelled run ends the waits in flight, and any later one, with the
 * reason; a wait forgotten is never called back. */
static void
test_fetch_stop(void **state)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base }, g2 = { 0, NULL, base };
	struct got g3 = { 0, NULL, base };
	json_t *v = tu_json("{\"class\": \"File\", \"location\": "
	    "\"s3://bkt/a\"}");
	json_t *w = tu_json("{\"class\": \"File\", \"location\": "
	    "\"s3://bkt/b\"}");
	struct fetch *f;
	struct fetch_op *op;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	/* a server that takes the connection and never answers */
	cfg.endpoint = "http://10.255.255.1:9";
	cfg.access_key = "AK";
	cfg.secret_key = "SK";
	f = fetch_new(base, "/tmp/cwld-test-fetch-never", &cfg);
	assert_non_null(fetch_value(f, v, test_fetch_cb, &g, &err));
	op = fetch_value(f, w, test_fetch_cb, &g3, &err);
	assert_non_null(op);
	fetch_op_cancel(op);
	fetch_stop(f, "cancelled");
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_string_equal(g.error, "cancelled");
	assert_int_equal(g3.calls, 0);
	assert_non_null(fetch_value(f, w, test_fetch_cb, &g2, &err));
	event_base_dispatch(base);
	assert_int_equal(g2.calls, 1);
	assert_string_equal(g2.error, "cancelled");
	assert_int_equal(access("/tmp/cwld-test-fetch-never/1/a", F_OK), -1);
	fetch_free(f);
	fs_rm_rf("/tmp/cwld-test-fetch-never", NULL);
	free(g.error);
	free(g2.error);
	json_decref(v);
	json_decref(w);
	event_base_free(base);
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
		cmocka_unit_test(test_fetch_lazy),
		cmocka_unit_test(test_fetch_stop),
		cmocka_unit_test(test_fetch_slot_kept),
	};

	/* no ~/.aws of the user's: the settings come from the tests */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
