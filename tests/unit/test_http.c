/* Tests for the libevent-driven libcurl client against the real Docker
 * engine's unix socket (/_ping, a 404, streaming, caps, cancel) and a closed
 * TCP port. Skipped when the socket is absent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cwld/http.h"
#include "cwld/xmalloc.h"

#define SOCK "/var/run/docker.sock"

struct got {
	int calls;
	long status;
	char *body;
	char *error;
	char *api_version;
	size_t streamed;
	int header_calls;
	long header_status;
	struct http *h;   /* for chained requests */
	int chain;
	struct event_base *base;
	int *outstanding;
};

static void
test_http_cb(void *arg, const struct http_response *res)
{
	struct got *g = arg;

	g->calls++;
	g->status = res->status;
	free(g->body);
	g->body = xstrndup(res->body, res->len);
	free(g->error);
	g->error = res->error != NULL ? xstrdup(res->error) : NULL;
	free(g->api_version);
	g->api_version = http_header_get(res->headers, "api-version");
	if (g->chain > 0) {
		g->chain--;
		assert_int_equal(http_request(g->h, "GET",
		    "http://localhost/_ping", NULL, 0, NULL, 5000,
		    test_http_cb, g, NULL), 0);
		return;
	}
	if (g->outstanding != NULL && --*g->outstanding == 0)
		event_base_loopbreak(g->base);
}

static void
test_http_got_free(struct got *g)
{
	free(g->body);
	free(g->error);
	free(g->api_version);
}

static void
test_http_ping(void **state)
{
	struct event_base *base;
	struct http *h;
	struct got g;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(&g, 0, sizeof g);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	assert_non_null(h);
	assert_int_equal(http_request(h, "GET", "http://localhost/_ping", NULL,
	    0, NULL, 5000, test_http_cb, &g, NULL), 0);
	assert_int_equal(g.calls, 0); /* never from inside http_request */
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "OK");
	assert_non_null(g.api_version);
	assert_true(strncmp(g.api_version, "1.", 2) == 0);
	http_free(h);
	event_base_free(base);
	test_http_got_free(&g);
}

static void
test_http_not_found(void **state)
{
	struct event_base *base;
	struct http *h;
	struct got g;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(&g, 0, sizeof g);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	assert_int_equal(http_request(h, "GET",
	    "http://localhost/v1.41/containers/cwld-no-such-container/json",
	    NULL, 0, NULL, 5000, test_http_cb, &g, NULL), 0);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 404);
	assert_non_null(strstr(g.body, "\"message\""));
	assert_null(g.error);
	http_free(h);
	event_base_free(base);
	test_http_got_free(&g);
}

static void
test_http_post_json_error(void **state)
{
	struct event_base *base;
	struct http *h;
	struct got g;
	const char *body = "{\"Image\":\"\"}";

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(&g, 0, sizeof g);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	/* a create without an image is a 400 with a message */
	assert_int_equal(http_request(h, "POST",
	    "http://localhost/v1.41/containers/create", body, strlen(body),
	    "application/json", 5000, test_http_cb, &g, NULL), 0);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_true(g.status >= 400 && g.status < 500);
	assert_non_null(strstr(g.body, "message"));
	http_free(h);
	event_base_free(base);
	test_http_got_free(&g);
}

struct upload {
	const char *text;
	size_t off, piece;
	int calls;
	int abort_at; /* abort on this call (0: never) */
};

static long
test_http_read(void *arg, char *buf, size_t size)
{
	struct upload *u = arg;
	size_t n = strlen(u->text) - u->off;

	if (++u->calls == u->abort_at)
		return -1;
	if (n > u->piece)
		n = u->piece;
	if (n > size)
		n = size;
	memcpy(buf, u->text + u->off, n);
	u->off += n;
	return (long)n;
}

/* A body streamed from read_body in small pieces, with a known size and
 * chunked, arrives whole: the engine parses it and names the image it asks
 * for. An abort from read_body ends the transfer with status 0. */
