/* Tests for the Docker executor against the real engine with the local image
 * cwld-test/busybox:latest (made by tests/integration/lib-busybox-image.sh,
 * which the group setup runs): stdio files, exit codes, stdin, mounts, uid,
 * labels, removal, missing images and programs, time limits, cancel, gc. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
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
#include "testutil.h"

#define SOCK "/var/run/docker.sock"
#define IMAGE "cwld-test/busybox:latest"

/* string literals for argv/env arrays under -Wwrite-strings */
#define L(s) ((char *)(s))

extern char **environ;

struct tdk {
	struct event_base *base;
	struct docker *d;
	int have_image;
	char dir[64];
	char in[96], out[96], so[128], se[128];
	char run_id[32];
	int pending;
	/* for the "ready" poller */
	struct event *poll;
	void (*on_ready)(struct tdk *);
	char ready[160];
	int ready_seen;
	int labels_ok;
};

struct tr {
	int calls;
	struct exec_result res;
	struct tdk *t;
};

static void
test_docker_cb(void *arg, const struct exec_result *res)
{
	struct tr *r = arg;

	r->calls++;
	r->res = *res;
	if (--r->t->pending == 0)
		event_base_loopbreak(r->t->base);
}

static size_t
test_docker_write(char *data, size_t size, size_t n, void *userp)
{
	char **b = userp;
	size_t old = *b != NULL ? strlen(*b) : 0;

	*b = xreallocarray(*b, old + size * n + 1, 1);
	memcpy(*b + old, data, size * n);
	(*b)[old + size * n] = '\0';
	return size * n;
}

/* A blocking call to the engine for checks; the body is new. */
static char *
test_docker_call(const char *method, const char *path, const char *json,
    long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *url = xasprintf("http://localhost/v1.41%s", path);
	char *body = xstrdup("");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, SOCK);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, test_docker_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (json != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	}
	*status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return body;
}

/* Containers labelled cwld.run=run_id, as a new JSON array. */
static json_t *
test_docker_list(const char *run_id)
{
	char *f = xasprintf("{\"label\":[\"cwld.run=%s\"]}", run_id);
	char *enc = curl_easy_escape(NULL, f, 0);
	char *path = xasprintf("/containers/json?all=1&filters=%s", enc);
	long status;
	char *body = test_docker_call("GET", path, NULL, &status);
	json_t *j = json_loads(body, 0, NULL);

	assert_int_equal(status, 200);
	assert_true(json_is_array(j));
	free(f);
	curl_free(enc);
	free(path);
	free(body);
	return j;
}

