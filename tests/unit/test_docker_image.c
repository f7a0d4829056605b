/* Tests for docker_image.c against the real engine: names, one build shared
 * by concurrent and later requests (counted by the engine's image label),
 * a failing build's message, missing and corrupt tarballs, an import tagged
 * by its hash, cancel, free with work in flight, an unreachable engine.
 * Every image made here has a unique Dockerfile or tag and is removed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "cwld/docker.h"
#include "cwld/xmalloc.h"

#define SOCK "/var/run/docker.sock"

struct got {
	int calls;
	char *ref;
	struct cwld_err err;
	int failed;
	int *pending;
	struct event_base *base;
};

static void
test_image_cb(void *arg, const char *ref, const struct cwld_err *err)
{
	struct got *g = arg;

	g->calls++;
	free(g->ref);
	g->ref = ref != NULL ? xstrdup(ref) : NULL;
	g->failed = err != NULL;
	if (err != NULL)
		g->err = *err;
	if (g->pending != NULL && --*g->pending == 0)
		event_base_loopbreak(g->base);
}

static size_t
test_image_write(char *data, size_t size, size_t n, void *userp)
{
	char **b = userp;
	size_t old = *b != NULL ? strlen(*b) : 0;

	*b = xreallocarray(*b, old + size * n + 1, 1);
	memcpy(*b + old, data, size * n);
	(*b)[old + size * n] = '\0';
	return size * n;
}

/* One blocking engine call for checks and cleanup; the body, new. */
static char *
test_image_engine(const char *method, const char *path, long *status)
{
	char *body = NULL, *url;
	CURL *c = curl_easy_init();

	assert_non_null(c);
	url = xasprintf("http://localhost/v1.41%s", path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, SOCK);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_image_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	free(url);
	return body != NULL ? body : xstrdup("");
}

static void
test_image_remove(const char *ref)
{
	long status = 0;
	char *path = xasprintf("/images/%s?force=1", ref);

	free(test_image_engine("DELETE", path, &status));
	free(path);
}

static int
test_image_exists(const char *ref)
{
	long status = 0;
	char *path = xasprintf("/images/%s/json", ref);

	free(test_image_engine("GET", path, &status));
	free(path);
	return status == 200;
}

/* How many images (tagged or dangling) carry label cwld.dockerfile=sha. */
static int
test_image_count_label(const char *ref)
{
	long status = 0;
	char *path, *body, *sha;
	json_t *list;
	int n;

	/* the label is the full sha256; the tag holds its first 16 digits */
	sha = xstrdup(strchr(ref, ':') + 1);
	path = xasprintf("/images/json?all=1&filters=%%7B%%22label%%22%%3A%%5B"
	    "%%22cwld.dockerfile%%22%%5D%%7D");
	body = test_image_engine("GET", path, &status);
	assert_int_equal(status, 200);
	list = json_loads(body, 0, NULL);
	assert_non_null(list);
	n = 0;
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *l = json_string_value(json_object_get(json_object_get(
		    json_array_get(list, i), "Labels"), "cwld.dockerfile"));

		if (l != NULL && strncmp(l, sha, strlen(sha)) == 0)
			n++;
	}
	json_decref(list);
	free(body);
	free(path);
	free(sha);
	return n;
}

static void
test_image_names(void **state)
{
	struct docker_image_req req;
	char *n;

	(void)state;
	memset(&req, 0, sizeof req);
	assert_null(docker_image_name(&req));
	req.load = "x.tar";
	assert_null(docker_image_name(&req));
	req.pull = "debian:stable-slim";
	n = docker_image_name(&req);
	assert_string_equal(n, "debian:stable-slim");
	free(n);
	req.image_id = "mine:1";
	n = docker_image_name(&req);
	assert_string_equal(n, "mine:1");
	free(n);
	memset(&req, 0, sizeof req);
	/* sha256("FROM scratch\n") */
	req.dockerfile = "FROM scratch\n";
	n = docker_image_name(&req);
	assert_string_equal(n, "cwld-dockerfile:bb57c7da220a8753");
	free(n);
}

