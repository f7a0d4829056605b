/* Unit tests for client_fmt.c, what the daemon clients (cmd_client.c) do
 * without a network: API times to local time and spans, labels, process
 * names, aligned tables, and Server-Sent Events fed in pieces. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cwld/client_fmt.h"
#include "cwld/xmalloc.h"
#include "testutil.h"


static void
test_parse_time(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(client_fmt_parse_time("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00.123Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1795770000123));
	/* More than three fraction digits are cut, fewer padded. */
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00.1239Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1795770000123));
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00.5Z", &ms), 0);
	assert_int_equal(ms, INT64_C(1795770000500));
	/* An offset means the same instant. */
	assert_int_equal(client_fmt_parse_time("2026-11-27T10:30:00+01:30", &ms), 0);
	assert_int_equal(ms, INT64_C(1795770000000));
	assert_int_equal(client_fmt_parse_time("2026-11-27T07:00:00-0200", &ms), 0);
	assert_int_equal(ms, INT64_C(1795770000000));
	/* SQLite's own form, with a blank and no zone, is UTC. */
	assert_int_equal(client_fmt_parse_time("2026-11-27 09:00:00", &ms), 0);
	assert_int_equal(ms, INT64_C(1795770000000));

	ms = 42;
	assert_int_equal(client_fmt_parse_time(NULL, &ms), -1);
	assert_int_equal(client_fmt_parse_time("", &ms), -1);
	assert_int_equal(client_fmt_parse_time("2026-11-27", &ms), -1);
	assert_int_equal(client_fmt_parse_time("2026-13-27T09:00:00Z", &ms), -1);
	assert_int_equal(client_fmt_parse_time("2026-11-27T24:00:00Z", &ms), -1);
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00.Z", &ms), -1);
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00Zjunk", &ms), -1);
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00+1", &ms), -1);
	assert_int_equal(client_fmt_parse_time("+026-11-27T09:00:00Z", &ms), -1);
	assert_int_equal(ms, 42);
}

static void
test_local_time(void **state)
{
	char buf[32];

	(void)state;
	/* POSIX TZ strings need no tz database: "X-2" is two hours east. */
	setenv("TZ", "XYZ-2", 1);
	tzset();
	assert_string_equal(client_fmt_local_time("2026-11-27T23:30:59.999Z", buf, sizeof buf),
	    "2026-11-28 01:30:59");
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_string_equal(client_fmt_local_time("2026-11-27T09:00:00.123Z", buf, sizeof buf),
	    "2026-11-27 09:00:00");
	assert_string_equal(client_fmt_local_time(NULL, buf, sizeof buf), "-");
	assert_string_equal(client_fmt_local_time("yesterday", buf, sizeof buf), "-");
	/* A short buffer is still terminated. */
	client_fmt_local_time("2026-11-27T09:00:00Z", buf, 5);
	assert_true(strlen(buf) < 5);
}

static void
test_span(void **state)
{
	char buf[32];
	int64_t now;

	(void)state;
	assert_string_equal(client_fmt_span("2026-11-27T09:00:00.000Z",
	    "2026-11-27T09:00:00.400Z", 0, buf, sizeof buf), "0.4s");
	assert_string_equal(client_fmt_span("2026-11-27T09:00:00.000Z",
	    "2026-11-27T09:01:02.900Z", 0, buf, sizeof buf), "1m02s");
	assert_string_equal(client_fmt_span("2026-11-27T09:00:00Z",
	    "2026-11-27T11:03:00Z", 0, buf, sizeof buf), "2h03m");
	/* Clocks that disagree give no negative time. */
	assert_string_equal(client_fmt_span("2026-11-27T09:00:01Z",
	    "2026-11-27T09:00:00Z", 0, buf, sizeof buf), "0.0s");
	/* Not finished: up to now. */
	assert_int_equal(client_fmt_parse_time("2026-11-27T09:00:00Z", &now), 0);
	assert_string_equal(client_fmt_span("2026-11-27T09:00:00Z", NULL, now + 5300,
	    buf, sizeof buf), "5.3s");
	assert_string_equal(client_fmt_span(NULL, NULL, now, buf, sizeof buf), "-");
	assert_string_equal(client_fmt_span("2026-11-27T09:00:00Z", "soon", now, buf,
	    sizeof buf), "-");
}