static void
test_docker_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Runs the image script with posix_spawn (no shell in between). */
static int
test_docker_make_image(void)
{
	const char *src = getenv("CWLD_SOURCE_DIR");
	char *script, *dir = NULL;
	char *argv[3];
	pid_t pid;
	int status = -1;

	if (src != NULL) {
		script = xasprintf("%s/tests/integration/lib-busybox-image.sh",
		    src);
	} else {
		dir = xstrdup(__FILE__);
		*strrchr(dir, '/') = '\0';
		script = xasprintf("%s/../integration/lib-busybox-image.sh", dir);
	}
	argv[0] = L("bash");
	argv[1] = script;
	argv[2] = NULL;
	if (posix_spawnp(&pid, "bash", NULL, NULL, argv, environ) == 0)
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	free(script);
	free(dir);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
test_docker_setup(void **state)
{
	struct tdk *t = xcalloc(1, sizeof *t);
	long status = 0;
	char *body;

	*state = t;
	snprintf(t->run_id, sizeof t->run_id, "test-%ld", (long)getpid());
	snprintf(t->dir, sizeof t->dir, "/tmp/cwld-test-docker-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	chmod(t->dir, 0755);
	snprintf(t->in, sizeof t->in, "%s/in", t->dir);
	snprintf(t->out, sizeof t->out, "%s/out", t->dir);
	snprintf(t->so, sizeof t->so, "%s/stdout.txt", t->dir);
	snprintf(t->se, sizeof t->se, "%s/stderr.txt", t->dir);
	if (mkdir(t->in, 0755) == -1 || mkdir(t->out, 0755) == -1)
		return -1;
	if (access(SOCK, W_OK) != 0)
		return 0;
	test_docker_make_image();
	body = test_docker_call("GET", "/images/" IMAGE "/json", NULL, &status);
	free(body);
	t->have_image = status == 200;
	t->base = event_base_new();
	t->d = docker_new(t->base, NULL, NULL);
	return t->d != NULL ? 0 : -1;
}

static int
test_docker_teardown(void **state)
{
	struct tdk *t = *state;
	char *argv[] = { L("rm"), L("-rf"), t->dir, NULL };
	pid_t pid;
	int status;

	docker_free(t->d);
	if (t->base != NULL)
		event_base_free(t->base);
	if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
		waitpid(pid, &status, 0);
	free(t);
	return 0;
}

static void
test_docker_spec(struct tdk *t, struct exec_spec *s, struct exec_mount *m,
    char **argv)
{
	static char *env[] = { L("PATH=/bin"), L("FOO=bar"), NULL };

	memset(s, 0, sizeof *s);
	memset(m, 0, 2 * sizeof *m);
	s->run_id = t->run_id;
	s->step_id = "step1";
	s->attempt = 2;
	s->argv = argv;
	s->env = env;
	s->cwd = t->out;
	s->stdout_path = t->so;
	s->stderr_path = t->se;
	s->image = IMAGE;
	m[0].source = t->in;
	m[0].target = "/in";
	m[0].readonly = 1;
	m[1].source = t->out;
	m[1].target = t->out;
	m[1].readonly = 0;
	s->mounts = m;
	s->nmounts = 2;
}

static void
test_docker_run1(struct tdk *t, struct exec_spec *s, struct tr *r)
{
	struct cwld_err e = { 0, "" };

	memset(r, 0, sizeof *r);
	r->t = t;
	t->pending = 1;
	assert_int_equal(docker_run(t->d, s, test_docker_cb, r, &e), 0);
	assert_int_equal(r->calls, 0);
	event_base_dispatch(t->base);
	assert_int_equal(r->calls, 1);
}

static void
test_docker_assert_gone(struct tdk *t)
{
	json_t *l;
	int i;

	/* the result comes before the removal: let the client finish it */
	for (i = 0; i < 3000 && t->d && docker_pending(t->d) > 0; i++)
		event_base_loop(t->base, EVLOOP_ONCE);
	l = test_docker_list(t->run_id);

	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

#define NEED_IMAGE(t) do { if (!(t)->have_image) skip(); } while (0)

static void
test_docker_stdio_exit(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("sh"), L("-c"),
	    L("echo hello; echo oops >&2; echo \"$FOO\"; pwd; exit 3"), NULL };
	char *out, *err, *want;
	struct timespec t0, t1;

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	test_docker_run1(t, &s, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("one docker_run cycle (with first /_ping): %.0f ms\n",
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_string_equal(r.res.msg, "");
	assert_int_equal(r.res.started, 1);
	assert_int_equal(r.res.exit_code, 3);
	assert_int_equal(r.res.timed_out, 0);
	assert_int_equal(strlen(r.res.container_id), 64);
	out = tu_slurp(t->so);
	err = tu_slurp(t->se);
	want = xasprintf("hello\nbar\n%s\n", t->out);
	assert_string_equal(out, want);
	assert_string_equal(err, "oops\n");
	free(out);
	free(err);
	free(want);
	test_docker_assert_gone(t);

	/* a warm cycle */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	test_docker_run1(t, &s, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("one docker_run cycle (warm): %.0f ms\n",
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_int_equal(r.res.exit_code, 3);
}

static void
test_docker_large_output(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	/* 200000 lines through both streams: many frames, split reads */
	char *argv[] = { L("sh"), L("-c"),
	    L("seq 1 200000; seq 1 1000 >&2"), NULL };
	struct stat st;
	char *err;

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	test_docker_run1(t, &s, &r);
	assert_int_equal(r.res.exit_code, 0);
	assert_int_equal(stat(t->so, &st), 0);
	/* sum of lengths of "1\n".."200000\n" */
	assert_int_equal(st.st_size, 1288895);
	err = tu_slurp(t->se);
	assert_int_equal(strlen(err), 3893);
	assert_true(strncmp(err, "1\n2\n3\n", 6) == 0);
	free(err);
}

static void
test_docker_stdin(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("wc"), L("-l"), NULL };
	char *argv2[] = { L("cat"), NULL };
	char *path = xasprintf("%s/data.txt", t->in);
	char *out;

	NEED_IMAGE(t);
	test_docker_write_file(path, "a\nb c\nd\n");
	test_docker_spec(t, &s, m, argv);
	s.stdin_path = path;
	test_docker_run1(t, &s, &r);
	assert_string_equal(r.res.msg, "");
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->so);
	assert_int_equal(strtol(out, NULL, 10), 3);
	free(out);

	/* no stdin: cat sees end of file at once */
	test_docker_spec(t, &s, m, argv2);
	test_docker_run1(t, &s, &r);
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->so);
	assert_string_equal(out, "");
	free(out);
	free(path);
}

static void
test_docker_mounts_uid(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("sh"), L("-c"),
	    L("cat /in/data.txt > copy.txt; "
	      "if touch /in/new 2>/dev/null; then echo writable; "
	      "else echo readonly; fi; id -u; id -g"), NULL };
	char *path = xasprintf("%s/data.txt", t->in);
	char *copy = xasprintf("%s/copy.txt", t->out);
	char *newf = xasprintf("%s/new", t->in);
	char *out, *want, *c;
	struct stat st;

	NEED_IMAGE(t);
	test_docker_write_file(path, "payload\n");
	test_docker_spec(t, &s, m, argv);
	test_docker_run1(t, &s, &r);
	assert_string_equal(r.res.msg, "");
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->so);
	want = xasprintf("readonly\n%lu\n%lu\n", (unsigned long)getuid(),
	    (unsigned long)getgid());
	assert_string_equal(out, want);
	assert_int_equal(access(newf, F_OK), -1);
	c = tu_slurp(copy);
	assert_string_equal(c, "payload\n");
	assert_int_equal(stat(copy, &st), 0);
	assert_int_equal(st.st_uid, getuid());
	assert_int_equal(st.st_gid, getgid());
	free(out);
	free(want);
	free(c);
	free(path);
	free(copy);
	free(newf);
}

/* Polls for the file the container writes when it runs, then checks the
 * labels of the live container and lets it go on. */
static void
test_docker_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tdk *t = arg;
	struct timeval tv = { 0, 50000 };

	(void)fd;
	(void)what;
	if (access(t->ready, F_OK) != 0) {
		evtimer_add(t->poll, &tv);
		return;
	}
	t->ready_seen = 1;
	if (t->on_ready != NULL)
		t->on_ready(t);
}

