/* Tests for docker_stream.c: JSON lines cut from chunks split anywhere (one
 * byte at a time too), an over-long line dropped, a pull's layers summed
 * from lines as the engine writes them, and the text people see. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cwld/docker_stream.h"
#include "cwld/xmalloc.h"

/* An engine's answer to a pull of two new layers and one it had, with an
 * error line at the end (as a registry failing mid-way writes it). */
static const char test_pull_answer[] =
    "{\"status\":\"Pulling from cwld-test/pull\",\"id\":\"1234\"}\r\n"
    "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"aaaa\"}\r\n"
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"bbbb\"}\r\n"
    "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1000000,"
    "\"total\":30000000},\"progress\":\"[>   ]\",\"id\":\"bbbb\"}\r\n"
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":2000000,"
    "\"total\":15600000},\"progress\":\"[=>  ]\",\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":12300000,"
    "\"total\":30000000},\"progress\":\"[==> ]\",\"id\":\"bbbb\"}\r\n"
    "{\"status\":\"Verifying Checksum\",\"progressDetail\":{},\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":32768,"
    "\"total\":15600000},\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"cccc\"}\r\n"
    "{\"status\":\"Digest: sha256:0123\"}\r\n"
    "{\"errorDetail\":{\"message\":\"unexpected EOF\"},\"error\":\"unexpected EOF\"}";

struct test_seen {
	json_t *lines;               /* every line, as parsed (or null) */
	struct docker_stream_pull pull;
	int changes;
	char err[256];
};

static void
test_stream_line(void *arg, const char *line, size_t len)
{
	struct test_seen *t = arg;
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *e;

	if (j != NULL) {
		t->changes += docker_stream_pull_line(&t->pull, j);
		e = json_string_value(json_object_get(j, "error"));
		if (e != NULL)
			snprintf(t->err, sizeof t->err, "%s", e);
	}
	json_array_append_new(t->lines, j != NULL ? j : json_null());
}

/* Feeds test_pull_answer in chunks of step bytes; checks the outcome. */
static void
test_stream_chunks(size_t step)
{
	struct docker_stream s;
	struct test_seen t;
	struct docker_stream_pull_sum sum;
	size_t len = strlen(test_pull_answer), off, n;
	char text[96];

	docker_stream_init(&s);
	memset(&t, 0, sizeof t);
	t.lines = json_array();
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		docker_stream_feed(&s, test_pull_answer + off, n, test_stream_line, &t);
	}
	/* the error line has no '\n': only the end hands it over */
	assert_int_equal(json_array_size(t.lines), 13);
	assert_string_equal(t.err, "");
	docker_stream_end(&s, test_stream_line, &t);
	assert_int_equal(json_array_size(t.lines), 14);
	assert_string_equal(t.err, "unexpected EOF");
	for (n = 0; n < json_array_size(t.lines); n++)
		assert_true(json_is_object(json_array_get(t.lines, n)));

	docker_stream_pull_sum(&t.pull, &sum);
	assert_int_equal(sum.layers_total, 3);     /* not the tag "1234" */
	assert_int_equal(sum.layers_done, 2);      /* aaaa had, cccc pulled */
	assert_int_equal(sum.bytes_total, 45600000);
	assert_int_equal(sum.bytes_done, 12300000 + 15600000);
	assert_string_equal(docker_stream_pull_text(&sum, text, sizeof text),
	    "27.9/45.6 MB (2/3 layers)");
	/* 3 layers made, 3 downloads, verify, pull complete; not "Waiting",
	 * "Download complete" (already counted whole), "Extracting" */
	assert_int_equal(t.changes, 8);

	json_decref(t.lines);
	docker_stream_pull_release(&t.pull);
	docker_stream_release(&s);
}

static void
test_stream_split(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64, 100000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
		test_stream_chunks(steps[i]);
}

/* A line over the cap is dropped whole; the stream goes on after it. */
static void
test_stream_long_line(void **state)
{
	struct docker_stream s;
	struct test_seen t;
	size_t big = DOCKER_STREAM_MAX_LINE + 10, off;
	char *junk = xmalloc(big);

	(void)state;
	memset(junk, 'x', big);
	docker_stream_init(&s);
	memset(&t, 0, sizeof t);
	t.lines = json_array();
	docker_stream_feed(&s, "{\"a\":1}\n{\"b\":", 13, test_stream_line, &t);
	for (off = 0; off < big; off += 4096)
		docker_stream_feed(&s, junk + off, big - off < 4096 ? big - off : 4096,
		    test_stream_line, &t);
	docker_stream_feed(&s, "}\n{\"c\":3}\n", 10, test_stream_line, &t);
	docker_stream_end(&s, test_stream_line, &t);
	assert_int_equal(json_array_size(t.lines), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t.lines,
	    0), "a")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t.lines,
	    1), "c")), 3);
	json_decref(t.lines);
	docker_stream_release(&s);
	free(junk);
}

/* Sizes before any is known, small and large units, odd details. */
static void
test_stream_pull_text(void **state)
{
	struct docker_stream_pull p;
	struct docker_stream_pull_sum sum;
	char text[96];
	json_t *j;

	(void)state;
	memset(&p, 0, sizeof p);
	j = json_pack("{s:s,s:s,s:{}}", "status", "Pulling fs layer", "id", "l1",
	    "progressDetail");
	assert_int_equal(docker_stream_pull_line(&p, j), 1);
	assert_int_equal(docker_stream_pull_line(&p, j), 0); /* nothing new */
	json_decref(j);
	docker_stream_pull_sum(&p, &sum);
	assert_string_equal(docker_stream_pull_text(&sum, text, sizeof text),
	    "(0/1 layers)");
	/* current over total and negative numbers are clamped */
	j = json_pack("{s:s,s:s,s:{s:i,s:i}}", "status", "Downloading", "id", "l1",
	    "progressDetail", "current", 900, "total", 800);
	assert_int_equal(docker_stream_pull_line(&p, j), 1);
	json_decref(j);
	docker_stream_pull_sum(&p, &sum);
	assert_string_equal(docker_stream_pull_text(&sum, text, sizeof text),
	    "0.8/0.8 kB (0/1 layers)");
	j = json_pack("{s:s,s:s,s:{s:I,s:I}}", "status", "Downloading", "id", "l2",
	    "progressDetail", "current", (json_int_t)-5, "total",
	    (json_int_t)3000000000LL);
	assert_int_equal(docker_stream_pull_line(&p, j), 1);
	json_decref(j);
	/* no status, no id, an unknown status of an unknown id: ignored */
	j = json_pack("{s:s}", "status", "Downloading");
	assert_int_equal(docker_stream_pull_line(&p, j), 0);
	json_decref(j);
	j = json_pack("{s:s,s:s}", "status", "Retrying in 5 seconds", "id", "l9");
	assert_int_equal(docker_stream_pull_line(&p, j), 0);
	json_decref(j);
	docker_stream_pull_sum(&p, &sum);
	assert_int_equal(sum.layers_total, 2);
	assert_string_equal(docker_stream_pull_text(&sum, text, sizeof text),
	    "0.0/3.0 GB (0/2 layers)");
	docker_stream_pull_release(&p);
	docker_stream_pull_release(&p); /* empty: nothing to free */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_split),
		cmocka_unit_test(test_stream_long_line),
		cmocka_unit_test(test_stream_pull_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