static void
test_labels(void **state)
{
	json_t *j;
	char *s, *k, *v;

	(void)state;
	j = tu_json("{\"team\": \"x\", \"b\": \"2\", \"a\": \"one two\"}");
	s = client_fmt_labels(j);
	assert_string_equal(s, "a=one two,b=2,team=x");
	free(s);
	json_decref(j);
	j = tu_json("{\"n\": 3, \"ok\": true}");
	s = client_fmt_labels(j);
	assert_string_equal(s, "n=3,ok=true");
	free(s);
	json_decref(j);
	j = tu_json("{}");
	s = client_fmt_labels(j);
	assert_string_equal(s, "");
	free(s);
	json_decref(j);
	s = client_fmt_labels(NULL);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(client_fmt_label_split("team=a=b", &k, &v), 0);
	assert_string_equal(k, "team");
	assert_string_equal(v, "a=b");
	free(k);
	free(v);
	assert_int_equal(client_fmt_label_split("empty=", &k, &v), 0);
	assert_string_equal(k, "empty");
	assert_string_equal(v, "");
	free(k);
	free(v);
	k = v = NULL;
	assert_int_equal(client_fmt_label_split("novalue", &k, &v), -1);
	assert_int_equal(client_fmt_label_split("=x", &k, &v), -1);
	assert_null(k);
	assert_null(v);
}