static const char *
test_docker_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* Inside the loop: record, never assert (an assertion would longjmp out of
 * the event loop). */
static void
test_docker_check_labels(struct tdk *t)
{
	json_t *l = NULL, *c, *labels;
	char *f, *enc, *path, *body, *go;
	long status;
	int tries;

	f = xasprintf("{\"label\":[\"cwld.run=%s\"]}", t->run_id);
	enc = curl_easy_escape(NULL, f, 0);
	path = xasprintf("/containers/json?all=1&filters=%s", enc);
	/* The tool runs (it wrote "ready") a moment before the engine has
	 * finished its start call and lists the container as running. */
	for (tries = 0; ; tries++) {
		body = test_docker_call("GET", path, NULL, &status);
		l = json_loads(body, 0, NULL);
		c = json_array_get(l, 0);
		if (tries == 100 || json_string_value(json_object_get(c, "State")) == NULL ||
		    strcmp(json_string_value(json_object_get(c, "State")), "created") != 0)
			break;
		json_decref(l);
		free(body);
		usleep(50000);
	}
	labels = json_object_get(c, "Labels");
	t->labels_ok = status == 200 && json_array_size(l) == 1 &&
	    strcmp(test_docker_str(labels, "cwld.run"), t->run_id) == 0 &&
	    strcmp(test_docker_str(labels, "cwld.step"), "step1") == 0 &&
	    strcmp(test_docker_str(labels, "cwld.attempt"), "2") == 0 &&
	    strcmp(test_docker_str(c, "State"), "running") == 0;
	if (!t->labels_ok)
		fprintf(stderr, "labels check failed: HTTP %ld %s\n", status,
		    body);
	go = xasprintf("%s/go", t->out);
	test_docker_write_file(go, "");
	json_decref(l);
	free(f);
	curl_free(enc);
	free(path);
	free(body);
	free(go);
}

