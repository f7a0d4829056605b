/* Unit tests for fetch.c without a server: which objects count as remote
 * (job values, defaults the job leaves out), locations refused before any
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

/* fetch_start on job; returns its error (new string) or NULL. */
static char *
test_fetch_refused(const char *job_text)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	json_t *p = tu_json("{\"inputs\": []}");
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
	return xstrdup(err.msg);
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
		cmocka_unit_test(test_fetch_bad_locations),
		cmocka_unit_test(test_fetch_unreachable),
	};

	/* no ~/.aws of the user's: the settings come from the tests */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