/* Three requests at once and one after: one build, the same reference. */
static void
test_image_build_shared(void **state)
{
	struct cwld_err err = { 0, "" };
	struct docker_image_req req;
	struct event_base *base;
	struct docker *d;
	struct got g[4];
	char *text, *name;
	int pending = 3, i;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	text = xasprintf("FROM debian:stable-slim\nRUN echo %d-%ld > /stamp\n",
	    (int)getpid(), (long)time(NULL));
	memset(&req, 0, sizeof req);
	req.dockerfile = text;
	name = docker_image_name(&req);
	base = event_base_new();
	d = docker_new(base, NULL, &err);
	assert_non_null(d);
	memset(g, 0, sizeof g);
	for (i = 0; i < 3; i++) {
		g[i].pending = &pending;
		g[i].base = base;
		assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g[i],
		    &err), 0);
	}
	assert_int_equal(g[0].calls, 0); /* never from inside ensure */
	event_base_dispatch(base);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		if (g[i].failed)
			print_error("%s\n", g[i].err.msg);
		assert_false(g[i].failed);
		assert_string_equal(g[i].ref, name);
	}
	/* later: remembered, still from the loop */
	pending = 1;
	g[3].pending = &pending;
	g[3].base = base;
	assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g[3], &err), 0);
	assert_int_equal(g[3].calls, 0);
	event_base_dispatch(base);
	assert_int_equal(g[3].calls, 1);
	assert_string_equal(g[3].ref, name);
	docker_free(d);

	/* a new client finds the tag and does not build again */
	assert_true(test_image_exists(name));
	assert_int_equal(test_image_count_label(name), 1);
	d = docker_new(base, NULL, &err);
	pending = 1;
	free(g[0].ref);
	memset(&g[0], 0, sizeof g[0]);
	g[0].pending = &pending;
	g[0].base = base;
	assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g[0], &err), 0);
	event_base_dispatch(base);
	assert_false(g[0].failed);
	assert_int_equal(test_image_count_label(name), 1);
	docker_free(d);
	event_base_free(base);

	test_image_remove(name);
	assert_false(test_image_exists(name));
	for (i = 0; i < 4; i++)
		free(g[i].ref);
	free(name);
	free(text);
}

/* Runs one ensure to its callback. */
static void
test_image_one(const struct docker_image_req *req, const char *host, struct got *g)
{
	struct cwld_err err = { 0, "" };
	struct event_base *base = event_base_new();
	struct docker *d = docker_new(base, host, &err);
	int pending = 1;

	assert_non_null(d);
	free(g->ref);
	memset(g, 0, sizeof *g);
	g->pending = &pending;
	g->base = base;
	assert_int_equal(docker_image_ensure(d, req, test_image_cb, g, &err), 0);
	event_base_dispatch(base);
	assert_int_equal(g->calls, 1);
	docker_free(d);
	event_base_free(base);
}

static void
test_image_errors(void **state)
{
	struct docker_image_req req;
	char dir[] = "/tmp/cwld-test-image-XXXXXX", *bad, *text;
	struct got g = { 0 };
	FILE *f;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	bad = xasprintf("%s/bad.tar", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("not a tarball\n", f);
	fclose(f);

	/* a missing tarball, relative to the document */
	memset(&req, 0, sizeof req);
	req.load = "missing.tar";
	req.base_uri = "file:///tmp/cwld-no-such-dir/tool.cwl";
	test_image_one(&req, NULL, &g);
	assert_true(g.failed);
	assert_int_equal(g.err.code, CWLD_EXIT_FAILED);
	assert_string_equal(g.err.msg, "dockerLoad: cannot read "
	    "'/tmp/cwld-no-such-dir/missing.tar': No such file or directory");

	/* corrupt: the engine's message from a JSON line of a 200 (load) and
	 * from a 500 (import) */
	memset(&req, 0, sizeof req);
	req.load = bad;
	test_image_one(&req, NULL, &g);
	assert_true(g.failed);
	assert_non_null(strstr(g.err.msg, "cannot load the image: Error "
	    "processing tar file"));
	memset(&req, 0, sizeof req);
	req.import = bad;
	req.pull = "cwld-test-image-never:x";
	test_image_one(&req, NULL, &g);
	assert_true(g.failed);
	assert_non_null(strstr(g.err.msg, "dockerImport '"));
	assert_non_null(strstr(g.err.msg, "Error processing tar file"));
	assert_false(test_image_exists("cwld-test-image-never:x"));

	/* a failing RUN: the engine's message and the command's last words */
	text = xasprintf("FROM debian:stable-slim\nRUN echo doomed-%d >&2; "
	    "exit 7\n", (int)getpid());
	memset(&req, 0, sizeof req);
	req.dockerfile = text;
	test_image_one(&req, NULL, &g);
	assert_true(g.failed);
	if (strstr(g.err.msg, "returned a non-zero code: 7") == NULL ||
	    strstr(g.err.msg, "(last output: doomed-") == NULL)
		print_error("%s\n", g.err.msg);
	assert_non_null(strstr(g.err.msg, "returned a non-zero code: 7"));
	assert_non_null(strstr(g.err.msg, "(last output: doomed-"));
	free(text);

	/* a request naming nothing fails at once, without a callback */
	{
		struct cwld_err err = { 0, "" };
		struct event_base *base = event_base_new();
		struct docker *d = docker_new(base, NULL, &err);

		memset(&req, 0, sizeof req);
		free(g.ref);
		memset(&g, 0, sizeof g);
		assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g,
		    &err), -1);
		assert_int_equal(err.code, CWLD_EXIT_USAGE);
		req.load = "ftp://example.org/x.tar";
		assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g,
		    &err), -1);
		assert_non_null(strstr(err.msg, "only files and http(s) URLs"));
		docker_free(d);
		event_base_free(base);
		assert_int_equal(g.calls, 0);
	}

	/* an engine that is not there */
	memset(&req, 0, sizeof req);
	req.pull = "debian:stable-slim";
	test_image_one(&req, "unix:///tmp/cwld-no-such-engine.sock", &g);
	assert_true(g.failed);
	assert_int_equal(g.err.code, CWLD_EXIT_UNREACHABLE);
	assert_non_null(strstr(g.err.msg, "docker engine unreachable at "
	    "'unix:///tmp/cwld-no-such-engine.sock'"));

	unlink(bad);
	rmdir(dir);
	free(bad);
	free(g.ref);
}