static void
test_docker_start_poll(struct tdk *t, void (*on_ready)(struct tdk *))
{
	struct timeval tv = { 0, 50000 };

	snprintf(t->ready, sizeof t->ready, "%s/ready", t->out);
	unlink(t->ready);
	t->ready_seen = 0;
	t->on_ready = on_ready;
	t->poll = evtimer_new(t->base, test_docker_poll_cb, t);
	evtimer_add(t->poll, &tv);
}

static void
test_docker_stop_poll(struct tdk *t)
{
	event_free(t->poll);
	t->poll = NULL;
}

static void
test_docker_labels_and_removal(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("sh"), L("-c"),
	    L("touch ready; while [ ! -e go ]; do sleep 0.05; done; echo done"),
	    NULL };
	char *go = xasprintf("%s/go", t->out);
	char *out;

	NEED_IMAGE(t);
	unlink(go);
	test_docker_spec(t, &s, m, argv);
	test_docker_start_poll(t, test_docker_check_labels);
	test_docker_run1(t, &s, &r);
	test_docker_stop_poll(t);
	assert_int_equal(t->labels_ok, 1);
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->so);
	assert_string_equal(out, "done\n");
	free(out);
	test_docker_assert_gone(t);
	free(go);
}

static void
test_docker_missing_image(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("true"), NULL };
	const char *want = "image 'docker.io/cwld-test/no-such-image:1' not "
	    "found locally and could not be pulled: ";

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	s.image = "docker.io/cwld-test/no-such-image:1";
	test_docker_run1(t, &s, &r);
	assert_int_equal(r.res.started, 0);
	assert_true(strncmp(r.res.msg, want, strlen(want)) == 0);
	assert_true(strlen(r.res.msg) > strlen(want));
	test_docker_assert_gone(t);
}

static void
test_docker_qualified_name(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("echo"), L("ok"), NULL };
	char *out;

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	s.image = "docker.io/" IMAGE;
	test_docker_run1(t, &s, &r);
	assert_string_equal(r.res.msg, "");
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->so);
	assert_string_equal(out, "ok\n");
	free(out);
}

/* With Init, docker-init is PID 1 and the container starts: the failed
 * exec shows as exit 127 with tini's message on stderr. */
static void
test_docker_missing_program(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("cwld-no-such-program"), NULL };
	char *err;

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	test_docker_run1(t, &s, &r);
	assert_int_equal(r.res.started, 1);
	assert_int_equal(r.res.exit_code, 127);
	err = tu_slurp(t->se);
	assert_non_null(strstr(err, "cwld-no-such-program"));
	free(err);
	test_docker_assert_gone(t);
}

static void
test_docker_bad_mount(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("true"), NULL };

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	m[0].source = "/nonexistent-cwld-dir";
	test_docker_run1(t, &s, &r);
	assert_int_equal(r.res.started, 0);
	/* the engine's own message */
	assert_non_null(strstr(r.res.msg, "cannot create container: "));
	assert_non_null(strstr(r.res.msg, "/nonexistent-cwld-dir"));
	test_docker_assert_gone(t);
}

static void
test_docker_timelimit(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("sleep"), L("30"), NULL };
	time_t t0 = time(NULL);

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	s.timelimit_s = 1;
	test_docker_run1(t, &s, &r);
	assert_int_equal(r.res.started, 1);
	assert_int_equal(r.res.timed_out, 1);
	assert_int_not_equal(r.res.exit_code, 0);
	assert_non_null(strstr(r.res.msg, "time limit"));
	assert_true(time(NULL) - t0 < 15);
	test_docker_assert_gone(t);
}

