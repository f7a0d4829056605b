/* Unit tests for upload.c without a server: output locations parsed and
 * refused, outputs outside the root refused before any transfer, an empty
 * output object done from the loop, and a failed transfer reported once,
 * naming the file, with the output object left as it was. Uploads to a
 * real server are tested in tests/integration/test_s3.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cwld/fs.h"
#include "cwld/upload.h"
#include "testutil.h"

struct got {
	int calls;
	char *error;
	struct event_base *base;
};

static void
test_upload_cb(void *arg, const char *error)
{
	struct got *g = arg;

	g->calls++;
	g->error = error != NULL ? xstrdup(error) : NULL;
	event_base_loopbreak(g->base);
}

static void
test_upload_parse(void **state)
{
	static const struct {
		const char *dest, *bucket, *prefix, *error;
	} cases[] = {
		{ "s3://bkt", "bkt", "", NULL },
		{ "s3://bkt/", "bkt", "", NULL },
		{ "s3://bkt/runs/one", "bkt", "runs/one", NULL },
		{ "s3://bkt/runs/one//", "bkt", "runs/one", NULL },
		{ "s3://bkt/a//b", NULL, NULL, "the prefix has an empty segment" },
		{ "http://bkt/x", NULL, NULL, "only s3://bucket/prefix is supported" },
		{ "/tmp/x", NULL, NULL, "only s3://bucket/prefix is supported" },
		{ "s3://b!d/x", NULL, NULL, "invalid character '!' in bucket name" },
	};
	struct cwld_err err;
	char *b, *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		if (cases[i].error == NULL) {
			assert_int_equal(upload_parse_dest(cases[i].dest, &b, &p, &err), 0);
			assert_string_equal(b, cases[i].bucket);
			assert_string_equal(p, cases[i].prefix);
			free(b);
			free(p);
		} else {
			assert_int_equal(upload_parse_dest(cases[i].dest, &b, &p, &err), -1);
			assert_null(b);
			assert_null(p);
			assert_int_equal(err.code, CWLD_EXIT_USAGE);
			if (strstr(err.msg, cases[i].error) == NULL)
				fail_msg("'%s': '%s' lacks '%s'", cases[i].dest, err.msg,
				    cases[i].error);
		}
	}
}

static void
test_upload_cfg(struct s3_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->endpoint = "http://127.0.0.1:1";
	cfg->access_key = "AK";
	cfg->secret_key = "SK";
	cfg->max_attempts = 2;
	cfg->retry_base_ms = 1;
}

static void
test_upload_outside(void **state)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	json_t *out = tu_json("{\"f\": {\"class\": \"File\", \"location\": "
	    "\"file:///etc/hostname\"}}");

	(void)state;
	test_upload_cfg(&cfg);
	assert_null(upload_start(base, out, "/tmp/cwld-test-upload-root", "s3://bkt/p",
	    &cfg, test_upload_cb, &g, &err));
	assert_int_equal(g.calls, 0);
	assert_non_null(strstr(err.msg, "output '/etc/hostname' is not under "
	    "'/tmp/cwld-test-upload-root'"));
	json_decref(out);
	event_base_free(base);
}

static void
test_upload_nothing(void **state)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	json_t *out = tu_json("{\"n\": 3, \"s\": \"x\", \"l\": {\"class\": \"File\","
	    " \"basename\": \"lit\", \"contents\": \"abc\"}}");
	struct upload *u;

	(void)state;
	test_upload_cfg(&cfg);
	u = upload_start(base, out, "/tmp", "s3://bkt/p", &cfg, test_upload_cb, &g, &err);
	assert_non_null(u);
	assert_int_equal(g.calls, 0); /* never from inside the start */
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_null(g.error);
	upload_free(u);
	json_decref(out);
	event_base_free(base);
}

static void
test_upload_unreachable(void **state)
{
	struct event_base *base = event_base_new();
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct got g = { 0, NULL, base };
	char tmpl[] = "/tmp/cwld-test-upload.XXXXXX";
	char *path, *dir, *text, *before;
	json_t *out;
	struct upload *u;
	long n;
	long long bytes;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	path = xasprintf("%s/a.txt", tmpl);
	assert_non_null(f = fopen(path, "w"));
	fputs("abc", f);
	fclose(f);
	dir = xasprintf("%s/d/empty", tmpl);
	assert_int_equal(fs_mkdir_p(dir, NULL), 0);
	text = xasprintf("{\"a\": {\"class\": \"File\", \"location\": \"file://%s\","
	    " \"path\": \"%s\", \"size\": 3}, \"d\": {\"class\": \"Directory\","
	    " \"location\": \"file://%s/d\"}}", path, path, tmpl);
	out = tu_json(text);
	before = json_dumps(out, JSON_SORT_KEYS);
	test_upload_cfg(&cfg);
	u = upload_start(base, out, tmpl, "s3://bkt/p", &cfg, test_upload_cb, &g, &err);
	assert_non_null(u);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.error);
	assert_non_null(strstr(g.error, "uploading '"));
	assert_non_null(strstr(g.error, "s3: PUT s3://bkt/p/"));
	assert_non_null(strstr(g.error, "127.0.0.1 port 1"));
	upload_stats(u, &n, &bytes);
	assert_int_equal(n, 0);
	/* nothing was rewritten */
	{
		char *after = json_dumps(out, JSON_SORT_KEYS);

		assert_string_equal(before, after);
		free(after);
	}
	upload_free(u);
	free(g.error);
	free(before);
	free(text);
	free(dir);
	free(path);
	json_decref(out);
	event_base_free(base);
	fs_rm_rf(tmpl, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_parse),
		cmocka_unit_test(test_upload_outside),
		cmocka_unit_test(test_upload_nothing),
		cmocka_unit_test(test_upload_unreachable),
	};

	/* no ~/.aws of the user's: the settings come from the tests */
	setenv("HOME", "/nonexistent", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