/* An import without a name is tagged with the tarball's hash; the second
 * request finds that tag. */
static void
test_image_import_hash(void **state)
{
	struct docker_image_req req;
	char dir[] = "/tmp/cwld-test-image-XXXXXX", *tar, *cmd, *ref;
	struct got g = { 0 };
	int rc;

	(void)state;
	if (access(SOCK, W_OK) != 0 || access("/bin/busybox", X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	tar = xasprintf("%s/rootfs.tar", dir);
	cmd = xasprintf("set -e; cd %s; mkdir -p r/bin; cp /bin/busybox r/bin/; "
	    "echo %d-%ld > r/marker; tar -C r -cf rootfs.tar .; rm -rf r", dir,
	    (int)getpid(), (long)time(NULL));
	rc = system(cmd); /* test setup only */
	assert_int_equal(rc, 0);
	memset(&req, 0, sizeof req);
	req.import = tar;
	test_image_one(&req, NULL, &g);
	if (g.failed)
		print_error("%s\n", g.err.msg);
	assert_false(g.failed);
	assert_non_null(g.ref);
	assert_true(strncmp(g.ref, "cwld-dockerimport:", 18) == 0);
	assert_int_equal(strlen(g.ref), 18 + 16);
	assert_true(test_image_exists(g.ref));
	ref = xstrdup(g.ref);
	test_image_one(&req, NULL, &g);
	assert_false(g.failed);
	assert_string_equal(g.ref, ref);
	test_image_remove(ref);
	unlink(tar);
	rmdir(dir);
	free(ref);
	free(tar);
	free(cmd);
	free(g.ref);
}

/* Cancel: the callback comes from the loop with "canceled"; docker_free
 * with an operation in flight calls nothing and leaks nothing. */
static void
test_image_cancel_and_free(void **state)
{
	struct cwld_err err = { 0, "" };
	struct docker_image_req req;
	struct event_base *base;
	struct docker *d;
	struct got g;
	char *text, *name;
	int pending = 1;

	(void)state;
	if (access(SOCK, W_OK) != 0)
		skip();
	text = xasprintf("FROM debian:stable-slim\nRUN sleep 2; echo %d-%ld\n",
	    (int)getpid(), (long)time(NULL));
	memset(&req, 0, sizeof req);
	req.dockerfile = text;
	name = docker_image_name(&req);
	base = event_base_new();
	d = docker_new(base, NULL, &err);
	memset(&g, 0, sizeof g);
	g.pending = &pending;
	g.base = base;
	assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g, &err), 0);
	docker_image_cancel_all(d);
	assert_int_equal(g.calls, 0);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 1);
	assert_true(g.failed);
	assert_string_equal(g.err.msg, "canceled");

	/* in flight at free: no callback */
	memset(&g, 0, sizeof g);
	assert_int_equal(docker_image_ensure(d, &req, test_image_cb, &g, &err), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	docker_free(d);
	event_base_free(base);
	assert_int_equal(g.calls, 0);
	/* the engine stops a build whose client went away: no image, where
	 * the build would have been done in about 2.5 s */
	sleep(6);
	assert_false(test_image_exists(name));
	test_image_remove(name);
	free(name);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_names),
		cmocka_unit_test(test_image_build_shared),
		cmocka_unit_test(test_image_errors),
		cmocka_unit_test(test_image_import_hash),
		cmocka_unit_test(test_image_cancel_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