static void
test_docker_cancel_running(struct tdk *t)
{
	docker_cancel_all(t->d);
}

static void
test_docker_cancel(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r[3];
	char *argv[] = { L("sh"), L("-c"), L("touch ready; sleep 30"), NULL };
	time_t t0 = time(NULL);
	int i;

	NEED_IMAGE(t);
	/* canceled right away: never starts */
	test_docker_spec(t, &s, m, argv);
	memset(r, 0, sizeof r);
	r[0].t = t;
	t->pending = 1;
	assert_int_equal(docker_run(t->d, &s, test_docker_cb, &r[0], NULL), 0);
	docker_cancel_all(t->d);
	event_base_dispatch(t->base);
	assert_int_equal(r[0].calls, 1);
	assert_int_equal(r[0].res.started, 0);
	assert_string_equal(r[0].res.msg, "canceled");

	/* canceled while running: stopped, callbacks still come */
	test_docker_start_poll(t, test_docker_cancel_running);
	t->pending = 2;
	for (i = 1; i < 3; i++) {
		r[i].t = t;
		assert_int_equal(docker_run(t->d, &s, test_docker_cb, &r[i],
		    NULL), 0);
	}
	event_base_dispatch(t->base);
	test_docker_stop_poll(t);
	for (i = 1; i < 3; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_string_equal(r[i].res.msg, "canceled");
		/* the second may have been canceled before it started */
		if (r[i].res.started)
			assert_int_not_equal(r[i].res.exit_code, 0);
	}
	assert_true(r[1].res.started || r[2].res.started);
	assert_true(time(NULL) - t0 < 20);
	test_docker_assert_gone(t);
}

static void
test_docker_many(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r[10];
	char *argv[] = { L("sh"), L("-c"), L("exit 5"), NULL };
	int i;

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	memset(r, 0, sizeof r);
	t->pending = 10;
	for (i = 0; i < 10; i++) {
		r[i].t = t;
		assert_int_equal(docker_run(t->d, &s, test_docker_cb, &r[i],
		    NULL), 0);
	}
	event_base_dispatch(t->base);
	for (i = 0; i < 10; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_string_equal(r[i].res.msg, "");
		assert_int_equal(r[i].res.exit_code, 5);
	}
	test_docker_assert_gone(t);
}

static void
test_docker_free_removes(void **state)
{
	struct tdk *t = *state;
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	char *argv[] = { L("sh"), L("-c"), L("touch ready; sleep 30"), NULL };

	NEED_IMAGE(t);
	test_docker_spec(t, &s, m, argv);
	memset(&r, 0, sizeof r);
	r.t = t;
	t->pending = 1;
	test_docker_start_poll(t, NULL);
	assert_int_equal(docker_run(t->d, &s, test_docker_cb, &r, NULL), 0);
	while (!t->ready_seen)
		event_base_loop(t->base, EVLOOP_ONCE);
	test_docker_stop_poll(t);
	docker_free(t->d);
	t->d = NULL;
	assert_int_equal(r.calls, 0);
	test_docker_assert_gone(t);
	t->d = docker_new(t->base, NULL, NULL);
	assert_non_null(t->d);
}