static void
test_http_streamed_body(void **state)
{
	const char *body = "{\"Image\":\"cwld-test/no-such-image:never\","
	    "\"Cmd\":[\"true\"]}";
	struct event_base *base;
	struct http_req req;
	struct upload u;
	struct http *h;
	struct got g;
	int mode;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	assert_non_null(h);
	for (mode = 0; mode < 3; mode++) {
		memset(&g, 0, sizeof g);
		memset(&u, 0, sizeof u);
		u.text = body;
		u.piece = 5;
		u.abort_at = mode == 2 ? 3 : 0;
		memset(&req, 0, sizeof req);
		req.method = "POST";
		req.url = "http://localhost/v1.41/containers/create";
		req.content_type = "application/json";
		req.timeout_ms = 5000;
		req.read_body = test_http_read;
		req.body_size = mode == 1 ? -1 : (long long)strlen(body);
		req.data_arg = &u;
		assert_non_null(http_request_ex(h, &req, test_http_cb, &g, NULL));
		event_base_dispatch(base);
		assert_int_equal(g.calls, 1);
		if (mode == 2) {
			assert_int_equal(g.status, 0);
			assert_string_equal(g.error, "transfer aborted by the sender");
		} else {
			assert_int_equal(g.status, 404);
			assert_non_null(strstr(g.body,
			    "cwld-test/no-such-image:never"));
			assert_int_equal(u.off, strlen(body));
			assert_true(u.calls > 3);
		}
		test_http_got_free(&g);
	}
	http_free(h);
	event_base_free(base);
}

static void
test_http_many_and_chained(void **state)
{
	struct event_base *base;
	struct http *h;
	struct got g[8];
	int outstanding = 8, i;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(g, 0, sizeof g);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	for (i = 0; i < 8; i++) {
		g[i].h = h;
		g[i].chain = i % 3; /* requests made from inside callbacks */
		g[i].base = base;
		g[i].outstanding = &outstanding;
		assert_int_equal(http_request(h, "GET", "http://localhost/_ping",
		    NULL, 0, NULL, 5000, test_http_cb, &g[i], NULL), 0);
	}
	event_base_dispatch(base);
	assert_int_equal(outstanding, 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(g[i].calls, 1 + i % 3);
		assert_int_equal(g[i].status, 200);
		test_http_got_free(&g[i]);
	}
	http_free(h);
	event_base_free(base);
}

static int
test_http_on_data(void *arg, const char *data, size_t len)
{
	struct got *g = arg;

	(void)data;
	g->streamed += len;
	return 0;
}

static void
test_http_on_headers(void *arg, long status, const char *headers)
{
	struct got *g = arg;

	assert_non_null(headers);
	g->header_calls++;
	g->header_status = status;
}

static void
test_http_stream_and_cap(void **state)
{
	struct event_base *base;
	struct http *h;
	struct http_req req;
	struct got g1, g2;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(&g1, 0, sizeof g1);
	memset(&g2, 0, sizeof g2);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);

	/* streamed: body goes to on_data, not kept */
	memset(&req, 0, sizeof req);
	req.url = "http://localhost/v1.41/version";
	req.timeout_ms = 5000;
	req.on_data = test_http_on_data;
	req.on_headers = test_http_on_headers;
	req.data_arg = &g1;
	assert_non_null(http_request_ex(h, &req, test_http_cb, &g1, NULL));

	/* capped: /version is larger than 10 bytes */
	memset(&req, 0, sizeof req);
	req.url = "http://localhost/v1.41/version";
	req.timeout_ms = 5000;
	req.max_body = 10;
	assert_non_null(http_request_ex(h, &req, test_http_cb, &g2, NULL));
	event_base_dispatch(base);

	assert_int_equal(g1.calls, 1);
	assert_int_equal(g1.status, 200);
	assert_true(g1.streamed > 20);
	assert_string_equal(g1.body, "");
	assert_int_equal(g1.header_calls, 1);
	assert_int_equal(g1.header_status, 200);

	assert_int_equal(g2.calls, 1);
	assert_int_equal(g2.status, 0);
	assert_non_null(g2.error);
	assert_non_null(strstr(g2.error, "too large"));
	http_free(h);
	event_base_free(base);
	test_http_got_free(&g1);
	test_http_got_free(&g2);
}