static void
check_name(const char *uri, const char *want)
{
	char *got = client_fmt_process_name(uri);

	if (strcmp(got, want) != 0)
		print_error("process_name('%s') = '%s', want '%s'\n", uri ? uri : "(null)",
		    got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_process_name(void **state)
{
	(void)state;
	check_name("file:///data/wf/align.cwl", "align.cwl");
	check_name("file:///data/packed.cwl#main", "packed.cwl#main");
	check_name("file:///data/packed.cwl#main/step", "packed.cwl#main/step");
	check_name("file:///data/my%20wf.cwl", "my wf.cwl");
	check_name("https://example.org/tools/echo.cwl?ref=v1", "echo.cwl");
	check_name("https://example.org/tools/", "tools");
	check_name("wf.cwl", "wf.cwl");
	check_name("#main", "#main");
	check_name(NULL, "-");
	check_name("", "-");
}

static void
test_state_final(void **state)
{
	(void)state;
	assert_true(client_fmt_state_final("success"));
	assert_true(client_fmt_state_final("failed"));
	assert_true(client_fmt_state_final("cancelled"));
	assert_false(client_fmt_state_final("pending"));
	assert_false(client_fmt_state_final("running"));
	assert_false(client_fmt_state_final("skipped"));
	assert_false(client_fmt_state_final(NULL));
}

static void
test_table(void **state)
{
	static const char *const head[] = { "ID", "STATE", "LABELS" };
	const char *r1[] = { "a1", "success", "team=x" };
	const char *r2[] = { "b22222", "failed", NULL };
	const char *r3[] = { "é", "line\none", "" };
	struct client_fmt_table *t = client_fmt_table_new(3, head);
	char *s;

	(void)state;
	assert_int_equal(client_fmt_table_rows(t), 0);
	client_fmt_table_add(t, r1);
	client_fmt_table_add(t, r2);
	client_fmt_table_add(t, r3);
	assert_int_equal(client_fmt_table_rows(t), 3);
	s = client_fmt_table_render(t);
	/* "é" is two bytes and one column; the newline becomes a space; the
	 * empty last cell leaves no blanks at the end of its line. */
	assert_string_equal(s,
	    "ID      STATE     LABELS\n"
	    "a1      success   team=x\n"
	    "b22222  failed    -\n"
	    "é       line one\n");
	free(s);
	client_fmt_table_free(t);
	client_fmt_table_free(NULL);

	/* Only a header. */
	t = client_fmt_table_new(2, (const char *const[]){ "NAME", "X" });
	s = client_fmt_table_render(t);
	assert_string_equal(s, "NAME  X\n");
	free(s);
	client_fmt_table_free(t);
}

struct sse_seen {
	char log[1024];
	int n;
	int stop_at; /* 0: never */
};

static int
sse_cb(void *arg, const char *event, const char *data)
{
	struct sse_seen *s = arg;
	size_t len = strlen(s->log);

	snprintf(s->log + len, sizeof s->log - len, "[%s|%s]", event, data);
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static const char sse_stream[] =
    ": keepalive\n\n"
    "event: run\n"
    "data: {\"id\": \"r1\", \"state\": \"running\"}\n\n"
    "event: step\r\n"
    "data:first\r\n"
    "data: second\r\n"
    "id: 3\r\n"
    "retry: 1000\r\n"
    "\r\n"
    "data: plain\r\r"
    "event: nodata\n\n"
    "data\n\n"
    "event: run\n"
    "data: {\"state\": \"success\"}\n\n";

static const char sse_want[] =
    "[run|{\"id\": \"r1\", \"state\": \"running\"}]"
    "[step|first\nsecond]"
    "[message|plain]"
    "[message|]"
    "[run|{\"state\": \"success\"}]";

static void
test_sse_whole_and_bytewise(void **state)
{
	struct sse_seen seen = { 0 };
	struct client_fmt_sse *p;
	size_t i;

	(void)state;
	p = client_fmt_sse_new(4096, sse_cb, &seen);
	assert_int_equal(client_fmt_sse_feed(p, sse_stream, strlen(sse_stream)), 0);
	assert_string_equal(seen.log, sse_want);
	client_fmt_sse_free(p);

	/* The same stream one byte at a time: CRLF split over two feeds
	 * still ends one line. */
	memset(&seen, 0, sizeof seen);
	p = client_fmt_sse_new(4096, sse_cb, &seen);
	for (i = 0; sse_stream[i] != '\0'; i++)
		assert_int_equal(client_fmt_sse_feed(p, sse_stream + i, 1), 0);
	assert_string_equal(seen.log, sse_want);
	assert_int_equal(seen.n, 5);
	client_fmt_sse_free(p);
	client_fmt_sse_free(NULL);
}

static void
test_sse_stop_and_limit(void **state)
{
	struct sse_seen seen = { .stop_at = 2 };
	struct client_fmt_sse *p;
	char big[300];

	(void)state;
	p = client_fmt_sse_new(4096, sse_cb, &seen);
	assert_int_equal(client_fmt_sse_feed(p, sse_stream, strlen(sse_stream)), 7);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.log,
	    "[run|{\"id\": \"r1\", \"state\": \"running\"}][step|first\nsecond]");
	client_fmt_sse_free(p);

	/* An event beyond the limit, even spread over many data lines and
	 * feeds, is an error and nothing is dispatched. */
	memset(&seen, 0, sizeof seen);
	memset(big, 'x', sizeof big);
	p = client_fmt_sse_new(256, sse_cb, &seen);
	assert_int_equal(client_fmt_sse_feed(p, "data: ", 6), 0);
	assert_int_equal(client_fmt_sse_feed(p, big, 100), 0);
	assert_int_equal(client_fmt_sse_feed(p, "\ndata: ", 7), 0);
	assert_int_equal(client_fmt_sse_feed(p, big, 100), 0);
	assert_int_equal(client_fmt_sse_feed(p, "\ndata: ", 7), 0);
	assert_int_equal(client_fmt_sse_feed(p, big, 100), -1);
	assert_int_equal(seen.n, 0);
	client_fmt_sse_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_local_time),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_process_name),
		cmocka_unit_test(test_state_final),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_sse_whole_and_bytewise),
		cmocka_unit_test(test_sse_stop_and_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