static void
test_docker_gc(void **state)
{
	struct tdk *t = *state;
	struct cwld_err e = { 0, "" };
	char *gc_id = xasprintf("%s-gc", t->run_id);
	char *body = xasprintf("{\"Image\":\"%s\",\"Cmd\":[\"true\"],"
	    "\"Labels\":{\"cwld.run\":\"%s\"}}", IMAGE, gc_id);
	char *res, host[256] = "";
	long status;
	int kept = -1;
	pid_t dead;

	NEED_IMAGE(t);
	res = test_docker_call("POST", "/containers/create", body, &status);
	assert_int_equal(status, 201);
	free(res);
	res = test_docker_call("POST", "/containers/create", body, &status);
	assert_int_equal(status, 201);
	free(res);
	/* without owner labels (an older cwld's): only with all */
	assert_int_equal(docker_gc_sync(NULL, gc_id, 0, &kept, &e), 0);
	assert_int_equal(kept, 2);
	assert_int_equal(docker_gc_sync(NULL, gc_id, 1, &kept, &e), 2);
	assert_int_equal(docker_gc_sync(NULL, gc_id, 0, NULL, &e), 0);
	/* a live owner (this process) is left alone unless all; a dead one
	 * (a child that has exited) is not */
	if (gethostname(host, sizeof host - 1) == -1)
		fail();
	dead = fork();
	if (dead == 0)
		_exit(0);
	assert_true(dead > 0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	free(body);
	body = xasprintf("{\"Image\":\"%s\",\"Cmd\":[\"true\"],\"Labels\":"
	    "{\"cwld.run\":\"%s\",\"cwld.pid\":\"%ld\",\"cwld.host\":\"%s\"}}",
	    IMAGE, gc_id, (long)getpid(), host);
	res = test_docker_call("POST", "/containers/create", body, &status);
	assert_int_equal(status, 201);
	free(res);
	free(body);
	body = xasprintf("{\"Image\":\"%s\",\"Cmd\":[\"true\"],\"Labels\":"
	    "{\"cwld.run\":\"%s\",\"cwld.pid\":\"%ld\",\"cwld.host\":\"%s\"}}",
	    IMAGE, gc_id, (long)dead, host);
	res = test_docker_call("POST", "/containers/create", body, &status);
	assert_int_equal(status, 201);
	free(res);
	assert_int_equal(docker_gc_sync(NULL, gc_id, 0, &kept, &e), 1);
	assert_int_equal(kept, 1);
	assert_int_equal(docker_gc_sync(NULL, gc_id, 1, &kept, &e), 1);
	assert_int_equal(kept, 0);
	assert_int_equal(docker_gc_sync("ftp://nowhere", gc_id, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "ftp://nowhere"));
	assert_int_equal(docker_gc_sync("unix:///nonexistent.sock", gc_id, 0, NULL, &e),
	    -1);
	assert_non_null(strstr(e.msg, "unreachable"));
	free(gc_id);
	free(body);
}

static void
test_docker_unreachable(void **state)
{
	struct tdk *t = *state;
	struct event_base *base = event_base_new();
	struct docker *d = docker_new(base, "unix:///nonexistent.sock", NULL);
	struct exec_spec s;
	struct exec_mount m[2];
	struct tr r;
	struct tdk t2;
	char *argv[] = { L("true"), NULL };

	memset(&t2, 0, sizeof t2);
	t2.base = base;
	assert_non_null(d);
	test_docker_spec(t, &s, m, argv);
	memset(&r, 0, sizeof r);
	r.t = &t2;
	t2.pending = 1;
	assert_int_equal(docker_run(d, &s, test_docker_cb, &r, NULL), 0);
	event_base_dispatch(base);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.started, 0);
	assert_non_null(strstr(r.res.msg,
	    "docker engine unreachable at 'unix:///nonexistent.sock'"));
	docker_free(d);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_stdio_exit),
		cmocka_unit_test(test_docker_large_output),
		cmocka_unit_test(test_docker_stdin),
		cmocka_unit_test(test_docker_mounts_uid),
		cmocka_unit_test(test_docker_labels_and_removal),
		cmocka_unit_test(test_docker_missing_image),
		cmocka_unit_test(test_docker_qualified_name),
		cmocka_unit_test(test_docker_missing_program),
		cmocka_unit_test(test_docker_bad_mount),
		cmocka_unit_test(test_docker_timelimit),
		cmocka_unit_test(test_docker_cancel),
		cmocka_unit_test(test_docker_many),
		cmocka_unit_test(test_docker_free_removes),
		cmocka_unit_test(test_docker_gc),
		cmocka_unit_test(test_docker_unreachable),
	};

	return cmocka_run_group_tests(tests, test_docker_setup,
	    test_docker_teardown);
}