static void
test_http_cancel_and_free(void **state)
{
	struct event_base *base;
	struct http *h;
	struct http_req req;
	struct http_xfer *x;
	struct got g1, g2, g3;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(&g1, 0, sizeof g1);
	memset(&g2, 0, sizeof g2);
	memset(&g3, 0, sizeof g3);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	memset(&req, 0, sizeof req);
	req.url = "http://localhost/_ping";
	x = http_request_ex(h, &req, test_http_cb, &g1, NULL);
	assert_non_null(x);
	assert_non_null(http_request_ex(h, &req, test_http_cb, &g2, NULL));
	http_cancel(x);
	event_base_dispatch(base);
	assert_int_equal(g1.calls, 0);
	assert_int_equal(g2.calls, 1);
	/* a long request in flight: http_free aborts it without a callback
	 * (events with since= in the future and until= never end early) */
	req.url = "http://localhost/v1.41/events";
	assert_non_null(http_request_ex(h, &req, test_http_cb, &g3, NULL));
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	http_free(h);
	assert_int_equal(g3.calls, 0);
	event_base_free(base);
	test_http_got_free(&g1);
	test_http_got_free(&g2);
	test_http_got_free(&g3);
}

static void
test_http_timeout(void **state)
{
	struct event_base *base;
	struct http *h;
	struct got g;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	memset(&g, 0, sizeof g);
	base = event_base_new();
	h = http_new(base, SOCK, NULL);
	/* /events is silent when idle: the timeout ends it */
	assert_int_equal(http_request(h, "GET", "http://localhost/v1.41/events",
	    NULL, 0, NULL, 300, test_http_cb, &g, NULL), 0);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	http_free(h);
	event_base_free(base);
	test_http_got_free(&g);
}

static void
test_http_refused(void **state)
{
	struct event_base *base;
	struct http *h;
	struct got g;

	(void)state;
	memset(&g, 0, sizeof g);
	base = event_base_new();
	h = http_new(base, NULL, NULL);
	/* port 1 on loopback: nothing listens there */
	assert_int_equal(http_request(h, "GET", "http://127.0.0.1:1/", NULL, 0,
	    NULL, 5000, test_http_cb, &g, NULL), 0);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_true(strlen(g.error) > 0);
	http_free(h);
	event_base_free(base);
	test_http_got_free(&g);
}

static void
test_http_header_get(void **state)
{
	const char *hdrs = "HTTP/1.1 200 OK\r\nApi-Version: 1.41 \r\n"
	    "Content-Type: text/plain\r\nX-Empty:\r\n\r\n";
	char *v;

	(void)state;
	v = http_header_get(hdrs, "API-VERSION");
	assert_string_equal(v, "1.41");
	free(v);
	v = http_header_get(hdrs, "content-type");
	assert_string_equal(v, "text/plain");
	free(v);
	v = http_header_get(hdrs, "x-empty");
	assert_string_equal(v, "");
	free(v);
	assert_null(http_header_get(hdrs, "content"));
	assert_null(http_header_get("", "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_header_get),
		cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_http_ping),
		cmocka_unit_test(test_http_not_found),
		cmocka_unit_test(test_http_post_json_error),
		cmocka_unit_test(test_http_streamed_body),
		cmocka_unit_test(test_http_many_and_chained),
		cmocka_unit_test(test_http_stream_and_cap),
		cmocka_unit_test(test_http_cancel_and_free),
		cmocka_unit_test(test_http_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
